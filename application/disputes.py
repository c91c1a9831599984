"""Dispute resolution (纠纷化解): staff open and steer disputes; mediators, arbitrators and
courts post their steps as partner events, each acting only on the disputes that name it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta, Outcome
from application.ledger import Ledger, NotFound, Reads, utc_now
from application.personal import Opener, Vault, erased_since, mask_plain_texts, seal_texts
from application.routing import HandlerDirectory, StaticDirectory
from application.views import history_entry, json_ready, money, rfc3339, with_proofs
from domain.claims import Claim
from domain.common import InvalidInput, StaleVersion, UnknownRecord
from domain.complaints import Complaint
from domain.dispute_links import DisputeLinks, links_id
from domain.dispute_rules import DisputeRules
from domain.disputes import Dispute
from domain.personal import Subject, subject_stream_id

KIND = "disputes"


@dataclass(frozen=True)
class OpenDispute:
    party: dict[str, str]
    amount: Decimal
    matter: str
    complaint_id: UUID | None = None
    claim_id: UUID | None = None


# -- staff commands (Idempotency-Key and If-Match apply) ---------------------------------


@dataclass(frozen=True)
class RequestMediation:
    dispute_id: UUID
    mediator: str


@dataclass(frozen=True)
class ExtendMediation:
    dispute_id: UUID
    until: date
    consent: bool


@dataclass(frozen=True)
class RequestArbitration:
    dispute_id: UUID
    arbitrator: str
    consent: bool


@dataclass(frozen=True)
class ApplyConfirmation:
    dispute_id: UUID
    court: str


@dataclass(frozen=True)
class RequestEnforcement:
    dispute_id: UUID
    court: str


@dataclass(frozen=True)
class RecordPerformance:
    dispute_id: UUID
    amount: Decimal
    remittance_ref: str | None = None


@dataclass(frozen=True)
class WithdrawDispute:
    dispute_id: UUID
    reason: str


@dataclass(frozen=True)
class CloseDispute:
    dispute_id: UUID
    reason: str


# -- partner steps (mediator, arbitrator, court events) ----------------------------------


@dataclass(frozen=True)
class AcceptMediation:
    dispute_id: UUID


@dataclass(frozen=True)
class HoldSession:
    dispute_id: UUID
    held_at: datetime
    recording_ref: str


@dataclass(frozen=True)
class SignAgreement:
    dispute_id: UUID
    signed_at: datetime
    amount: Decimal
    terms: str
    performance_due: date | None = None


@dataclass(frozen=True)
class FailMediation:
    dispute_id: UUID
    reason: str


@dataclass(frozen=True)
class AcceptArbitration:
    dispute_id: UUID
    case_no: str


@dataclass(frozen=True)
class HoldHearing:
    dispute_id: UUID
    held_at: datetime
    recording_ref: str


@dataclass(frozen=True)
class IssueAward:
    dispute_id: UUID
    issued_at: datetime
    amount: Decimal
    decision: str
    performance_due: date | None = None


@dataclass(frozen=True)
class AcceptConfirmation:
    dispute_id: UUID
    case_no: str
    applied_at: datetime


@dataclass(frozen=True)
class GrantConfirmation:
    dispute_id: UUID
    ruled_at: datetime


@dataclass(frozen=True)
class RejectConfirmation:
    dispute_id: UUID
    ruled_at: datetime
    reason: str


@dataclass(frozen=True)
class ApplyEnforcement:
    dispute_id: UUID
    applied_at: datetime


@dataclass(frozen=True)
class RecordEnforced:
    dispute_id: UUID
    amount: Decimal


Change = Callable[[Dispute], None]


class DisputeDesk:
    """Commands on disputes."""

    def __init__(
        self,
        ledger: Ledger,
        vault: Vault,
        runner: CommandRunner,
        rules: DisputeRules,
        partners: HandlerDirectory | None = None,
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.runner = runner
        self.rules = rules
        self.opener = Opener(vault)
        self.partners = partners or StaticDirectory()

    def _check_partner(self, field: str, partner_id: str) -> None:
        """Staff name only a partner of the right role: a mediator as mediator, and so on
        (`field` is the role too). Anything else would give that partner the dispute."""
        if not self.partners.partner_has_role(partner_id, field):
            raise InvalidInput(field, f"is not the partner id of a {field} principal")

    def open(self, cmd: OpenDispute, meta: Meta, key: CommandKey | None) -> CommandResult:
        """Open a dispute (from a complaint, a claim, or directly), linked both ways."""

        def attempt() -> Answer:
            reads = Reads(self.ledger)
            ref = self.vault.ref(cmd.party.get("id", ""))
            links = []
            if cmd.complaint_id is not None:
                reads.prefetch(cmd.complaint_id, links_id("complaint", str(cmd.complaint_id)))
                if reads.get(Complaint, cmd.complaint_id) is None:
                    raise UnknownRecord(f"unknown complaint {cmd.complaint_id}")
                links.append(self._links("complaint", str(cmd.complaint_id), reads))
            if cmd.claim_id is not None:
                reads.prefetch(cmd.claim_id, links_id("claim", str(cmd.claim_id)))
                if reads.get(Claim, cmd.claim_id) is None:
                    raise UnknownRecord(f"unknown claim {cmd.claim_id}")
                links.append(self._links("claim", str(cmd.claim_id), reads))
            dispute = Dispute.open(
                dispute_id=uuid.uuid4(),
                party_ref=ref,
                party={k: self.vault.seal(ref, v) for k, v in cmd.party.items()},
                amount=cmd.amount,
                matter=seal_texts(self.vault, ref, {"matter": cmd.matter})["matter"],
                complaint_id=cmd.complaint_id,
                claim_id=cmd.claim_id,
                occurred_at=meta.occurred_at,
                actor=meta.actor,
            )
            for link in links:
                link.link(dispute.id)
            subject = reads.get(Subject, subject_stream_id(ref)) or Subject(ref=ref)
            subject.list_record(KIND, dispute.id)
            view = dispute_view(dispute, utc_now(), self.rules, self.opener)
            return Answer([dispute, *links, subject], True, view, ref)

        return self.runner.run(key, attempt)

    def _links(self, kind: str, key: str, reads: Reads | None = None) -> DisputeLinks:
        found = (
            reads.get(DisputeLinks, links_id(kind, key))
            if reads
            else self.ledger.find(DisputeLinks, links_id(kind, key))
        )
        return found or DisputeLinks(kind=kind, key=key)

    # -- staff -------------------------------------------------------------------------------

    def request_mediation(
        self, cmd: RequestMediation, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Ask a mediator to mediate; the dispute is listed under the mediator."""
        self._check_partner("mediator", cmd.mediator)

        def change(d: Dispute) -> None:
            d.request_mediation(cmd.mediator, meta.occurred_at, meta.actor)

        return self._staff(cmd.dispute_id, change, key, if_match, names=cmd.mediator)

    def extend_mediation(
        self, cmd: ExtendMediation, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Extend the mediation period with the parties' consent."""

        def change(d: Dispute) -> None:
            d.extend_mediation(
                cmd.until, cmd.consent, meta.occurred_at, meta.actor, rules=self.rules
            )

        return self._staff(cmd.dispute_id, change, key, if_match)

    def request_arbitration(
        self, cmd: RequestArbitration, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Refer the dispute to an arbitrator, listed under it."""
        self._check_partner("arbitrator", cmd.arbitrator)

        def change(d: Dispute) -> None:
            d.request_arbitration(cmd.arbitrator, cmd.consent, meta.occurred_at, meta.actor)

        return self._staff(cmd.dispute_id, change, key, if_match, names=cmd.arbitrator)

    def apply_confirmation(
        self, cmd: ApplyConfirmation, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Apply to a court to confirm the agreement, listed under the court."""
        self._check_partner("court", cmd.court)

        def change(d: Dispute) -> None:
            d.apply_confirmation(cmd.court, meta.occurred_at, meta.actor, rules=self.rules)

        return self._staff(cmd.dispute_id, change, key, if_match, names=cmd.court)

    def request_enforcement(
        self, cmd: RequestEnforcement, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Name the court that enforces the title, listed under the court."""
        self._check_partner("court", cmd.court)

        def change(d: Dispute) -> None:
            d.request_enforcement(cmd.court, meta.occurred_at, meta.actor, rules=self.rules)

        return self._staff(cmd.dispute_id, change, key, if_match, names=cmd.court)

    def record_performance(
        self, cmd: RecordPerformance, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Record a payment towards the agreement or award."""

        def change(d: Dispute) -> None:
            d.record_performance(
                cmd.amount, meta.occurred_at, meta.actor, remittance_ref=cmd.remittance_ref
            )

        return self._staff(cmd.dispute_id, change, key, if_match)

    def withdraw(
        self, cmd: WithdrawDispute, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """The consumer withdraws the dispute."""

        def change(d: Dispute) -> None:
            reason = seal_texts(self.vault, d.party_ref, {"reason": cmd.reason})["reason"]
            d.withdraw(reason, meta.occurred_at, meta.actor)

        return self._staff(cmd.dispute_id, change, key, if_match)

    def close(
        self, cmd: CloseDispute, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        """Close the dispute with a reason."""

        def change(d: Dispute) -> None:
            d.close(cmd.reason, meta.occurred_at, meta.actor)

        return self._staff(cmd.dispute_id, change, key, if_match)

    def _staff(
        self,
        dispute_id: UUID,
        change: Change,
        key: CommandKey | None,
        if_match: int | None,
        names: str | None = None,
    ) -> CommandResult:
        """Run a staff command; naming a partner lists the dispute under that partner."""

        def attempt() -> Answer:
            dispute = self.ledger.require(Dispute, dispute_id, f"dispute {dispute_id}")
            if if_match is not None and dispute.version != if_match:
                raise StaleVersion("the dispute changed since it was read; read it again")
            change(dispute)
            changed: list[Aggregate] = [dispute]
            if names is not None:
                partner = self._links("partner", names)
                partner.link(dispute.id)
                changed.append(partner)
            view = dispute_view(dispute, utc_now(), self.rules, self.opener)
            return Answer(changed, False, view, dispute.party_ref)

        return self.runner.run(key, attempt)

    # -- partners: mediator ------------------------------------------------------------------

    def accept_mediation(self, cmd: AcceptMediation, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.mediator_accept(meta.occurred_at, meta.actor, rules=self.rules)
        return Outcome(KIND, d, [d])

    def hold_session(self, cmd: HoldSession, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.hold_session(
            cmd.held_at, cmd.recording_ref, meta.occurred_at, meta.actor, rules=self.rules
        )
        return Outcome(KIND, d, [d])

    def sign_agreement(self, cmd: SignAgreement, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.sign_agreement(
            cmd.signed_at,
            cmd.amount,
            seal_texts(self.vault, d.party_ref, {"terms": cmd.terms})["terms"],
            meta.occurred_at,
            meta.actor,
            performance_due=cmd.performance_due,
            rules=self.rules,
        )
        return Outcome(KIND, d, [d])

    def fail_mediation(self, cmd: FailMediation, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.fail_mediation(cmd.reason, meta.occurred_at, meta.actor)
        return Outcome(KIND, d, [d])

    # -- partners: arbitrator ----------------------------------------------------------------

    def accept_arbitration(self, cmd: AcceptArbitration, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.arbitrator_accept(cmd.case_no, meta.occurred_at, meta.actor)
        return Outcome(KIND, d, [d])

    def hold_hearing(self, cmd: HoldHearing, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.hold_hearing(cmd.held_at, cmd.recording_ref, meta.occurred_at, meta.actor)
        return Outcome(KIND, d, [d])

    def issue_award(self, cmd: IssueAward, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.issue_award(
            cmd.issued_at,
            cmd.amount,
            seal_texts(self.vault, d.party_ref, {"decision": cmd.decision})["decision"],
            meta.occurred_at,
            meta.actor,
            performance_due=cmd.performance_due,
            rules=self.rules,
        )
        return Outcome(KIND, d, [d])

    # -- partners: court ---------------------------------------------------------------------

    def accept_confirmation(self, cmd: AcceptConfirmation, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.court_accept_confirmation(
            cmd.case_no, cmd.applied_at, meta.occurred_at, meta.actor, rules=self.rules
        )
        return Outcome(KIND, d, [d])

    def grant_confirmation(self, cmd: GrantConfirmation, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.grant_confirmation(cmd.ruled_at, meta.occurred_at, meta.actor)
        return Outcome(KIND, d, [d])

    def reject_confirmation(self, cmd: RejectConfirmation, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.reject_confirmation(cmd.ruled_at, cmd.reason, meta.occurred_at, meta.actor)
        return Outcome(KIND, d, [d])

    def apply_enforcement(self, cmd: ApplyEnforcement, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.apply_enforcement(cmd.applied_at, meta.occurred_at, meta.actor, rules=self.rules)
        return Outcome(KIND, d, [d])

    def record_enforced(self, cmd: RecordEnforced, meta: Meta) -> Outcome:
        d = self._naming_partner(cmd.dispute_id, meta)
        d.record_enforced(cmd.amount, meta.occurred_at, meta.actor)
        return Outcome(KIND, d, [d])

    def _naming_partner(self, dispute_id: UUID, meta: Meta) -> Dispute:
        """The dispute a partner posts a step on: one that does not name it is unknown."""
        dispute = self.ledger.find(Dispute, dispute_id)
        partner = meta.actor.partner_id
        if dispute is None or partner is None or not dispute.names_partner(partner):
            raise UnknownRecord(f"unknown dispute {dispute_id}")
        return dispute


class DisputeQueries:
    """Reads of disputes; a partner sees only the disputes that name it."""

    def __init__(
        self, ledger: Ledger, vault: Vault, rules: DisputeRules, proofs: Any = None
    ) -> None:
        self.ledger = ledger
        self.rules = rules
        self.opener = Opener(vault)
        self.proofs = proofs

    def _visible(self, dispute_id: UUID, partner: str | None) -> Dispute:
        dispute = self.ledger.find(Dispute, dispute_id)
        if dispute is None or (partner is not None and not dispute.names_partner(partner)):
            raise NotFound("no such dispute")
        return dispute

    def view(
        self,
        dispute_id: UUID,
        partner: str | None,
        now: datetime,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        dispute = self.ledger.then(
            self._visible(dispute_id, partner), as_of_version, as_of, "dispute"
        )
        view = dispute_view(dispute, as_of or now, self.rules, self.opener)
        shown: dict[str, Any] = self._erased(dispute, view)
        return shown

    def _erased(self, dispute: Dispute, read: Any) -> Any:
        """A read with the older plain free texts of an erased party shown as erased."""
        if erased_since(self.ledger, dispute.party_ref, dispute.created_on, dispute.matter):
            return mask_plain_texts(read)
        return read

    def history(
        self, dispute_id: UUID, partner: str | None, proofs: bool = False
    ) -> list[dict[str, Any]]:
        dispute = self._visible(dispute_id, partner)
        positions = self.ledger.positions.of(dispute_id)
        entries = [
            history_entry(e, positions.get(e.originator_version))
            for e in self.ledger.stream(dispute_id)
        ]
        revealed: list[dict[str, Any]] = self._erased(dispute, self.opener.reveal(entries))
        return with_proofs(revealed, self.proofs) if proofs else revealed

    def linked(self, kind: str, key: str) -> list[str]:
        """The disputes of a complaint, a claim or a partner."""
        links = self.ledger.find(DisputeLinks, links_id(kind, key))
        return [str(d) for d in links.disputes] if links else []

    def assigned(self, partner: str, now: datetime) -> list[dict[str, Any]]:
        ids = [UUID(d) for d in self.linked("partner", partner)]
        found = self.ledger.find_many(ids)
        lines = [
            self._erased(d, summary(d, now, self.rules))
            for d in (found.get(i) for i in ids)
            if isinstance(d, Dispute) and d.names_partner(partner)
        ]
        opened: list[dict[str, Any]] = self.opener.reveal(lines)
        return opened


def summary(d: Dispute, now: datetime, rules: DisputeRules) -> dict[str, Any]:
    """A list line without the party (its matter, sealed, is left for the opener)."""
    return {
        "id": str(d.id),
        "state": d.state,
        "matter": d.matter,
        "open_windows": [w.name for w in d.windows(now, rules) if w.status == "open"],
    }


def dispute_view(d: Dispute, now: datetime, rules: DisputeRules, opener: Opener) -> dict[str, Any]:
    """The dispute with its state and every window: due date, instant, met or missed; the
    party and the free texts (matter, terms, award) opened in one key look-up."""
    view = {
        "id": str(d.id),
        "version": d.version,
        "state": d.state,
        "origin": d.origin,
        "party": d.party,
        "amount": money(d.amount),
        "matter": d.matter,
        "complaint_id": json_ready(d.complaint_id),
        "claim_id": json_ready(d.claim_id),
        "mediator": d.mediator,
        "arbitrator": d.arbitrator,
        "confirmation_court": d.confirmation_court,
        "enforcement_court": d.enforcement_court,
        "mediations": d.mediations,
        "arbitrations": d.arbitrations,
        "confirmations": json_ready(d.confirmations),
        "title": json_ready(d.title),
        "paid": money(d.paid),
        "outstanding": None if d.outstanding is None else money(d.outstanding),
        "enforcement": json_ready(d.enforcement),
        "windows": [
            {
                "name": w.name,
                "round": w.round,
                "starts_at": rfc3339(w.starts_at),
                "due_date": w.due_date.isoformat(),
                "due_at": rfc3339(w.due_at),
                "status": w.status,
                "met": {"met": True, "missed": False}.get(w.status),
                "done_at": rfc3339(w.done_at) if w.done_at else None,
            }
            for w in d.windows(now, rules)
        ],
        "ended_at": json_ready(d.ended_at),
        "end_reason": d.end_reason,
        "evaluated_at": rfc3339(now),
        "created_at": rfc3339(d.created_on),
        "updated_at": rfc3339(d.modified_on),
    }
    opened: dict[str, Any] = opener.reveal(view)
    return opened
