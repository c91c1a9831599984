"""Many writers on one stream at once: concurrent complaint intakes (one handler workload),
50 staff commands on one complaint, and two hospitals discharging the same insured person
50 times at once. No update is lost; a conflict is re-run inside (with a jittered wait) or
refused as `concurrent_update` (409), never an unexpected error (500)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

import pytest

from application import complaint_commands as cc
from application.complaint_commands import Intake
from application.gateway import EventResult, Meta
from application.ledger import Ledger
from application.routing import Handler, StaticDirectory, Workload, workload_id
from application.saving import ConcurrencyExhausted
from application.services import Services, build_services
from domain.accumulators import (
    DEDUCTIBLE_USED,
    FUND_PAID,
    LIMIT_USED,
    POLICY_YEAR,
    SI_FUND,
    Accumulator,
    accumulator_id,
    fund_key,
    policy_year_key,
)
from domain.common import Actor
from domain.complaints import Complaint
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_vault, dispute_rules, migrate
from tests.builders import (
    HOSPITAL,
    OTHER_HOSPITAL,
    admit,
    charge,
    discharge,
    issue_policy,
    money,
    seed_reference,
)

T = TypeVar("T")
HANDLERS = [Handler("wang", "east", ("330100",), ("claims",), ("health",))]  # one: all his


@pytest.fixture
def real_ledger(settings: Settings) -> Iterator[Ledger]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield ledger
    ledger.close()  # its pool's connections go back to the shared server


@pytest.fixture
def desk(real_ledger: Ledger, settings: Settings) -> Services:
    return build_services(
        real_ledger,
        build_vault(settings, real_ledger),
        directory=StaticDirectory(HANDLERS),
        dispute_rules=dispute_rules(settings),
        retention_days={"claims": 0, "policies": 0},
    )


def all_at_once(count: int, work: Callable[[int], T]) -> list[T | ConcurrencyExhausted]:
    """Run `work(i)` for each i on its own thread; a refusal to save is kept as an answer,
    anything else raised fails the test (it would be a 500)."""

    def one(i: int) -> T | ConcurrencyExhausted:
        try:
            return work(i)
        except ConcurrencyExhausted as refused:
            return refused

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def staff() -> Meta:
    return Meta(datetime.now(tz=UTC), Actor(name="wang", role="handler"))


def intake(i: int) -> Intake:
    return Intake(
        channel="hotline",
        complainant={"id": f"c-{i}", "name": "Zhang San", "phone": "13800000000"},
        matter=f"claim {i} refused",
        request="pay the claim",
        cause="claims",
        line="health",
        region="330100",
        policy_id=f"P{i}",
    )


def test_sixteen_concurrent_intakes_all_go_through_and_the_workload_counts_each(
    desk: Services,
) -> None:
    answers = all_at_once(16, lambda i: desk.complaints.receive(intake(i), staff(), None))

    assert not [a for a in answers if isinstance(a, ConcurrencyExhausted)]
    ids = {UUID(str(a.body["id"])) for a in answers if not isinstance(a, ConcurrencyExhausted)}
    assert len(ids) == 16
    workload = desk.ledger.find(Workload, workload_id("wang"))
    assert workload is not None
    assert workload.open == 16


def test_fifty_writers_on_one_complaint_lose_no_update(desk: Services) -> None:
    case = UUID(str(desk.complaints.receive(intake(0), staff(), None).body["id"]))

    def urge(_: int) -> object:
        return desk.complaints.urge(cc.Urge(complaint_id=case), cc.Sent(staff()))

    answers = all_at_once(50, urge)

    accepted = [a for a in answers if not isinstance(a, ConcurrencyExhausted)]
    assert accepted  # most go through; the others were refused with 409, not lost
    complaint = desk.ledger.find(Complaint, case)
    assert complaint is not None
    assert complaint.urges == len(accepted)


def test_two_hospitals_discharging_one_person_fifty_times_lose_no_amount(desk: Services) -> None:
    seed_reference(desk, deductible="100.00", limit="100000000.00")
    issue_policy(desk)
    hospitals = [HOSPITAL, OTHER_HOSPITAL]
    for i in range(50):
        admit(desk, f"E{i}", hospital=hospitals[i % 2])
        charge(desk, f"E{i}", hospital=hospitals[i % 2])

    answers = all_at_once(50, lambda i: discharge(desk, f"E{i}", hospital=hospitals[i % 2]))

    settled = [a for a in answers if isinstance(a, EventResult)]
    assert len(settled) + sum(isinstance(a, ConcurrencyExhausted) for a in answers) == 50
    assert settled
    ref = desk.personal.vault.ref("person-1")
    fund = desk.ledger.find(Accumulator, accumulator_id(SI_FUND, fund_key(ref, 2026)))
    year = desk.ledger.find(
        Accumulator,
        accumulator_id(POLICY_YEAR, policy_year_key("P1", datetime(2026, 1, 1).date())),
    )
    assert fund is not None
    assert year is not None
    assert fund.total(FUND_PAID) == sum(
        (money(a, "social_insurance_paid") for a in settled), Decimal(0)
    )
    assert year.total(LIMIT_USED) == sum((money(a, "commercial_paid") for a in settled), Decimal(0))
    assert year.total(DEDUCTIBLE_USED) == Decimal("100.00")
