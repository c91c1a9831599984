"""Reports of misconduct (举报): intake from staff and 12378, and every step of handling.

Each command is a frozen dataclass with one method of `ReportDesk`: get the report → call
the aggregate → save with the Idempotency-Key receipt (`CommandRunner`). The reporter's
identity is sealed under their own key at intake; command answers never show it (only the
`report_officer` read does), so the stored replay copies hold no personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta, Outcome
from application.ledger import Ledger, utc_now
from application.personal import Opener, Vault, seal_texts
from application.report_views import report_view
from domain.codes import CodeList, all_codes, code_list_id
from domain.common import MAX_FUTURE_SKEW, DomainError, InvalidInput, StaleVersion, UnknownRecord
from domain.complaints import Evidence
from domain.personal import Subject, subject_stream_id
from domain.report_clock import ReportRules
from domain.reports import Report, ReportSubject, transferred_report_id

KIND = "reports"
CATEGORY_CODES = "report_categories"


@dataclass(frozen=True)
class Investigator:
    """Someone who may investigate a report, with the department they belong to."""

    name: str
    department: str | None


class InvestigatorDirectory(Protocol):
    """Who may investigate (staff of the principals file, with their departments)."""

    def investigator(self, name: str) -> Investigator | None: ...


@dataclass(frozen=True)
class StaticInvestigators:
    """A fixed list of investigators (tests, the demo)."""

    known: Sequence[Investigator] = ()

    def investigator(self, name: str) -> Investigator | None:
        return next((i for i in self.known if i.name == name), None)


@dataclass(frozen=True)
class ReportIntake:
    """A report as received (the reporter's identity in clear; sealed at intake)."""

    channel: str
    anonymous: bool
    reporter: dict[str, str] | None
    category: str
    subject: ReportSubject
    facts: str
    evidence: tuple[Evidence, ...] = ()
    transfer_id: str | None = None


@dataclass(frozen=True)
class TransferReport:
    """`xiaobao.regulator.report-transferred.v1`: a report transferred from 12378."""

    intake: ReportIntake


@dataclass(frozen=True)
class AcceptReport:
    report_id: UUID


@dataclass(frozen=True)
class DeclineReport:
    report_id: UUID
    reason: str


@dataclass(frozen=True)
class AssignInvestigator:
    report_id: UUID
    investigator: str


@dataclass(frozen=True)
class RecordFindings:
    report_id: UUID
    summary: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class ExtendReport:
    report_id: UUID
    reason: str


@dataclass(frozen=True)
class ConcludeReport:
    report_id: UUID
    finding: str
    basis: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class NotifyReporter:
    report_id: UUID
    method: str
    delivered_at: datetime


@dataclass(frozen=True)
class CloseReport:
    report_id: UUID


@dataclass(frozen=True)
class Conditions:
    """What a staff write is conditioned on: its Idempotency-Key and If-Match version."""

    key: CommandKey | None = None
    if_match: int | None = None


class DuplicateReportTransfer(DomainError):
    """A 12378 transfer id is received once."""

    rule = "duplicate_transfer"


class ReportDesk:
    """The report officers' commands (and the supervisor's extension)."""

    def __init__(
        self,
        ledger: Ledger,
        vault: Vault,
        investigators: InvestigatorDirectory,
        runner: CommandRunner,
        rules: ReportRules,
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.opener = Opener(vault)
        self.investigators = investigators
        self.runner = runner
        self.rules = rules

    # -- intake ------------------------------------------------------------------------------

    def receive(self, intake: ReportIntake, meta: Meta, key: CommandKey | None) -> CommandResult:
        """A report received by staff: its id (derived from `transfer_id` when given)."""

        def attempt() -> Answer:
            report_id = (
                transferred_report_id(intake.transfer_id)
                if intake.transfer_id is not None
                else uuid.uuid4()
            )
            changed = self._intake(intake, report_id, meta)
            return Answer(changed, True, {"id": str(report_id)})

        return self.runner.run(key, attempt)

    def receive_transfer(self, cmd: TransferReport, meta: Meta) -> Outcome:
        """A report transferred by the 12378 platform (a partner event)."""
        transfer_id = cmd.intake.transfer_id
        if transfer_id is None:
            raise InvalidInput("transfer_id", "a 12378 transfer carries its transfer_id")
        changed = self._intake(cmd.intake, transferred_report_id(transfer_id), meta)
        return Outcome(KIND, changed[0], changed, {"id": str(changed[0].id)})

    def _intake(self, intake: ReportIntake, report_id: UUID, meta: Meta) -> list[Aggregate]:
        if self.ledger.find(Report, report_id) is not None:
            raise DuplicateReportTransfer(f"transfer {intake.transfer_id!r} was already received")
        categories = all_codes(
            CATEGORY_CODES, self.ledger.find(CodeList, code_list_id(CATEGORY_CODES))
        )
        if intake.anonymous and intake.reporter is not None:
            raise InvalidInput("reporter", "an anonymous report has no reporter")
        if not intake.anonymous and not (intake.reporter or {}).get("id"):
            raise InvalidInput("reporter", "a named report needs the reporter's id and name")
        ref = None if intake.reporter is None else self.vault.ref(intake.reporter["id"])
        report = Report.receive(
            report_id=report_id,
            channel=intake.channel,
            anonymous=intake.anonymous,
            reporter_ref=ref,
            reporter=(
                None
                if ref is None or intake.reporter is None
                else self.vault.seal_many(ref, intake.reporter)
            ),
            category=intake.category,
            subject=intake.subject,
            facts=seal_texts(self.vault, ref, {"facts": intake.facts})["facts"],
            evidence=list(intake.evidence),
            transfer_id=intake.transfer_id,
            occurred_at=meta.occurred_at,
            actor=meta.actor,
            categories=categories,
        )
        if ref is None:
            return [report]
        subject = self.ledger.find(Subject, subject_stream_id(ref)) or Subject(ref=ref)
        subject.list_record(KIND, report.id)
        return [report, subject]

    # -- handling ----------------------------------------------------------------------------

    def accept(self, cmd: AcceptReport, meta: Meta, cond: Conditions) -> CommandResult:
        """Accept the report (受理)."""
        return self._act(cmd.report_id, cond, lambda r: r.accept(meta.occurred_at, meta.actor))

    def decline(self, cmd: DeclineReport, meta: Meta, cond: Conditions) -> CommandResult:
        """Decline it, with the reason (不予受理)."""
        return self._act(
            cmd.report_id, cond, lambda r: r.decline(cmd.reason, meta.occurred_at, meta.actor)
        )

    def assign(self, cmd: AssignInvestigator, meta: Meta, cond: Conditions) -> CommandResult:
        """Give the investigation to a known investigator outside the reported department."""
        found = self.investigators.investigator(cmd.investigator)
        if found is None:
            raise InvalidInput("investigator", "is not staff in the principals file")
        return self._act(
            cmd.report_id,
            cond,
            lambda r: r.assign(found.name, found.department, meta.occurred_at, meta.actor),
        )

    def record_findings(self, cmd: RecordFindings, meta: Meta, cond: Conditions) -> CommandResult:
        """Record the investigation's findings and their evidence."""
        return self._act(
            cmd.report_id,
            cond,
            lambda r: r.record_findings(
                self._sealed(r, "summary", cmd.summary),
                list(cmd.evidence),
                meta.occurred_at,
                meta.actor,
            ),
        )

    def extend(self, cmd: ExtendReport, meta: Meta, cond: Conditions) -> CommandResult:
        """Extend the conclusion period once (the supervisor giving it is the approver)."""
        return self._act(
            cmd.report_id, cond, lambda r: r.extend(cmd.reason, meta.occurred_at, meta.actor)
        )

    def conclude(self, cmd: ConcludeReport, meta: Meta, cond: Conditions) -> CommandResult:
        """Conclude: substantiated, partly substantiated or not substantiated."""
        return self._act(
            cmd.report_id,
            cond,
            lambda r: r.conclude(
                cmd.finding,
                self._sealed(r, "basis", cmd.basis),
                list(cmd.actions),
                meta.occurred_at,
                meta.actor,
            ),
        )

    def notify(self, cmd: NotifyReporter, meta: Meta, cond: Conditions) -> CommandResult:
        """Record the notice to a named reporter and how it was delivered."""
        if cmd.delivered_at - utc_now() > MAX_FUTURE_SKEW:
            raise InvalidInput("delivery.delivered_at", "lies more than 5 minutes in the future")
        return self._act(
            cmd.report_id,
            cond,
            lambda r: r.notify(cmd.method, cmd.delivered_at, meta.occurred_at, meta.actor),
        )

    def close(self, cmd: CloseReport, meta: Meta, cond: Conditions) -> CommandResult:
        """Close the report."""
        return self._act(cmd.report_id, cond, lambda r: r.close(meta.occurred_at, meta.actor))

    def _act(
        self, report_id: UUID, cond: Conditions, step: Callable[[Report], None]
    ) -> CommandResult:
        def attempt() -> Answer:
            report = self.ledger.find(Report, report_id)
            if report is None:
                raise UnknownRecord(f"unknown report {report_id}")
            if cond.if_match is not None and report.version != cond.if_match:
                raise StaleVersion("the report changed since it was read; read it again")
            step(report)
            body: dict[str, Any] = self.opener.reveal(
                report_view(report, utc_now(), self.rules, reporter=None)
            )
            # The body shows the (named) reporter's words: its stored replay is sealed too.
            return Answer([report], False, body, report.reporter_ref)

        return self.runner.run(cond.key, attempt)

    def _sealed(self, report: Report, field: str, text: str) -> Any:
        """A free text of a named reporter's report, sealed under their key (an anonymous
        report has no person to erase: its texts stay plain)."""
        return seal_texts(self.vault, report.reporter_ref, {field: text})[field]
