"""The statistics queries of `bench/scale.py`, against a database it kept (`--keep`), on
PostgreSQL (not a test).

Times the two statistics of the scale benchmark — complaints of the current year by cause and
channel (figures at now), claims of 2026 by region — and, as the same-run baseline, one
stored event by its primary key through the same pool. Optionally first:

- `--grow N`: COPY copies of the template (the first `--template` events, which
  `bench/scale.py` recorded through the application) until the log holds about N events;
- `--rebuild`: recompute the statistics views from the log (the claim, offline-claim,
  dispute, complaint and exposure views), timing each;
- `--analyze`: `ANALYZE` the view tables (what autovacuum does when it is on; the
  development server runs with autovacuum off).

`--warmup N` first times N calls of each kind apart (`..._first_ms`): the first uses of each
pooled connection, whose server process reads the catalog and plans a statement afresh
until it has a plan to reuse; the figures after them are those of a server that has been
running. Without it (the default) the timed calls include them.

    XIAOBAO_BENCH_DB=xiaobao_bench_stats .venv/bin/python -m bench.scale_stats \
        [--grow 10000000] [--rebuild] [--analyze] [--samples 300] [--warmup 200]

Prints one JSON object on a line starting with `RESULT `.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson

from bench.common import cpu_seconds, database_backends
from bench.scale import DB, URL, Row, connect, grow, timed, vacuum
from infrastructure.complaint_stats import parse_period
from infrastructure.projections import Projector
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_ledger,
    build_projector,
    build_statistics,
    migrate,
)

STATISTICS_VIEWS = (
    "claim_facts",
    "offline_claims",
    "dispute_facts",
    "complaint_facts",
    "exposure_facts",
)


def template(count: int) -> list[list[Row]]:
    """The first `count` events, grouped by stream in order of first event."""
    streams: dict[uuid.UUID, list[Row]] = {}
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events "
            "WHERE notification_id <= %s ORDER BY notification_id",
            (count,),
        )
        for oid, version, topic, state in cur:
            streams.setdefault(oid, []).append((oid, version, topic, bytes(state)))
    return list(streams.values())


def rebuilt(projector: Projector) -> dict[str, dict[str, float]]:
    """Recompute the statistics views from the log: seconds each, and the CPU seconds of
    this process and of its database's server processes (steadier than seconds on a
    shared host)."""
    spent = {}
    for view in projector.views:
        if view.name not in STATISTICS_VIEWS:
            continue
        started = time.perf_counter()
        cpu = cpu_seconds([os.getpid(), *database_backends(DB)])
        projector.rebuild(view)
        while projector.step(view):
            pass
        used = cpu_seconds([os.getpid(), *database_backends(DB)]) - cpu
        spent[view.name] = {"s": round(time.perf_counter() - started, 1), "cpu_s": round(used, 1)}
        print(f"rebuilt {view.name}: {spent[view.name]}", flush=True)
    return spent


def sample_ids(count: int) -> list[uuid.UUID]:
    with connect() as conn:
        rows = conn.execute(
            "SELECT originator_id FROM ledger_events TABLESAMPLE SYSTEM (1) LIMIT %s", (count,)
        ).fetchall()
        if not rows:  # a small table: 1% of its pages can be none of them
            rows = conn.execute(
                "SELECT originator_id FROM ledger_events LIMIT %s", (count,)
            ).fetchall()
    return [row[0] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grow", type=int, default=0, help="COPY until about this many events")
    parser.add_argument("--template", type=int, default=651, help="events of the template")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the statistics views")
    parser.add_argument("--analyze", action="store_true", help="ANALYZE the view tables")
    parser.add_argument("--samples", type=int, default=300, help="calls per query kind")
    parser.add_argument(
        "--warmup", type=int, default=0, help="calls per query kind timed apart, first"
    )
    args = parser.parse_args()
    settings = Settings(database_url=URL)
    migrate(settings)  # count tables new beside kept fact rows are counted from them
    ledger = build_ledger(settings)
    projector = build_projector(settings, ledger)
    result: dict[str, Any] = {"bench": "scale_stats", "database": DB}
    head = int(ledger.recorder.max_notification_id() or 0)
    if args.grow > head:
        started = time.perf_counter()
        with connect() as conn:
            grow(conn, template(args.template), args.grow - head, [])
        vacuum()
        head = int(ledger.recorder.max_notification_id() or 0)
        print(f"grown to {head:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    result["events"] = head
    if args.rebuild:
        result["rebuild_s"] = rebuilt(projector)
    else:
        started = time.perf_counter()
        caught = sum(projector.catch_up(v) for v in projector.views if v.name in STATISTICS_VIEWS)
        print(f"caught up {caught:,} positions in {time.perf_counter() - started:.1f} s")
    if args.analyze:
        projector.store.analyze()
    now = datetime.now(tz=UTC)
    year = parse_period(f"{now.year}", now)
    complaints, claims = build_statistics(ledger), build_case_statistics(ledger)
    ids = sample_ids(64)
    kinds: dict[str, Callable[[], object]] = {
        "baseline_event_read": lambda: ledger.recorder.select_events(random.choice(ids), limit=1),
        "stats_complaints": partial(complaints.figures, year, ("cause", "channel"), now),
        "stats_claims": partial(claims.claims_figures, parse_period("2026", now), ("region",)),
        "stats_disputes": partial(claims.disputes_figures, parse_period("2026", now), ("region",)),
    }
    for kind, call in kinds.items():
        if args.warmup:
            result[f"{kind}_first_ms"] = timed(call, args.warmup)
        result[f"{kind}_ms"] = timed(call, args.samples)
    for key, value in result.items():
        print(f"{key}: {value}")
    print("RESULT " + orjson.dumps(result).decode())
    ledger.close()


if __name__ == "__main__":
    main()
