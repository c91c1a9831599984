"""The demonstration year's complaints (投诉处理): about 600 cases over every channel, cause
and product line — 12378 transfers posted by the platform, the rest received by staff —
assigned by the supervisor, contacted, decided, notified and closed; some urged (by the
complainant or the regulator), escalated, extended once or twice, paused for an external
appraisal, decided late, withdrawn or declined; duplicates merged into their open master;
reviews (核查) after closure; and a few left open past their due date (overdue today)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from api.demo_claims import person_id, person_name
from api.demo_year import SEED, Demo, Scale, day_in_year, staff
from application.complaint_commands import (
    Assign,
    Close,
    Contact,
    Decide,
    DecideReview,
    Decline,
    Escalate,
    Extend,
    Intake,
    Notify,
    Pause,
    RequestReview,
    Resume,
    Sent,
    Urge,
    Withdraw,
)

PLATFORM = "cbirc-12378"
SUPERVISOR = staff("李主管")
HANDLERS = {
    "330100": ("王处理", "赵处理", "钱处理"),
    "110000": ("孙处理", "周处理", "吴处理"),
}
CHANNELS = ("12378", "hotline", "app", "online", "letter", "visit")
CHANNEL_WEIGHTS = (16, 30, 20, 14, 8, 12)
CAUSES = (
    *("claims", "sales", "surrender", "policy_service"),
    *("service", "product", "marketing", "other"),
)
CAUSE_WEIGHTS = (34, 16, 14, 9, 10, 7, 6, 4)
LINES = ("health", "life", "accident", "motor", "property", "guarantee", "other")
LINE_WEIGHTS = (38, 22, 10, 18, 6, 3, 3)
MATTERS = {
    "claims": ("住院医疗费用理赔金额有异议", "按条款足额赔付"),
    "sales": ("销售人员夸大收益、未说明免责条款", "全额退还保费"),
    "surrender": ("退保现金价值低于预期", "按已交保费退还"),
    "policy_service": ("保单变更受益人办理缓慢", "尽快完成保全变更"),
    "service": ("客服热线长时间无人接听", "改进服务并致歉"),
    "product": ("等待期条款理解存在分歧", "按有利于被保险人的解释赔付"),
    "marketing": ("频繁接到营销电话", "停止营销来电"),
    "other": ("保单邮寄地址错误", "重新寄送保单"),
}
# Lifecycle paths and their weights; "overdue" cases stay open past their due date.
PATHS = {
    "normal": 70,
    "extended": 7,
    "extended_twice": 2,
    "paused": 4,
    "late": 3,
    "escalated": 3,
    "withdrawn": 3,
    "declined": 3,
    "overdue": 5,
}
FULL_COMPLAINTS = 612
# A planned staff step: its name, when, by whom, and the command it sends.
Planned = tuple[str, datetime, str, Callable[[Sent], object]]


@dataclass(frozen=True)
class Case:
    code: str
    channel: str
    cause: str
    line: str
    region: str
    complainant: dict[str, str]
    received: datetime
    path: str
    decide_after: int  # days from receipt to the decision
    outcome: str
    redress: Decimal
    duplicate_via: str | None  # channel of a repeat while open (merged into this case)
    urged: bool
    reviewed: bool


def _pick(rng: random.Random, n: int, codes: tuple[str, ...], weights: tuple[int, ...]) -> str:
    # The first cases run through every code once, so each appears in the year.
    return codes[n] if n < len(codes) else rng.choices(codes, weights)[0]


def complaint_plan(scale: Scale, seed: int = SEED) -> list[Case]:
    """The year's complaints (deterministic for a seed)."""
    rng = random.Random(f"{seed}-complaints")  # noqa: S311 - a seeded demo, not a secret
    total = scale.of(FULL_COMPLAINTS)
    cases = []
    for n in range(total):
        region = "330100" if rng.random() < 0.6 else "110000"
        # The first cases take every path once, so each appears at any scale.
        path = _pick(rng, n, tuple(PATHS), tuple(PATHS.values()))
        received = day_in_year(n / total, rng.randint(8, 17), rng.choice((0, 15, 30, 45)))
        if path == "overdue" and received.month > 10:
            path = "normal"  # a case received lately is simply still open
        outcome = rng.choices(("upheld", "partly_upheld", "not_upheld"), (40, 25, 35))[0]
        if n == 0:
            outcome = "not_upheld"  # and reviewed: the first case shows a review
        redress = Decimal(0)
        if outcome != "not_upheld":
            redress = Decimal(rng.randrange(20_000, 2_000_000)) / 100
        decide_after = {
            "extended": rng.randint(18, 28),
            "extended_twice": rng.randint(35, 55),
            "late": rng.randint(17, 24),
        }.get(path, rng.randint(3, 13))
        cases.append(
            Case(
                code=f"C26-{n + 1:04d}",
                channel=_pick(rng, n, CHANNELS, CHANNEL_WEIGHTS),
                cause=_pick(rng, n, CAUSES, CAUSE_WEIGHTS),
                line=_pick(rng, n, LINES, LINE_WEIGHTS),
                region=region,
                complainant={
                    "id": person_id(rng, region, 500 + n),
                    "name": person_name(rng),
                    "phone": f"139{rng.randrange(10**8):08d}",
                },
                received=received,
                path=path,
                decide_after=decide_after,
                outcome=outcome,
                redress=redress,
                duplicate_via=(
                    rng.choice(("12378", "hotline", "app"))
                    if path in ("normal", "extended") and (n == 0 or rng.random() < 0.07)
                    else None
                ),
                urged=n == 0 or rng.random() < 0.08,
                reviewed=path == "normal" and outcome != "upheld" and (n < 9 or rng.random() < 0.1),
            )
        )
    return cases


def run_complaints(demo: Demo, cases: list[Case]) -> Iterator[None]:
    """Receive and work every case as far as the cut-off; yields after each."""
    for case in cases:
        _Script(demo, case).run()
        yield


class _Script:
    """One case's steps in the order they happened, stopping at the cut-off."""

    def __init__(self, demo: Demo, case: Case) -> None:
        self.demo = demo
        self.case = case
        self.id = UUID(int=0)
        self.handler = HANDLERS[case.region][int(case.code[-4:]) % 3]

    def at(self, days: float, hour: int = 10) -> datetime:
        day = self.case.received + timedelta(days=days)
        return day.replace(hour=hour, minute=0) if days >= 1 else day + timedelta(hours=1)

    def intake(self, channel: str, when: datetime, name: str) -> str:
        c = self.case
        matter, request = MATTERS[c.cause]
        if channel == "12378":
            body = self.demo.post(
                PLATFORM,
                f"demo-y-{c.code}-{name}",
                "regulator.complaint-transferred.v1",
                when,
                {
                    "transfer_id": self.transfer_id(1 if name == "intake" else 2),
                    "complainant": c.complainant,
                    "matter": matter,
                    "request": request,
                    "cause": c.cause,
                    "line": c.line,
                    "region": c.region,
                },
            )
            return str(body["stream"]["id"])
        intake = Intake(channel, c.complainant, matter, request, c.cause, c.line, c.region)
        actor = staff(self.handler)
        result = self.demo.services.complaints.receive(
            intake, self.demo.meta(when, actor), self.demo.key(actor, f"{c.code}-{name}")
        )
        return str(result.body["id"])

    def step(self, name: str, when: datetime, by: str, run: Callable[[Sent], object]) -> bool:
        """Run a staff command unless the cut-off holds it back; False stops the script."""
        if not self.demo.past(when):
            return False
        actor = staff(by)
        run(Sent(self.demo.meta(when, actor), self.demo.key(actor, f"{self.case.code}-{name}")))
        return True

    def run(self) -> None:
        c, desk, demo = self.case, self.demo.services.complaints, self.demo
        if not demo.past(c.received):
            return
        self.id = UUID(self.intake(c.channel, c.received, "intake"))
        demo.complaints.append(str(self.id))
        cid, h, boss = self.id, self.handler, SUPERVISOR.name
        if c.path == "declined":
            reason = "非投诉人本人或其代理人"
            self.step(
                "decline",
                self.at(2),
                h,
                lambda s: desk.decline(Decline(complaint_id=cid, reason=reason), s),
            )
            return
        steps: list[Planned] = [
            (
                "assign",
                self.at(0),
                boss,
                lambda s: desk.assign(Assign(complaint_id=cid, handler=h), s),
            ),
            ("contact", self.at(1, 9), h, lambda s: desk.contact(Contact(complaint_id=cid), s)),
        ]
        if c.urged:
            steps.append(("urge", self.at(2, 15), h, self._urge()))
        if c.path == "withdrawn":
            steps.append(
                ("withdraw", self.at(3), h, lambda s: desk.withdraw(Withdraw(complaint_id=cid), s))
            )
        if c.path == "escalated":
            steps += [
                (
                    "urge-1",
                    self.at(4, 9),
                    h,
                    lambda s: desk.urge(Urge(complaint_id=cid, by="complainant"), s),
                ),
                (
                    "urge-2",
                    self.at(6, 9),
                    h,
                    lambda s: desk.urge(Urge(complaint_id=cid, by="complainant"), s),
                ),
                (
                    "escalate",
                    self.at(6, 11),
                    boss,
                    lambda s: desk.escalate(Escalate(complaint_id=cid, reason="投诉人多次催办"), s),
                ),
            ]
        if c.path in ("extended", "extended_twice"):
            steps.append(
                (
                    "extend",
                    self.at(12),
                    boss,
                    lambda s: desk.extend(
                        Extend(complaint_id=cid, reason="需调取医院病历等外部资料"), s
                    ),
                )
            )
        if c.path == "extended_twice":
            steps.append(
                (
                    "extend-2",
                    self.at(27),
                    boss,
                    lambda s: desk.extend(
                        Extend(complaint_id=cid, reason="涉及第三方责任认定，需进一步核实"), s
                    ),
                )
            )
        decided = c.decide_after
        if c.path == "escalated":
            decided = max(decided, 8)
        if c.path == "paused":
            paused = 6 + int(c.code[-2:]) % 12
            steps += [
                (
                    "pause",
                    self.at(4),
                    h,
                    lambda s: desk.pause(Pause(complaint_id=cid, reason="委托第三方伤残鉴定"), s),
                ),
                (
                    "resume",
                    self.at(4 + paused),
                    h,
                    lambda s: desk.resume(Resume(complaint_id=cid), s),
                ),
            ]
            decided = max(decided, 6) + paused
        if c.path not in ("withdrawn", "overdue"):
            steps += self._decision(decided)
        repeat_at = self.at(2, 16) if c.duplicate_via else None
        for name, when, by, run in sorted(steps, key=lambda s: s[1]):
            if repeat_at is not None and when > repeat_at:
                if not self._repeat(repeat_at):
                    return
                repeat_at = None
            if not self.step(name, when, by, run):
                return

    def _urge(self) -> Callable[[Sent], object]:
        """A 12378 case is urged by the platform (an event), others by the complainant."""
        c, cid = self.case, self.id
        if c.channel != "12378":
            return lambda s: self.demo.services.complaints.urge(
                Urge(complaint_id=cid, by="complainant"), s
            )

        def platform(sent: Sent) -> object:
            return self.demo.post(
                PLATFORM,
                f"demo-y-{c.code}-urged",
                "regulator.urged.v1",
                sent.meta.occurred_at,
                {"transfer_id": self.transfer_id(1), "note": "投诉人来电催办，请加快办理"},
            )

        return platform

    def transfer_id(self, n: int) -> str:
        return f"12378-2026-{int(self.case.code[-4:]) * 10 + n:06d}"

    def _repeat(self, when: datetime) -> bool:
        """The complainant complains again on the same matter while the case is open: the
        desk merges it into this case (clock unchanged)."""
        if not self.demo.past(when):
            return False
        assert self.case.duplicate_via is not None
        self.intake(self.case.duplicate_via, when, "repeat")
        return True

    def _decision(self, after: int) -> list[Planned]:
        c, desk, cid, h = self.case, self.demo.services.complaints, self.id, self.handler
        decided = self.at(after, 15)
        steps: list[Planned] = [
            (
                "decide",
                decided,
                h,
                lambda s: desk.decide(
                    Decide(
                        complaint_id=cid,
                        outcome=c.outcome,
                        redress=c.redress,
                        facts="调取保单、理赔及通话记录核实",
                        basis="保险合同条款及《保险法》相关规定",
                        root_causes=("claims_service",) if c.outcome == "upheld" else (),
                        responsible_department="claims" if c.outcome == "upheld" else None,
                    ),
                    s,
                ),
            ),
            (
                "notify",
                decided + timedelta(hours=2),
                h,
                lambda s: desk.notify(Notify(complaint_id=cid), s),
            ),
            ("close", self.at(after + 2, 11), h, lambda s: desk.close(Close(complaint_id=cid), s)),
        ]
        if c.reviewed:
            steps += [
                (
                    "review",
                    self.at(after + 10),
                    h,
                    lambda s: desk.request_review(
                        RequestReview(complaint_id=cid, reason="投诉人对处理结果有异议，申请核查"),
                        s,
                    ),
                ),
                (
                    "review-decision",
                    self.at(after + 24),
                    SUPERVISOR.name,
                    lambda s: desk.decide_review(
                        DecideReview(
                            complaint_id=cid, outcome="not_upheld", basis="复核维持原处理意见"
                        ),
                        s,
                    ),
                ),
            ]
        return steps
