"""The education desk on every store: commands answer what happened, replays answer the
first response, a stale If-Match and an unknown activity are refused, reads page the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from api.demo import DEMO_PRINCIPALS
from api.demo_education import ACTIVITIES, EDUCATOR, TRAINEES, load_education
from application.commands import CommandKey
from application.education import AmendActivity, RecordActivity, RecordTraining
from application.gateway import Meta
from application.services import Services
from domain.common import Actor, StaleVersion, UnknownRecord
from domain.education import Figures
from domain.receipts import IdempotencyConflict

START = datetime(2026, 3, 15, 1, tzinfo=UTC)
META = Meta(START + timedelta(hours=5), Actor("宣教员", "educator"))


def record(services: Services, title: str = "走进社区", key: CommandKey | None = None) -> UUID:
    recorded = services.education.record_activity(
        RecordActivity(
            title=title,
            kind="offline",
            channel="community",
            campaign="315",
            region="330106",
            audiences=("elderly",),
            started_at=START,
            ended_at=START + timedelta(hours=2),
            participants=80,
        ),
        META,
        key,
    )
    assert recorded.created
    return UUID(recorded.body["id"])


def test_a_replayed_command_answers_the_first_response_and_records_nothing(
    services: Services,
) -> None:
    key = CommandKey("宣教员", "k-1", "digest-1")
    first = record(services, key=key)
    position = services.ledger.position()
    again = services.education.record_activity(
        RecordActivity("x", "offline", "community", "315", "330106", ("elderly",), START, START),
        META,
        key,
    )
    assert again.replayed
    assert again.created
    assert again.body["id"] == str(first)
    assert services.ledger.position() == position
    with pytest.raises(IdempotencyConflict):
        services.education.record_activity(
            RecordActivity(
                "x", "offline", "community", "315", "330106", ("elderly",), START, START
            ),
            META,
            CommandKey("宣教员", "k-1", "digest-2"),
        )


def test_an_amendment_changes_the_figures_and_the_history_keeps_both(services: Services) -> None:
    activity = record(services)
    amended = services.education.amend_activity(
        AmendActivity(activity, "复核签到表", Figures(participants=95)), META, None, if_match=1
    )
    assert not amended.created
    assert (amended.body["participants"], amended.body["version"]) == (95, 2)
    events = services.education_queries.activity_history(activity)
    assert [e["type"] for e in events] == ["Recorded", "FiguresAmended"]
    assert events[0]["data"]["participants"] == 80
    assert events[1]["data"]["reason"] == "复核签到表"
    assert events[1]["data"]["figures"]["participants"] == 95
    assert services.education_queries.activity(activity, as_of_version=1)["participants"] == 80
    with pytest.raises(StaleVersion):
        services.education.amend_activity(
            AmendActivity(activity, "again", Figures(views=3)), META, None, if_match=1
        )
    with pytest.raises(UnknownRecord):
        services.education.amend_activity(AmendActivity(uuid4(), "r", Figures(views=3)), META, None)


def test_listings_page_through_the_records_in_the_order_they_were_recorded(
    services: Services,
) -> None:
    ids = [record(services, f"活动{n}") for n in range(5)]
    services.education.record_training(
        RecordTraining("消保培训", "李主管", Decimal("2"), START, ("王处理",), {}), META, None
    )
    first = services.education_queries.activities(0, 2)
    assert [i["id"] for i in first.items] == [str(i) for i in ids[:2]]
    assert first.next_after is not None
    rest = services.education_queries.activities(first.next_after, 10)
    assert [i["id"] for i in rest.items] == [str(i) for i in ids[2:]]
    assert rest.next_after is None
    trainings = services.education_queries.trainings(0, 10).items
    assert [(t["topic"], t["hours"], t["attendee_hours"]) for t in trainings] == [
        ("消保培训", "2", "2")
    ]


def test_the_demo_records_activities_and_trainings_once_however_often_it_runs(
    services: Services,
) -> None:
    first = load_education(services)
    position = services.ledger.position()
    assert load_education(services) == first
    assert services.ledger.position() == position
    activities = services.education_queries.activities(0, 50).items
    assert len(activities) == len(ACTIVITIES)
    assert activities[0]["participants"] == 132  # amended after the sign-in sheet was checked
    assert activities[0]["amendments"] == 1
    trainings = services.education_queries.trainings(0, 50).items
    assert [t["attendees"] for t in trainings] == [list(TRAINEES)] * 2
    assert EDUCATOR in DEMO_PRINCIPALS
