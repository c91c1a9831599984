"""The Dispute aggregate (纠纷化解): pre-litigation mediation (诉前调解), judicial confirmation
(司法确认), online arbitration (线上仲裁), performance and enforcement (强制执行).

Each command checks its rule and then records one event through a private mutator of
`DisputeRecord` (domain.md section 3); a refusal raises a `DisputeError` and records
nothing. Windows are checked on the business dates partners send (`occurred_at` of an
acceptance, `signed_at`, `applied_at`...), never on recording time. The staff commands are
here; the partners' steps (mediator, arbitrator, court) are in `domain.dispute_steps`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.common import Actor, InvalidInput
from domain.dispute_record import DisputeRecord
from domain.dispute_rules import (
    DisputeRules,
    confirmation_application_due,
    mediation_period_due,
)
from domain.dispute_steps import ENFORCEABLE, DisputeSteps, Rules
from domain.dispute_values import (
    ENDED,
    RESOLVED,
    STATES,
    AlreadyPerformed,
    AwardAlreadyIssued,
    ConfirmationWindowClosed,
    ConsentRequired,
    InvalidTransition,
    MediationPeriodExpired,
    PerformanceExceedsAmount,
    check_aware,
    check_money,
    check_party,
    check_text,
)
from domain.personal import Sealed

PERFORMABLE = ("agreement_signed", "confirmation_pending", *ENFORCEABLE)


class Dispute(DisputeSteps, DisputeRecord):
    """A consumer dispute from its opening through mediation or arbitration to performance."""

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
        matter: str,
        occurred_at: datetime,
        actor: Actor,
        complaint_id: UUID | None = None,
        claim_id: UUID | None = None,
    ) -> Dispute:
        """Check and open a dispute ("Opened"), from a complaint, a claim or directly."""
        check_party(party)
        check_text("party_ref", party_ref)
        check_text("matter", matter)
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

    # -- staff -------------------------------------------------------------------------------

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
            self._not_before(occurred_at, m.requested_at, "occurred_at", "the earlier request")
        self._mediation_requested(len(self.mediations) + 1, mediator, occurred_at, actor)

    def extend_mediation(
        self,
        until: date,
        consent: bool,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: Rules = None,
    ) -> None:
        """Extend the pre-filing mediation period to `until` with the parties' consent."""
        self._require("extend the mediation of", ("mediating",), occurred_at)
        m = self._accepted(self.mediation)
        if consent is not True:
            raise ConsentRequired("an extension needs the parties' consent")
        due_date, due_at = mediation_period_due(
            m.accepted_at or occurred_at, m.extended_until, rules or DisputeRules()
        )
        if occurred_at > due_at:
            raise MediationPeriodExpired(f"the mediation period ended with {due_date}")
        if not isinstance(until, date) or isinstance(until, datetime) or until <= due_date:
            raise InvalidInput("until", f"must be a date after {due_date}")
        self._mediation_extended(m.round, until, consent, occurred_at, actor)

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
            self._not_before(occurred_at, a.requested_at, "occurred_at", "the earlier request")
        if consent is not True:
            raise ConsentRequired(
                "arbitration needs the consumer's consent or an arbitration agreement"
            )
        self._arbitration_requested(
            len(self.arbitrations) + 1, arbitrator, consent, occurred_at, actor
        )

    def apply_confirmation(
        self, court: str, occurred_at: datetime, actor: Actor, *, rules: Rules = None
    ) -> None:
        """Apply (jointly with the parties) to a court to confirm the signed agreement."""
        self._require("apply for confirmation of", ("agreement_signed",), occurred_at)
        check_text("court", court)
        t = self._title()
        self._not_before(occurred_at, t.effective_at, "occurred_at", "the agreement")
        due_date, due_at = confirmation_application_due(t.effective_at, rules or DisputeRules())
        if occurred_at > due_at:
            raise ConfirmationWindowClosed(f"the application was due by the end of {due_date}")
        self._confirmation_applied(len(self.confirmations) + 1, court, t.round, occurred_at, actor)

    def request_enforcement(
        self, court: str, occurred_at: datetime, actor: Actor, *, rules: Rules = None
    ) -> None:
        """Name the court that will enforce an unpaid confirmed agreement or award."""
        self._refuse_unenforceable("request enforcement for", occurred_at)
        check_text("court", court)
        self._check_enforcement_window(occurred_at, "occurred_at", rules or DisputeRules())
        self._enforcement_requested(court, occurred_at, actor)

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
        self._not_before(occurred_at, t.effective_at, "occurred_at", "the agreement or award")
        self._performed(paid, remittance_ref, t.kind, t.round, occurred_at, actor)

    def withdraw(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """The consumer withdraws the dispute (any time before it is resolved)."""
        self._require("withdraw", set(STATES) - ENDED - RESOLVED, occurred_at)
        self._withdrawn(check_text("reason", reason), occurred_at, actor)

    def close(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Close the dispute with a reason, resolved or not."""
        self._require("close", set(STATES) - ENDED, occurred_at)
        self._closed(check_text("reason", reason), self.state, occurred_at, actor)


# eventsourcing redefines every inherited event class on a subclass, yet the inherited
# mutators keep recording DisputeRecord's classes. Dropping the unused copies makes
# `Dispute.AgreementSigned` (and `get_topic` of it) the class the events really have.
for _name, _value in list(vars(Dispute).items()):
    _inherited = _name in vars(DisputeRecord) and _name not in ("Event", "Opened")
    if _inherited and isinstance(_value, type) and issubclass(_value, Aggregate.Event):
        delattr(Dispute, _name)
