"""Every report figure of a period, in total and by group, equals a recomputation from the
log (reports replayed to each instant and their clocks asked), on both stores — also after
a crash in the middle of a batch. No reporter data reaches the view or the figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
import pytest
from typer.testing import CliRunner

from api.cli import cli
from application.gateway import Meta
from application.ledger import topics_of
from application.reports import (
    AcceptReport,
    AssignInvestigator,
    ConcludeReport,
    Conditions,
    DeclineReport,
    ExtendReport,
    Investigator,
    RecordFindings,
    ReportIntake,
    StaticInvestigators,
)
from application.services import ReportServices, Services, build_report_services, build_services
from domain.common import CST, Actor, InvalidInput
from domain.report_clock import ReportRules
from domain.reports import Report, ReportSubject
from infrastructure.complaint_stats import Period, parse_dimensions, parse_period
from infrastructure.dialect import Statement
from infrastructure.report_stats import COUNTS, REPORT_DIMENSIONS
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_projector,
    build_report_statistics,
    build_vault,
    dispute_rules,
    migrate,
    report_rules,
)

NOW = datetime.now(tz=UTC)
PERIODS = ("2026-01", "2026-02", "2026-03", "2026Q1", "2026", NOW.astimezone(CST).strftime("%Y-%m"))
OFFICER = Actor("officer-1", "report_officer")
SUPERVISOR = Actor("sup-1", "supervisor")
REPORTER = {"id": "110101199001019999", "name": "赵六", "phone": "13700001111"}
NONE = Conditions()


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[Services, ReportServices, Settings]]:
    migrate(settings)
    ledger = build_ledger(settings)
    vault = build_vault(settings, ledger)
    services = build_services(ledger, vault, dispute_rules=dispute_rules(settings))
    reports = build_report_services(
        services,
        vault,
        report_rules(settings),
        StaticInvestigators((Investigator("inv-1", "audit"),)),
    )
    yield services, reports, settings
    ledger.close()


def at(y: int, m: int, d: int, h: int = 10) -> Meta:
    return Meta(datetime(y, m, d, h, tzinfo=CST), OFFICER)


def receive(reports: ReportServices, when: Meta, category: str, channel: str = "hotline") -> UUID:
    intake = ReportIntake(
        channel=channel,
        anonymous=channel == "app",
        reporter=None if channel == "app" else dict(REPORTER),
        category=category,
        subject=ReportSubject("staff", "S-1", "sales"),
        facts="facts",
    )
    return UUID(reports.desk.receive(intake, when, None).body["id"])


def history(reports: ReportServices) -> None:
    """Reports across months: on time, late, declined, extended, every finding, overdue."""
    desk = reports.desk
    # Accepted on time in January, concluded substantiated in March (within 60 days).
    a = receive(reports, at(2026, 1, 5), "fraud")
    desk.accept(AcceptReport(a), at(2026, 1, 10), NONE)
    desk.assign(AssignInvestigator(a, "inv-1"), at(2026, 1, 11), NONE)
    desk.record_findings(RecordFindings(a, "found", ()), at(2026, 2, 20), NONE)
    desk.conclude(ConcludeReport(a, "substantiated", "b", ()), at(2026, 3, 1), NONE)
    # Accepted late (received 31 Jan, due 15 Feb, accepted 17 Feb), extended, concluded
    # partly substantiated on the extended deadline's last day.
    b = receive(reports, at(2026, 1, 31), "fraud", "email")
    desk.accept(AcceptReport(b), at(2026, 2, 17), NONE)
    desk.assign(AssignInvestigator(b, "inv-1"), at(2026, 2, 18), NONE)
    desk.extend(
        ExtendReport(b, "complex"), Meta(datetime(2026, 4, 1, tzinfo=CST), SUPERVISOR), NONE
    )
    desk.record_findings(RecordFindings(b, "found", ()), at(2026, 5, 1), NONE)
    # due: 17 Feb + 90 days = 18 May 2026
    desk.conclude(ConcludeReport(b, "partly_substantiated", "b", ()), at(2026, 5, 18, 23), NONE)
    # Declined in February.
    c = receive(reports, at(2026, 2, 2), "other", "app")
    desk.decline(DeclineReport(c, "no facts"), at(2026, 2, 3), NONE)
    # Never decided: overdue from 16 March on (received 1 March).
    receive(reports, at(2026, 3, 1), "data_misuse")
    # Accepted, not concluded: overdue after 60 days (accepted 2 Feb: due 3 April).
    e = receive(reports, at(2026, 2, 1), "sales_misrepresentation")
    desk.accept(AcceptReport(e), at(2026, 2, 2), NONE)
    # Concluded late: accepted 5 Jan, due 6 March, concluded 10 March, not substantiated.
    f = receive(reports, at(2026, 1, 2), "sales_misrepresentation", "internal")
    desk.accept(AcceptReport(f), at(2026, 1, 5), NONE)
    desk.assign(AssignInvestigator(f, "inv-1"), at(2026, 1, 6), NONE)
    desk.record_findings(RecordFindings(f, "none", ()), at(2026, 3, 9), NONE)
    desk.conclude(ConcludeReport(f, "not_substantiated", "b", ()), at(2026, 3, 10), NONE)
    # Received now: in the current period, not overdue.
    receive(reports, Meta(NOW - timedelta(minutes=1), OFFICER), "fraud")


def replayed_then(services: Services, report_id: UUID, instant: datetime) -> Report | None:
    """The report as it stood at a business instant (its events up to then)."""
    state = None
    for event in services.ledger.stream(report_id):
        if event.occurred_at > instant:
            break
        state = event.mutate(state)
    return state


def expected(
    services: Services, rules: ReportRules, period: Period, by: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, int]]:
    """The figures recomputed from the log with the domain's own clock."""
    ids = {
        e.originator_id
        for e in services.ledger.scan([t for t in topics_of(Report) if t.endswith("Received")])
    }
    evaluated = min(period.end, NOW)
    groups: dict[tuple[Any, ...], dict[str, int]] = {}

    def within(instant: datetime | None) -> bool:
        return instant is not None and period.start <= instant < period.end

    for report_id in ids:
        report = services.ledger.find(Report, report_id)
        assert report is not None
        clock = report.clock(NOW, rules)
        n = dict.fromkeys(COUNTS, 0)
        n["received"] = int(within(report.received_at))
        n["accepted"] = int(within(report.accepted_at))
        n["declined"] = int(within(report.declined_at))
        if within(report.decided_at):
            n["accepted_on_time" if clock.accepted_on_time else "accepted_late"] = 1
        if report.conclusion and within(report.conclusion.concluded_at):
            n[report.conclusion.finding] = 1
            n["concluded_on_time" if clock.concluded_on_time else "concluded_late"] = 1
        then = replayed_then(services, report_id, evaluated)
        n["overdue"] = int(then is not None and then.clock(evaluated, rules).overdue)
        if not any(n.values()):
            continue
        into = groups.setdefault(tuple(getattr(report, d) for d in by), dict.fromkeys(COUNTS, 0))
        for name, value in n.items():
            into[name] += value
    return groups


def test_report_figures_equal_a_recomputation_from_the_log(
    world: tuple[Services, ReportServices, Settings],
) -> None:
    services, reports, settings = world
    history(reports)
    projector = build_projector(settings, services.ledger)
    view = next(v for v in projector.views if v.name == "report_facts")
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
    stats = build_report_statistics(services.ledger)
    rules = report_rules(settings)
    for label in PERIODS:
        period = parse_period(label, NOW)
        for by in ((), ("category",), ("channel",), ("category", "channel")):
            answer = stats.figures(period, by, NOW)
            wanted = expected(services, rules, period, by)
            total = {name: sum(g[name] for g in wanted.values()) for name in COUNTS}
            assert {k: answer["totals"][k] for k in COUNTS} == total, (label, by)
            if by:
                got = {
                    tuple(g["key"][d] for d in by): {k: g[k] for k in COUNTS}
                    for g in answer["groups"]
                }
                assert got == wanted, (label, by)
    assert stats.tracked() >= services.ledger.position()
    q1 = stats.figures(parse_period("2026Q1", NOW), (), NOW)["totals"]
    assert (q1["received"], q1["accepted"], q1["declined"]) == (6, 4, 1)
    assert (q1["accepted_on_time"], q1["accepted_late"]) == (4, 1)
    assert (q1["substantiated"], q1["not_substantiated"], q1["concluded_late"]) == (1, 1, 1)
    assert q1["acceptance_timeliness"] == "0.8000"
    assert q1["conclusion_timeliness"] == "0.5000"
    # At the end of March: the undecided report (due 16 March) is overdue; the open
    # investigation (due 3 April) not yet.
    assert q1["overdue"] == 1
    may = stats.figures(parse_period("2026-05", NOW), (), NOW)["totals"]
    assert (may["partly_substantiated"], may["concluded_on_time"]) == (1, 1)
    assert may["overdue"] == 2


def test_the_view_and_the_figures_hold_no_reporter_data(
    world: tuple[Services, ReportServices, Settings],
) -> None:
    services, reports, settings = world
    history(reports)
    projector = build_projector(settings, services.ledger)
    projector.catch_up()
    store = build_report_statistics(services.ledger)
    with store.views.snapshot() as cur:
        cur.execute(Statement("SELECT * FROM {table}", table="view_report_facts"), ())
        rows = str(cur.fetchall())
    answer = str(store.figures(parse_period("2026", NOW), ("category", "channel"), NOW))
    for value in REPORTER.values():
        assert value not in rows
        assert value not in answer


def test_report_dimensions_are_category_and_channel_only() -> None:
    assert parse_dimensions("category,channel", REPORT_DIMENSIONS, "reports") == (
        "category",
        "channel",
    )
    with pytest.raises(InvalidInput):
        parse_dimensions("region", REPORT_DIMENSIONS, "reports")


def test_cli_stats_reports_prints_the_same_figures(
    world: tuple[Services, ReportServices, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, reports, settings = world
    history(reports)
    for name, value in (
        ("XIAOBAO_DATABASE_URL", settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(settings.index_key_file)),
    ):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(cli, ["stats", "reports", "--period", "2026Q1", "--by", "category"])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.output)
    stats = build_report_statistics(services.ledger)
    assert body["totals"] == stats.figures(parse_period("2026Q1", NOW), (), NOW)["totals"]
    assert body["totals"]["received"] == 6
    csv = runner.invoke(cli, ["stats", "reports", "--period", "2026", "--format", "csv"])
    assert "受理举报量" in csv.output
    assert REPORTER["name"] not in csv.output
