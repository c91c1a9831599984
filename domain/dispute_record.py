"""What a dispute's events record and how each one changes the dispute.

`DisputeRecord` holds the state, its queries (partners named, amounts owed, windows, facts)
and the private `@event` mutators; `domain.disputes.Dispute` adds the staff commands and
`domain.dispute_steps.DisputeSteps` the partners' steps and the shared guards, which check
the rules before anything is recorded (the split only keeps each module small). Events of
the mutators here have topics `domain.dispute_record:DisputeRecord.<Name>`; only `Opened`
(the created event) is `domain.disputes:Dispute.Opened`. Event payloads hold only strings,
booleans, integers, Decimal, date, datetime, UUID, `Actor` and `Sealed`. Not used alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor
from domain.dispute_rules import DisputeRules
from domain.dispute_values import (
    AGREEMENT,
    AWARD,
    Arbitration,
    Confirmation,
    Enforcement,
    Mediation,
    Payment,
    Session,
    Title,
)
from domain.dispute_windows import DisputeFacts, Window, dispute_facts, dispute_windows
from domain.personal import Sealed


class DisputeRecord(Aggregate):
    """A dispute's state and the events that change it (see `Dispute` for the commands)."""

    @event("Opened")
    def __init__(
        self,
        *,
        dispute_id: UUID,
        party_ref: str,
        party: dict[str, Sealed],
        amount: Decimal,
        matter: str,
        complaint_id: UUID | None,
        claim_id: UUID | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.party_ref = party_ref
        self.party = party
        self.amount = amount
        self.matter = matter
        self.complaint_id = complaint_id
        self.claim_id = claim_id
        self.opened_at = occurred_at
        self.state = "open"
        self.mediations: list[Mediation] = []
        self.confirmations: list[Confirmation] = []
        self.arbitrations: list[Arbitration] = []
        self.title: Title | None = None
        self.payments: list[Payment] = []
        self.enforcement: Enforcement | None = None
        self.ended_at: datetime | None = None
        self.end_reason: str | None = None

    # -- queries -----------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """Where the dispute came from: a complaint, a claim decision, or directly."""
        if self.complaint_id is not None:
            return "complaint"
        return "claim" if self.claim_id is not None else "direct"

    @property
    def mediation(self) -> Mediation | None:
        """The latest mediation round."""
        return self.mediations[-1] if self.mediations else None

    @property
    def confirmation(self) -> Confirmation | None:
        """The latest application for judicial confirmation."""
        return self.confirmations[-1] if self.confirmations else None

    @property
    def arbitration(self) -> Arbitration | None:
        """The latest arbitration request."""
        return self.arbitrations[-1] if self.arbitrations else None

    @property
    def mediator(self) -> str | None:
        """The partner id of the mediator of the latest round."""
        return self.mediation.mediator if self.mediation else None

    @property
    def arbitrator(self) -> str | None:
        """The partner id of the arbitrator of the latest request."""
        return self.arbitration.arbitrator if self.arbitration else None

    @property
    def confirmation_court(self) -> str | None:
        """The court named for the latest judicial confirmation."""
        return self.confirmation.court if self.confirmation else None

    @property
    def enforcement_court(self) -> str | None:
        """The court named for enforcement."""
        return self.enforcement.court if self.enforcement else None

    @property
    def court(self) -> str | None:
        """The court acting now: the enforcement court once named, else the confirmation one."""
        return self.enforcement_court or self.confirmation_court

    @property
    def partners(self) -> frozenset[str]:
        """Every partner the dispute has named for a step, past rounds included."""
        named = {m.mediator for m in self.mediations} | {a.arbitrator for a in self.arbitrations}
        named |= {c.court for c in self.confirmations}
        if self.enforcement is not None:
            named.add(self.enforcement.court)
        return frozenset(named)

    def names_partner(self, partner_id: str) -> bool:
        """True when the dispute names this partner (it may read the dispute)."""
        return partner_id in self.partners

    @property
    def paid(self) -> Decimal:
        """What has been paid towards the current title."""
        t = self.title
        if t is None:
            return Decimal("0.00")
        own = (
            p.amount for p in self.payments if (p.title_kind, p.title_round) == (t.kind, t.round)
        )
        return sum(own, Decimal("0.00"))

    @property
    def outstanding(self) -> Decimal | None:
        """What the current title still requires, or None without a title."""
        return None if self.title is None else self.title.amount - self.paid

    def windows(self, now: datetime, rules: DisputeRules | None = None) -> tuple[Window, ...]:
        """Every window the dispute has opened, with its due date and status at `now`."""
        return dispute_windows(self, now, rules or DisputeRules())

    def facts(self) -> DisputeFacts:
        """The statistics inputs: counts, outcomes, amounts and durations."""
        return dispute_facts(self)

    # -- mutators (they run again at every replay: no checks here) ---------------------------

    def _set_mediation(self, **changes: Any) -> None:
        self.mediations[-1] = replace(self.mediations[-1], **changes)

    def _set_confirmation(self, **changes: Any) -> None:
        self.confirmations[-1] = replace(self.confirmations[-1], **changes)

    def _set_arbitration(self, **changes: Any) -> None:
        self.arbitrations[-1] = replace(self.arbitrations[-1], **changes)

    @event("MediationRequested")
    def _mediation_requested(
        self, round: int, mediator: str, occurred_at: datetime, actor: Actor
    ) -> None:
        m = self.mediation
        if m is not None and m.concluded_at is None and m.superseded_at is None:
            self._set_mediation(superseded_at=occurred_at)
        self.mediations.append(Mediation(round, mediator, requested_at=occurred_at))
        self.state = "mediating"

    @event("MediatorAccepted")
    def _mediator_accepted(self, round: int, occurred_at: datetime, actor: Actor) -> None:
        self._set_mediation(accepted_at=occurred_at)

    @event("MediationExtended")
    def _mediation_extended(
        self, round: int, until: date, consent: bool, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_mediation(extended_until=until)

    @event("MediationSessionHeld")
    def _session_held(
        self, round: int, held_at: datetime, recording_ref: str, occurred_at: datetime, actor: Actor
    ) -> None:
        assert self.mediation is not None
        sessions = (*self.mediation.sessions, Session(held_at, recording_ref))
        self._set_mediation(sessions=sessions)

    @event("AgreementSigned")
    def _agreement_signed(
        self,
        round: int,
        signed_at: datetime,
        amount: Decimal,
        terms: str,
        performance_due: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        title = Title(AGREEMENT, round, amount, signed_at, performance_due, enforceable=False)
        self._set_mediation(agreement=title, terms=terms)
        self.title = title
        self.state = "agreement_signed"

    @event("MediationFailed")
    def _mediation_failed(
        self, round: int, reason: str, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_mediation(failed_at=occurred_at, failure_reason=reason)
        self.state = "open"

    @event("ConfirmationApplied")
    def _confirmation_applied(
        self, round: int, court: str, agreement_round: int, occurred_at: datetime, actor: Actor
    ) -> None:
        self.confirmations.append(Confirmation(round, court, agreement_round, occurred_at))
        self.state = "confirmation_pending"

    @event("ConfirmationAccepted")
    def _confirmation_accepted(
        self, round: int, case_no: str, applied_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_confirmation(case_no=case_no, applied_at=applied_at, accepted_at=occurred_at)

    @event("ConfirmationGranted")
    def _confirmation_granted(
        self, round: int, ruled_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_confirmation(ruled_at=ruled_at, granted=True)
        if self.title is not None and self.title.kind == AGREEMENT:
            self.title = replace(self.title, enforceable=True)
        if self.state == "confirmation_pending":
            self.state = "confirmed"

    @event("ConfirmationRejected")
    def _confirmation_rejected(
        self, round: int, ruled_at: datetime, reason: str, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_confirmation(ruled_at=ruled_at, granted=False, reason=reason)
        if self.state == "confirmation_pending":
            self.title = None
            self.state = "confirmation_rejected"

    @event("ArbitrationRequested")
    def _arbitration_requested(
        self, round: int, arbitrator: str, consent: bool, occurred_at: datetime, actor: Actor
    ) -> None:
        a = self.arbitration
        if a is not None and a.award is None and a.superseded_at is None:
            self._set_arbitration(superseded_at=occurred_at)
        self.arbitrations.append(Arbitration(round, arbitrator, consent, occurred_at))
        self.state = "arbitrating"

    @event("ArbitratorAccepted")
    def _arbitrator_accepted(
        self, round: int, case_no: str, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_arbitration(case_no=case_no, accepted_at=occurred_at)

    @event("HearingHeld")
    def _hearing_held(
        self,
        round: int,
        held_at: datetime,
        recording_ref: str,
        online: bool,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        assert self.arbitration is not None
        hearings = (*self.arbitration.hearings, Session(held_at, recording_ref, online))
        self._set_arbitration(hearings=hearings)

    @event("AwardIssued")
    def _award_issued(
        self,
        round: int,
        issued_at: datetime,
        amount: Decimal,
        decision: str,
        performance_due: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        title = Title(AWARD, round, amount, issued_at, performance_due, enforceable=True)
        self._set_arbitration(award=title, decision=decision)
        self.title = title
        self.state = "awarded"

    @event("Performed")
    def _performed(
        self,
        amount: Decimal,
        remittance_ref: str | None,
        title_kind: str,
        title_round: int,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.payments.append(Payment(amount, occurred_at, title_kind, title_round, remittance_ref))
        if self.outstanding is not None and self.outstanding <= 0:
            self.state = "performed"

    @event("EnforcementRequested")
    def _enforcement_requested(self, court: str, occurred_at: datetime, actor: Actor) -> None:
        self.enforcement = Enforcement(court, requested_at=occurred_at)

    @event("EnforcementApplied")
    def _enforcement_applied(
        self, applied_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        assert self.enforcement is not None
        self.enforcement = replace(self.enforcement, applied_at=applied_at)
        self.state = "enforcement_applied"

    @event("Enforced")
    def _enforced(self, amount: Decimal, occurred_at: datetime, actor: Actor) -> None:
        assert self.enforcement is not None
        self.enforcement = replace(self.enforcement, enforced_at=occurred_at, amount=amount)
        self.state = "enforced"

    @event("Withdrawn")
    def _withdrawn(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        self.state = "withdrawn"
        self.ended_at = occurred_at
        self.end_reason = reason

    @event("Closed")
    def _closed(self, reason: str, from_state: str, occurred_at: datetime, actor: Actor) -> None:
        self.state = "closed"
        self.ended_at = occurred_at
        self.end_reason = reason
