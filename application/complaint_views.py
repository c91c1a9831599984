"""Read models of complaints: the case with its clocks, and the closure report (结案报告)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.personal import Opener
from application.views import event_type, json_ready, money, rfc3339
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint

STEP_NAMES = {
    "Received": "受理",
    "Assigned": "分派",
    "Reassigned": "改派",
    "Recused": "回避",
    "Contacted": "联系投诉人",
    "Urged": "催办",
    "Escalated": "升级",
    "Extended": "延期",
    "Paused": "中止计时",
    "Resumed": "恢复计时",
    "NewFactsReceived": "新事实或理由",
    "Decided": "作出处理决定",
    "Notified": "告知处理决定",
    "Closed": "结案",
    "Withdrawn": "撤回",
    "Declined": "不予受理",
    "MergedInto": "并入重复投诉",
    "DuplicateMerged": "合并重复投诉",
    "ReviewRequested": "申请核查",
    "ReviewDecided": "核查结论",
}


def complaint_view(
    c: Complaint, now: datetime, rules: ComplaintRules, opener: Opener
) -> dict[str, Any]:
    """The case as staff see it: state, people and free texts (opened in one key look-up;
    `[erased]` once the complainant is erased), decision, notice and live clocks."""
    clock = c.clock(now, rules)
    view = {
        "id": str(c.id),
        "version": c.version,
        "status": c.status,
        "channel": c.channel,
        "transfer_id": c.transfer_id,
        "complainant": c.complainant,
        "agent": c.agent,
        "matter": c.matter,
        "request": c.request,
        "facts": c.facts,
        "cause": c.cause,
        "line": c.line,
        "region": c.region,
        "policy_id": c.policy_id,
        "claim_id": c.claim_id,
        "handler": c.handler,
        "handlers_recused": list(c.handlers_recused),
        "received_at": rfc3339(c.received_at),
        "clock_start": rfc3339(clock.clock_start),
        "due_date": clock.due_date.isoformat(),
        "due_at": rfc3339(clock.due_at),
        "overdue": clock.overdue,
        "deadline_met": clock.deadline_met,
        "extension_level": clock.extension_level,
        "paused": clock.paused,
        "paused_days": clock.paused_days,
        "escalated": clock.escalated,
        "escalation_reasons": list(clock.escalation_reasons),
        "evaluated_at": rfc3339(clock.evaluated_at),
        "urges": c.urges,
        "extensions": json_ready(c.extensions),
        "decision": _decision(c),
        "root_causes": list(c.decision.root_causes) if c.decision else [],
        "responsible_department": c.decision.responsible_department if c.decision else None,
        "notice": json_ready(c.notice),
        "review": c.review,
        "review_due_date": clock.review_due_date.isoformat() if clock.review_due_date else None,
        "closed_at": json_ready(c.closed_at),
        "merged_into": str(c.merged_into) if c.merged_into else None,
        "duplicates": [str(d) for d in c.duplicates],
        "evidence": json_ready(c.evidence),
        "created_at": rfc3339(c.created_on),
        "updated_at": rfc3339(c.modified_on),
    }
    opened: dict[str, Any] = opener.reveal(view)
    return opened


def _decision(c: Complaint) -> dict[str, Any] | None:
    """The decision, its (possibly sealed) texts left for the opener."""
    d = c.decision
    if d is None:
        return None
    return {
        "outcome": d.outcome,
        "redress": money(d.redress),
        "facts": d.facts,
        "basis": d.basis,
        "decided_at": d.decided_at,
        "root_causes": d.root_causes,
        "responsible_department": d.responsible_department,
    }


def summary(c: Complaint, now: datetime, rules: ComplaintRules) -> dict[str, Any]:
    """A work-queue line: no personal data, the clocks that order the queue."""
    clock = c.clock(now, rules)
    return {
        "id": str(c.id),
        "status": c.status,
        "channel": c.channel,
        "cause": c.cause,
        "line": c.line,
        "region": c.region,
        "handler": c.handler,
        "due_date": clock.due_date.isoformat(),
        "due_at": rfc3339(clock.due_at),
        "overdue": clock.overdue,
        "escalated": clock.escalated,
        "escalation_reasons": list(clock.escalation_reasons),
        "extension_level": clock.extension_level,
        "urges": c.urges,
    }


def closure_report(
    c: Complaint,
    events: list[Any],
    duplicates: list[Complaint],
    now: datetime,
    rules: ComplaintRules,
    opener: Opener,
) -> dict[str, Any]:
    """The closure report generated from the history: facts, basis, outcome, redress, the
    timeline with every step and who did it, deadlines met or missed, duplicates merged."""
    clock = c.clock(now, rules)
    timeline = [
        {
            "version": e.originator_version,
            "step": event_type(e),
            "step_zh": STEP_NAMES.get(event_type(e), event_type(e)),
            "occurred_at": rfc3339(getattr(e, "occurred_at", e.timestamp)),
            "recorded_at": rfc3339(e.timestamp),
            "by": {"name": e.actor.name, "role": e.actor.role},
            "detail": _detail(e),
        }
        for e in events
    ]
    report = {
        "complaint_id": str(c.id),
        "status": c.status,
        "channel": c.channel,
        "transfer_id": c.transfer_id,
        "complainant": c.complainant,
        "matter": c.matter,
        "request": c.request,
        "cause": c.cause,
        "line": c.line,
        "region": c.region,
        "facts": c.decision.facts if c.decision else c.facts,
        "basis": c.decision.basis if c.decision else None,
        "outcome": c.decision.outcome if c.decision else None,
        "redress": money(c.decision.redress) if c.decision else None,
        "root_causes": list(c.decision.root_causes) if c.decision else [],
        "responsible_department": c.decision.responsible_department if c.decision else None,
        "notice": json_ready(c.notice),
        "remedies": list(c.notice.remedies) if c.notice else [],
        "deadlines": {
            "received_at": rfc3339(c.received_at),
            "due_date": clock.due_date.isoformat(),
            "due_at": rfc3339(clock.due_at),
            "extension_level": clock.extension_level,
            "paused_days": clock.paused_days,
            "notified_at": rfc3339(c.notice.notified_at) if c.notice else None,
            "met": clock.deadline_met,
        },
        "extensions": json_ready(c.extensions),
        "duplicates": [
            {
                "id": str(d.id),
                "channel": d.channel,
                "transfer_id": d.transfer_id,
                "received_at": rfc3339(d.received_at),
            }
            for d in duplicates
        ],
        "review": c.review,
        "timeline": timeline,
        "generated_at": rfc3339(now),
    }
    opened: dict[str, Any] = opener.reveal(report)
    return opened


_DETAIL_FIELDS = (
    "handler",
    "reason",
    "by",
    "note",
    "summary",
    "outcome",
    "method",
    "level",
    "days",
    "approver",
    "duplicate_id",
    "master_id",
    "basis",
)


def _detail(event: Any) -> dict[str, Any]:
    """The step's own fields (sealed texts left for the opener)."""
    return {k: getattr(event, k) for k in _DETAIL_FIELDS if hasattr(event, k)}
