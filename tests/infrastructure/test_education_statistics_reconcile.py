"""Every education figure of a period, in total and by group, equals a recomputation from
the log (the replayed activities and training sessions), on both stores — amendments
replacing an activity's figures, and after a crash in the middle of a batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from typer.testing import CliRunner

from api.cli import cli
from application.education import AmendActivity, RecordActivity, RecordTraining
from application.gateway import Meta
from application.ledger import topics_of
from application.services import Services, build_services
from domain.common import CST, Actor
from domain.education import ONE_OLD_ONE_YOUNG, EducationActivity, Figures
from domain.training import STAFF_ROLES, TrainingSession
from infrastructure.complaint_stats import parse_period
from infrastructure.principals import Principals, token_digest
from infrastructure.settings import Settings
from infrastructure.store import (
    build_education_statistics,
    build_ledger,
    build_projector,
    build_vault,
    dispute_rules,
    migrate,
)

D = Decimal
NOW = datetime.now(tz=UTC)
EDUCATOR = Meta(NOW, Actor("宣教员", "educator"))
PERIODS = ("2026-02", "2026-03", "2026Q1", "2026")
STAFF = [
    ("王处理", "handler"),
    ("李主管", "supervisor"),
    ("宣教员", "educator"),
    ("合规员", "compliance"),
    ("审计员", "auditor"),  # not consumer-protection staff: not counted
]


@pytest.fixture
def services(settings: Settings) -> Iterator[tuple[Services, Settings]]:
    settings.principals_file.write_bytes(
        orjson.dumps(
            [
                {"name": n, "role": r, "partner_id": None, "token_sha256": token_digest(n)}
                for n, r in STAFF
            ]
        )
    )
    migrate(settings)
    ledger = build_ledger(settings)
    services = build_services(
        ledger, build_vault(settings, ledger), dispute_rules=dispute_rules(settings)
    )
    yield services, settings
    ledger.close()


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CST)


def history(app: Services) -> None:
    """Activities in February and March (one starting at 23:30 CST on the last day of
    February: February by CST, March 1st never), one amended twice; trainings in both."""
    plans: list[tuple[str, str, str, str, tuple[str, ...], int, int, datetime]] = [
        ("offline", "community", "315", "330106", ("elderly", "general"), 120, 0, at(3, 15)),
        ("online", "wechat", "315", "330100", ("youth",), 0, 5400, at(3, 15, 20)),
        ("offline", "village", "finance_month", "330127", ("rural",), 60, 0, at(3, 2)),
        ("online", "live_stream", "anti_fraud", "330100", ("general",), 0, 800, at(2, 10)),
        ("offline", "school", "daily", "330106", ("youth", "disabled"), 45, 10, at(2, 28, 23)),
    ]
    ids = []
    for kind, channel, campaign, region, audiences, people, views, start in plans:
        result = app.education.record_activity(
            RecordActivity(
                title="宣教活动",
                kind=kind,
                channel=channel,
                campaign=campaign,
                region=region,
                audiences=audiences,
                started_at=(start + timedelta(minutes=30)).astimezone(UTC),
                ended_at=(start + timedelta(hours=2)).astimezone(UTC),
                participants=people,
                views=views,
            ),
            EDUCATOR,
            None,
        )
        ids.append(UUID(result.body["id"]))
    amend = app.education.amend_activity
    amend(AmendActivity(ids[0], "签到表复核", Figures(participants=150)), EDUCATOR, None)
    amend(
        AmendActivity(ids[2], "补录受众", Figures(audiences=("rural", "elderly"))), EDUCATOR, None
    )
    amend(AmendActivity(ids[2], "再次复核", Figures(participants=66)), EDUCATOR, None)
    trainings = [
        ("2.5", at(3, 5), ("王处理", "宣教员", "外部讲师")),
        ("1.5", at(3, 20), ("王处理",)),
        ("3", at(2, 1), ("李主管", "合规员")),
    ]
    for hours, held, attendees in trainings:
        app.education.record_training(
            RecordTraining("消保培训", "讲师", D(hours), held.astimezone(UTC), attendees, {}),
            EDUCATOR,
            None,
        )


def replayed(app: Services, cls: type[Any]) -> list[Any]:
    stored = app.ledger.recorder.select_notifications(0, 10_000, topics=topics_of(cls))
    ids = {app.ledger.mapper.to_domain_event(s).originator_id for s in stored}
    return [a for a in (app.ledger.find(cls, i) for i in ids) if a is not None]


def expected(app: Services, label: str, by: tuple[str, ...]) -> dict[str, Any]:
    """The figures straight from the log."""
    period = parse_period(label, NOW)
    inside = [
        a
        for a in replayed(app, EducationActivity)
        if period.start <= a.started_at.astimezone(CST) < period.end
    ]

    def figures(group: list[EducationActivity]) -> dict[str, Any]:
        reaching = sum(1 for a in group if ONE_OLD_ONE_YOUNG & set(a.audiences))
        return {
            "activities": len(group),
            "participants": sum(a.participants for a in group),
            "views": sum(a.views for a in group),
            "one_old_one_young": reaching,
            "one_old_one_young_share": f"{D(reaching) / len(group):.4f}" if group else None,
        }

    groups: dict[tuple[str, ...], list[EducationActivity]] = {}
    for a in inside:
        values = {"kind": a.kind, "channel": a.channel, "campaign": a.campaign, "region": a.region}
        for audience in a.audiences if "audience" in by else ("",):
            key = tuple(audience if d == "audience" else values[d] for d in by)
            groups.setdefault(key, []).append(a)
    sessions = [
        t
        for t in replayed(app, TrainingSession)
        if period.start <= t.held_at.astimezone(CST) < period.end
    ]
    staff = {n for n, r in STAFF if r in STAFF_ROLES}
    hours: dict[str, Decimal] = {}
    for t in sessions:
        for person in t.attendees:
            hours[person] = hours.get(person, D(0)) + t.hours
    trained = {p: h for p, h in hours.items() if p in staff}
    totals = {
        **figures(inside),
        "training_sessions": len(sessions),
        "training_hours": f"{sum((t.hours for t in sessions), D(0)):.2f}",
        "attendees": len(hours),
        "attendee_hours": f"{sum(hours.values(), D(0)):.2f}",
        "staff": len(staff),
        "trained_staff": len(trained),
        "coverage": f"{D(len(trained)) / len(staff):.4f}",
        "hours_per_person": f"{sum(trained.values(), D(0)) / len(staff):.2f}",
    }
    return {
        "totals": totals,
        "groups": [
            {"key": dict(zip(by, key, strict=True)), **figures(group)}
            for key, group in sorted(groups.items())
        ]
        if by
        else [],
    }


def test_education_figures_equal_a_recomputation_from_the_log(
    services: tuple[Services, Settings],
) -> None:
    app, settings = services
    history(app)
    projector = build_projector(settings, app.ledger)
    views = {v.name: v for v in projector.views}
    crashed = {"n": 0}
    projector.batch = 3
    for name in ("education_activities", "training_sessions"):
        view = views[name]
        original = view.apply

        def crash_once(cursor: Any, prepared: Any, original: Any = original) -> None:
            original(cursor, prepared)
            crashed["n"] += 1
            raise RuntimeError("crash in the middle of a batch")

        view.apply = crash_once  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            projector.catch_up(view)
        view.apply = original  # type: ignore[method-assign]
    assert crashed["n"] == 2
    projector.catch_up()
    stats = build_education_statistics(app.ledger, Principals(settings.principals_file))
    for label in PERIODS:
        period = parse_period(label, NOW)
        for by in ((), ("channel", "audience"), ("audience",), ("kind", "campaign"), ("region",)):
            found = stats.figures(period, by)
            want = expected(app, label, by)
            assert found["totals"] == want["totals"], (label, by)
            assert found["groups"] == want["groups"], (label, by)
    march = stats.figures(parse_period("2026-03", NOW), ("audience",))
    # The amended figures replace the first ones; two audiences count in both groups.
    assert march["totals"]["participants"] == 150 + 66
    assert march["totals"]["activities"] == 3
    assert march["totals"]["one_old_one_young_share"] == "1.0000"
    elderly = next(g for g in march["groups"] if g["key"] == {"audience": "elderly"})
    assert elderly["activities"] == 2
    assert sum(g["activities"] for g in march["groups"]) == 5  # 3 activities, 5 audiences
    february = stats.figures(parse_period("2026-02", NOW), ())["totals"]
    assert february["activities"] == 2  # 23:30 CST on 28 February is February
    assert february["training_hours"] == "3.00"
    assert february["coverage"] == "0.5000"  # 2 of the 4 staff; the auditor is not staff
    assert stats.tracked() >= app.ledger.position()


def test_coverage_is_null_without_staff(
    services: tuple[Services, Settings], tmp_path: Path
) -> None:
    app, _ = services
    history(app)
    stats = build_education_statistics(app.ledger, Principals(tmp_path / "absent.json"))
    settings = services[1]
    build_projector(settings, app.ledger).catch_up()
    totals = stats.figures(parse_period("2026-03", NOW), ())["totals"]
    assert (totals["staff"], totals["coverage"], totals["hours_per_person"]) == (0, None, None)
    assert totals["training_sessions"] == 2


def test_cli_stats_prints_the_education_figures(
    services: tuple[Services, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = services
    history(app)
    for name, value in (
        ("XIAOBAO_DATABASE_URL", settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(settings.index_key_file)),
        ("XIAOBAO_PRINCIPALS_FILE", str(settings.principals_file)),
    ):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(cli, ["stats", "education", "--period", "2026-03", "--by", "channel"])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.output)
    assert body["totals"] == expected(app, "2026-03", ())["totals"]
    assert body["position"] == app.ledger.position()
    csv = runner.invoke(cli, ["stats", "education", "--period", "2026", "--format", "csv"])
    assert "宣教活动场次" in csv.output
    refused = runner.invoke(cli, ["stats", "education", "--period", "2026", "--by", "cause"])
    assert refused.exit_code != 0
