"""The RectificationItem aggregate without I/O (domain.md section 7): every transition and
every clock, with dates computed by hand (CST days, month ends, extensions, the day after)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.common import Actor, InvalidInput
from domain.rectification import (
    AwaitingVerification,
    ExtensionNotLater,
    Finding,
    FourEyes,
    ItemEvidence,
    Milestone,
    NotPlanned,
    NotSubmitted,
    RectificationEnded,
    RectificationItem,
    RectificationRules,
    Source,
)
from domain.rectification_links import RectificationLinks, rectification_links_id

RULES = RectificationRules(high_days=30, medium_days=60, low_days=90)
COMPLIANCE = Actor("lin", "compliance")
OTHER_COMPLIANCE = Actor("zhou", "compliance")
SUPERVISOR = Actor("chen", "supervisor")
OWNER = Actor("claims-dept", "department")
# 2026-01-31 10:00 CST: the last day of January.
JAN_31 = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
PROOF = ItemEvidence("training-roster.pdf", "a" * 64, "dms://rect/1")


def item(severity: str = "high", at: datetime = JAN_31, **extra: Any) -> RectificationItem:
    args: dict[str, Any] = {
        "source": Source("inspection", "银保监现检〔2026〕3号"),
        "finding": Finding("销售误导", "话术未提示免责条款", "保险法第十七条", severity),
        "department": "claims",
        "owner": OWNER.name,
        "due_date": None,
        "rules": RULES,
        "occurred_at": at,
        "actor": COMPLIANCE,
    }
    args.update(extra)
    return RectificationItem.open(**args)


def submitted(at: datetime = JAN_31) -> RectificationItem:
    found = item(at=at)
    found.plan(["重新培训"], [], at + timedelta(days=1), OWNER)
    found.submit([PROOF], at + timedelta(days=2), OWNER)
    return found


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A CST wall-clock instant as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_high_severity_is_due_thirty_days_after_the_opening_day_across_february() -> None:
    # Jan 31 + 30 days: Feb has 28 days in 2026, so Feb 28 is +28, Mar 1 +29, Mar 2 +30.
    opened = item("high")
    assert opened.due_date == date(2026, 3, 2)
    assert opened.due_at == datetime(2026, 3, 2, 15, 59, 59, 999999, tzinfo=UTC)
    assert opened.state == "open"
    assert opened.due_from_source is False


def test_medium_and_low_severity_default_to_sixty_and_ninety_days() -> None:
    # Jan 31 + 60: Mar 31 is +59, Apr 1 +60; + 90: Apr 30 is +89, May 1 +90.
    assert item("medium").due_date == date(2026, 4, 1)
    assert item("low").due_date == date(2026, 5, 1)


def test_the_opening_day_is_the_cst_date_not_the_utc_date() -> None:
    # 2026-01-31 17:00 UTC is 2026-02-01 01:00 CST: the count starts from Feb 1.
    opened = item("high", at=datetime(2026, 1, 31, 17, 0, tzinfo=UTC))
    assert opened.due_date == date(2026, 3, 3)


def test_a_due_date_given_by_the_source_wins_over_the_severity_default() -> None:
    opened = item("low", due_date=date(2026, 2, 15))
    assert opened.due_date == date(2026, 2, 15)
    assert opened.due_from_source is True


def test_a_due_date_before_the_opening_day_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        item(due_date=date(2026, 1, 30))
    assert refused.value.field == "due_date"


def test_an_unknown_severity_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        item("critical")
    assert refused.value.field == "finding.severity"


def test_an_unknown_source_kind_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        item(source=Source("newspaper", "x"))
    assert refused.value.field == "source.kind"


def test_a_negative_amount_is_refused() -> None:
    finding = Finding("s", "d", "b", "low", Decimal("-1.00"))
    with pytest.raises(InvalidInput) as refused:
        item(finding=finding)
    assert refused.value.field == "finding.amount"


def test_complaint_items_name_their_complaints_and_report_items_their_report() -> None:
    with pytest.raises(InvalidInput) as missing:
        item(source=Source("complaint", "2026Q1 溯源"))
    assert missing.value.field == "complaint_ids"
    with pytest.raises(InvalidInput) as wrong_kind:
        item(complaint_ids=[uuid4()])
    assert wrong_kind.value.field == "source.kind"
    with pytest.raises(InvalidInput) as no_report:
        item(source=Source("report", "JB-1"))
    assert no_report.value.field == "report_id"
    traced = [uuid4(), uuid4()]
    opened = item(source=Source("complaint", "2026Q1 溯源"), complaint_ids=[*traced, traced[0]])
    assert opened.complaint_ids == traced


def test_the_lifecycle_open_planned_in_progress_submitted_closed() -> None:
    found = item()
    found.plan(["重新培训", "修订话术"], [Milestone("培训", date(2026, 2, 10))], JAN_31, OWNER)
    assert found.state == "planned"
    assert found.measures == ["重新培训", "修订话术"]
    found.note_progress("培训完成", [PROOF], JAN_31 + timedelta(days=3), OWNER)
    found.note_progress("话术已修订", [], JAN_31 + timedelta(days=4), OWNER)
    assert found.state == "in_progress"
    assert [p.note for p in found.progress] == ["培训完成", "话术已修订"]
    found.submit([PROOF], JAN_31 + timedelta(days=5), OWNER)
    assert found.state == "submitted"
    found.verify("accepted", "整改到位", JAN_31 + timedelta(days=6), COMPLIANCE)
    assert found.state == "closed"
    assert found.closed_at == JAN_31 + timedelta(days=6)
    assert found.verification is not None
    assert found.verification.verifier == "lin"
    assert found.closed_late is False
    assert [e.sha256 for e in found.evidence] == ["a" * 64, "a" * 64]


def test_a_rejection_sends_the_item_back_to_in_progress_with_its_reasons() -> None:
    found = submitted()
    found.verify("rejected", "证据不足", JAN_31 + timedelta(days=3), COMPLIANCE)
    assert found.state == "in_progress"
    assert found.closed_at is None
    assert found.verifications[-1].comment == "证据不足"
    found.submit([PROOF], JAN_31 + timedelta(days=4), OWNER)
    found.verify("accepted", "", JAN_31 + timedelta(days=5), OTHER_COMPLIANCE)
    assert found.state == "closed"


def test_a_rejection_without_reasons_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        submitted().verify("rejected", " ", JAN_31, COMPLIANCE)
    assert refused.value.field == "comment"


def test_verify_before_submit_is_refused_naming_the_rule() -> None:
    found = item()
    found.plan(["m"], [], JAN_31, OWNER)
    with pytest.raises(NotSubmitted) as refused:
        found.verify("accepted", "", JAN_31, COMPLIANCE)
    assert refused.value.rule == "not_submitted"
    assert found.state == "planned"
    assert len(found.collect_events()) == 2  # opened, planned: the refusal recorded nothing


def test_the_owner_cannot_verify_the_item_four_eyes() -> None:
    found = submitted()
    with pytest.raises(FourEyes):
        found.verify("accepted", "", JAN_31, Actor(OWNER.name, "compliance"))
    assert found.state == "submitted"


def test_the_submitter_cannot_verify_the_item_either() -> None:
    found = item()
    found.plan(["m"], [], JAN_31, COMPLIANCE)
    found.submit([], JAN_31, COMPLIANCE)
    with pytest.raises(FourEyes):
        found.verify("accepted", "", JAN_31, COMPLIANCE)
    found.verify("accepted", "", JAN_31, OTHER_COMPLIANCE)
    assert found.state == "closed"


def test_progress_and_submission_need_a_plan() -> None:
    with pytest.raises(NotPlanned):
        item().note_progress("x", [], JAN_31, OWNER)
    with pytest.raises(NotPlanned):
        item().submit([], JAN_31, OWNER)


def test_a_submitted_item_cannot_be_changed_until_verified() -> None:
    found = submitted()
    with pytest.raises(AwaitingVerification):
        found.plan(["m"], [], JAN_31, OWNER)
    with pytest.raises(AwaitingVerification):
        found.note_progress("x", [], JAN_31, OWNER)
    with pytest.raises(AwaitingVerification):
        found.submit([], JAN_31, OWNER)


def test_replanning_after_a_rejection_keeps_the_item_in_progress() -> None:
    found = submitted()
    found.verify("rejected", "措施不足", JAN_31, COMPLIANCE)
    found.plan(["重新培训", "问责"], [], JAN_31, OWNER)
    assert found.state == "in_progress"
    assert found.measures == ["重新培训", "问责"]


def test_overdue_begins_the_day_after_the_due_date() -> None:
    found = item("high")  # due 2026-03-02
    assert not found.overdue(cst(2026, 3, 2, 23, 59))
    assert found.overdue(cst(2026, 3, 3))


def test_an_item_verified_the_day_after_its_due_date_is_closed_late() -> None:
    found = submitted()
    found.verify("accepted", "", cst(2026, 3, 3, 0, 1), COMPLIANCE)
    assert found.closed_late is True
    assert not found.overdue(cst(2026, 4, 1))  # closed: no longer overdue


def test_an_item_verified_on_its_due_date_is_on_time() -> None:
    found = submitted()
    found.verify("accepted", "", cst(2026, 3, 2, 23, 0), COMPLIANCE)
    assert found.closed_late is False


def test_an_extension_moves_the_due_date_and_lifts_the_overdue() -> None:
    found = item("high")
    assert found.overdue(cst(2026, 3, 5))
    found.extend(date(2026, 3, 31), "需系统改造", cst(2026, 3, 4), SUPERVISOR)
    assert found.due_date == date(2026, 3, 31)
    assert found.original_due_date == date(2026, 3, 2)
    assert not found.overdue(cst(2026, 3, 31, 23, 59))
    assert found.overdue(cst(2026, 4, 1))
    assert found.extensions[0].approver == "chen"
    assert found.extensions[0].previous == date(2026, 3, 2)


def test_closed_late_is_judged_against_the_extended_due_date() -> None:
    found = submitted()
    found.extend(date(2026, 3, 31), "需系统改造", cst(2026, 3, 1), SUPERVISOR)
    found.verify("accepted", "", cst(2026, 3, 31, 22), COMPLIANCE)
    assert found.closed_late is False


def test_an_extension_must_move_the_due_date_later() -> None:
    found = item("high")
    with pytest.raises(ExtensionNotLater) as refused:
        found.extend(date(2026, 3, 2), "same day", JAN_31, SUPERVISOR)
    assert refused.value.rule == "extension_not_later"


def test_a_cancelled_item_takes_no_further_step_and_is_never_overdue() -> None:
    found = item()
    found.cancel("与另一事项合并", JAN_31, COMPLIANCE)
    assert found.state == "cancelled"
    assert not found.overdue(cst(2027, 1, 1))
    with pytest.raises(RectificationEnded):
        found.plan(["m"], [], JAN_31, OWNER)
    with pytest.raises(RectificationEnded):
        found.extend(date(2026, 12, 31), "r", JAN_31, SUPERVISOR)
    with pytest.raises(RectificationEnded):
        found.cancel("again", JAN_31, COMPLIANCE)


def test_a_closed_item_cannot_be_cancelled_or_verified_again() -> None:
    found = submitted()
    found.verify("accepted", "", JAN_31 + timedelta(days=3), COMPLIANCE)
    with pytest.raises(RectificationEnded):
        found.cancel("r", JAN_31, COMPLIANCE)
    with pytest.raises(RectificationEnded):
        found.verify("accepted", "", JAN_31, OTHER_COMPLIANCE)


def test_rules_refuse_non_positive_periods() -> None:
    with pytest.raises(ValueError, match="positive"):
        RectificationRules(high_days=0, medium_days=60, low_days=90)


def test_links_list_each_item_once_under_a_stable_id() -> None:
    links = RectificationLinks("complaint", "c-1")
    assert links.id == rectification_links_id("complaint", "c-1")
    first = uuid4()
    links.link(first)
    with pytest.raises(ValueError, match="already linked"):
        links.link(first)
    assert links.items == [first]


def test_the_default_rules_are_thirty_sixty_and_ninety_days() -> None:
    assert RectificationRules() == RULES
