"""The partners' steps on a dispute (mediator, arbitrator, court) and the checks every
dispute command shares.

`DisputeSteps` is a plain mixin of `domain.disputes.Dispute`, split off only to keep each
module small; it records through the `@event` mutators of `DisputeRecord` and defines no
events. A partner acts only on the step it was named for (`PartnerNotNamed`); a step with
nothing pending for it is `StepNotRequested`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from domain.common import Actor, InvalidInput, cst_date, end_of_day
from domain.dispute_rules import (
    DisputeRules,
    confirmation_application_due,
    default_performance_due,
    enforcement_application_due,
    mediation_period_due,
    mediator_acceptance_due,
)
from domain.dispute_values import (
    ENDED,
    RESOLVED,
    AlreadyAccepted,
    AlreadyPerformed,
    Arbitration,
    AwardAlreadyIssued,
    Confirmation,
    ConfirmationWindowClosed,
    DisputeClosed,
    DisputeResolved,
    DisputeWithdrawn,
    EnforcementWindowClosed,
    InvalidTransition,
    Mediation,
    MediationPeriodExpired,
    MediatorAcceptanceLate,
    NotAccepted,
    NotEnforceable,
    PartnerNotNamed,
    PerformanceNotDue,
    StepNotRequested,
    Title,
    check_aware,
    check_money,
    check_text,
)

if TYPE_CHECKING:
    from domain.dispute_record import DisputeRecord as _Base
else:
    _Base = object

Rules = DisputeRules | None
Step = TypeVar("Step", Mediation, Arbitration)
ENFORCEABLE = ("confirmed", "awarded")


class DisputeSteps(_Base):
    """The mediator's, arbitrator's and court's steps, and the shared guards."""

    # -- mediator ----------------------------------------------------------------------------

    def mediator_accept(self, occurred_at: datetime, actor: Actor, *, rules: Rules = None) -> None:
        """The mediator accepts the case within 3 working days of the request."""
        m = self._mediation_step("accept the mediation of", occurred_at, actor)
        if m.accepted_at is not None:
            raise AlreadyAccepted("the mediator already accepted")
        self._not_before(occurred_at, m.requested_at, "occurred_at", "the request")
        due_date, due_at = mediator_acceptance_due(m.requested_at, rules or DisputeRules())
        if occurred_at > due_at:
            raise MediatorAcceptanceLate(f"acceptance was due by the end of {due_date}")
        self._mediator_accepted(m.round, occurred_at, actor)

    def hold_session(
        self,
        held_at: datetime,
        recording_ref: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: Rules = None,
    ) -> None:
        """A mediation session was held (online, recorded) within the mediation period."""
        m = self._accepted(self._mediation_step("hold a session on", occurred_at, actor))
        self._within_mediation(m, held_at, "held_at", rules)
        self._session_held(
            m.round, held_at, check_text("recording_ref", recording_ref), occurred_at, actor
        )

    def sign_agreement(
        self,
        signed_at: datetime,
        amount: Decimal,
        terms: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        performance_due: date | None = None,
        rules: Rules = None,
    ) -> None:
        """The parties signed a mediation agreement; it takes effect when signed."""
        rules = rules or DisputeRules()
        m = self._accepted(self._mediation_step("sign an agreement on", occurred_at, actor))
        self._within_mediation(m, signed_at, "signed_at", rules)
        paid = check_money("amount", amount)
        check_text("terms", terms)
        due = self._performance_due(signed_at, performance_due, rules)
        self._agreement_signed(m.round, signed_at, paid, terms, due, occurred_at, actor)

    def fail_mediation(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """The mediation ended without agreement; staff may mediate again or go to arbitration."""
        m = self._mediation_step("end the mediation of", occurred_at, actor)
        self._not_before(occurred_at, m.requested_at, "occurred_at", "the request")
        self._mediation_failed(m.round, check_text("reason", reason), occurred_at, actor)

    # -- arbitrator --------------------------------------------------------------------------

    def arbitrator_accept(self, case_no: str, occurred_at: datetime, actor: Actor) -> None:
        """The arbitration commission accepts the case under its case number."""
        a = self._arbitration_step("accept the arbitration of", occurred_at, actor)
        if a.accepted_at is not None:
            raise AlreadyAccepted("the arbitrator already accepted")
        self._not_before(occurred_at, a.requested_at, "occurred_at", "the request")
        self._arbitrator_accepted(a.round, check_text("case_no", case_no), occurred_at, actor)

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
        a = self._accepted(self._arbitration_step("hold a hearing on", occurred_at, actor))
        self._not_before(held_at, a.accepted_at or held_at, "held_at", "the acceptance")
        ref = check_text("recording_ref", recording_ref)
        self._hearing_held(a.round, held_at, ref, online, occurred_at, actor)

    def issue_award(
        self,
        issued_at: datetime,
        amount: Decimal,
        decision: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        performance_due: date | None = None,
        rules: Rules = None,
    ) -> None:
        """The award is issued: final and effective when made."""
        if self.state not in ENDED and any(x.award is not None for x in self.arbitrations):
            raise AwardAlreadyIssued("the dispute already has its award")
        a = self._accepted(self._arbitration_step("issue an award on", occurred_at, actor))
        self._not_before(issued_at, a.accepted_at or issued_at, "issued_at", "the acceptance")
        paid = check_money("amount", amount)
        check_text("decision", decision)
        due = self._performance_due(issued_at, performance_due, rules or DisputeRules())
        self._award_issued(a.round, issued_at, paid, decision, due, occurred_at, actor)

    # -- court -------------------------------------------------------------------------------

    def court_accept_confirmation(
        self,
        case_no: str,
        applied_at: datetime,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: Rules = None,
    ) -> None:
        """The court accepts the joint application it received at `applied_at` (30-day window)."""
        c = self._confirmation_step("accept the confirmation of", occurred_at, actor)
        if c.accepted_at is not None:
            raise AlreadyAccepted("the court already accepted the application")
        check_text("case_no", case_no)
        agreement = self.mediations[c.agreement_round - 1].agreement
        assert agreement is not None
        self._not_before(applied_at, agreement.effective_at, "applied_at", "the agreement")
        due_date, due_at = confirmation_application_due(
            agreement.effective_at, rules or DisputeRules()
        )
        if applied_at > due_at:
            raise ConfirmationWindowClosed(f"applied_at is after {due_date}, 30 days after signing")
        self._not_before(occurred_at, applied_at, "occurred_at", "the application")
        self._confirmation_accepted(c.round, case_no, applied_at, occurred_at, actor)

    def grant_confirmation(self, ruled_at: datetime, occurred_at: datetime, actor: Actor) -> None:
        """The court confirms the agreement: it becomes enforceable."""
        c = self._confirmation_step(
            "rule on the confirmation of", occurred_at, actor, accepted=True
        )
        self._not_before(ruled_at, c.accepted_at or ruled_at, "ruled_at", "the acceptance")
        self._confirmation_granted(c.round, ruled_at, occurred_at, actor)

    def reject_confirmation(
        self, ruled_at: datetime, reason: str, occurred_at: datetime, actor: Actor
    ) -> None:
        """The court rejects the application; the parties may mediate again, arbitrate or sue."""
        c = self._confirmation_step(
            "rule on the confirmation of", occurred_at, actor, accepted=True
        )
        self._not_before(ruled_at, c.accepted_at or ruled_at, "ruled_at", "the acceptance")
        self._confirmation_rejected(
            c.round, ruled_at, check_text("reason", reason), occurred_at, actor
        )

    def apply_enforcement(
        self, applied_at: datetime, occurred_at: datetime, actor: Actor, *, rules: Rules = None
    ) -> None:
        """The named court received the enforcement application at `applied_at` (2-year window)."""
        self._refuse_unenforceable("apply enforcement to", occurred_at)
        if self.enforcement is None:
            raise StepNotRequested("staff have not named a court for enforcement")
        self._check_partner(actor, self.enforcement.court, "for enforcement")
        self._check_enforcement_window(applied_at, "applied_at", rules or DisputeRules())
        self._not_before(occurred_at, applied_at, "occurred_at", "the application")
        self._enforcement_applied(applied_at, occurred_at, actor)

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
        self._check_partner(actor, e.court, "for enforcement")
        self._not_before(occurred_at, e.applied_at, "occurred_at", "the enforcement application")
        self._enforced(check_money("amount", amount), occurred_at, actor)

    # -- shared checks -----------------------------------------------------------------------

    def _mediation_step(self, action: str, occurred_at: datetime, actor: Actor) -> Mediation:
        """The pending mediation round, posted by its mediator."""
        if self.state not in ENDED and self.state != "mediating":
            raise StepNotRequested(f"cannot {action} the dispute: no mediation is under way")
        self._require(action, ("mediating",), occurred_at)
        m = self.mediation
        assert m is not None
        self._check_partner(actor, m.mediator, "as mediator")
        return m

    def _arbitration_step(self, action: str, occurred_at: datetime, actor: Actor) -> Arbitration:
        """The pending arbitration, posted by its arbitrator."""
        if self.state not in ENDED and self.state != "arbitrating":
            raise StepNotRequested(f"cannot {action} the dispute: no arbitration is under way")
        self._require(action, ("arbitrating",), occurred_at)
        a = self.arbitration
        assert a is not None
        self._check_partner(actor, a.arbitrator, "as arbitrator")
        return a

    def _confirmation_step(
        self, action: str, occurred_at: datetime, actor: Actor, *, accepted: bool = False
    ) -> Confirmation:
        """The pending application for confirmation, posted by its court."""
        c = self.confirmation
        if self.state not in ENDED and (c is None or c.ruled_at is not None):
            raise StepNotRequested(f"cannot {action} the dispute: no application is pending")
        self._require(action, ("confirmation_pending", "performed"), occurred_at)
        assert c is not None
        self._check_partner(actor, c.court, "for confirmation")
        if accepted and c.accepted_at is None:
            raise NotAccepted("the court has not accepted the application")
        return c

    @staticmethod
    def _accepted(step: Step | None) -> Step:
        if step is None or step.accepted_at is None:
            raise NotAccepted("the partner has not accepted the case")
        return step

    def _title(self) -> Title:
        assert self.title is not None
        return self.title

    def _within_mediation(self, m: Mediation, instant: datetime, field: str, rules: Rules) -> None:
        assert m.accepted_at is not None
        self._not_before(instant, m.accepted_at, field, "the acceptance")
        due_date, due_at = mediation_period_due(
            m.accepted_at, m.extended_until, rules or DisputeRules()
        )
        if instant > due_at:
            raise MediationPeriodExpired(f"the mediation period ended with {due_date}")

    @staticmethod
    def _performance_due(effective_at: datetime, given: date | None, rules: DisputeRules) -> date:
        if given is None:
            return default_performance_due(effective_at, rules)
        if (
            not isinstance(given, date)
            or isinstance(given, datetime)
            or given < cst_date(effective_at)
        ):
            raise InvalidInput("performance_due", "must be a date on or after the effective date")
        return given

    def _refuse_unenforceable(self, action: str, occurred_at: datetime) -> None:
        if self.state == "performed":
            raise AlreadyPerformed("the agreement or award is fully performed")
        if self.state == "enforcement_applied":
            raise InvalidTransition("enforcement was already applied")
        if self.state not in ENDED | RESOLVED and self.state not in ENFORCEABLE:
            raise NotEnforceable("enforcement needs a confirmed agreement or an award")
        self._require(action, ENFORCEABLE, occurred_at)

    def _check_enforcement_window(self, instant: datetime, field: str, rules: DisputeRules) -> None:
        t = self._title()
        check_aware(field, instant)
        due_date, due_at = enforcement_application_due(t.performance_due, rules)
        if instant <= end_of_day(t.performance_due):
            raise PerformanceNotDue(f"performance is due by the end of {t.performance_due}")
        if instant > due_at:
            raise EnforcementWindowClosed(
                f"enforcement was to be applied for by the end of {due_date}"
            )

    # -- guards (used by the commands) ------------------------------------------------------

    def _require(self, action: str, allowed: Collection[str], occurred_at: datetime) -> None:
        """Refuse outside the `allowed` states, or at an instant before the opening."""
        if self.state not in allowed:
            if self.state == "withdrawn":
                raise DisputeWithdrawn(f"cannot {action}: the dispute was withdrawn")
            if self.state == "closed":
                raise DisputeClosed(f"cannot {action}: the dispute is closed")
            if self.state in RESOLVED:
                raise DisputeResolved(f"cannot {action}: the dispute is {self.state}")
            raise InvalidTransition(f"cannot {action} a dispute that is {self.state}")
        check_aware("occurred_at", occurred_at)
        self._not_before(occurred_at, self.opened_at, "occurred_at", "the opening")

    @staticmethod
    def _check_partner(actor: Actor, named: str, step: str) -> None:
        """A partner acts only on the step it was named for (staff actors carry no partner)."""
        if actor.partner_id is not None and actor.partner_id != named:
            raise PartnerNotNamed(f"the dispute names {named!r}, not {actor.partner_id!r}, {step}")

    @staticmethod
    def _not_before(instant: datetime, earlier: datetime, field: str, what: str) -> None:
        check_aware(field, instant)
        if instant < earlier:
            raise InvalidInput(field, f"precedes {what}")
