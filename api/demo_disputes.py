"""The demonstration year's disputes (纠纷化解): about 60, opened from a claim, a complaint or
directly, along every path — a mediation agreement performed; confirmed by the court and
performed, or enforced; confirmation rejected; mediation extended; mediation failed, then
arbitration and an award; arbitration straight away and enforcement; withdrawn; closed; and
some still under way. Staff steps go through the dispute desk, the mediator's, arbitrator's
and court's steps are their partner events."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.demo_claims import person_id, person_name
from api.demo_year import SEED, Demo, Scale, day_in_year, staff
from application.commands import CommandKey
from application.disputes import (
    ApplyConfirmation,
    CloseDispute,
    ExtendMediation,
    OpenDispute,
    RecordPerformance,
    RequestArbitration,
    RequestEnforcement,
    RequestMediation,
    WithdrawDispute,
)
from application.gateway import Meta

MEDIATOR, ARBITRATOR, COURT = "mediator-001", "arbitrator-001", "court-001"
HANDLER = staff("王处理")
PATHS = {
    "agreement_performed": 16,
    "confirmed_performed": 8,
    "confirmed_enforced": 5,
    "confirmation_rejected": 3,
    "extended_agreement": 4,
    "failed_then_award": 8,
    "arbitration_enforcement": 5,
    "mediating": 4,
    "withdrawn": 5,
    "closed": 4,
}
FULL_DISPUTES = 64


@dataclass(frozen=True)
class Case:
    code: str
    path: str
    party: dict[str, str]
    amount: Decimal
    settled: Decimal
    opened: datetime
    origin: str  # claim, complaint or direct


def dispute_plan(scale: Scale, seed: int = SEED) -> list[Case]:
    """The year's disputes (deterministic for a seed); every path appears at any scale."""
    rng = random.Random(f"{seed}-disputes")  # noqa: S311 - a seeded demo, not a secret
    total = max(scale.of(FULL_DISPUTES), len(PATHS))
    cases = []
    for n in range(total):
        path = (
            list(PATHS)[n] if n < len(PATHS) else rng.choices(list(PATHS), list(PATHS.values()))[0]
        )
        region = "330100" if rng.random() < 0.6 else "110000"
        amount = Decimal(rng.randrange(500_000, 20_000_000)) / 100
        cases.append(
            Case(
                code=f"D26-{n + 1:03d}",
                path=path,
                party={"id": person_id(rng, region, 800 + n), "name": person_name(rng)},
                amount=amount,
                settled=(amount * Decimal(rng.randrange(50, 100)) / 100).quantize(Decimal("0.01")),
                # Spread from late January so the later steps of early cases stay in 2026.
                opened=day_in_year(0.05 + 0.9 * (n / total), rng.randint(9, 16)),
                origin=("claim", "complaint", "direct")[n % 3],
            )
        )
    return cases


def run_disputes(demo: Demo, cases: list[Case]) -> Iterator[None]:
    """Open and work every dispute as far as the cut-off; yields after each."""
    for n, case in enumerate(cases):
        _Script(demo, case, n).run()
        yield


Step = Callable[[], bool]  # runs one step; False when the cut-off holds it back


class _Script:
    """One dispute's steps in order, stopping at the cut-off."""

    def __init__(self, demo: Demo, case: Case, n: int) -> None:
        self.demo, self.case, self.n = demo, case, n
        self.did = UUID(int=0)
        self.desk = demo.services.disputes
        self.amount = f"{case.settled:.2f}"

    def at(self, days: int, hour: int = 10) -> datetime:
        return (self.case.opened + timedelta(days=days)).replace(hour=hour, minute=0)

    def staff(self, name: str, day: int, run: Callable[[Meta, CommandKey], object]) -> Step:
        def step() -> bool:
            when = self.at(day)
            if not self.demo.past(when):
                return False
            run(self.demo.meta(when, HANDLER), self.demo.key(HANDLER, f"{self.case.code}-{name}"))
            return True

        return step

    def partner(self, partner: str, kind: str, day: int, data: dict[str, Any]) -> Step:
        """A partner's event, posted at 16:00 of `day` (business times inside `data`)."""

        def step() -> bool:
            when = self.at(day, 16)
            if not self.demo.past(when):
                return False
            area, name, _ = kind.split(".")
            self.demo.post(
                partner,
                f"demo-y-{self.case.code}-{area}-{name}",
                kind,
                when,
                {"dispute_id": str(self.did), **data},
            )
            return True

        return step

    def run(self) -> None:
        c = self.case
        if not self.demo.past(c.opened):
            return
        complaint_id = claim_id = None
        if c.origin == "claim" and self.demo.settled:
            claim_id = UUID(self.demo.settled[(self.n * 37) % len(self.demo.settled)][1])
        if c.origin == "complaint" and self.demo.complaints:
            complaint_id = UUID(self.demo.complaints[(self.n * 7) % len(self.demo.complaints)])
        opened = self.desk.open(
            OpenDispute(c.party, c.amount, "对理赔结论有异议，申请调解", complaint_id, claim_id),
            self.demo.meta(c.opened, HANDLER),
            self.demo.key(HANDLER, f"{c.code}-open"),
        )
        self.did = UUID(str(opened.body["id"]))
        self.demo.disputes += 1
        for step in self.steps():
            if not step():
                return

    # -- the pieces of each path -------------------------------------------------------------

    def mediate(self) -> list[Step]:
        did = self.did
        return [
            self.staff(
                "mediation",
                1,
                lambda m, k: self.desk.request_mediation(
                    RequestMediation(did, MEDIATOR), m, k, None
                ),
            ),
            self.partner(MEDIATOR, "mediation.accepted.v1", 1, {}),
            self.partner(
                MEDIATOR,
                "mediation.session-held.v1",
                8,
                {
                    "held_at": self.at(8, 9).isoformat(),
                    "recording_ref": f"rec://{self.case.code}/1",
                },
            ),
        ]

    def signed(self, day: int, terms: str = "保险公司一次性支付调解金额，双方无其他争议") -> Step:
        data = {"signed_at": self.at(day, 15).isoformat(), "amount": self.amount, "terms": terms}
        return self.partner(MEDIATOR, "mediation.agreement-signed.v1", day, data)

    def confirm(self, day: int) -> list[Step]:
        did = self.did
        return [
            self.staff(
                "confirmation",
                day,
                lambda m, k: self.desk.apply_confirmation(
                    ApplyConfirmation(did, COURT), m, k, None
                ),
            ),
            self.partner(
                COURT,
                "court.confirmation-accepted.v1",
                day + 2,
                {
                    "case_no": f"(2026)示民特{self.n + 101}号",
                    "applied_at": self.at(day).isoformat(),
                },
            ),
        ]

    def ruled(self, day: int, reason: str | None = None) -> Step:
        if reason is None:
            data = {"ruled_at": self.at(day, 9).isoformat()}
            return self.partner(COURT, "court.confirmation-granted.v1", day, data)
        data = {"ruled_at": self.at(day, 9).isoformat(), "reason": reason}
        return self.partner(COURT, "court.confirmation-rejected.v1", day, data)

    def arbitrate(self, day: int) -> list[Step]:
        did, code = self.did, self.case.code
        return [
            self.staff(
                "arbitration",
                day,
                lambda m, k: self.desk.request_arbitration(
                    RequestArbitration(did, ARBITRATOR, True), m, k, None
                ),
            ),
            self.partner(
                ARBITRATOR,
                "arbitration.accepted.v1",
                day + 2,
                {"case_no": f"示仲网裁字〔2026〕{self.n + 301}号"},
            ),
            self.partner(
                ARBITRATOR,
                "arbitration.hearing-held.v1",
                day + 15,
                {"held_at": self.at(day + 15, 9).isoformat(), "recording_ref": f"rec://{code}/h"},
            ),
            self.partner(
                ARBITRATOR,
                "arbitration.award-issued.v1",
                day + 25,
                {
                    "issued_at": self.at(day + 25, 9).isoformat(),
                    "amount": self.amount,
                    "decision": "被申请人向申请人支付保险金",
                },
            ),
        ]

    def enforce(self, day: int) -> list[Step]:
        """Staff name the court once the title fell due unpaid; the court applies it."""
        did = self.did
        return [
            self.staff(
                "enforcement",
                day,
                lambda m, k: self.desk.request_enforcement(
                    RequestEnforcement(did, COURT), m, k, None
                ),
            ),
            self.partner(
                COURT,
                "court.enforcement-applied.v1",
                day + 2,
                {"applied_at": self.at(day + 2, 9).isoformat()},
            ),
        ]

    def performed(self, day: int) -> Step:
        cmd = RecordPerformance(self.did, self.case.settled)
        return self.staff(
            "performed", day, lambda m, k: self.desk.record_performance(cmd, m, k, None)
        )

    def close(self, day: int, reason: str) -> Step:
        cmd = CloseDispute(self.did, reason)
        return self.staff("close", day, lambda m, k: self.desk.close(cmd, m, k, None))

    def steps(self) -> list[Step]:
        """The path's steps; an agreement signed on day 12 falls due 15 days later."""
        path, did, sign = self.case.path, self.did, 12
        if path == "agreement_performed":
            return [
                *self.mediate(),
                self.signed(sign),
                self.performed(22),
                self.close(23, "履行完毕"),
            ]
        if path == "confirmed_performed":
            return [
                *self.mediate(),
                self.signed(sign),
                *self.confirm(15),
                self.ruled(24),
                self.performed(32),
            ]
        if path == "confirmed_enforced":
            enforced = self.partner(COURT, "court.enforced.v1", 72, {"amount": self.amount})
            return [
                *self.mediate(),
                self.signed(sign),
                *self.confirm(15),
                self.ruled(24),
                *self.enforce(32),
                enforced,
            ]
        if path == "confirmation_rejected":
            rejected = self.ruled(24, "协议内容超出当事人处分权范围")
            return [*self.mediate(), self.signed(sign), *self.confirm(15), rejected]
        if path == "extended_agreement":
            until = ExtendMediation(did, self.at(50).date(), True)
            extend = self.staff(
                "extension", 25, lambda m, k: self.desk.extend_mediation(until, m, k, None)
            )
            return [
                *self.mediate(),
                extend,
                self.signed(40, "延长调解期后达成协议"),
                self.performed(50),
            ]
        if path == "failed_then_award":
            failed = self.partner(
                MEDIATOR, "mediation.failed.v1", 15, {"reason": "双方对赔付金额分歧较大"}
            )
            return [*self.mediate(), failed, *self.arbitrate(18), self.performed(53)]
        if path == "arbitration_enforcement":
            return [*self.arbitrate(2), *self.enforce(47)]
        if path == "mediating":
            return self.mediate()
        if path == "withdrawn":
            withdraw = WithdrawDispute(did, "消费者撤回调解申请")
            return [
                *self.mediate()[:2],
                self.staff("withdraw", 5, lambda m, k: self.desk.withdraw(withdraw, m, k, None)),
            ]
        return [self.close(10, "双方自行协商和解")]
