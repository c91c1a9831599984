"""Statistics benchmark (not a test), on PostgreSQL.

1. Query latency: a log of N synthetic events and a complaint fact view of N/5 complaints
   spread over 2026; complaint statistics for a quarter by cause and channel, and for a month
   in total, against a baseline measured in the same run (a bare count over the period's
   index range). Target: ≤ 10 ms p99.
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

from application.complaints import Intake
from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import build_services
from domain.common import CST, Actor
from infrastructure.complaint_stats import parse_period
from infrastructure.projections import running
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_projector,
    build_runner,
    build_statistics,
    build_vault,
    migrate,
)

DB = "xiaobao_bench_stats"
URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"
CAUSES = ("claims", "sales", "surrender", "policy_service", "service", "product", "other")
CHANNELS = ("12378", "hotline", "app", "online", "letter", "visit")


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
        columns = (
            "id, version, received_at, channel, cause, line, region, transfer_id, status, merged, "
            "extension_level, paused_days, decided_at, notified_at, closed_at, outcome, redress, "
            "reviewed, due_at, ended_at, days_to_notice, redress_cents, company_type, position"
        )
        with cur.copy(f"COPY view_complaint_facts ({columns}) FROM STDIN") as cp:
            for n in range(events // 5):
                received = start + timedelta(minutes=random.randrange(0, 330 * 24 * 60))
                days = random.choice((5, 10, 14, 20, 40, 70))
                notified = received + timedelta(days=days)
                closed = notified + timedelta(days=1)
                channel = random.choice(CHANNELS)
                cp.write_row(
                    (
                        str(uuid.uuid4()),
                        6,
                        received.isoformat(),
                        channel,
                        random.choice(CAUSES),
                        "health",
                        "330100",
                        f"T-{n}" if channel == "12378" else None,
                        "closed",
                        False,
                        int(days > 15),
                        0,
                        notified.isoformat(),
                        notified.isoformat(),
                        closed.isoformat(),
                        "upheld",
                        "100.00",
                        False,
                        (received + timedelta(days=15)).isoformat(),
                        closed.isoformat(),
                        days,
                        10000,
                        "life_health",
                        n + 1,
                    )
                )
        cur.execute(
            "INSERT INTO projection_tracking (view, position) VALUES ('complaint_facts', %s)",
            (events,),
        )
        conn.commit()
        cur.execute("ANALYZE view_complaint_facts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=20, help="complaints per second")
    args = parser.parse_args()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
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

    def timed(label: str, call: object) -> list[float]:
        samples = []
        for _ in range(200):
            started = time.perf_counter()
            call()  # type: ignore[operator]
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    baseline = timed("baseline", lambda: _count(quarter.start.isoformat(), quarter.end.isoformat()))
    by_two = timed("quarter", lambda: stats.figures(quarter, ("cause", "channel"), now))
    totals = timed("month", lambda: stats.figures(month, (), now))
    base99 = percentile(baseline, 99)
    print(f"log: {args.events:,} events; fact view: {args.events // 5:,} complaints")
    print(
        f"baseline (bare count over the quarter): p50 {statistics.median(baseline):.2f} ms, "
        f"p99 {base99:.2f} ms"
    )
    for label, samples in (("2026Q3 by cause,channel", by_two), ("2026-07 totals", totals)):
        p99 = percentile(samples, 99)
        print(
            f"{label}: p50 {statistics.median(samples):.2f} ms, p99 {p99:.2f} ms "
            f"= {p99 / base99:.1f}× the baseline (target ≤ 10 ms)"
        )
    _lag(settings, ledger, args.seconds, args.rate)
    ledger.close()


def _count(start: str, end: str) -> None:
    with psycopg.connect(URL) as conn:
        conn.execute(
            "SELECT count(*) FROM view_complaint_facts "
            "WHERE received_at >= %s AND received_at < %s",
            (start, end),
        ).fetchone()


def _lag(settings: Settings, ledger: object, seconds: float, rate: float) -> None:
    services = build_services(
        ledger,  # type: ignore[arg-type]
        build_vault(settings, ledger),  # type: ignore[arg-type]
        directory=StaticDirectory([Handler("wang", None, (), (), ())]),
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
            intake = Intake(
                channel="hotline",
                complainant={"id": f"live-{n}", "name": "n"},
                matter="m",
                request="r",
                cause="claims",
                line="health",
                region="330100",
            )
            services.complaints.receive(intake, meta, None)
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
