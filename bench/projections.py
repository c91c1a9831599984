"""Projection benchmark (not a test), on PostgreSQL: catching up the complaint fact view
(with its count tables) over N complaint events with the engine's batches, against the
eventsourcing library's own `ProjectionRunner` keeping the same view — one transaction per
event, rows and tracking record together — measured side by side on the same events.

    .venv/bin/python -m bench.projections [--complaints 3000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.rows import tuple_row

from application.gateway import Meta
from application.ledger import Ledger, topics_of
from application.routing import Handler, StaticDirectory
from application.services import build_services
from bench.common import database_url, fresh_database, intake
from domain.common import Actor
from domain.complaints import Complaint
from infrastructure.complaint_facts import ComplaintFacts
from infrastructure.dialect import Statement
from infrastructure.projections import PgCursor, Projector
from infrastructure.settings import Settings
from infrastructure.store import (
    VALUE_TYPES,
    build_ledger,
    build_projector,
    build_vault,
    dispute_rules,
    migrate,
    reader_for,
)
from infrastructure.transcoder import OrjsonTranscoder

DB = "xiaobao_bench_projections"
URL = database_url(DB)


class FactsView(PostgresTrackingRecorder):
    """The complaint fact view as the library's materialised view: each event's rows and
    its tracking record in one transaction."""

    facts: ComplaintFacts

    def process(self, event: object, tracking: Tracking) -> None:
        prepared = self.facts.prepare([(tracking.notification_id, event)])
        with self.datastore.transaction(commit=True) as curs:
            self.facts.apply(PgCursor(curs.connection.cursor(row_factory=tuple_row)), prepared)
            self._insert_tracking(curs, tracking)


class FactsProjection(Projection[FactsView]):
    name = "bench_facts"
    topics = tuple(topics_of(Complaint))

    def process_event(self, domain_event: object, tracking: Tracking) -> None:
        self.view.process(domain_event, tracking)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=3000)
    args = parser.parse_args()
    fresh_database(DB)
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
        dispute_rules=dispute_rules(settings),
    )
    meta = Meta(datetime.now(tz=UTC), Actor("wang", "handler"))
    for i in range(args.complaints):
        services.complaints.receive(intake(f"c-{i}"), meta, None)

    with psycopg.connect(URL) as conn:  # the library's tracking stops at the view's last event
        found = conn.execute(
            "SELECT max(notification_id), count(*) FROM ledger_events WHERE topic = ANY(%s)",
            (list(topics_of(Complaint)),),
        ).fetchone()
        last, events = (int(found[0]), int(found[1])) if found else (0, 0)
    facts = build_projector(settings, ledger).views[0]
    assert isinstance(facts, ComplaintFacts)
    FactsView.facts = facts

    class BenchLedger(Ledger):
        name = "Ledger"  # the same table

        def __init__(self, env: dict[str, str] | None = None) -> None:
            super().__init__(env or {}, OrjsonTranscoder(VALUE_TYPES), reader_for)

    started = time.perf_counter()
    with ProjectionRunner(
        application_class=BenchLedger,
        projection_class=FactsProjection,
        view_class=FactsView,
        env=settings.eventsourcing_env(create_table=False) | {"CREATE_TABLE": "y"},
    ) as runner:
        runner.wait(last, timeout=600)
    baseline = events / (time.perf_counter() - started)
    with build_projector(settings, ledger).store.transaction() as cur:
        cur.execute(Statement("SELECT count(*) FROM {table}", table=facts.table))
        counted = cur.fetchall()[0][0]
        facts.clear(cur)
    assert counted == args.complaints, counted

    # The same one view as the library's runner keeps; then, for scale, every view of the
    # service over the same events (the other nine read none of them: their positions move)
    alone = Projector(ledger.recorder, ledger.mapper, [build_projector(settings, ledger).views[0]])
    started = time.perf_counter()
    alone.catch_up()
    rate = events / (time.perf_counter() - started)
    alone.rebuild(alone.views[0])  # emptied and untracked: the ten views start from 0 too
    every: Projector = build_projector(settings, ledger)
    started = time.perf_counter()
    every.catch_up()
    rate_every = events / (time.perf_counter() - started)
    print(f"{events:,} complaint events")
    print(f"the library's ProjectionRunner (one event per transaction): {baseline:,.0f} events/s")
    print(
        f"engine, batches of {alone.batch}: {rate:,.0f} events/s = {rate / baseline:.1f}× "
        f"(target ≥ 10×, goal 20×)"
    )
    print(
        f"engine with all {len(every.views)} views of the service: {rate_every:,.0f} events/s "
        f"= {rate_every / baseline:.1f}×"
    )
    ledger.close()


if __name__ == "__main__":
    main()
