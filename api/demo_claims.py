"""The demonstration year's claims (一站式结算): patients of two regions, their commercial
policies, and about 3,000 hospital stays at three hospitals — admission, itemised charges
(some reversed), discharge with the settlement, the patient's part collected, some
settlements cancelled and settled again, and the insurer remitting its share — with the
insurer's exposure for every quarter and product line. All posted as partner events."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from api.demo_year import SEED, Demo, Scale, day_in_year
from domain.common import CST

INSURER = "insurer-001"
# partner id → (region, hospital level, share of the stays)
HOSPITALS = {
    "hosp-hz-001": ("330100", 3, 0.45),
    "hosp-hz-003": ("330100", 2, 0.25),
    "hosp-bj-002": ("110000", 3, 0.30),
}
ID_PREFIX = {"330100": ("330102", "330106", "330108"), "110000": ("110101", "110105", "110108")}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌宇浩然欣怡子涵"
LINES = ("health", "life", "accident", "motor", "property", "guarantee", "other")
# Quarterly exposure of the branch per line: premium (CNY), policies, insured persons.
EXPOSURE = {
    "health": (Decimal("125000000.00"), 84000, 91000),
    "life": (Decimal("310000000.00"), 52000, 56000),
    "accident": (Decimal("18500000.00"), 61000, 140000),
    "motor": (Decimal("96000000.00"), 38000, 38000),
    "property": (Decimal("21000000.00"), 9500, 9500),
    "guarantee": (Decimal("4200000.00"), 1200, 1200),
    "other": (Decimal("2600000.00"), 3100, 3300),
}
FULL_ENCOUNTERS = 3150
FULL_PATIENTS = 1900


def check_digit(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a resident identity number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@dataclass(frozen=True)
class Patient:
    id: str
    name: str
    region: str

    def person(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Policy:
    policy_id: str
    product: str
    patient: Patient
    start: date
    cancelled: date | None
    offline_paid: str | None  # a claim the insurer paid outside the one-stop channel
    offline_after_days: int


@dataclass(frozen=True)
class Encounter:
    code: str
    hospital: str
    patient: Patient
    social_insurance: bool
    admitted: datetime
    days: int
    items: tuple[dict[str, str | bool], ...]
    reversed_line: dict[str, str | bool] | None
    cancelled: bool
    remit_after_days: int

    @property
    def discharged(self) -> datetime:
        return self.admitted.replace(hour=10) + timedelta(days=self.days)


@dataclass(frozen=True)
class ClaimPlan:
    patients: tuple[Patient, ...]
    policies: tuple[Policy, ...]
    encounters: tuple[Encounter, ...]

    @property
    def units(self) -> int:
        return len(self.policies) + len(self.encounters) + 1  # exposure counts as one


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def person_id(rng: random.Random, region: str, serial: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 52))
    body = f"{rng.choice(ID_PREFIX[region])}{born:%Y%m%d}{serial % 1000:03d}"
    return body + check_digit(body)


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"{Decimal(rng.randrange(low * 100, high * 100)) / 100:.2f}"


def _items(rng: random.Random, code: str, days: int) -> list[dict[str, str | bool]]:
    bed = Decimal(rng.choice((60, 80, 120))) * days
    items: list[dict[str, str | bool]] = [
        {"code": "A010", "name": "床位费", "category": "A", "amount": f"{bed:.2f}"},
        {"code": "A020", "name": "检查化验费", "category": "A", "amount": _money(rng, 300, 4000)},
        {"code": "B010", "name": "西药费", "category": "B", "amount": _money(rng, 200, 6000)},
    ]
    if rng.random() < 0.4:
        surgery = _money(rng, 3000, 45000)
        item: dict[str, str | bool] = {
            "code": "A001",
            "name": "手术费",
            "category": "A",
            "amount": surgery,
        }
        if rng.random() < 0.25:
            item["over_limit"] = f"{Decimal(surgery) / 10:.2f}"
        items.append(item)
    if rng.random() < 0.12:
        items.append(
            {"code": "B001", "name": "靶向药", "category": "B", "amount": _money(rng, 5000, 30000)}
        )
    if rng.random() < 0.3:
        items.append(
            {"code": "C001", "name": "进口耗材", "category": "C", "amount": _money(rng, 800, 15000)}
        )
    if rng.random() < 0.06:
        items.append(
            {
                "code": "C002",
                "name": "特需病房",
                "category": "C",
                "amount": _money(rng, 500, 3000),
                "necessary": False,
            }
        )
    return [{"line_id": f"{code}-{n}", **i} for n, i in enumerate(items, 1)]


def claim_plan(scale: Scale, seed: int = SEED) -> ClaimPlan:
    """The year's patients, policies and stays (deterministic for a seed)."""
    rng = random.Random(f"{seed}-claims")  # noqa: S311 - a seeded demo, not a secret
    patients = []
    for n in range(scale.of(FULL_PATIENTS)):
        region = "330100" if n % 5 < 3 else "110000"
        patients.append(Patient(person_id(rng, region, n), person_name(rng), region))
    policies = []
    for n, patient in enumerate(patients):
        if rng.random() < 0.5:
            product = "HMB-HZ-2026" if patient.region == "330100" and rng.random() < 0.3 else ""
            start = date(2026, 1, 1) + timedelta(days=rng.randrange(90))
            cancelled = start + timedelta(days=rng.randrange(150, 250)) if n % 97 == 0 else None
            offline = _money(rng, 800, 9000) if n % 11 == 0 and not cancelled else None
            policies.append(
                Policy(
                    f"P-2026-{n + 100:05d}",
                    product or "BWYL-2026",
                    patient,
                    start,
                    cancelled,
                    offline,
                    rng.randrange(30, 320),
                )
            )
    by_region = {r: [p for p in patients if p.region == r] for r in ID_PREFIX}
    hospitals = list(HOSPITALS)
    encounters = []
    for n in range(scale.of(FULL_ENCOUNTERS)):
        hospital = rng.choices(hospitals, [HOSPITALS[h][2] for h in hospitals])[0]
        region = HOSPITALS[hospital][0]
        patient = rng.choice(by_region[region])
        days = rng.randint(2, 14)
        code = f"{'BJ' if region == '110000' else 'ZY'}-Y26-{n + 1:05d}"
        items = _items(rng, code, days)
        reversed_line: dict[str, str | bool] | None = None
        if rng.random() < 0.06:
            reversed_line = {**items[0], "line_id": f"{code}-R", "name": "床位费（重复计费）"}
        encounters.append(
            Encounter(
                code=code,
                hospital=hospital,
                patient=patient,
                social_insurance=rng.random() < 0.88,
                admitted=day_in_year(n / scale.of(FULL_ENCOUNTERS), rng.randint(7, 20)),
                days=days,
                items=tuple(items),
                reversed_line=reversed_line,
                cancelled=rng.random() < 0.025,
                remit_after_days=rng.randint(5, 25),
            )
        )
    return ClaimPlan(tuple(patients), tuple(policies), tuple(encounters))


def run_claims(demo: Demo, plan: ClaimPlan) -> Iterator[None]:
    """Post the policies, the exposure and every stay; yields after each unit."""
    for policy in plan.policies:
        _policy(demo, policy)
        yield
    _exposure(demo)
    yield
    for encounter in plan.encounters:
        _encounter(demo, encounter)
        yield


def _policy(demo: Demo, p: Policy) -> None:
    issued = datetime(p.start.year, p.start.month, p.start.day, 9, tzinfo=CST) - timedelta(days=3)
    if demo.past(issued):
        demo.post(
            INSURER,
            f"demo-y-policy-{p.policy_id}",
            "insurer.policy-issued.v1",
            issued,
            {
                "policy_id": p.policy_id,
                "product_code": p.product,
                "insured": p.patient.person(),
                "period_start": p.start.isoformat(),
                "period_end": (p.start + timedelta(days=364)).isoformat(),
            },
        )
    if p.offline_paid is not None:
        paid = datetime(p.start.year, p.start.month, p.start.day, 15, tzinfo=CST) + timedelta(
            days=p.offline_after_days
        )
        if demo.past(paid):
            demo.post(
                INSURER,
                f"demo-y-policy-{p.policy_id}-offline",
                "insurer.offline-claim-paid.v1",
                paid,
                {
                    "policy_id": p.policy_id,
                    "paid_at": paid.isoformat(),
                    "amount": p.offline_paid,
                    "deductible_applied": "0.00",
                },
            )
    if p.cancelled is not None:
        at = datetime(p.cancelled.year, p.cancelled.month, p.cancelled.day, 14, tzinfo=CST)
        if demo.past(at):
            demo.post(
                INSURER,
                f"demo-y-policy-{p.policy_id}-cancel",
                "insurer.policy-cancelled.v1",
                at,
                {"policy_id": p.policy_id, "effective": p.cancelled.isoformat()},
            )


# period → when the insurer reported it: each quarter after it ended (the current one at
# its start, as planned), and the year to date in December.
REPORTED = {
    "2026Q1": date(2026, 4, 10),
    "2026Q2": date(2026, 7, 10),
    "2026Q3": date(2026, 10, 12),
    "2026Q4": date(2026, 10, 8),
    "2026": date(2026, 12, 1),
}


def exposure(period: str, line: str) -> tuple[Decimal, int, int]:
    """The branch's premium, policies and insured persons of a line in a period."""
    premium, policies, insured = EXPOSURE[line]
    quarters = (1, 2, 3, 4) if len(period) == 4 else (int(period[-1]),)
    growth = sum(Decimal(100 + 3 * q) / 100 for q in quarters)
    return premium * growth, int(policies * growth), int(insured * growth)


def _exposure(demo: Demo) -> None:
    """Every quarter's and the year's exposure per line; 2026Q3 health is the hand-written
    demo's report."""
    for period, reported in REPORTED.items():
        at = datetime(reported.year, reported.month, reported.day, 10, tzinfo=CST)
        for line in LINES:
            if (period, line) == ("2026Q3", "health") or not demo.past(at):
                continue
            premium, policies, insured = exposure(period, line)
            demo.post(
                INSURER,
                f"demo-y-exposure-{period}-{line}",
                "insurer.exposure-reported.v1",
                at,
                {
                    "period": period,
                    "line": line,
                    "premium": f"{premium:.2f}",
                    "policies": policies,
                    "insured_persons": insured,
                },
            )


def _encounter(demo: Demo, e: Encounter) -> None:
    """One stay, as far as the cut-off lets it go."""
    ev = f"demo-y-{e.code}"
    if not demo.past(e.admitted):
        return
    region, level, _ = HOSPITALS[e.hospital]
    admitted = demo.post(
        e.hospital,
        f"{ev}-admission",
        "hospital.admission.v1",
        e.admitted,
        {
            "encounter_id": e.code,
            "patient": e.patient.person(),
            "region": region,
            "person_type": "employee",
            "hospital_level": level,
            "social_insurance": e.social_insurance,
            "admitted_at": e.admitted.isoformat(),
        },
    )
    claim_id = str(admitted["stream"]["id"])
    demo.claims[e.code] = claim_id
    charged = e.admitted + timedelta(days=e.days - 1, hours=2)
    if not demo.past(charged):
        return
    items = [*e.items, *([e.reversed_line] if e.reversed_line else [])]
    demo.post(
        e.hospital,
        f"{ev}-charges",
        "hospital.charges.v1",
        charged,
        {"encounter_id": e.code, "items": items},
    )
    if e.reversed_line is not None:
        demo.post(
            e.hospital,
            f"{ev}-reversal",
            "hospital.charges-reversal.v1",
            charged + timedelta(hours=1),
            {"encounter_id": e.code, "line_ids": [e.reversed_line["line_id"]]},
        )
    discharged = e.discharged
    if not demo.past(discharged + timedelta(hours=3)):
        return
    settlement = _discharge(demo, e, f"{ev}-discharge", discharged)
    if e.cancelled:
        demo.post(
            e.hospital,
            f"{ev}-cancel",
            "hospital.settlement-cancelled.v1",
            discharged + timedelta(hours=1),
            {"encounter_id": e.code, "reason": "出院诊断录入错误，撤销结算后重新结算"},
        )
        settlement = _discharge(demo, e, f"{ev}-discharge-2", discharged + timedelta(hours=2))
    copay = Decimal(settlement["patient_pays"])
    if copay > 0:
        demo.post(
            e.hospital,
            f"{ev}-copay",
            "hospital.copay-collected.v1",
            discharged + timedelta(hours=3),
            {"encounter_id": e.code, "amount": f"{copay:.2f}"},
        )
    commercial = Decimal(settlement["commercial_paid"])
    demo.settled.append((e.code, claim_id, settlement, discharged))
    remitted = discharged + timedelta(days=e.remit_after_days, hours=5)
    if commercial > 0 and demo.past(remitted):
        demo.post(
            INSURER,
            f"{ev}-remittance",
            "insurer.remittance-paid.v1",
            remitted,
            {"claim_id": claim_id, "amount": f"{commercial:.2f}"},
        )


def _discharge(demo: Demo, e: Encounter, event_id: str, at: datetime) -> dict[str, Any]:
    body = demo.post(
        e.hospital,
        event_id,
        "hospital.discharge.v1",
        at,
        {"encounter_id": e.code, "discharged_at": at.isoformat()},
    )
    settlement: dict[str, Any] = body["settlement"]
    return settlement
