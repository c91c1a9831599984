"""Request ids, structured JSON logs and Prometheus metrics.

Logs and metrics never carry personal data: they name routes by their template
(`/v1/claims/{claim_id}`), never by the values in the path or query.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from infrastructure.projections import ViewState

request_id: ContextVar[str] = ContextVar("request_id", default="-")

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[0] is not None:
            # The kind of failure only: tracebacks can carry values from requests.
            entry["error"] = record.exc_info[0].__name__
        return orjson.dumps(entry, default=str).decode()


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted (as the standard
    library's last-resort handler does), never to a stream that has since been closed: a
    CLI command run under a test runner's captured stderr otherwise left every later log
    record failing, each with a printed traceback."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # `setStream` and the like: always sys.stderr
        pass


def configure_logging(level: str) -> None:
    """Route every logger (uvicorn's included) through the JSON formatter on stderr."""
    handler = _Stderr()
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "xiaobao_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "xiaobao_http_request_seconds",
            "HTTP request latency by route template",
            ["route", "method"],
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.events = Counter(
            "xiaobao_events_recorded",
            "Partner events recorded, by type (duplicates not counted)",
            ["type"],
            registry=self.registry,
        )
        self.sealed_position = Gauge(
            "xiaobao_sealed_position",
            "Highest ledger position sealed into the Merkle log",
            registry=self.registry,
        )
        self.sealer_lag = Gauge(
            "xiaobao_sealer_lag_entries",
            "Ledger entries not yet sealed into the Merkle log",
            registry=self.registry,
        )
        self.projection_lag = Gauge(
            "xiaobao_projection_lag_entries",
            "Ledger entries a view has not yet processed",
            ["view"],
            registry=self.registry,
        )
        self.projection_failing = Gauge(
            "xiaobao_projection_failing",
            "1 while a view fails on an event and retries it with backoff, else 0",
            ["view"],
            registry=self.registry,
        )
        self.projection_failing_position = Gauge(
            "xiaobao_projection_failing_position",
            "Ledger position of the event a view fails on (0 when it is not failing)",
            ["view"],
            registry=self.registry,
        )
        self.projection_failures = ViewFailures()
        self.registry.register(self.projection_failures)
        self.ledger_position = Gauge(
            "xiaobao_ledger_position",
            "Highest ledger position this process has written or read",
            registry=self.registry,
        )
        self._highest = 0

    def saw_views(self, states: Iterable[ViewState]) -> None:
        """Set the per-view gauges and failure counts from the views' states."""
        for state in states:
            self.projection_lag.labels(state.view).set(state.lag)
            failing = state.failing
            self.projection_failing.labels(state.view).set(0 if failing is None else 1)
            position = 0 if failing is None else failing.position
            self.projection_failing_position.labels(state.view).set(position)
            self.projection_failures.totals[state.view] = state.failures

    def saw_position(self, position: int) -> None:
        """Track the highest ledger position written through this process."""
        if position > self._highest:
            self._highest = position
            self.ledger_position.set(position)


class ViewFailures(Collector):
    """`xiaobao_projection_failures_total`: failed attempts per view, as the ledger's
    database counts them (whichever process ran the view), read at each scrape."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "xiaobao_projection_failures",
            "Failed attempts of a view to apply an event (retried with backoff)",
            labels=["view"],
        )
        for view, total in sorted(self.totals.items()):
            family.add_metric([view], total)
        yield family
