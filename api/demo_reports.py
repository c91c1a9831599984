"""Demonstration reports of misconduct (举报), handled through the application: one closed
after notice, one anonymous closed after its conclusion, one under investigation with an
extension, one never decided (overdue), one transferred from 12378, and from the first
half-year one partly substantiated and one declined.

Running it twice changes nothing: each staff command carries a fixed Idempotency-Key, and
the 12378 transfer a fixed event id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from api.cloudevents import record_one
from application.commands import CommandKey, CommandResult
from application.gateway import Meta, PartnerEvents
from application.reports import (
    AcceptReport,
    AssignInvestigator,
    CloseReport,
    ConcludeReport,
    Conditions,
    DeclineReport,
    ExtendReport,
    Investigator,
    NotifyReporter,
    RecordFindings,
    ReportIntake,
    StaticInvestigators,
)
from application.services import ReportServices
from domain.common import CST, Actor
from domain.reports import ReportSubject
from infrastructure.notary import Notary
from infrastructure.principals import Principal

OFFICER = Actor(name="举报专员", role="report_officer")
SUPERVISOR = Actor(name="李主管", role="supervisor")
DEMO_INVESTIGATORS = StaticInvestigators((Investigator("举报专员", "消保部"),))
PLATFORM = Principal(name="12378 平台", role="regulator_platform", partner_id="cbirc-12378")


def _at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CST)


def _intake(
    category: str, channel: str, department: str, facts: str, reporter: dict[str, str] | None
) -> ReportIntake:
    return ReportIntake(
        channel=channel,
        anonymous=reporter is None,
        reporter=reporter,
        category=category,
        subject=ReportSubject(
            "agent" if department == "销售部" else "department", "示范", department
        ),
        facts=facts,
    )


class _Script:
    """Runs one demo report's steps, each with its own fixed Idempotency-Key."""

    def __init__(self, reports: ReportServices, name: str) -> None:
        self.reports = reports
        self.name = name
        self.report_id = ""

    def key(self, step: str, actor: Actor) -> CommandKey:
        return CommandKey(actor.name, f"demo-{self.name}-{step}", f"demo-{self.name}-{step}")

    def receive(self, intake: ReportIntake, when: datetime) -> None:
        result = self.reports.desk.receive(
            intake, Meta(when, OFFICER), self.key("receive", OFFICER)
        )
        self.report_id = str(result.body["id"])

    def step(
        self,
        name: str,
        when: datetime,
        run: Callable[[Meta, Conditions], CommandResult],
        actor: Actor = OFFICER,
    ) -> None:
        run(Meta(when, actor), Conditions(self.key(name, actor)))


def load_reports(reports: ReportServices, events: PartnerEvents, notary: Notary) -> dict[str, str]:
    """Load the demo reports; returns their ids by name."""
    desk, ids = reports.desk, {}
    named = {"id": "330102199003031234", "name": "陈示范", "phone": "13900000000"}

    closed = _Script(reports, "closed")
    closed.receive(
        _intake("sales_misrepresentation", "hotline", "销售部", "代理人承诺保本高收益", named),
        _at(10, 8),
    )
    rid = UUID(closed.report_id)
    closed.step("accept", _at(10, 12), lambda m, c: desk.accept(AcceptReport(rid), m, c))
    closed.step(
        "assign", _at(10, 13), lambda m, c: desk.assign(AssignInvestigator(rid, "举报专员"), m, c)
    )
    closed.step(
        "findings",
        _at(11, 2),
        lambda m, c: desk.record_findings(RecordFindings(rid, "录音与销售记录证实误导", ()), m, c),
    )
    closed.step(
        "conclude",
        _at(11, 5),
        lambda m, c: desk.conclude(
            ConcludeReport(
                rid, "substantiated", "《保险销售行为管理办法》", ("问责销售主管", "开展销售整改")
            ),
            m,
            c,
        ),
    )
    closed.step(
        "notify", _at(11, 6), lambda m, c: desk.notify(NotifyReporter(rid, "sms", _at(11, 6)), m, c)
    )
    closed.step("close", _at(11, 7), lambda m, c: desk.close(CloseReport(rid), m, c))
    ids["closed"] = closed.report_id

    anonymous = _Script(reports, "anonymous")
    anonymous.receive(
        _intake("claims_obstruction", "app", "理赔部", "理赔拖延超过三十日", None), _at(10, 20)
    )
    aid = UUID(anonymous.report_id)
    anonymous.step("accept", _at(10, 22), lambda m, c: desk.accept(AcceptReport(aid), m, c))
    anonymous.step(
        "assign",
        _at(10, 22, 11),
        lambda m, c: desk.assign(AssignInvestigator(aid, "举报专员"), m, c),
    )
    anonymous.step(
        "findings",
        _at(11, 20),
        lambda m, c: desk.record_findings(RecordFindings(aid, "时效内处理，未见拖赔", ()), m, c),
    )
    anonymous.step(
        "conclude",
        _at(11, 21),
        lambda m, c: desk.conclude(ConcludeReport(aid, "not_substantiated", "理赔记录", ()), m, c),
    )
    anonymous.step("close", _at(11, 22), lambda m, c: desk.close(CloseReport(aid), m, c))
    ids["anonymous"] = anonymous.report_id

    extended = _Script(reports, "extended")
    extended.receive(
        _intake("data_misuse", "email", "销售部", "客户信息被用于第三方营销", named), _at(11, 1)
    )
    eid = UUID(extended.report_id)
    extended.step("accept", _at(11, 3), lambda m, c: desk.accept(AcceptReport(eid), m, c))
    extended.step(
        "assign", _at(11, 4), lambda m, c: desk.assign(AssignInvestigator(eid, "举报专员"), m, c)
    )
    extended.step(
        "extend",
        _at(11, 28),
        lambda m, c: desk.extend(ExtendReport(eid, "需调取第三方数据"), m, c),
        SUPERVISOR,
    )
    ids["extended"] = extended.report_id

    overdue = _Script(reports, "overdue")
    overdue.receive(
        _intake("fraud", "letter", "理赔部", "虚构保险事故骗取赔款", named), _at(11, 10)
    )
    ids["overdue"] = overdue.report_id

    spring = _Script(reports, "spring")
    spring.receive(
        _intake("claims_obstruction", "visit", "理赔部", "理赔员索要好处费后才受理", named),
        _at(2, 3),
    )
    sid = UUID(spring.report_id)
    spring.step("accept", _at(2, 9), lambda m, c: desk.accept(AcceptReport(sid), m, c))
    spring.step(
        "assign", _at(2, 10), lambda m, c: desk.assign(AssignInvestigator(sid, "举报专员"), m, c)
    )
    spring.step(
        "findings",
        _at(3, 20),
        lambda m, c: desk.record_findings(RecordFindings(sid, "调取录音与转账记录", ()), m, c),
    )
    spring.step(
        "conclude",
        _at(3, 27),
        lambda m, c: desk.conclude(
            ConcludeReport(sid, "partly_substantiated", "公司员工行为守则", ("问责理赔员",)),
            m,
            c,
        ),
    )
    spring.step(
        "notify",
        _at(3, 30),
        lambda m, c: desk.notify(NotifyReporter(sid, "phone", _at(3, 30)), m, c),
    )
    spring.step("close", _at(3, 31), lambda m, c: desk.close(CloseReport(sid), m, c))
    ids["spring"] = spring.report_id

    declined = _Script(reports, "declined")
    declined.receive(_intake("other", "online", "客服部", "服务态度不好", None), _at(5, 18))
    did = UUID(declined.report_id)
    declined.step(
        "decline",
        _at(5, 25),
        lambda m, c: desk.decline(DeclineReport(did, "无具体违法违规事实，转投诉渠道处理"), m, c),
    )
    ids["declined"] = declined.report_id

    transfer: dict[str, Any] = {
        "specversion": "1.0",
        "id": "demo-report-transfer-0001",
        "source": "/partners/cbirc-12378",
        "type": "xiaobao.regulator.report-transferred.v1",
        "time": _at(11, 15).isoformat(),
        "data": {
            "transfer_id": "JB-2026-0001",
            "anonymous": True,
            "category": "unlicensed_agent",
            "subject": {"kind": "intermediary", "ref": "示范中介", "department": "渠道部"},
            "facts": "无资质中介代销保险产品",
        },
    }
    _, result = record_one(events, notary, transfer, PLATFORM)
    ids["transferred"] = str(result["stream"]["id"])
    return ids
