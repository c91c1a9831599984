"""The Dispute aggregate (纠纷化解): pre-litigation mediation (诉前调解), judicial confirmation
(司法确认), online arbitration (线上仲裁), performance and enforcement (强制执行).

One class: its state, its queries, and for each command the command (which checks the rule
first) followed by the `@event` method that records it (domain.md section 3). A refusal
raises a `DisputeError` and records nothing. Windows are checked on the business dates
partners send (`occurred_at` of an acceptance, `signed_at`, `applied_at`...), never on
recording time, with the `DisputeRules` the caller passes. The refusals, value objects and
input checks are in `domain.dispute_values`, the window arithmetic in `domain.dispute_rules`,
the windows and statistics inputs derived at a read in `domain.dispute_windows`.

Event payloads hold only strings, booleans, integers, Decimal, date, datetime, UUID, `Actor`
and `Sealed`. Events stored before this was one class keep their topics (`FORMER_TOPIC`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.common import Actor, InvalidInput
from domain.dispute_rules import (
    DisputeRules,
    check_enforcement_window,
    check_within_mediation,
    confirmation_application_due,
    due_to_perform,
    mediation_period_due,
    mediator_acceptance_due,
)
from domain.dispute_values import (
    AGREEMENT,
    AWARD,
    ENDED,
    RESOLVED,
    STATES,
    AlreadyAccepted,
    AlreadyPerformed,
    Arbitration,
    AwardAlreadyIssued,
    Confirmation,
    ConfirmationWindowClosed,
    ConsentRequired,
    Enforcement,
    InvalidTransition,
    Mediation,
    MediationPeriodExpired,
    MediatorAcceptanceLate,
    NotAccepted,
    NotEnforceable,
    Payment,
    PerformanceExceedsAmount,
    Session,
    StepNotRequested,
    Title,
    accepted,
    check_aware,
    check_money,
    check_not_before,
    check_partner,
    check_party,
    check_state,
    check_text,
)
from domain.dispute_windows import DisputeFacts, Window, dispute_facts, dispute_windows
from domain.personal import Sealed, Text, check_free_text

ENFORCEABLE = ("confirmed", "awarded")
# Until issue 14 the events other than `Opened` were recorded by mutators of `DisputeRecord`
# in `domain.dispute_record` (removed), and stored events keep those topics.
FORMER_TOPIC = "domain.dispute_record:DisputeRecord"
PERFORMABLE = ("agreement_signed", "confirmation_pending", *ENFORCEABLE)


class Dispute(Aggregate):
    """A consumer dispute from its opening through mediation or arbitration to performance."""

    # The topics of events stored before issue 14 (see `FORMER_TOPIC`): readers that select
    # events by topic (`application.ledger.topics_of`) select these too.
    FORMER_TOPICS: ClassVar[tuple[str, ...]] = tuple(
        f"{FORMER_TOPIC}.{name}"
        for name in (
            "MediationRequested",
            "MediatorAccepted",
            "MediationExtended",
            "MediationSessionHeld",
            "AgreementSigned",
            "MediationFailed",
            "ConfirmationApplied",
            "ConfirmationAccepted",
            "ConfirmationGranted",
            "ConfirmationRejected",
            "ArbitrationRequested",
            "ArbitratorAccepted",
            "HearingHeld",
            "AwardIssued",
            "Performed",
            "EnforcementRequested",
            "EnforcementApplied",
            "Enforced",
            "Withdrawn",
            "Closed",
        )
    )

    @staticmethod
    def create_id(dispute_id: UUID) -> UUID:
        """The application chooses the dispute's id; it is the stream id."""
        return dispute_id

    @classmethod
    def open(
        cls,
        *,
        dispute_id: UUID,
        party_ref: str,
        party: dict[str, Sealed],
        amount: Decimal,
        matter: Text,
        occurred_at: datetime,
        actor: Actor,
        complaint_id: UUID | None = None,
        claim_id: UUID | None = None,
    ) -> Dispute:
        """Check and open a dispute ("Opened"), from a complaint, a claim or directly."""
        check_party(party)
        check_text("party_ref", party_ref)
        check_free_text("matter", matter)
        check_aware("occurred_at", occurred_at)
        return cls(
            dispute_id=dispute_id,
            party_ref=party_ref,
            party=party,
            amount=check_money("amount", amount),
            matter=matter,
            complaint_id=complaint_id,
            claim_id=claim_id,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Opened")
    def __init__(
        self,
        *,
        dispute_id: UUID,
        party_ref: str,
        party: dict[str, Sealed],
        amount: Decimal,
        matter: Text,
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
        self.end_reason: Text | None = None

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

    def windows(self, now: datetime, rules: DisputeRules) -> tuple[Window, ...]:
        """Every window the dispute has opened, with its due date and status at `now`."""
        return dispute_windows(self, now, rules)

    def facts(self) -> DisputeFacts:
        """The statistics inputs: counts, outcomes, amounts and durations."""
        return dispute_facts(self)

    # -- staff: mediation --------------------------------------------------------------------

    def request_mediation(self, mediator: str, occurred_at: datetime, actor: Actor) -> None:
        """Ask a mediator partner to mediate; also names another before the first accepts."""
        self._require(
            "request mediation for", ("open", "confirmation_rejected", "mediating"), occurred_at
        )
        check_text("mediator", mediator)
        m = self.mediation
        if self.state == "mediating" and m is not None:
            if m.accepted_at is not None:
                raise InvalidTransition("a mediation is under way")
            check_not_before("occurred_at", occurred_at, m.requested_at, "the earlier request")
        self._mediation_requested(len(self.mediations) + 1, mediator, occurred_at, actor)

    @event("MediationRequested")
    def _mediation_requested(
        self, round: int, mediator: str, occurred_at: datetime, actor: Actor
    ) -> None:
        m = self.mediation
        if m is not None and m.concluded_at is None and m.superseded_at is None:
            self._set_mediation(superseded_at=occurred_at)
        self.mediations.append(Mediation(round, mediator, requested_at=occurred_at))
        self.state = "mediating"

    def extend_mediation(
        self,
        until: date,
        consent: bool,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: DisputeRules,
    ) -> None:
        """Extend the pre-filing mediation period to `until` with the parties' consent."""
        self._require("extend the mediation of", ("mediating",), occurred_at)
        m = accepted(self.mediation)
        if consent is not True:
            raise ConsentRequired("an extension needs the parties' consent")
        due_date, due_at = mediation_period_due(
            m.accepted_at or occurred_at, m.extended_until, rules
        )
        if occurred_at > due_at:
            raise MediationPeriodExpired(f"the mediation period ended with {due_date}")
        if not isinstance(until, date) or isinstance(until, datetime) or until <= due_date:
            raise InvalidInput("until", f"must be a date after {due_date}")
        self._mediation_extended(m.round, until, consent, occurred_at, actor)

    @event("MediationExtended")
    def _mediation_extended(
        self, round: int, until: date, consent: bool, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_mediation(extended_until=until)

    # -- mediator ----------------------------------------------------------------------------

    def mediator_accept(self, occurred_at: datetime, actor: Actor, *, rules: DisputeRules) -> None:
        """The mediator accepts the case within 3 working days of the request."""
        m = self._mediation_step("accept the mediation of", occurred_at, actor)
        if m.accepted_at is not None:
            raise AlreadyAccepted("the mediator already accepted")
        check_not_before("occurred_at", occurred_at, m.requested_at, "the request")
        due_date, due_at = mediator_acceptance_due(m.requested_at, rules)
        if occurred_at > due_at:
            raise MediatorAcceptanceLate(f"acceptance was due by the end of {due_date}")
        self._mediator_accepted(m.round, occurred_at, actor)

    @event("MediatorAccepted")
    def _mediator_accepted(self, round: int, occurred_at: datetime, actor: Actor) -> None:
        self._set_mediation(accepted_at=occurred_at)

    def hold_session(
        self,
        held_at: datetime,
        recording_ref: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: DisputeRules,
    ) -> None:
        """A mediation session was held (online, recorded) within the mediation period."""
        m = accepted(self._mediation_step("hold a session on", occurred_at, actor))
        check_within_mediation(m, held_at, "held_at", rules)
        ref = check_text("recording_ref", recording_ref)
        self._session_held(m.round, held_at, ref, occurred_at, actor)

    @event("MediationSessionHeld")
    def _session_held(
        self, round: int, held_at: datetime, recording_ref: str, occurred_at: datetime, actor: Actor
    ) -> None:
        assert self.mediation is not None
        sessions = (*self.mediation.sessions, Session(held_at, recording_ref))
        self._set_mediation(sessions=sessions)

    def sign_agreement(
        self,
        signed_at: datetime,
        amount: Decimal,
        terms: Text,
        occurred_at: datetime,
        actor: Actor,
        *,
        performance_due: date | None = None,
        rules: DisputeRules,
    ) -> None:
        """The parties signed a mediation agreement; it takes effect when signed."""
        m = accepted(self._mediation_step("sign an agreement on", occurred_at, actor))
        check_within_mediation(m, signed_at, "signed_at", rules)
        paid = check_money("amount", amount)
        check_free_text("terms", terms)
        due = due_to_perform(signed_at, performance_due, rules)
        self._agreement_signed(m.round, signed_at, paid, terms, due, occurred_at, actor)

    @event("AgreementSigned")
    def _agreement_signed(
        self,
        round: int,
        signed_at: datetime,
        amount: Decimal,
        terms: Text,
        performance_due: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        title = Title(AGREEMENT, round, amount, signed_at, performance_due, enforceable=False)
        self._set_mediation(agreement=title, terms=terms)
        self.title = title
        self.state = "agreement_signed"

    def fail_mediation(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """The mediation ended without agreement; staff may mediate again or go to arbitration."""
        m = self._mediation_step("end the mediation of", occurred_at, actor)
        check_not_before("occurred_at", occurred_at, m.requested_at, "the request")
        self._mediation_failed(m.round, check_text("reason", reason), occurred_at, actor)

    @event("MediationFailed")
    def _mediation_failed(
        self, round: int, reason: str, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_mediation(failed_at=occurred_at, failure_reason=reason)
        self.state = "open"

    # -- judicial confirmation ---------------------------------------------------------------

    def apply_confirmation(
        self, court: str, occurred_at: datetime, actor: Actor, *, rules: DisputeRules
    ) -> None:
        """Apply (jointly with the parties) to a court to confirm the signed agreement."""
        self._require("apply for confirmation of", ("agreement_signed",), occurred_at)
        check_text("court", court)
        t = self._title()
        check_not_before("occurred_at", occurred_at, t.effective_at, "the agreement")
        due_date, due_at = confirmation_application_due(t.effective_at, rules)
        if occurred_at > due_at:
            raise ConfirmationWindowClosed(f"the application was due by the end of {due_date}")
        self._confirmation_applied(len(self.confirmations) + 1, court, t.round, occurred_at, actor)

    @event("ConfirmationApplied")
    def _confirmation_applied(
        self, round: int, court: str, agreement_round: int, occurred_at: datetime, actor: Actor
    ) -> None:
        self.confirmations.append(Confirmation(round, court, agreement_round, occurred_at))
        self.state = "confirmation_pending"

    def court_accept_confirmation(
        self,
        case_no: str,
        applied_at: datetime,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: DisputeRules,
    ) -> None:
        """The court accepts the joint application it received at `applied_at` (30-day window)."""
        c = self._confirmation_step("accept the confirmation of", occurred_at, actor)
        if c.accepted_at is not None:
            raise AlreadyAccepted("the court already accepted the application")
        check_text("case_no", case_no)
        agreement = self.mediations[c.agreement_round - 1].agreement
        assert agreement is not None
        check_not_before("applied_at", applied_at, agreement.effective_at, "the agreement")
        due_date, due_at = confirmation_application_due(agreement.effective_at, rules)
        if applied_at > due_at:
            raise ConfirmationWindowClosed(f"applied_at is after {due_date}, 30 days after signing")
        check_not_before("occurred_at", occurred_at, applied_at, "the application")
        self._confirmation_accepted(c.round, case_no, applied_at, occurred_at, actor)

    @event("ConfirmationAccepted")
    def _confirmation_accepted(
        self, round: int, case_no: str, applied_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_confirmation(case_no=case_no, applied_at=applied_at, accepted_at=occurred_at)

    def grant_confirmation(self, ruled_at: datetime, occurred_at: datetime, actor: Actor) -> None:
        """The court confirms the agreement: it becomes enforceable."""
        c = self._ruling("rule on the confirmation of", ruled_at, occurred_at, actor)
        self._confirmation_granted(c.round, ruled_at, occurred_at, actor)

    @event("ConfirmationGranted")
    def _confirmation_granted(
        self, round: int, ruled_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_confirmation(ruled_at=ruled_at, granted=True)
        if self.title is not None and self.title.kind == AGREEMENT:
            self.title = replace(self.title, enforceable=True)
        if self.state == "confirmation_pending":
            self.state = "confirmed"

    def reject_confirmation(
        self, ruled_at: datetime, reason: str, occurred_at: datetime, actor: Actor
    ) -> None:
        """The court rejects the application; the parties may mediate again, arbitrate or sue."""
        c = self._ruling("rule on the confirmation of", ruled_at, occurred_at, actor)
        why = check_text("reason", reason)
        self._confirmation_rejected(c.round, ruled_at, why, occurred_at, actor)

    @event("ConfirmationRejected")
    def _confirmation_rejected(
        self, round: int, ruled_at: datetime, reason: str, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_confirmation(ruled_at=ruled_at, granted=False, reason=reason)
        if self.state == "confirmation_pending":
            self.title = None
            self.state = "confirmation_rejected"

    # -- arbitration -------------------------------------------------------------------------

    def request_arbitration(
        self, arbitrator: str, consent: bool, occurred_at: datetime, actor: Actor
    ) -> None:
        """Refer the dispute to an arbitrator partner on the consumer's recorded consent."""
        if self.state not in ENDED and any(a.award is not None for a in self.arbitrations):
            raise AwardAlreadyIssued("the award is final")
        self._require(
            "request arbitration for", ("open", "confirmation_rejected", "arbitrating"), occurred_at
        )
        check_text("arbitrator", arbitrator)
        a = self.arbitration
        if self.state == "arbitrating" and a is not None:
            if a.accepted_at is not None:
                raise InvalidTransition("an arbitration is under way")
            check_not_before("occurred_at", occurred_at, a.requested_at, "the earlier request")
        if consent is not True:
            raise ConsentRequired(
                "arbitration needs the consumer's consent or an arbitration agreement"
            )
        self._arbitration_requested(
            len(self.arbitrations) + 1, arbitrator, consent, occurred_at, actor
        )

    @event("ArbitrationRequested")
    def _arbitration_requested(
        self, round: int, arbitrator: str, consent: bool, occurred_at: datetime, actor: Actor
    ) -> None:
        a = self.arbitration
        if a is not None and a.award is None and a.superseded_at is None:
            self._set_arbitration(superseded_at=occurred_at)
        self.arbitrations.append(Arbitration(round, arbitrator, consent, occurred_at))
        self.state = "arbitrating"

    def arbitrator_accept(self, case_no: str, occurred_at: datetime, actor: Actor) -> None:
        """The arbitration commission accepts the case under its case number."""
        a = self._arbitration_step("accept the arbitration of", occurred_at, actor)
        if a.accepted_at is not None:
            raise AlreadyAccepted("the arbitrator already accepted")
        check_not_before("occurred_at", occurred_at, a.requested_at, "the request")
        self._arbitrator_accepted(a.round, check_text("case_no", case_no), occurred_at, actor)

    @event("ArbitratorAccepted")
    def _arbitrator_accepted(
        self, round: int, case_no: str, occurred_at: datetime, actor: Actor
    ) -> None:
        self._set_arbitration(case_no=case_no, accepted_at=occurred_at)

    def hold_hearing(
        self,
        held_at: datetime,
        recording_ref: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        online: bool = True,
    ) -> None:
        """An arbitration hearing was held (online by default, recorded)."""
        a = accepted(self._arbitration_step("hold a hearing on", occurred_at, actor))
        check_not_before("held_at", held_at, a.accepted_at or held_at, "the acceptance")
        ref = check_text("recording_ref", recording_ref)
        self._hearing_held(a.round, held_at, ref, online, occurred_at, actor)

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

    def issue_award(
        self,
        issued_at: datetime,
        amount: Decimal,
        decision: Text,
        occurred_at: datetime,
        actor: Actor,
        *,
        performance_due: date | None = None,
        rules: DisputeRules,
    ) -> None:
        """The award is issued: final and effective when made."""
        if self.state not in ENDED and any(x.award is not None for x in self.arbitrations):
            raise AwardAlreadyIssued("the dispute already has its award")
        a = accepted(self._arbitration_step("issue an award on", occurred_at, actor))
        check_not_before("issued_at", issued_at, a.accepted_at or issued_at, "the acceptance")
        paid = check_money("amount", amount)
        check_free_text("decision", decision)
        due = due_to_perform(issued_at, performance_due, rules)
        self._award_issued(a.round, issued_at, paid, decision, due, occurred_at, actor)

    @event("AwardIssued")
    def _award_issued(
        self,
        round: int,
        issued_at: datetime,
        amount: Decimal,
        decision: Text,
        performance_due: date,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        title = Title(AWARD, round, amount, issued_at, performance_due, enforceable=True)
        self._set_arbitration(award=title, decision=decision)
        self.title = title
        self.state = "awarded"

    # -- performance and enforcement ---------------------------------------------------------

    def record_performance(
        self,
        amount: Decimal,
        occurred_at: datetime,
        actor: Actor,
        remittance_ref: str | None = None,
    ) -> None:
        """Record a payment towards the agreement or award (optionally a claim remittance)."""
        if self.state == "performed":
            raise AlreadyPerformed("the agreement or award is fully performed")
        if self.state == "enforcement_applied":
            raise InvalidTransition("under enforcement: the court records what it recovers")
        if self.state not in ENDED | RESOLVED and self.state not in PERFORMABLE:
            raise InvalidTransition("there is no agreement or award to perform")
        self._require("record performance on", PERFORMABLE, occurred_at)
        t = self._title()
        paid = check_money("amount", amount)
        if remittance_ref is not None:
            check_text("remittance_ref", remittance_ref)
        outstanding = t.amount - self.paid
        if paid > outstanding:
            raise PerformanceExceedsAmount(f"only {outstanding} is still owed")
        if paid == 0 and outstanding > 0:
            raise InvalidInput("amount", "must be positive")
        check_not_before("occurred_at", occurred_at, t.effective_at, "the agreement or award")
        self._performed(paid, remittance_ref, t.kind, t.round, occurred_at, actor)

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

    def request_enforcement(
        self, court: str, occurred_at: datetime, actor: Actor, *, rules: DisputeRules
    ) -> None:
        """Name the court that will enforce an unpaid confirmed agreement or award."""
        self._refuse_unenforceable("request enforcement for", occurred_at)
        check_text("court", court)
        check_enforcement_window(self._title(), occurred_at, "occurred_at", rules)
        self._enforcement_requested(court, occurred_at, actor)

    @event("EnforcementRequested")
    def _enforcement_requested(self, court: str, occurred_at: datetime, actor: Actor) -> None:
        self.enforcement = Enforcement(court, requested_at=occurred_at)

    def apply_enforcement(
        self, applied_at: datetime, occurred_at: datetime, actor: Actor, *, rules: DisputeRules
    ) -> None:
        """The named court received the enforcement application at `applied_at` (2-year window)."""
        self._refuse_unenforceable("apply enforcement to", occurred_at)
        if self.enforcement is None:
            raise StepNotRequested("staff have not named a court for enforcement")
        check_partner(actor, self.enforcement.court, "for enforcement")
        check_enforcement_window(self._title(), applied_at, "applied_at", rules)
        check_not_before("occurred_at", occurred_at, applied_at, "the application")
        self._enforcement_applied(applied_at, occurred_at, actor)

    @event("EnforcementApplied")
    def _enforcement_applied(
        self, applied_at: datetime, occurred_at: datetime, actor: Actor
    ) -> None:
        assert self.enforcement is not None
        self.enforcement = replace(self.enforcement, applied_at=applied_at)
        self.state = "enforcement_applied"

    def record_enforced(self, amount: Decimal, occurred_at: datetime, actor: Actor) -> None:
        """The court enforced the title and recovered `amount`."""
        e = self.enforcement
        if e is None and self.state not in ENDED | RESOLVED:
            raise StepNotRequested("staff have not named a court for enforcement")
        if self.state in ENFORCEABLE:
            raise InvalidTransition("the court has not applied enforcement")
        self._require("record enforcement of", ("enforcement_applied",), occurred_at)
        assert e is not None
        assert e.applied_at is not None
        check_partner(actor, e.court, "for enforcement")
        check_not_before("occurred_at", occurred_at, e.applied_at, "the enforcement application")
        self._enforced(check_money("amount", amount), occurred_at, actor)

    @event("Enforced")
    def _enforced(self, amount: Decimal, occurred_at: datetime, actor: Actor) -> None:
        assert self.enforcement is not None
        self.enforcement = replace(self.enforcement, enforced_at=occurred_at, amount=amount)
        self.state = "enforced"

    # -- ending ------------------------------------------------------------------------------

    def withdraw(self, reason: Text, occurred_at: datetime, actor: Actor) -> None:
        """The consumer withdraws the dispute (any time before it is resolved)."""
        self._require("withdraw", set(STATES) - ENDED - RESOLVED, occurred_at)
        self._withdrawn(check_free_text("reason", reason), occurred_at, actor)

    @event("Withdrawn")
    def _withdrawn(self, reason: Text, occurred_at: datetime, actor: Actor) -> None:
        self.state = "withdrawn"
        self.ended_at = occurred_at
        self.end_reason = reason

    def close(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Close the dispute with a reason, resolved or not."""
        self._require("close", set(STATES) - ENDED, occurred_at)
        self._closed(check_text("reason", reason), self.state, occurred_at, actor)

    @event("Closed")
    def _closed(self, reason: str, from_state: str, occurred_at: datetime, actor: Actor) -> None:
        self.state = "closed"
        self.ended_at = occurred_at
        self.end_reason = reason

    # -- changes of the latest round (they run again at every replay: no checks) -------------

    def _set_mediation(self, **changes: Any) -> None:
        self.mediations[-1] = replace(self.mediations[-1], **changes)

    def _set_confirmation(self, **changes: Any) -> None:
        self.confirmations[-1] = replace(self.confirmations[-1], **changes)

    def _set_arbitration(self, **changes: Any) -> None:
        self.arbitrations[-1] = replace(self.arbitrations[-1], **changes)

    # -- guards (used by the commands, before anything is recorded) --------------------------

    def _require(self, action: str, allowed: Collection[str], occurred_at: datetime) -> None:
        """Refuse outside the `allowed` states, or at an instant before the opening."""
        check_state(self.state, action, allowed)
        check_not_before("occurred_at", occurred_at, self.opened_at, "the opening")

    def _mediation_step(self, action: str, occurred_at: datetime, actor: Actor) -> Mediation:
        """The pending mediation round, posted by its mediator."""
        if self.state not in ENDED and self.state != "mediating":
            raise StepNotRequested(f"cannot {action} the dispute: no mediation is under way")
        self._require(action, ("mediating",), occurred_at)
        m = self.mediation
        assert m is not None
        check_partner(actor, m.mediator, "as mediator")
        return m

    def _arbitration_step(self, action: str, occurred_at: datetime, actor: Actor) -> Arbitration:
        """The pending arbitration, posted by its arbitrator."""
        if self.state not in ENDED and self.state != "arbitrating":
            raise StepNotRequested(f"cannot {action} the dispute: no arbitration is under way")
        self._require(action, ("arbitrating",), occurred_at)
        a = self.arbitration
        assert a is not None
        check_partner(actor, a.arbitrator, "as arbitrator")
        return a

    def _confirmation_step(self, action: str, occurred_at: datetime, actor: Actor) -> Confirmation:
        """The pending application for confirmation, posted by its court."""
        c = self.confirmation
        if self.state not in ENDED and (c is None or c.ruled_at is not None):
            raise StepNotRequested(f"cannot {action} the dispute: no application is pending")
        self._require(action, ("confirmation_pending", "performed"), occurred_at)
        assert c is not None
        check_partner(actor, c.court, "for confirmation")
        return c

    def _ruling(
        self, action: str, ruled_at: datetime, occurred_at: datetime, actor: Actor
    ) -> Confirmation:
        """The accepted application the court rules on, ruled no earlier than accepted."""
        c = self._confirmation_step(action, occurred_at, actor)
        if c.accepted_at is None:
            raise NotAccepted("the court has not accepted the application")
        check_not_before("ruled_at", ruled_at, c.accepted_at, "the acceptance")
        return c

    def _title(self) -> Title:
        assert self.title is not None
        return self.title

    def _refuse_unenforceable(self, action: str, occurred_at: datetime) -> None:
        if self.state == "performed":
            raise AlreadyPerformed("the agreement or award is fully performed")
        if self.state == "enforcement_applied":
            raise InvalidTransition("enforcement was already applied")
        if self.state not in ENDED | RESOLVED and self.state not in ENFORCEABLE:
            raise NotEnforceable("enforcement needs a confirmed agreement or an award")
        self._require(action, ENFORCEABLE, occurred_at)


# Old topics resolve to the events of `Dispute`: `...DisputeRecord.<Name>` is looked up as
# `Dispute.<Name>`. Registered here, at import, beside the class it names: nothing reads a
# dispute without importing this module (`infrastructure.store`, which builds every ledger,
# imports it), so the mapping is in place before any read, and a reader of an old topic
# could not otherwise import the removed module to find the class.
register_topic(FORMER_TOPIC, Dispute)
