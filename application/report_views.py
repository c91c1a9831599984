"""JSON views of a report: the record with its clocks, and the short line of a work queue.

The reporter's identity is shown only when the caller passes it opened (`reporter`): the
read of a `report_officer`. Every other view leaves the key out and keeps only `anonymous`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from application.views import json_ready, rfc3339
from domain.report_clock import ReportRules
from domain.reports import Report


def _due(due_date: date | None, due_at: datetime | None) -> dict[str, str] | None:
    if due_date is None or due_at is None:
        return None
    return {"due_date": due_date.isoformat(), "due_at": rfc3339(due_at)}


def _at(instant: datetime | None) -> str | None:
    return None if instant is None else rfc3339(instant)


def report_view(
    report: Report, now: datetime, rules: ReportRules, reporter: dict[str, Any] | None
) -> dict[str, Any]:
    """The report as it stands, clocks evaluated at `now`; `reporter` only if given. The
    free texts (facts, findings, basis) of a named report are sealed: the caller opens them
    (`Opener.reveal`)."""
    clock = report.clock(now, rules)
    view: dict[str, Any] = {
        "id": str(report.id),
        "version": report.version,
        "state": report.state,
        "channel": report.channel,
        "category": report.category,
        "anonymous": report.anonymous,
        "subject": json_ready(report.subject),
        "facts": report.facts,
        "evidence": json_ready(report.evidence),
        "transfer_id": report.transfer_id,
        "received_at": rfc3339(report.received_at),
        "accepted_at": _at(report.accepted_at),
        "declined_at": _at(report.declined_at),
        "decline_reason": report.decline_reason,
        "investigator": report.investigator,
        "assigned_at": _at(report.assigned_at),
        "findings": report.findings,
        "extension": json_ready(report.extension),
        "conclusion": report.conclusion,
        "delivery": json_ready(report.delivery),
        "notified_at": _at(report.notified_at),
        "closed_at": _at(report.closed_at),
        "acceptance_due": _due(clock.acceptance_due_date, clock.acceptance_due_at),
        "conclusion_due": _due(clock.conclusion_due_date, clock.conclusion_due_at),
        "overdue": clock.overdue,
        "due_soon": clock.due_soon,
        "accepted_on_time": clock.accepted_on_time,
        "concluded_on_time": clock.concluded_on_time,
        "evaluated_at": rfc3339(now),
    }
    if reporter is not None:
        view["reporter"] = reporter
    return view


def next_due(report: Report, now: datetime, rules: ReportRules) -> datetime | None:
    """The deadline now running: acceptance, then conclusion (None once concluded)."""
    clock = report.clock(now, rules)
    if report.decided_at is None:
        return clock.acceptance_due_at
    if report.accepted_at is not None and report.conclusion is None:
        return clock.conclusion_due_at
    return None


def report_line(report: Report, now: datetime, rules: ReportRules) -> dict[str, Any]:
    """One line of a work queue (no personal data)."""
    clock = report.clock(now, rules)
    due = next_due(report, now, rules)
    return {
        "id": str(report.id),
        "version": report.version,
        "state": report.state,
        "channel": report.channel,
        "category": report.category,
        "anonymous": report.anonymous,
        "subject": json_ready(report.subject),
        "investigator": report.investigator,
        "received_at": rfc3339(report.received_at),
        "due_at": _at(due),
        "overdue": clock.overdue,
        "due_soon": clock.due_soon,
        "extended": report.extension is not None,
    }
