"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from api.deps import Runtime, runtime
from api.errors import Problem
from api.read_models import Health, Readiness, ViewFailure, ViewReport
from application.views import rfc3339
from infrastructure.projections import ViewState, ViewStore
from infrastructure.settings import url_hosts
from infrastructure.store import replica_head

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz")
async def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> Readiness:
    """The database answers and every view is within its allowed lag and not failing for
    longer than allowed; each view's position, lag and failing event are reported."""
    position = await run_in_threadpool(rt.services.ledger.position)
    if rt.replica is not None:
        await replica_ready(rt, position)
    if rt.proofs is None:
        return Readiness(status="ready", position=position, projection_lag={}, projections={})
    store = ViewStore(rt.services.ledger.recorder)
    states = await run_in_threadpool(store.states, (), position)
    ready = Readiness(
        status="ready",
        position=position,
        projection_lag={s.view: s.lag for s in states},
        projections={s.view: view_report(s) for s in states},
    )
    settings = rt.settings
    now = datetime.now(tz=UTC)
    behind = {s.view: s.lag for s in states if s.lag > settings.projection_max_lag}
    stuck = [
        s.view
        for s in states
        if s.failing is not None
        and (now - s.failing.since).total_seconds() >= settings.projection_failing_unready_seconds
    ]
    if behind or stuck:
        reasons = [f"projections behind the log: {behind}"] if behind else []
        reasons += [f"projections failing: {', '.join(stuck)}"] if stuck else []
        report = ready.model_dump(exclude={"status"})
        raise Problem(503, "; ".join(reasons), headers={"Retry-After": "1"}, extensions=report)
    return ready


async def replica_ready(rt: Runtime, position: int) -> None:
    """503 naming the replica (its host and port, never a password) when it does not answer
    or lags the primary by more than XIAOBAO_REPLICA_MAX_LAG positions."""
    assert rt.replica is not None
    assert rt.settings.read_database_url is not None
    hosts, ports = url_hosts(rt.settings.read_database_url)
    name = ",".join(f"{h}:{p}" for h, p in zip(hosts.split(","), ports.split(","), strict=False))
    try:
        replayed = await run_in_threadpool(replica_head, rt.replica)
    except PersistenceError as error:
        raise Problem(
            503,
            f"the read replica {name} does not answer ({type(error).__name__})",
            headers={"Retry-After": "1"},
            extensions={"position": position, "replica": {"name": name}},
        ) from error
    lag = max(0, position - replayed)
    if lag > rt.settings.replica_max_lag:
        raise Problem(
            503,
            f"the read replica {name} is {lag} positions behind the primary "
            f"(XIAOBAO_REPLICA_MAX_LAG is {rt.settings.replica_max_lag})",
            headers={"Retry-After": "1"},
            extensions={
                "position": position,
                "replica": {"name": name, "position": replayed, "lag": lag},
            },
        )


def view_report(state: ViewState) -> ViewReport:
    """A view's position and lag, and the event it fails on (no personal data: positions,
    the event's topic and stream id, the error's type and masked message)."""
    failure = state.failing
    return ViewReport(
        position=state.position,
        lag=state.lag,
        failures=state.failures,
        failing=None
        if failure is None
        else ViewFailure(
            position=failure.position,
            topic=failure.topic,
            stream_id=failure.stream,
            error=failure.error,
            message=failure.message,
            since=rfc3339(failure.since),
            attempts=failure.attempts,
        ),
    )
