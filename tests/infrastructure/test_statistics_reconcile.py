"""Every complaint figure of a period equals a recomputation from the raw events (replayed
aggregates, not the view), on both stores — also after a crash in the middle of a batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application import complaint_commands as cc
from application.complaint_commands import Intake
from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import Services, build_services
from domain.common import CST, Actor
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from infrastructure.complaint_stats import Period, parse_period
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_projector,
    build_statistics,
    build_vault,
    dispute_rules,
    migrate,
)

OCTOBER = datetime(2026, 10, 1, tzinfo=CST)
NOW = datetime.now(tz=UTC)


@pytest.fixture
def services(settings: Settings) -> Iterator[tuple[Services, Settings]]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield (
        build_services(
            ledger,
            build_vault(settings, ledger),
            directory=StaticDirectory([Handler("wang", None, (), (), ())]),
            dispute_rules=dispute_rules(settings),
        ),
        settings,
    )
    ledger.close()


def meta(day: float) -> Meta:
    return Meta((OCTOBER + timedelta(days=day)).astimezone(UTC), Actor("wang", "handler"))


def boss(day: float) -> Meta:
    return Meta((OCTOBER + timedelta(days=day)).astimezone(UTC), Actor("boss", "supervisor"))


def intake(
    person: str, channel: str = "app", cause: str = "claims", transfer_id: str | None = None
) -> Intake:
    return Intake(
        channel=channel,
        complainant={"id": person, "name": "n"},
        matter="m",
        request="r",
        cause=cause,
        line="health",
        region="330100",
        transfer_id=transfer_id,
    )


def history(services: Services) -> None:
    """A month of varied cases: decided fast and slow, extended, paused, reviewed, merged,
    withdrawn, open and overdue, and one received the month before."""
    desk = services.complaints
    causes = ("claims", "service", "sales")
    channels = ("hotline", "app", "12378")
    ids: list[UUID] = []
    for n in range(12):
        channel = channels[n % 3]
        transfer = f"T-{n}" if channel == "12378" else None
        case = intake(f"c-{n}", channel, causes[n % 3], transfer)
        ids.append(UUID(str(desk.receive(case, meta(n), None).body["id"])))
    desk.receive(intake("c-0"), meta(1), None)  # a duplicate of the first
    desk.receive(intake("c-x", "hotline"), meta(-5), None)  # September
    desk.receive(intake("c-y", "letter", "sales"), meta(-320), None)  # November 2025, open

    def decide(case: UUID, outcome: str, redress: str, when: Meta) -> None:
        verdict = cc.Decide(
            complaint_id=case, outcome=outcome, redress=Decimal(redress), facts="f", basis="b"
        )
        desk.decide(verdict, cc.Sent(when))

    decide(ids[0], "upheld", "100.00", meta(3))
    desk.notify(cc.Notify(complaint_id=ids[0], method="letter"), cc.Sent(meta(4)))
    desk.close(cc.Close(complaint_id=ids[0]), cc.Sent(meta(5)))
    desk.request_review(cc.RequestReview(complaint_id=ids[0], reason="r"), cc.Sent(meta(6)))
    desk.extend(cc.Extend(complaint_id=ids[1], reason="x"), cc.Sent(boss(10)))
    desk.pause(cc.Pause(complaint_id=ids[1], reason="appraisal"), cc.Sent(meta(11)))
    desk.resume(cc.Resume(complaint_id=ids[1]), cc.Sent(meta(14)))
    decide(ids[1], "not_upheld", "0.00", meta(25))
    desk.notify(cc.Notify(complaint_id=ids[1], method="letter"), cc.Sent(meta(25.5)))
    desk.withdraw(cc.Withdraw(complaint_id=ids[2]), cc.Sent(meta(6)))
    decide(ids[3], "partly_upheld", "55.50", meta(8))
    desk.notify(cc.Notify(complaint_id=ids[3], method="sms"), cc.Sent(meta(9)))
    # Around now: open and overdue, received an hour ago, closed an hour ago.
    recent = []
    for n, ago in enumerate((timedelta(days=20), timedelta(hours=1), timedelta(days=3))):
        at = Meta(NOW - ago, Actor("wang", "handler"))
        recent.append(
            UUID(str(desk.receive(intake(f"r-{n}", cause="service"), at, None).body["id"]))
        )
    an_hour_ago = Meta(NOW - timedelta(hours=1), Actor("wang", "handler"))
    desk.withdraw(cc.Withdraw(complaint_id=recent[2]), cc.Sent(an_hour_ago))
    # Instants just after now (up to five minutes ahead are accepted): received, withdrawn,
    # and an overdue case notified.
    ahead = Meta(NOW + timedelta(minutes=2), Actor("wang", "handler"))
    desk.receive(intake("a-0", cause="sales"), ahead, None)
    desk.withdraw(cc.Withdraw(complaint_id=ids[4]), cc.Sent(ahead))
    decide(ids[5], "upheld", "1.00", Meta(NOW - timedelta(minutes=1), Actor("wang", "handler")))
    desk.notify(cc.Notify(complaint_id=ids[5], method="letter"), cc.Sent(ahead))


def recompute(
    services: Services, period: Period, now: datetime, rules: ComplaintRules
) -> dict[str, Any]:
    """The figures straight from replayed complaints (independent of the view and its SQL)."""
    cases = list(services.complaint_queries.all_complaints())
    evaluated = min(period.end, now)

    def inside(t: datetime | None) -> bool:
        return t is not None and period.start <= t < period.end

    def ended(c: Complaint) -> datetime | None:
        return c.closed_at or c.ended_at

    def open_at(c: Complaint, t: datetime) -> bool:
        e = ended(c)
        return c.received_at < t and (e is None or e >= t)

    counted = [c for c in cases if c.merged_into is None]
    received = [c for c in counted if inside(c.received_at)]
    buckets = {"within_15": 0, "days_16_30": 0, "days_31_60": 0, "later": 0}
    days = []
    for c in received:
        if c.notice and c.notice.notified_at < period.end:
            clock = c.clock(c.modified_on, rules)
            d = (
                c.notice.notified_at.astimezone(CST).date() - c.received_at.astimezone(CST).date()
            ).days
            d -= clock.paused_days
            days.append(d)
            buckets[
                "within_15"
                if d <= 15
                else "days_16_30"
                if d <= 30
                else "days_31_60"
                if d <= 60
                else "later"
            ] += 1
    decided = [c for c in received if c.decision and c.decision.decided_at < period.end]
    notified = [c for c in received if c.notice and c.notice.notified_at < period.end]
    upheld = [c for c in decided if c.decision and c.decision.outcome != "not_upheld"]
    overdue = 0
    for c in received:
        clock = c.clock(c.modified_on, rules)
        if (
            not (c.notice and c.notice.notified_at < evaluated)
            and clock.due_at < evaluated
            and open_at(c, evaluated)
        ):
            overdue += 1

    def rate(a: int, b: int) -> str | None:
        return None if b == 0 else str((Decimal(a) / Decimal(b)).quantize(Decimal("0.0001")))

    return {
        "received": len(received),
        "duplicates_merged": sum(
            1 for c in cases if c.merged_into is not None and inside(c.received_at)
        ),
        "closed": sum(1 for c in counted if inside(c.closed_at)),
        "open_at_start": sum(1 for c in counted if open_at(c, period.start)),
        "open_at_end": sum(1 for c in counted if open_at(c, evaluated)),
        "transfers_12378": sum(1 for c in cases if c.channel == "12378" and inside(c.received_at)),
        "timeliness": {
            **buckets,
            "open_overdue": overdue,
            "extended": sum(
                1 for c in received if c.clock(c.modified_on, rules).extension_level > 0
            ),
            "average_days_to_notice": None
            if not days
            else str((Decimal(sum(days)) / len(days)).quantize(Decimal("0.01"))),
        },
        "extension_rate": rate(
            sum(1 for c in received if c.clock(c.modified_on, rules).extension_level > 0),
            len(received),
        ),
        "review_rate": rate(sum(1 for c in notified if c.review is not None), len(notified)),
        "upheld_rate": rate(len(upheld), len(decided)),
        "redress": str(
            sum((c.decision.redress for c in decided if c.decision), Decimal("0.00")).quantize(
                Decimal("0.01")
            )
        ),
    }


def test_every_figure_equals_a_recomputation_from_the_events(
    services: tuple[Services, Settings],
) -> None:
    app, settings = services
    history(app)
    rules = ComplaintRules()
    projector = build_projector(settings, app.ledger)
    view = next(v for v in projector.views if v.name == "complaint_facts")
    original = view.apply
    calls = {"n": 0}

    def crash_once(cursor: Any, prepared: Any) -> None:
        calls["n"] += 1
        original(cursor, prepared)
        if calls["n"] == 2:
            raise RuntimeError("crash in the middle of a batch")

    projector.batch = 7
    view.apply = crash_once  # type: ignore[method-assign]
    projector.step(view)
    with pytest.raises(RuntimeError):
        projector.step(view)
    view.apply = original  # type: ignore[method-assign]
    projector.catch_up()
    stats = build_statistics(app.ledger)
    # A past month (every figure from the month cube) and periods still running (the
    # figures at "now" from the open complaints' rows).
    for label in ("2025-11", "2025", "2026-09", "2026-10", "2026Q3", "2026Q4", "2026"):
        period = parse_period(label, NOW)
        answer = stats.figures(period, ("cause", "channel"), NOW)
        expected = recompute(app, period, NOW, rules)
        assert {k: answer["totals"][k] for k in expected} == expected, label
        for name in ("received", "open_at_end", "transfers_12378", "closed"):
            assert sum(g[name] for g in answer["groups"]) == expected[name], (label, name)
        overdue = sum(g["timeliness"]["open_overdue"] for g in answer["groups"])
        assert overdue == expected["timeliness"]["open_overdue"], label
    assert expected["timeliness"]["open_overdue"] > 0  # the year 2026, at now
    period = parse_period("2026-10", NOW)
    figures = stats.figures(period, (), NOW)["totals"]
    assert figures["received"] == 12
    assert figures["duplicates_merged"] == 1
    assert figures["transfers_12378"] == 4
    assert figures["open_at_start"] == 2  # received in September, and in 2025
    assert figures["timeliness"]["extended"] == 1


def test_each_kind_of_instant_after_now_is_taken_into_the_figures(
    services: tuple[Services, Settings],
) -> None:
    """The figures of the period still running are first summed without the fact rows at or
    after now, and taken with them when any one kind of instant lies there — an end, a
    notice, a receipt — or left without them when none does; equal to a recomputation from
    the events every time."""
    app, settings = services
    desk = app.complaints
    projector = build_projector(settings, app.ledger)
    stats = build_statistics(app.ledger)
    rules = ComplaintRules()

    def at(day: float) -> dict[str, Any]:
        projector.catch_up()
        now = (OCTOBER + timedelta(days=day)).astimezone(UTC)
        period = parse_period("2026-10", now)
        found: dict[str, Any] = stats.figures(period, (), now)["totals"]
        expected = recompute(app, period, now, rules)
        assert {k: found[k] for k in expected} == expected, day
        return found

    a = UUID(str(desk.receive(intake("p-a"), meta(0), None).body["id"]))
    b = UUID(str(desk.receive(intake("p-b"), meta(1), None).body["id"]))
    desk.withdraw(cc.Withdraw(complaint_id=b), cc.Sent(meta(12)))
    assert at(11)["open_at_end"] == 2  # only an end after now: b is still open
    verdict = cc.Decide(
        complaint_id=a, outcome="upheld", redress=Decimal("1.00"), facts="f", basis="b"
    )
    desk.decide(verdict, cc.Sent(meta(18)))
    desk.notify(cc.Notify(complaint_id=a, method="letter"), cc.Sent(meta(20)))
    assert at(19)["timeliness"]["open_overdue"] == 1  # only a notice after now: a is late
    desk.receive(intake("p-c"), meta(25), None)
    assert at(24)["open_at_end"] == 1  # only a receipt after now: c is not yet open
    assert at(26)["open_at_end"] == 2  # nothing after now
    assert at(26)["timeliness"]["open_overdue"] == 0
