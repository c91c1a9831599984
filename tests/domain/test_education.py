"""Education activities and training sessions: what they record and what they refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.common import Actor, InvalidInput
from domain.education import EducationActivity, EvidenceFile, Figures
from domain.training import TrainingSession

START = datetime(2026, 3, 15, 9, tzinfo=UTC)
EDUCATOR = Actor("宣教员", "educator")
DIGEST = "ab" * 32


def activity(**changes: Any) -> EducationActivity:
    fields: dict[str, Any] = {
        "title": "3·15 走进社区",
        "kind": "offline",
        "channel": "community",
        "campaign": "315",
        "region": "330106",
        "place": "西湖区文新街道",
        "audiences": ("elderly", "general"),
        "participants": 120,
        "views": 0,
        "article_ids": (),
        "evidence": (EvidenceFile("签到表.jpg", DIGEST, "s3://evidence/1"),),
        "started_at": START,
        "ended_at": START + timedelta(hours=2),
        "occurred_at": START + timedelta(hours=3),
        "actor": EDUCATOR,
    }
    return EducationActivity(**(fields | changes))


def test_an_activity_records_its_figures_and_reaches_one_old_one_young() -> None:
    a = activity()
    assert (a.participants, a.views, a.audiences) == (120, 0, ("elderly", "general"))
    assert a.one_old_one_young
    assert not activity(audiences=("rural",)).one_old_one_young
    assert [type(e).__name__ for e in a.collect_events()] == ["Recorded"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"participants": -1}, "participants"),
        ({"views": -5}, "views"),
        ({"ended_at": START - timedelta(minutes=1)}, "ended_at"),
        ({"audiences": ("elderly", "aliens")}, "audiences[1]"),
        ({"audiences": ()}, "audiences"),
        ({"channel": "tiktok"}, "channel"),
        ({"kind": "hybrid"}, "kind"),
        ({"campaign": "black_friday"}, "campaign"),
        ({"region": "33010"}, "region"),
        ({"started_at": datetime(1, 1, 1, tzinfo=UTC)}, "started_at"),
        ({"article_ids": ("not-an-id",)}, "article_ids[0]"),
        ({"evidence": (EvidenceFile("x", "XYZ", "ref"),)}, "evidence[0].sha256"),
    ],
)
def test_bad_activity_input_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        activity(**changes)
    assert refused.value.field == field


def test_an_amendment_replaces_the_figures_and_keeps_both_in_the_history() -> None:
    a = activity()
    a.amend(
        reason="签到表复核",
        figures=Figures(participants=150, evidence=(EvidenceFile("复核.pdf", DIGEST, "r2"),)),
        occurred_at=START + timedelta(days=1),
        actor=EDUCATOR,
    )
    assert (a.participants, a.views, a.amendments, len(a.evidence)) == (150, 0, 1, 2)
    events = a.collect_events()
    assert [type(e).__name__ for e in events] == ["Recorded", "FiguresAmended"]
    assert events[0].participants == 120  # type: ignore[attr-defined]
    assert events[1].figures.participants == 150  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reason", "figures", "field"),
    [
        ("", Figures(participants=1), "reason"),
        ("复核", Figures(participants=-3), "participants"),
        ("复核", Figures(views=-1), "views"),
        ("复核", Figures(audiences=("martians",)), "audiences[0]"),
        ("复核", Figures(participants=120), "body"),  # changes nothing
    ],
)
def test_a_refused_amendment_records_nothing(reason: str, figures: Figures, field: str) -> None:
    a = activity()
    a.collect_events()
    with pytest.raises(InvalidInput) as refused:
        a.amend(reason=reason, figures=figures, occurred_at=START, actor=EDUCATOR)
    assert refused.value.field == field
    assert a.collect_events() == []
    assert a.participants == 120


def session(**changes: Any) -> TrainingSession:
    fields: dict[str, Any] = {
        "topic": "适老化服务与投诉处理",
        "trainer": "李主管",
        "hours": Decimal("2.5"),
        "held_at": START,
        "attendees": ("王处理", "宣教员"),
        "scores": {"王处理": Decimal("92")},
        "occurred_at": START,
        "actor": EDUCATOR,
    }
    return TrainingSession(**(fields | changes))


def test_a_training_session_counts_person_hours() -> None:
    assert session().attendee_hours == Decimal("5.0")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hours": Decimal("-1")}, "hours"),
        ({"hours": Decimal("0")}, "hours"),
        ({"hours": Decimal("25")}, "hours"),
        ({"hours": Decimal("1.255")}, "hours"),
        ({"attendees": ()}, "attendees"),
        ({"held_at": datetime(9999, 12, 31, tzinfo=UTC)}, "held_at"),
        ({"attendees": ("a", "a")}, "attendees"),
        ({"scores": {"stranger": Decimal(80)}}, "scores.stranger"),
        ({"scores": {"王处理": Decimal(101)}}, "scores.王处理"),
    ],
)
def test_bad_training_input_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        session(**changes)
    assert refused.value.field == field
