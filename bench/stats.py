"""Statistics benchmark (not a test), on PostgreSQL.

1. Query latency: a log of N synthetic events and a complaint fact view of N/5 complaints
   received between 2026-01-01 and now (70% answered within 15 days, 25% after one or two
   extensions, 5% late; those whose notice would lie in the future still open), with the
   count tables kept beside it; complaint statistics for a past quarter by cause and
   channel, a past month in total, and the running quarter and year (figures at now),
   against a baseline measured in the same run: the cheapest read of the views (one
   tracking row, same pool and transaction). Target: ≤ 10 ms p99.
2. Live projection lag under sustained ingestion: complaints received at a steady rate while
   the projection runner keeps the views live; the time from each complaint's recording to
   its view reaching it. Target: p99 ≤ 1 s.

    .venv/bin/python -m bench.stats [--events 1000000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import build_services
from bench.common import database_url, fresh_database, intake
from domain.common import CST, Actor
from infrastructure.complaint_facts import recount
from infrastructure.complaint_stats import parse_period
from infrastructure.projections import PgCursor, running
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_projector,
    build_runner,
    build_statistics,
    build_vault,
    dispute_rules,
    migrate,
)

DB = "xiaobao_bench_stats"
URL = database_url(DB)
CAUSES = ("claims", "sales", "surrender", "policy_service", "service", "product", "other")
CHANNELS = ("12378", "hotline", "app", "online", "letter", "visit")
TIMELINESS = ((5, 0), (12, 0), (25, 1), (45, 2), (70, 2))  # (days to notice, extensions)


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def fill(events: int) -> None:
    """N filler events in the log, and N/5 complaint fact rows over 2026 (CST)."""
    start = datetime(2026, 1, 1, tzinfo=CST)
    with psycopg.connect(URL) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY ledger_events (originator_id, originator_version, topic, state) FROM STDIN"
        ) as cp:
            state = orjson.dumps({"timestamp": {"#": "dt", "v": start.isoformat()}})
            for _ in range(events):
                cp.write_row((uuid.uuid4(), 1, "bench:Filler", state))
        columns = sql.SQL(
            "id, version, received_at, channel, cause, line, region, transfer_id, status, merged, "
            "extension_level, paused_days, decided_at, notified_at, closed_at, outcome, redress, "
            "reviewed, due_at, ended_at, days_to_notice, redress_cents, company_type, position"
        )
        now = datetime.now(tz=UTC)
        span = int(min(timedelta(days=330), now - start).total_seconds() // 60)
        copy = sql.SQL("COPY view_complaint_facts ({}) FROM STDIN").format(columns)
        with cur.copy(copy) as cp:
            for n in range(events // 5):
                received = start + timedelta(minutes=random.randrange(0, span))
                # A compliant insurer: most answered within 15 days, some after one or two
                # extensions (due at 30 or 60 days), a few late.
                days, level = random.choices(TIMELINESS, weights=(70, 15, 10, 4, 1))[0]
                due = received + timedelta(days=(15, 30, 60)[level])
                notified = received + timedelta(days=days)
                closed = notified + timedelta(days=1)
                channel = random.choice(CHANNELS)
                done = closed <= now  # a notice cannot lie in the future: still open
                cp.write_row(
                    (
                        str(uuid.uuid4()),
                        6 if done else 2,
                        received.isoformat(),
                        channel,
                        random.choice(CAUSES),
                        "health",
                        "330100",
                        f"T-{n}" if channel == "12378" else None,
                        "closed" if done else "open",
                        False,
                        level,
                        0,
                        notified.isoformat() if done else None,
                        notified.isoformat() if done else None,
                        closed.isoformat() if done else None,
                        "upheld" if done else None,
                        "100.00" if done else None,
                        False,
                        due.isoformat(),
                        closed.isoformat() if done else None,
                        days if done else None,
                        10000 if done else None,
                        "life_health",
                        n + 1,
                    )
                )
        recount(PgCursor(cur))
        cur.execute(
            "INSERT INTO projection_tracking (view, position) VALUES ('complaint_facts', %s)",
            (events,),
        )
        conn.commit()
    # The bulk load would otherwise wake autovacuum on a million new rows in the middle of
    # the measurement; a ledger in service is not bulk-loaded.
    tables = ("ledger_events", "view_complaint_facts", "view_complaint_periods")
    with psycopg.connect(URL, autocommit=True) as conn, conn.cursor() as cur:
        for table in (*tables, "view_complaint_pending"):
            cur.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
        for table in ("view_complaint_periods", "view_complaint_pending"):
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            cells = cur.fetchone()
            print(f"{table}: {cells[0] if cells else 0:,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=20, help="complaints per second")
    parser.add_argument("--samples", type=int, default=1000, help="queries of each kind")
    args = parser.parse_args()
    fresh_database(DB)
    work = Path(tempfile.mkdtemp())
    settings = Settings(
        database_url=URL, index_key_file=work / "k", signing_key_file=work / "s.pem"
    )
    migrate(settings)
    fill(args.events)
    ledger = build_ledger(settings)
    stats = build_statistics(ledger)
    now = datetime.now(tz=UTC)
    quarter, month = parse_period("2026Q3", now), parse_period("2026-07", now)
    current, year = parse_period(_quarter_of(now), now), parse_period(f"{now.year}", now)

    def timed(label: str, call: object) -> list[float]:
        samples = []
        for _ in range(args.samples):
            started = time.perf_counter()
            call()  # type: ignore[operator]
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    baseline = timed("baseline", stats.tracked)
    by_two = timed("quarter", lambda: stats.figures(quarter, ("cause", "channel"), now))
    totals = timed("month", lambda: stats.figures(month, (), now))
    running_quarter = timed("current", lambda: stats.figures(current, ("cause",), now))
    running_year = timed("year", lambda: stats.figures(year, ("channel",), now))
    base99 = percentile(baseline, 99)
    print(f"log: {args.events:,} events; fact view: {args.events // 5:,} complaints")
    print(
        "baseline (the cheapest view read: one tracking row): "
        f"p50 {statistics.median(baseline):.2f} ms, p99 {base99:.2f} ms"
    )
    for label, samples in (
        ("2026Q3 by cause,channel", by_two),
        ("2026-07 totals", totals),
        (f"{current.label} (running) by cause", running_quarter),
        (f"{year.label} (running) by channel", running_year),
    ):
        p99 = percentile(samples, 99)
        print(
            f"{label}: p50 {statistics.median(samples):.2f} ms, p99 {p99:.2f} ms "
            f"= {p99 / base99:.1f}× the baseline (target ≤ 10 ms)"
        )
    _lag(settings, ledger, args.seconds, args.rate)
    ledger.close()


def _quarter_of(instant: datetime) -> str:
    local = instant.astimezone(CST)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def _lag(settings: Settings, ledger: object, seconds: float, rate: float) -> None:
    services = build_services(
        ledger,  # type: ignore[arg-type]
        build_vault(settings, ledger),  # type: ignore[arg-type]
        directory=StaticDirectory([Handler("wang", None, (), (), ())]),
        dispute_rules=dispute_rules(settings),
    )
    projector = build_projector(settings, ledger)  # type: ignore[arg-type]
    projector.catch_up()
    runner = build_runner(settings, ledger, projector)  # type: ignore[arg-type]
    lags: list[float] = []
    pending: list[tuple[int, float]] = []
    lock = threading.Lock()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() or pending:
            tracked = projector.store.positions().get("complaint_facts", 0)
            now = time.perf_counter()
            with lock:
                for item in [p for p in pending if p[0] <= tracked]:
                    lags.append(now - item[1])
                    pending.remove(item)
            time.sleep(0.01)

    with running(runner):
        watcher = threading.Thread(target=watch)
        watcher.start()
        meta = Meta(datetime.now(tz=UTC), Actor("wang", "handler"))
        ends = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < ends:
            services.complaints.receive(intake(f"live-{n}"), meta, None)
            with lock:
                pending.append((services.ledger.position(), time.perf_counter()))
            n += 1
            time.sleep(max(0.0, 1 / rate))
        done.set()
        watcher.join(timeout=30)
    print(
        f"live projection lag over {len(lags)} complaints at ~{rate:.0f}/s: "
        f"p50 {statistics.median(lags) * 1000:.0f} ms, p99 {percentile(lags, 99) * 1000:.0f} ms "
        f"(target p99 ≤ 1 s)"
    )


if __name__ == "__main__":
    main()
