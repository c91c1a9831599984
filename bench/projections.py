"""Projection benchmark (not a test), on PostgreSQL: catching up a view over N complaint
events with the engine's batches, against one event per transaction — the unit of work of
the eventsourcing library's ProjectionRunner — measured side by side on the same events.

    .venv/bin/python -m bench.projections [--complaints 3000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from application.complaints import Intake
from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import build_services
from domain.common import Actor
from infrastructure.projections import Projector
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_projector, build_vault, migrate

DB = "xiaobao_bench_projections"
URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=3000)
    args = parser.parse_args()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB)))
    work = Path(tempfile.mkdtemp())
    settings = Settings(
        database_url=URL, index_key_file=work / "k", signing_key_file=work / "s.pem"
    )
    migrate(settings)
    ledger = build_ledger(settings)
    services = build_services(
        ledger,
        build_vault(settings, ledger),
        directory=StaticDirectory([Handler("wang", None, (), (), ())]),
    )
    meta = Meta(datetime.now(tz=UTC), Actor("wang", "handler"))
    for i in range(args.complaints):
        intake = Intake(
            channel="hotline",
            complainant={"id": f"c-{i}", "name": "n"},
            matter="m",
            request="r",
            cause="claims",
            line="health",
            region="330100",
        )
        services.complaints.receive(intake, meta, None)
    events = args.complaints * 2

    one_by_one = build_projector(settings, ledger)
    one_by_one.batch = 1
    started = time.perf_counter()
    one_by_one.catch_up()
    baseline = events / (time.perf_counter() - started)
    view = one_by_one.views[0]
    one_by_one.rebuild(view)

    batched: Projector = build_projector(settings, ledger)
    started = time.perf_counter()
    batched.catch_up()
    rate = events / (time.perf_counter() - started)
    print(
        f"one event per transaction (the library runner's unit of work): {baseline:,.0f} events/s"
    )
    print(
        f"engine, batches of {batched.batch}: {rate:,.0f} events/s = {rate / baseline:.1f}× "
        f"(target ≥ 10×, goal 20×)"
    )
    ledger.close()


if __name__ == "__main__":
    main()
