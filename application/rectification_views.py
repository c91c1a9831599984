"""Read models of rectification items: the item with its derived clocks, a queue line, and
the rectification report of one source generated from the items' histories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from application.views import event_type, json_ready, money, rfc3339
from domain.rectification import RectificationItem

STEP_NAMES = {
    "Opened": "立项",
    "Planned": "制定整改方案",
    "ProgressNoted": "整改进展",
    "Submitted": "提交验收",
    "Verified": "验收",
    "Extended": "延期",
    "Cancelled": "撤销",
}


def item_view(item: RectificationItem, now: datetime) -> dict[str, Any]:
    """The item as it stands, with `due_date`, `due_at`, `overdue` and `closed_late` at `now`."""
    finding = item.finding
    return {
        "id": str(item.id),
        "version": item.version,
        "state": item.state,
        "source": {"kind": item.source.kind, "ref": item.source.ref},
        "finding": {
            "summary": finding.summary,
            "description": finding.description,
            "basis": finding.basis,
            "severity": finding.severity,
            "amount": money(finding.amount) if finding.amount is not None else None,
        },
        "department": item.department,
        "owner": item.owner,
        "complaint_ids": [str(c) for c in item.complaint_ids],
        "report_id": str(item.report_id) if item.report_id else None,
        "opened_at": rfc3339(item.opened_at),
        "opened_by": json_ready(item.opened_by),
        "due_date": item.due_date.isoformat(),
        "due_at": rfc3339(item.due_at),
        "original_due_date": item.original_due_date.isoformat(),
        "due_from_source": item.due_from_source,
        "overdue": item.overdue(now),
        "closed_late": item.closed_late,
        "measures": list(item.measures),
        "milestones": json_ready(item.milestones),
        "progress": json_ready(item.progress),
        "submitted_at": rfc3339(item.submitted_at) if item.submitted_at else None,
        "submitted_evidence": json_ready(item.submitted_evidence),
        "verifications": json_ready(item.verifications),
        "extensions": json_ready(item.extensions),
        "closed_at": rfc3339(item.closed_at) if item.closed_at else None,
        "cancelled_at": rfc3339(item.cancelled_at) if item.cancelled_at else None,
        "cancel_reason": item.cancel_reason,
        "evaluated_at": rfc3339(now),
    }


def queue_line(item: RectificationItem, now: datetime) -> dict[str, Any]:
    """One line of a work queue."""
    return {
        "id": str(item.id),
        "state": item.state,
        "source": {"kind": item.source.kind, "ref": item.source.ref},
        "summary": item.finding.summary,
        "severity": item.finding.severity,
        "department": item.department,
        "owner": item.owner,
        "due_date": item.due_date.isoformat(),
        "overdue": item.overdue(now),
        "version": item.version,
    }


def timeliness(item: RectificationItem, now: datetime) -> str:
    """`on_time`, `late` (closed after the due date), `cancelled`, `overdue` or `open`."""
    if item.closed_late is not None:
        return "late" if item.closed_late else "on_time"
    if item.cancelled_at is not None:
        return "cancelled"
    return "overdue" if item.overdue(now) else "open"


def report_entry(item: RectificationItem, events: Sequence[Any], now: datetime) -> dict[str, Any]:
    """One item of a rectification report: finding, measures, evidence digests, verifier,
    on time or late, and its steps from the history."""
    verified = item.verification
    return {
        "id": str(item.id),
        "state": item.state,
        "finding": item_view(item, now)["finding"],
        "department": item.department,
        "owner": item.owner,
        "complaint_ids": [str(c) for c in item.complaint_ids],
        "report_id": str(item.report_id) if item.report_id else None,
        "opened_at": rfc3339(item.opened_at),
        "due_date": item.due_date.isoformat(),
        "original_due_date": item.original_due_date.isoformat(),
        "extensions": json_ready(item.extensions),
        "measures": list(item.measures),
        "evidence": [{"name": e.name, "sha256": e.sha256} for e in item.evidence],
        "verified_by": verified.verifier if verified else None,
        "verified_at": rfc3339(verified.verified_at) if verified else None,
        "closed_late": item.closed_late,
        "timeliness": timeliness(item, now),
        "overdue": item.overdue(now),
        "cancel_reason": item.cancel_reason,
        "steps": [
            {
                "step": event_type(e),
                "step_zh": STEP_NAMES.get(event_type(e), event_type(e)),
                "occurred_at": rfc3339(e.occurred_at),
                "by": {"name": e.actor.name, "role": e.actor.role},
            }
            for e in events
        ],
    }


def rectification_report(
    kind: str, ref: str, entries: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """The report of one source: every item and the totals (what is still open)."""
    count = {
        name: sum(1 for e in entries if e["timeliness"] == name)
        for name in ("on_time", "late", "cancelled", "overdue", "open")
    }
    return {
        "source": {"kind": kind, "ref": ref},
        "generated_at": rfc3339(now),
        "totals": {
            "items": len(entries),
            "closed": count["on_time"] + count["late"],
            "closed_on_time": count["on_time"],
            "closed_late": count["late"],
            "cancelled": count["cancelled"],
            "open": count["open"] + count["overdue"],
            "overdue": count["overdue"],
        },
        "items": entries,
        "still_open": [e["id"] for e in entries if e["timeliness"] in ("open", "overdue")],
    }
