"""Complaint handling (投诉处理): intake from staff and the 12378 platform, duplicate merging,
routing, and every command of the lifecycle, each saved with what it moves."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.complaint_commands import (
    AddNewFacts,
    Assign,
    BulkReassign,
    CaseCommand,
    Close,
    Contact,
    Decide,
    DecideReview,
    Decline,
    Escalate,
    Extend,
    Intake,
    Notify,
    Pause,
    Reassign,
    Recuse,
    RequestReview,
    Resume,
    Sent,
    TransferComplaint,
    Urge,
    UrgeComplaint,
    Withdraw,
)
from application.complaint_views import complaint_view
from application.gateway import Meta, Outcome
from application.ledger import Ledger, Reads, utc_now
from application.personal import Opener, Vault, seal_texts
from application.routing import HandlerDirectory, Workload, choose, workload_id
from domain.claims import Claim
from domain.codes import CodeList, all_codes, code_list_id
from domain.common import (
    Actor,
    DomainError,
    InvalidInput,
    StaleVersion,
    UnknownRecord,
    stream_id,
)
from domain.complaint_clock import ComplaintRules
from domain.complaint_index import MatterIndex, matter_index_id
from domain.complaints import Complaint, matter_keys
from domain.personal import Subject, subject_stream_id

KIND = "complaints"
SYSTEM = Actor(name="routing", role="system")
Result = CommandResult


class DuplicateTransfer(DomainError):
    """A 12378 transfer id is received once."""

    rule = "duplicate_transfer"


def transfer_case_id(transfer_id: str) -> UUID:
    """A transfer's case id derives from its transfer id (a re-sent transfer is the same case)."""
    return stream_id("transfer", transfer_id)


class ComplaintDesk:
    """The complaint department's commands."""

    def __init__(
        self,
        ledger: Ledger,
        vault: Vault,
        directory: HandlerDirectory,
        runner: CommandRunner,
        rules: ComplaintRules,
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.directory = directory
        self.runner = runner
        self.rules = rules
        self.opener = Opener(vault)

    # -- intake ------------------------------------------------------------------------------

    def receive(self, intake: Intake, meta: Meta, key: CommandKey | None) -> CommandResult:
        """A complaint from a staff channel (created): its id, or the master's and merged."""

        def attempt() -> Answer:
            changed, subject, merged = self._intake(intake, uuid.uuid4(), meta)
            return Answer(changed, True, self._intake_body(subject, merged))

        return self.runner.run(key, attempt)

    def receive_transfer(self, cmd: TransferComplaint, meta: Meta) -> Outcome:
        """A 12378 transfer (posted by the regulator's platform)."""
        assert cmd.intake.transfer_id is not None
        case_id = transfer_case_id(cmd.intake.transfer_id)
        if self.ledger.find(Complaint, case_id) is not None:
            raise DuplicateTransfer(f"transfer {cmd.intake.transfer_id!r} was already received")
        changed, subject, merged = self._intake(cmd.intake, case_id, meta)
        return Outcome(KIND, subject, changed, self._intake_body(subject, merged))

    def _intake_body(self, subject: Complaint, merged: Complaint | None) -> dict[str, Any]:
        body = {"id": str(subject.id), "merged": merged is not None}
        if merged is not None:
            body["duplicate_id"] = str(merged.id)
        clock = subject.clock(utc_now(), self.rules)
        body.update(handler=subject.handler, due_date=clock.due_date.isoformat())
        return body

    def _intake(
        self, intake: Intake, case_id: UUID, meta: Meta
    ) -> tuple[list[Aggregate], Complaint, Complaint | None]:
        causes = all_codes("causes", self.ledger.find(CodeList, code_list_id("causes")))
        if intake.cause not in causes:
            raise InvalidInput("cause", f"unknown cause code; known: {', '.join(sorted(causes))}")
        ref = self.vault.ref(intake.complainant.get("id", ""))
        keys = matter_keys(
            ref, intake.cause, intake.policy_id, intake.claim_id, self._claim_policy(intake)
        )
        reads = Reads(self.ledger)
        reads.prefetch(*(matter_index_id(k) for k in keys), subject_stream_id(ref))
        indexes = [reads.get(MatterIndex, matter_index_id(k)) or MatterIndex(key=k) for k in keys]
        texts = seal_texts(
            self.vault,
            ref,
            {"matter": intake.matter, "request": intake.request, "facts": intake.facts},
        )
        complaint = Complaint.receive(
            complaint_id=case_id,
            channel=intake.channel,
            complainant_ref=ref,
            complainant=self.vault.seal_many(ref, intake.complainant),
            agent=(
                {k: self.vault.seal(ref, v) for k, v in intake.agent.items()}
                if intake.agent
                else None
            ),
            matter=texts["matter"],
            request=texts["request"],
            facts=texts["facts"],
            cause=intake.cause,
            line=intake.line,
            region=intake.region,
            policy_id=intake.policy_id,
            claim_id=intake.claim_id,
            transfer_id=intake.transfer_id,
            new_facts=intake.new_facts,
            evidence=list(intake.evidence),
            occurred_at=meta.occurred_at,
            actor=meta.actor,
        )
        subject = reads.get(Subject, subject_stream_id(ref)) or Subject(ref=ref)
        subject.list_record(KIND, complaint.id)
        master = self._open_master(indexes)
        if master is not None:
            complaint.mark_merged(master.id, meta.occurred_at, meta.actor)
            master.add_duplicate(complaint.id, intake.new_facts, meta.occurred_at, meta.actor)
            return [complaint, master, subject], master, complaint
        for index in indexes:
            index.open(complaint.id)
        moved = self._route(complaint, meta, excluded=())
        return [complaint, *indexes, subject, *moved], complaint, None

    def _open_master(self, indexes: list[MatterIndex]) -> Complaint | None:
        for index in indexes:
            if index.open_case is not None:
                master = self.ledger.find(Complaint, index.open_case)
                if master is not None and master.is_open:
                    return master
        return None

    def _claim_policy(self, intake: Intake) -> str | None:
        if intake.claim_id is None:
            return None
        try:
            claim = self.ledger.find(Claim, UUID(intake.claim_id))
        except ValueError:
            return None
        if claim is None:
            return None
        if claim.settlement is not None and claim.settlement.versions.policy_id:
            return claim.settlement.versions.policy_id
        return claim.policy_id

    # -- routing -----------------------------------------------------------------------------

    def _route(
        self, complaint: Complaint, meta: Meta, excluded: tuple[str, ...]
    ) -> list[Aggregate]:
        """Assign to the matching handler with the least open load (none: stays unassigned)."""
        handlers = self.directory.handlers()
        loads = self.ledger.find_many(workload_id(h.name) for h in handlers)
        chosen = choose(
            handlers,
            {
                h.name: loads[workload_id(h.name)].open
                for h in handlers
                if workload_id(h.name) in loads
            },
            complaint.cause,
            complaint.line,
            complaint.region,
            excluded=(*excluded, *complaint.handlers_recused),
        )
        if chosen is None:
            return []
        complaint.assign(chosen.name, meta.occurred_at, SYSTEM)
        return [self._load(chosen.name, +1, complaint.id, loads.get(workload_id(chosen.name)))]

    def _load(self, handler: str, delta: int, case: UUID, known: Any = None) -> Workload:
        workload = known or self.ledger.find(Workload, workload_id(handler)) or Workload(handler)
        workload.change(delta, case)
        return workload

    # -- lifecycle commands (one method each; the answer is the case as it then stands) -------

    def assign(self, cmd: Assign, sent: Sent) -> Result:
        """Give the case to a handler."""
        return self._on_case(
            cmd, sent, lambda c, at, by: c.assign(cmd.handler, at, by, cmd.evidence)
        )

    def reassign(self, cmd: Reassign, sent: Sent) -> Result:
        """Move the case to another handler (supervisor; the reason defaults to "reassigned")."""
        reason = cmd.reason or "reassigned"
        return self._on_case(
            cmd,
            sent,
            lambda c, at, by: c.reassign(cmd.handler, reason, at, by, evidence=cmd.evidence),
        )

    def recuse(self, cmd: Recuse, sent: Sent) -> Result:
        """The case's handler withdraws (回避); the case is routed to another handler."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            if c.handler is None:
                raise InvalidInput("handler", "the case has no handler to recuse")
            c.recuse(c.handler, cmd.reason, at, by, cmd.evidence)

        return self._on_case(cmd, sent, step, reroute=True)

    def contact(self, cmd: Contact, sent: Sent) -> Result:
        """The handler reached the complainant."""
        return self._on_case(cmd, sent, lambda c, at, by: c.contact(at, by, cmd.evidence))

    def urge(self, cmd: Urge, sent: Sent) -> Result:
        """The complainant (or the regulator, through staff) urges the case (催办)."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            note = self._sealed(c, "note", cmd.note)
            c.urge(cmd.by, note, at, by, cmd.evidence)

        return self._on_case(cmd, sent, step)

    def escalate(self, cmd: Escalate, sent: Sent) -> Result:
        """A supervisor escalates the case."""
        return self._on_case(
            cmd, sent, lambda c, at, by: c.escalate(cmd.reason, at, by, evidence=cmd.evidence)
        )

    def extend(self, cmd: Extend, sent: Sent) -> Result:
        """A supervisor extends the decision period to its next level (the desk's rules)."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            c.extend(cmd.reason, at, by, rules=self.rules, evidence=cmd.evidence)

        return self._on_case(cmd, sent, step)

    def pause(self, cmd: Pause, sent: Sent) -> Result:
        """Stop the clock for an external appraisal."""
        return self._on_case(cmd, sent, lambda c, at, by: c.pause(cmd.reason, at, by, cmd.evidence))

    def resume(self, cmd: Resume, sent: Sent) -> Result:
        """Restart the paused clock."""
        return self._on_case(cmd, sent, lambda c, at, by: c.resume(at, by, cmd.evidence))

    def add_new_facts(self, cmd: AddNewFacts, sent: Sent) -> Result:
        """New facts or reasons: the clock restarts from their receipt."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            c.add_new_facts(self._sealed(c, "summary", cmd.summary), at, by, cmd.evidence)

        return self._on_case(cmd, sent, step)

    def decide(self, cmd: Decide, sent: Sent) -> Result:
        """Record the decision, with the root causes and department it is traced to."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            texts = seal_texts(
                self.vault, c.complainant_ref, {"facts": cmd.facts, "basis": cmd.basis}
            )
            c.decide(
                cmd.outcome,
                cmd.redress,
                texts["facts"],
                texts["basis"],
                at,
                by,
                cmd.root_causes,
                cmd.responsible_department,
                cmd.evidence,
            )

        return self._on_case(cmd, sent, step)

    def notify(self, cmd: Notify, sent: Sent) -> Result:
        """Send the notice of the decision."""
        return self._on_case(
            cmd,
            sent,
            lambda c, at, by: c.notify(cmd.method, cmd.delivered_at, at, by, evidence=cmd.evidence),
        )

    def withdraw(self, cmd: Withdraw, sent: Sent) -> Result:
        """The complainant withdraws; the case leaves its handler's load and its matter."""
        return self._on_case(
            cmd, sent, lambda c, at, by: c.withdraw(at, by, evidence=cmd.evidence), ends=True
        )

    def decline(self, cmd: Decline, sent: Sent) -> Result:
        """Decline the case; it leaves its handler's load and its matter."""
        return self._on_case(
            cmd, sent, lambda c, at, by: c.decline(cmd.reason, at, by, cmd.evidence), ends=True
        )

    def close(self, cmd: Close, sent: Sent) -> Result:
        """Close a notified case; it leaves its handler's load and its matter."""
        return self._on_case(cmd, sent, lambda c, at, by: c.close(at, by, cmd.evidence), ends=True)

    def request_review(self, cmd: RequestReview, sent: Sent) -> Result:
        """Ask for a review (核查) within the window after the notice (the desk's rules)."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            reason = self._sealed(c, "reason", cmd.reason)
            c.request_review(reason, at, by, rules=self.rules, evidence=cmd.evidence)

        return self._on_case(cmd, sent, step)

    def decide_review(self, cmd: DecideReview, sent: Sent) -> Result:
        """Record the review's outcome and basis."""

        def step(c: Complaint, at: datetime, by: Actor) -> None:
            basis = self._sealed(c, "basis", cmd.basis)
            c.decide_review(cmd.outcome, basis, at, by, cmd.evidence)

        return self._on_case(cmd, sent, step)

    def _sealed(self, complaint: Complaint, field: str, text: str | None) -> Any:
        """A free text of the complainant's case, sealed under their key (None stays None)."""
        return seal_texts(self.vault, complaint.complainant_ref, {field: text})[field]

    def _on_case(
        self,
        cmd: CaseCommand,
        sent: Sent,
        step: Callable[[Complaint, datetime, Actor], None],
        *,
        reroute: bool = False,
        ends: bool = False,
    ) -> Result:
        """Run `step` on the case (when and by whom the command was sent) and save the case
        with the handlers' loads and the matter indexes it moves: `reroute` routes it again
        (after a recusal), `ends` takes it out of its handler's load and its matter."""
        meta = sent.meta

        def attempt() -> Answer:
            case = cmd.complaint_id
            complaint = self.ledger.require(Complaint, case, f"complaint {case}")
            if sent.if_match is not None and complaint.version != sent.if_match:
                raise StaleVersion("the complaint changed since it was read; read it again")
            before = complaint.handler
            step(complaint, meta.occurred_at, meta.actor)
            moved: list[Aggregate] = []
            if complaint.handler != before:
                if before is not None:
                    moved.append(self._load(before, -1, complaint.id))
                if complaint.handler is not None:
                    moved.append(self._load(complaint.handler, +1, complaint.id))
            if reroute:
                moved += self._route(complaint, meta, excluded=(before or "",))
            if ends:
                if complaint.handler is not None:
                    moved.append(self._load(complaint.handler, -1, complaint.id))
                moved += self._end_matter(complaint)
            view = complaint_view(complaint, utc_now(), self.rules, self.opener)
            return Answer([complaint, *moved], False, view, complaint.complainant_ref)

        return self.runner.run(sent.key, attempt)

    def _end_matter(self, complaint: Complaint) -> list[Aggregate]:
        keys = matter_keys(
            complaint.complainant_ref,
            complaint.cause,
            complaint.policy_id,
            complaint.claim_id,
            None,
        )
        found = self.ledger.find_many(matter_index_id(k) for k in keys)
        ended: list[Aggregate] = []
        for index in found.values():
            if isinstance(index, MatterIndex) and index.open_case == complaint.id:
                index.end(complaint.id)
                ended.append(index)
        return ended

    def bulk_reassign(self, cmd: BulkReassign, meta: Meta, key: CommandKey | None) -> Result:
        """Reassign several cases at once (supervisor); all or none."""

        def attempt() -> Answer:
            changed: list[Aggregate] = []
            loads: dict[str, Workload] = {}
            handler = cmd.handler
            for complaint_id in cmd.ids:
                complaint = self.ledger.require(
                    Complaint, complaint_id, f"complaint {complaint_id}"
                )
                before = complaint.handler
                if before == handler:
                    continue
                _known_handler(self.directory, handler)
                complaint.reassign(handler, "bulk reassignment", meta.occurred_at, meta.actor)
                changed.append(complaint)
                for name, delta in ((before, -1), (handler, +1)):
                    if name is not None:
                        loads[name] = self._load(name, delta, complaint.id, loads.get(name))
            body = {"reassigned": [str(c.id) for c in changed], "handler": handler}
            return Answer([*changed, *loads.values()], False, body)

        return self.runner.run(key, attempt)

    def urge_from_regulator(self, cmd: UrgeComplaint, meta: Meta) -> Outcome:
        """The 12378 platform urges a case (催办)."""
        case_id = cmd.complaint_id or transfer_case_id(cmd.transfer_id or "")
        complaint = self.ledger.find(Complaint, case_id)
        if complaint is None or not _transferred_by(complaint, meta.actor.partner_id):
            raise UnknownRecord("unknown complaint")  # the platform sees only its transfers
        if complaint.merged_into is not None:
            master = self.ledger.find(Complaint, complaint.merged_into)
            complaint = master or complaint
        note = self._sealed(complaint, "note", cmd.note)
        complaint.urge("regulator", note, meta.occurred_at, meta.actor)
        return Outcome(KIND, complaint, [complaint])


def _transferred_by(complaint: Complaint, platform: str | None) -> bool:
    """True when this 12378 platform partner transferred the case."""
    return (
        platform is not None
        and complaint.transfer_id is not None
        and complaint.transferred_by == platform
    )


def _known_handler(directory: HandlerDirectory, name: str) -> None:
    if name not in {h.name for h in directory.handlers()}:
        raise InvalidInput("handler", "is not a handler in the principals file")
