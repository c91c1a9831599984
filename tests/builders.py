"""Test data: the domain's worked example as reference data, and partner events as commands."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from application import claims as c
from application import reference as r
from application.gateway import EventResult, Meta, PartnerEvent
from application.services import Services
from domain.common import Actor
from domain.reference import LevelTerms
from domain.settlement import ChargeLine, ProductTerms

D = Decimal
HOSPITAL = "hosp-1"
OTHER_HOSPITAL = "hosp-2"
INSURER = "insurer-1"
REGION = "330100"
ADMITTED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_ids = itertools.count(1)

WORKED_EXAMPLE_LINES = (
    ChargeLine("L1", "A001", "surgery", "A", D("55000.00"), over_limit=D("5000.00")),
    ChargeLine("L2", "B001", "drug", "B", D("30000.00")),
    ChargeLine("L3", "C001", "implant", "C", D("14000.00")),
    ChargeLine("L4", "C002", "vip ward", "C", D("1000.00"), necessary=False),
)


def admin_meta() -> Meta:
    return Meta(datetime.now(tz=UTC), Actor(name="admin", role="admin"))


def seed_reference(
    services: Services, *, deductible: str = "10000.00", limit: str = "2000000.00"
) -> None:
    """The worked example's scheme (level 3: 800 / 0.84, B pre-pay 10%) and product."""
    services.reference.put_scheme(
        "hz-employee",
        r.SchemeDraft(
            REGION,
            "employee",
            date(2026, 1, 1),
            D("400000.00"),
            D("0.10"),
            {"2": LevelTerms(D("500.00"), D("0.88")), "3": LevelTerms(D("800.00"), D("0.84"))},
        ),
        admin_meta(),
    )
    services.reference.put_product(
        "BWYL",
        r.ProductDraft(
            date(2026, 1, 1),
            ProductTerms(D(deductible), D("1.00"), D("0.60"), D(limit), True),
        ),
        admin_meta(),
    )


def post(services: Services, command: object, partner: str = HOSPITAL, **kw: Any) -> EventResult:
    """Record a command as a partner event with a fresh id (or the given `event_id`)."""
    event_id = kw.get("event_id") or f"evt-{next(_ids)}"
    role = "insurer" if partner.startswith("insurer") else "hospital"
    actor = Actor(
        name=partner,
        role=role,
        partner_id=partner,
        source=f"/partners/{partner}",
        event_id=event_id,
    )
    return services.events.record(
        PartnerEvent(
            source=f"/partners/{partner}",
            event_id=event_id,
            event_type=type(command).__name__,
            digest=kw.get("digest", f"digest-{event_id}"),
            command=command,
            meta=Meta(kw.get("occurred_at", datetime.now(tz=UTC)), actor),
        )
    )


def issue_policy(
    services: Services,
    policy_id: str = "P1",
    insured: str = "person-1",
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
) -> EventResult:
    return post(
        services, r.IssuePolicy(policy_id, "BWYL", insured, "Zhang San", start, end), INSURER
    )


def admit(
    services: Services,
    encounter: str = "E1",
    *,
    patient: str = "person-1",
    social_insurance: bool = True,
    hospital: str = HOSPITAL,
    admitted_at: datetime = ADMITTED,
    policy_id: str | None = None,
    level: int = 3,
    event_id: str | None = None,
) -> EventResult:
    return post(
        services,
        c.RegisterAdmission(
            hospital,
            encounter,
            patient,
            "Zhang San",
            REGION,
            "employee",
            level,
            social_insurance,
            admitted_at,
            policy_id,
        ),
        hospital,
        event_id=event_id,
    )


def charge(
    services: Services,
    encounter: str = "E1",
    lines: tuple[ChargeLine, ...] = WORKED_EXAMPLE_LINES,
    hospital: str = HOSPITAL,
) -> EventResult:
    return post(services, c.PostCharges(hospital, encounter, lines), hospital)


def discharge(
    services: Services,
    encounter: str = "E1",
    hospital: str = HOSPITAL,
    platform: dict[str, Any] | None = None,
) -> EventResult:
    return post(
        services,
        c.Discharge(hospital, encounter, datetime(2026, 3, 9, 2, tzinfo=UTC), platform),
        hospital,
    )


def settle_worked_example(services: Services, encounter: str = "E1", **kw: Any) -> EventResult:
    admit(services, encounter, **kw)
    charge(services, encounter)
    return discharge(services, encounter)


def money(result: EventResult, name: str) -> Decimal:
    return Decimal(result.extra["settlement"][name])
