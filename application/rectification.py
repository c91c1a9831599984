"""Rectification (消保整改): opening items from a source, complaints or a report, and every
step of their lifecycle, each saved with its `Idempotency-Key` receipt and the links it adds.

A department's principal acts only on its own department's items: another department's item
is refused exactly as an unknown one (`scope` is the caller's department, None for staff who
see every item)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta
from application.ledger import Ledger, Reads, utc_now
from application.rectification_views import item_view
from domain.common import DomainError, StaleVersion, UnknownRecord
from domain.complaints import Complaint
from domain.rectification import (
    Finding,
    ItemEvidence,
    Milestone,
    RectificationItem,
    RectificationRules,
    Source,
)
from domain.rectification_links import RectificationLinks, rectification_links_id, source_key
from domain.reports import Report


class ComplaintNotDecided(DomainError):
    """Root-cause tracing starts from decided complaints."""

    rule = "complaint_not_decided"


class ReportNotSubstantiated(DomainError):
    """Rectification from a report starts from its substantiated (or partly) conclusion."""

    rule = "report_not_substantiated"


@dataclass(frozen=True)
class OpenItem:
    """Open an item from a source (with the complaints or report it traces, if any)."""

    source: Source
    finding: Finding
    department: str
    owner: str
    due_date: date | None = None
    complaint_ids: tuple[UUID, ...] = ()
    report_id: UUID | None = None


@dataclass(frozen=True)
class PlanItem:
    item_id: UUID
    measures: tuple[str, ...]
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True)
class NoteProgress:
    item_id: UUID
    note: str
    evidence: tuple[ItemEvidence, ...] = ()


@dataclass(frozen=True)
class SubmitItem:
    item_id: UUID
    evidence: tuple[ItemEvidence, ...] = ()


@dataclass(frozen=True)
class VerifyItem:
    item_id: UUID
    outcome: str
    comment: str = ""


@dataclass(frozen=True)
class ExtendItem:
    item_id: UUID
    due_date: date
    reason: str


@dataclass(frozen=True)
class CancelItem:
    item_id: UUID
    reason: str


@dataclass(frozen=True)
class Conditions:
    """Who may act (their department, None for every item) and the version they last read."""

    scope: str | None = None
    if_match: int | None = None


class RectificationDesk:
    """The compliance department's and the responsible departments' commands."""

    def __init__(
        self,
        ledger: Ledger,
        runner: CommandRunner,
        rules: RectificationRules,
    ) -> None:
        self.ledger = ledger
        self.runner = runner
        self.rules = rules

    def open(self, cmd: OpenItem, meta: Meta, key: CommandKey | None) -> CommandResult:
        """Open an item: 201 with its id and due date; links saved in the same transaction."""

        def attempt() -> Answer:
            reads = Reads(self.ledger)
            links_ids = [rectification_links_id("source", source_key(*_source(cmd)))]
            links_ids += [rectification_links_id("complaint", str(c)) for c in cmd.complaint_ids]
            if cmd.report_id is not None:
                links_ids.append(rectification_links_id("report", str(cmd.report_id)))
            reports = [cmd.report_id] if cmd.report_id is not None else []
            reads.prefetch(*cmd.complaint_ids, *reports, *links_ids)
            item = RectificationItem.open(
                source=cmd.source,
                finding=cmd.finding,
                department=cmd.department,
                owner=cmd.owner,
                due_date=cmd.due_date,
                rules=self.rules,
                occurred_at=meta.occurred_at,
                actor=meta.actor,
                complaint_ids=cmd.complaint_ids,
                report_id=cmd.report_id,
            )
            for complaint_id in cmd.complaint_ids:
                complaint = reads.get(Complaint, complaint_id)
                if complaint is None:
                    raise UnknownRecord(f"unknown complaint {complaint_id}")
                if complaint.decision is None:
                    raise ComplaintNotDecided(f"complaint {complaint_id} is not decided")
            if cmd.report_id is not None:
                self._check_report(reads, cmd.report_id)
            keys = [("source", source_key(*_source(cmd)))]
            keys += [("complaint", str(c)) for c in item.complaint_ids]
            if cmd.report_id is not None:
                keys.append(("report", str(cmd.report_id)))
            links = [self._linked(reads, kind, key, item.id) for kind, key in keys]
            body = {"id": str(item.id), "due_date": item.due_date.isoformat(), "state": item.state}
            return Answer([item, *links], True, body)

        return self.runner.run(key, attempt)

    def _check_report(self, reads: Reads, report_id: UUID) -> None:
        report = reads.get(Report, report_id)
        if report is None:
            raise UnknownRecord(f"unknown report {report_id}")
        if not report.substantiated:
            raise ReportNotSubstantiated(
                f"report {report_id} is not concluded as substantiated or partly substantiated"
            )

    def _linked(self, reads: Reads, kind: str, key: str, item_id: UUID) -> RectificationLinks:
        links = reads.get(RectificationLinks, rectification_links_id(kind, key))
        links = links or RectificationLinks(kind, key)
        links.link(item_id)
        return links

    def plan(
        self, cmd: PlanItem, meta: Meta, when: Conditions, key: CommandKey | None
    ) -> CommandResult:
        """Record the measures and milestones (owner's department or compliance)."""
        return self._step(
            cmd.item_id,
            lambda i: i.plan(
                list(cmd.measures), list(cmd.milestones), meta.occurred_at, meta.actor
            ),
            when,
            key,
        )

    def note_progress(
        self, cmd: NoteProgress, meta: Meta, when: Conditions, key: CommandKey | None
    ) -> CommandResult:
        """Note progress with evidence."""
        return self._step(
            cmd.item_id,
            lambda i: i.note_progress(cmd.note, list(cmd.evidence), meta.occurred_at, meta.actor),
            when,
            key,
        )

    def submit(
        self, cmd: SubmitItem, meta: Meta, when: Conditions, key: CommandKey | None
    ) -> CommandResult:
        """Submit for verification with evidence."""
        return self._step(
            cmd.item_id,
            lambda i: i.submit(list(cmd.evidence), meta.occurred_at, meta.actor),
            when,
            key,
        )

    def verify(
        self, cmd: VerifyItem, meta: Meta, when: Conditions, key: CommandKey | None
    ) -> CommandResult:
        """Verify (compliance, four eyes): accepted closes the item, rejected sends it back."""
        return self._step(
            cmd.item_id,
            lambda i: i.verify(cmd.outcome, cmd.comment, meta.occurred_at, meta.actor),
            when,
            key,
        )

    def extend(
        self, cmd: ExtendItem, meta: Meta, when: Conditions, key: CommandKey | None
    ) -> CommandResult:
        """Move the due date later (supervisor, who approves it)."""
        return self._step(
            cmd.item_id,
            lambda i: i.extend(cmd.due_date, cmd.reason, meta.occurred_at, meta.actor),
            when,
            key,
        )

    def cancel(
        self, cmd: CancelItem, meta: Meta, when: Conditions, key: CommandKey | None
    ) -> CommandResult:
        """Cancel the item with the reason."""
        return self._step(
            cmd.item_id,
            lambda i: i.cancel(cmd.reason, meta.occurred_at, meta.actor),
            when,
            key,
        )

    def _step(
        self,
        item_id: UUID,
        change: Callable[[RectificationItem], None],
        when: Conditions,
        key: CommandKey | None,
    ) -> CommandResult:
        def attempt() -> Answer:
            item = self.ledger.find(RectificationItem, item_id)
            if item is None or not visible(item, when.scope):
                raise UnknownRecord(f"unknown rectification item {item_id}")
            if when.if_match is not None and item.version != when.if_match:
                raise StaleVersion("the item changed since it was read; read it again")
            change(item)
            changed: list[Aggregate] = [item]
            return Answer(changed, False, item_view(item, utc_now()))

        return self.runner.run(key, attempt)


def visible(item: RectificationItem, scope: str | None) -> bool:
    """Whether a caller scoped to a department (None: every item) may see the item."""
    return scope is None or item.department == scope


def _source(cmd: OpenItem) -> tuple[str, str]:
    return cmd.source.kind, cmd.source.ref
