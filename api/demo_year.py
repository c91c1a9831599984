"""A demonstration year (2026) of a mid-size branch, loaded through the application: the
hospitals', insurer's, 12378 platform's and dispute partners' events go through the partner
gateway (`record_one`, as `POST /v1/events` does) and the staff's commands through the
complaint and dispute desks with a fixed Idempotency-Key each (as the routes do).

Partners backfill the way real ones do: every event is recorded now, with the time it
happened in the world (CloudEvents `time`, a command's `occurred_at`) somewhere in 2026, so
the statutory clocks run on those times: a complaint received in March and still open is
overdue today; the closed ones were mostly notified on time.

The plan is drawn from a seeded generator over a fixed calendar (2026-01-01 to 2026-12-05):
the same seed gives the same events, whatever day it runs. Nothing at or after the start of
the day it runs is posted (no date in the future); a step the cut-off holds back ends its
script there, so a case still open is simply open. Every event id and Idempotency-Key is
fixed, so running it again records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder

from api.cloudevents import record_one
from api.demo import DEMO_PRINCIPALS
from application.commands import CommandKey
from application.gateway import Meta
from application.ledger import Ledger, utc_now
from application.services import Services
from domain.common import CST, Actor
from infrastructure.notary import Notary
from infrastructure.principals import Principal

SEED = 2026
YEAR_START = datetime(2026, 1, 1, tzinfo=CST)
# The calendar the plan is drawn over ends here, whatever day the demo runs.
YEAR_END = datetime(2026, 12, 5, tzinfo=CST)


@dataclass(frozen=True)
class Scale:
    """How much of the full year to load: 1.0 is the full branch, tests load a sample."""

    factor: float = 1.0

    def of(self, full: int) -> int:
        return max(1, round(full * self.factor))


def cutoff_for(now: datetime) -> datetime:
    """The start of the day the demo runs (CST): nothing at or after it is posted."""
    today = now.astimezone(CST).date()
    return datetime(today.year, today.month, today.day, tzinfo=CST)


def day_in_year(fraction: float, hour: int, minute: int = 0) -> datetime:
    """The instant `fraction` of the way through the plan's calendar, at `hour`:`minute`."""
    days = (YEAR_END - YEAR_START).days
    day = YEAR_START.date() + timedelta(days=min(days - 1, int(fraction * days)))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


def principal(partner_id: str) -> Principal:
    entry = next(e for e in DEMO_PRINCIPALS if e["partner_id"] == partner_id)
    return Principal(name=entry["name"], role=entry["role"], partner_id=partner_id)


def staff(name: str) -> Actor:
    entry = next(e for e in DEMO_PRINCIPALS if e["name"] == name)
    return Actor(name=name, role=entry["role"])


@dataclass
class Demo:
    """What the year's scripts share: the services, the signer and the cut-off."""

    services: Services
    notary: Notary
    cutoff: datetime
    claims: dict[str, str] = field(default_factory=dict)  # encounter code → claim id
    # every settled stay: encounter code, claim id, settlement, when it was discharged
    settled: list[tuple[str, str, dict[str, str], datetime]] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)  # ids of the cases received
    disputes: int = 0

    def past(self, at: datetime) -> bool:
        """True when `at` lies before the cut-off (so it may be posted)."""
        return at < self.cutoff

    def post(
        self, partner: str, event_id: str, kind: str, at: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Post one partner event as `POST /v1/events` would; the result object."""
        raw = {
            "specversion": "1.0",
            "id": event_id,
            "source": f"/partners/{partner}",
            "type": f"xiaobao.{kind}",
            "time": at.isoformat(),
            "data": data,
        }
        _, body = record_one(self.services.events, self.notary, raw, principal(partner))
        return body

    @staticmethod
    def meta(at: datetime, actor: Actor) -> Meta:
        return Meta(at, actor)

    @staticmethod
    def key(actor: Actor, name: str) -> CommandKey:
        """Each staff step's fixed Idempotency-Key: a second run replays, records nothing."""
        return CommandKey(actor.name, f"demo-year:{name}", f"demo-year:{name}")


def fast_sqlite_writes(ledger: Ledger) -> None:
    """On SQLite, let the demo's many small commits skip the fsync of each one.

    In WAL mode `synchronous=NORMAL` keeps the database consistent; only the last commits
    before a power cut could be lost, and demonstration data can be loaded again. Set on the
    connections the pool holds (the demo runs on one thread, so on all it uses)."""
    recorder = ledger.recorder
    if not isinstance(recorder, SQLiteApplicationRecorder):
        return
    pool = recorder.datastore.pool
    if pool.is_sqlite_memory_mode:
        return
    held = [pool.get_connection() for _ in range(pool.pool_size)]
    try:
        for conn in held:
            conn.cursor().execute("PRAGMA synchronous=NORMAL")
    finally:
        for conn in held:
            pool.put_connection(conn)


def load_year(
    services: Services,
    notary: Notary,
    scale: Scale = Scale(),
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> Demo:
    """Load the year; `on_progress(done, total)` after each unit (an encounter, a case)."""
    # Imported here: these modules import this one for `Demo`.
    from api.demo_claims import claim_plan, run_claims
    from api.demo_complaints import complaint_plan, run_complaints
    from api.demo_disputes import dispute_plan, run_disputes

    demo = Demo(services, notary, cutoff_for(now or utc_now()))
    fast_sqlite_writes(services.ledger)
    claims, complaints, disputes = claim_plan(scale), complaint_plan(scale), dispute_plan(scale)
    total = claims.units + len(complaints) + len(disputes)
    done = 0
    runs: list[Iterator[None]] = [
        run_claims(demo, claims),
        run_complaints(demo, complaints),
        run_disputes(demo, disputes),
    ]
    for run in runs:
        for _ in run:
            done += 1
            on_progress(done, total)
    return demo
