"""Demonstration rectification items (消保整改): the findings of one on-site inspection,
opened, worked and verified through the application — one closed on time, one in progress,
one overdue. Every command carries a fixed Idempotency-Key, so loading twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from application.commands import CommandKey, CommandResult
from application.gateway import Meta
from application.rectification import (
    Conditions,
    NoteProgress,
    OpenItem,
    PlanItem,
    SubmitItem,
    VerifyItem,
)
from application.services import Services
from domain.common import CST, Actor
from domain.rectification import Finding, ItemEvidence, Milestone, Source

NOTICE = "示范银保监现检〔2026〕12号"
DEPARTMENT = "claims"
RECTIFICATION_PRINCIPALS: list[dict[str, Any]] = [
    {"name": "合规专员", "role": "compliance", "partner_id": None},
    {"name": "理赔部联系人", "role": "department", "partner_id": None, "department": DEPARTMENT},
]
COMPLIANCE = Actor("合规专员", "compliance")
SUPERVISOR = Actor("李主管", "supervisor")
OWNER = Actor("理赔部联系人", "department")
EVERY = Conditions()


def _at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CST)


def _key(actor: Actor, name: str) -> CommandKey:
    return CommandKey(actor.name, f"demo-rectification-{name}", f"demo-{name}")


def _evidence(name: str, digest: str) -> ItemEvidence:
    return ItemEvidence(name, digest * 64, f"dms://demo/rectification/{name}")


def _open(
    services: Services,
    name: str,
    at: datetime,
    finding: Finding,
    source: Source = Source("inspection", NOTICE),
    **more: Any,
) -> str:
    cmd = OpenItem(source, finding, DEPARTMENT, OWNER.name, **more)
    result = services.rectifications.open(cmd, Meta(at, COMPLIANCE), _key(COMPLIANCE, name))
    return str(result.body["id"])


def _step(
    name: str, actor: Actor, at: datetime, run: Callable[[Meta, Conditions, CommandKey], Any]
) -> CommandResult:
    result: CommandResult = run(Meta(at, actor), EVERY, _key(actor, name))
    return result


def load_rectification_demo(services: Services) -> list[str]:
    """Open and work the demo items; returns their ids."""
    desk = services.rectifications
    closed = _open(
        services,
        "script",
        _at(7, 1),
        Finding(
            "电话销售话术未提示免责条款",
            "抽查 40 通电话销售录音，其中 6 通未提示责任免除条款。",
            "《保险法》第十七条",
            "high",
        ),
    )
    item = UUID(closed)
    _step(
        "script-plan",
        OWNER,
        _at(7, 3),
        lambda m, c, k: desk.plan(
            PlanItem(item, ("修订话术", "全员培训"), (Milestone("完成培训", date(2026, 7, 20)),)),
            m,
            c,
            k,
        ),
    )
    _step(
        "script-progress",
        OWNER,
        _at(7, 20),
        lambda m, c, k: desk.note_progress(
            NoteProgress(item, "培训完成 120 人次", (_evidence("培训签到表.pdf", "a"),)), m, c, k
        ),
    )
    _step(
        "script-submit",
        OWNER,
        _at(7, 25),
        lambda m, c, k: desk.submit(
            SubmitItem(item, (_evidence("修订后话术.docx", "b"),)), m, c, k
        ),
    )
    _step(
        "script-verify",
        COMPLIANCE,
        _at(7, 28),
        lambda m, c, k: desk.verify(VerifyItem(item, "accepted", "抽查复核通过"), m, c, k),
    )
    working = _open(
        services,
        "delay",
        _at(10, 15),
        Finding(
            "小额理赔超时结案",
            "10 起小额医疗理赔超过承诺的 3 日结案。",
            "《保险法》第二十三条",
            "medium",
        ),
    )
    _step(
        "delay-plan",
        OWNER,
        _at(10, 20),
        lambda m, c, k: desk.plan(PlanItem(UUID(working), ("优化审核流程",)), m, c, k),
    )
    overdue = _open(
        services,
        "notice",
        _at(9, 1),
        Finding("退保告知书缺失", "抽查 30 件退保，2 件无书面告知。", "公司退保管理办法", "low"),
        due_date=date(2026, 10, 31),
    )
    _earlier_sources(services)
    return [closed, working, overdue]


def _earlier_sources(services: Services) -> None:
    """The first half-year's items: a self-inspection closed on time (Q1) and a mystery
    shopping finding closed after its due date (Q2)."""
    _worked_item(
        services,
        "self-check",
        Source("self_inspection", "2026年一季度消保自查"),
        Finding(
            "理赔时效告知不到位",
            "自查 50 件理赔案件，8 件未告知理赔时效。",
            "《保险法》第二十三条",
            "medium",
        ),
        (_at(2, 10), _at(2, 20), _at(3, 18), _at(3, 25)),
    )
    _worked_item(
        services,
        "mystery",
        Source("mystery_shopping", "2026年二季度神秘客户暗访"),
        Finding(
            "柜面未主动提示犹豫期",
            "暗访 12 个网点，4 个未提示犹豫期权利。",
            "《人身保险业务基本服务规定》",
            "high",
        ),
        (_at(5, 8), _at(5, 12), _at(6, 20), _at(6, 25)),
    )


def _worked_item(
    services: Services,
    name: str,
    source: Source,
    finding: Finding,
    times: tuple[datetime, datetime, datetime, datetime],
) -> None:
    """Open an item, plan, submit and verify it at the given times."""
    desk = services.rectifications
    opened, planned, submitted, verified = times
    item = UUID(_open(services, name, opened, finding, source))
    plan = PlanItem(item, ("修订服务规范", "专项培训"))
    _step(f"{name}-plan", OWNER, planned, lambda m, c, k: desk.plan(plan, m, c, k))
    submit = SubmitItem(item, (_evidence(f"{name}-整改报告.pdf", "c"),))
    _step(f"{name}-submit", OWNER, submitted, lambda m, c, k: desk.submit(submit, m, c, k))
    verify = VerifyItem(item, "accepted", "复核通过，予以销号")
    _step(f"{name}-verify", COMPLIANCE, verified, lambda m, c, k: desk.verify(verify, m, c, k))
