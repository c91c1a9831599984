"""Every rectification figure of a period, in total and by group, equals a recomputation from
the log (the replayed items), on both stores — also after a crash in the middle of a batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from typer.testing import CliRunner

from api.cli import cli
from application.gateway import Meta
from application.ledger import topics_of
from application.rectification import (
    CancelItem,
    Conditions,
    ExtendItem,
    OpenItem,
    PlanItem,
    SubmitItem,
    VerifyItem,
)
from application.services import Services, build_services
from domain.common import CST, Actor
from domain.rectification import Finding, ItemEvidence, RectificationItem, Source
from infrastructure.complaint_stats import parse_period
from infrastructure.rectification_stats import DIMENSIONS
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_projector,
    build_rectification_statistics,
    build_vault,
    dispute_rules,
    migrate,
)

NOW = datetime.now(tz=UTC)
PERIODS = ("2026-01", "2026-02", "2026-03", "2026Q1", "2026Q2", "2026", NOW.strftime("%Y"))
COMPLIANCE = Actor("lin", "compliance")
OTHER = Actor("zhou", "compliance")
SUPERVISOR = Actor("chen", "supervisor")
EVERY = Conditions()
PROOF = ItemEvidence("e", "e" * 64, "r")


@pytest.fixture
def services(settings: Settings) -> Iterator[tuple[Services, Settings]]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield (
        build_services(
            ledger,
            build_vault(settings, ledger),
            dispute_rules=dispute_rules(settings),
            rectification_rules=settings.rectification_rules(),
        ),
        settings,
    )
    ledger.close()


def cst(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CST).astimezone(UTC)


def opened(app: Services, at: datetime, kind: str, department: str, severity: str) -> UUID:
    cmd = OpenItem(Source(kind, f"{kind}-1"), Finding("s", "d", "b", severity), department, "owner")
    return UUID(str(app.rectifications.open(cmd, Meta(at, COMPLIANCE), None).body["id"]))


def closed(app: Services, item: UUID, at: datetime) -> None:
    desk = app.rectifications
    desk.plan(PlanItem(item, ("m",)), Meta(at, OTHER), EVERY, None)
    desk.submit(SubmitItem(item, (PROOF,)), Meta(at, OTHER), EVERY, None)
    desk.verify(VerifyItem(item, "accepted"), Meta(at, COMPLIANCE), EVERY, None)


def history(app: Services) -> None:
    """Items over three months: closed on time, closed the day after the due date, still
    open and overdue, extended then closed, cancelled, rejected and reopened."""
    on_time = opened(app, cst(1, 5), "inspection", "claims", "high")  # due 2026-02-04
    closed(app, on_time, cst(2, 4, 23))
    late = opened(app, cst(1, 10), "inspection", "sales", "high")  # due 2026-02-09
    closed(app, late, cst(2, 10, 0))  # the day after
    opened(app, cst(1, 20), "internal_audit", "sales", "medium")  # due 03-21: overdue
    extended = opened(app, cst(2, 1), "evaluation", "claims", "high")  # due 03-03
    app.rectifications.extend(
        ExtendItem(extended, date(2026, 4, 30), "r"), Meta(cst(3, 1), SUPERVISOR), EVERY, None
    )
    closed(app, extended, cst(4, 2))
    cancelled = opened(app, cst(2, 15), "self_inspection", "claims", "low")
    app.rectifications.cancel(CancelItem(cancelled, "merged"), Meta(cst(3, 15), OTHER), EVERY, None)
    rejected = opened(app, cst(3, 1), "inspection", "claims", "medium")
    app.rectifications.plan(PlanItem(rejected, ("m",)), Meta(cst(3, 2), OTHER), EVERY, None)
    app.rectifications.submit(SubmitItem(rejected, ()), Meta(cst(3, 3), OTHER), EVERY, None)
    app.rectifications.verify(
        VerifyItem(rejected, "rejected", "no"), Meta(cst(3, 4), COMPLIANCE), EVERY, None
    )
    opened(app, cst(3, 20), "mystery_shopping", "operations", "low")


def items(app: Services) -> list[RectificationItem]:
    ledger = app.ledger
    stored = ledger.recorder.select_notifications(0, 10_000, topics=topics_of(RectificationItem))
    ids = {ledger.mapper.to_domain_event(s).originator_id for s in stored}
    return [i for i in (ledger.find(RectificationItem, x) for x in ids) if i is not None]


def expected(app: Services, label: str, key: dict[str, str] | None = None) -> dict[str, Any]:
    """The figures straight from the replayed items."""
    period = parse_period(label, NOW)
    at = min(period.end, NOW)

    def inside(instant: datetime | None) -> bool:
        return instant is not None and period.start <= instant < period.end

    found = [
        i
        for i in items(app)
        if i.opened_at < at
        and all(
            {"source": i.source.kind, "department": i.department, "severity": i.finding.severity}[d]
            == v
            for d, v in (key or {}).items()
        )
    ]
    still_open = [
        i
        for i in found
        if (i.closed_at is None or i.closed_at >= at)
        and (i.cancelled_at is None or i.cancelled_at >= at)
    ]
    closed_in = [i for i in found if inside(i.closed_at)]
    on_time = sum(1 for i in closed_in if not i.closed_late)
    return {
        "opened": sum(1 for i in found if inside(i.opened_at)),
        "closed": len(closed_in),
        "closed_on_time": on_time,
        "closed_late": len(closed_in) - on_time,
        "cancelled": sum(1 for i in found if inside(i.cancelled_at)),
        "open": len(still_open),
        "overdue": sum(1 for i in still_open if i.due_at < at),
        "on_time_rate": None if not closed_in else f"{Decimal(on_time) / len(closed_in):.4f}",
    }


def test_rectification_figures_equal_a_recomputation_from_the_log(
    services: tuple[Services, Settings],
) -> None:
    app, settings = services
    history(app)
    projector = build_projector(settings, app.ledger)
    view = next(v for v in projector.views if v.name == "rectification_facts")
    original = view.apply
    crashed = {"n": 0}

    def crash_once(cursor: Any, prepared: Any) -> None:
        original(cursor, prepared)
        crashed["n"] += 1
        raise RuntimeError("crash in the middle of a batch")

    projector.batch = 5
    projector.step(view)
    view.apply = crash_once  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        projector.step(view)
    view.apply = original  # type: ignore[method-assign]
    assert crashed["n"] == 1
    projector.catch_up()
    stats = build_rectification_statistics(app.ledger)
    assert stats.tracked() >= app.ledger.position()
    for label in PERIODS:
        period = parse_period(label, NOW)
        for by in (("source", "department"), ("severity",), ()):
            answer = stats.figures(period, by, NOW)
            assert answer["totals"] == expected(app, label), (label, by)
            for group in answer["groups"]:
                assert {k: group[k] for k in answer["totals"]} == expected(
                    app, label, group["key"]
                ), (label, group["key"])
            for name in ("opened", "closed", "open", "overdue"):
                assert sum(g[name] for g in answer["groups"]) == (
                    answer["totals"][name] if by else 0
                )
    february = stats.figures(parse_period("2026-02", NOW), ("department",), NOW)["totals"]
    assert (february["closed_on_time"], february["closed_late"]) == (1, 1)
    march = stats.figures(parse_period("2026-03", NOW), (), NOW)["totals"]
    # At the end of March: the audit item (due 03-21) and the rejected one are open, the
    # extended one is due in April, the shopping item in June; only the audit one is late.
    assert (march["open"], march["overdue"], march["cancelled"]) == (4, 1, 1)
    assert set(DIMENSIONS) == {"source", "department", "severity"}


def test_cli_stats_prints_the_same_rectification_figures(
    services: tuple[Services, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = services
    history(app)
    for name, value in (
        ("XIAOBAO_DATABASE_URL", settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(settings.index_key_file)),
    ):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["stats", "rectifications", "--period", "2026Q1", "--by", "department"]
    )
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.output)
    assert body["totals"] == expected(app, "2026Q1")
    assert body["position"] == app.ledger.position()
    csv = runner.invoke(cli, ["stats", "rectifications", "--period", "2026", "--format", "csv"])
    assert "按期销号" in csv.output
