"""The Complaint aggregate (投诉处理): intake, handling, decision, notice, closure and review.

Each command checks its rule and then records one event through a private mutator of
`ComplaintRecord` (domain.md section 2); a refusal raises a `ComplaintError` and records
nothing. Clocks are not stored: `clock()` derives them from `occurred_at` values. Codes,
value objects and refusals live in `domain.complaint_values`; the refusals and values a
caller needs are re-exported here.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.common import Actor, InvalidInput
from domain.complaint_clock import ComplaintRules, review_window
from domain.complaint_record import BEFORE_DECISION, IN_PROGRESS, OPEN, ComplaintRecord
from domain.complaint_values import CHANNELS as CHANNELS
from domain.complaint_values import OUTCOMES as OUTCOMES
from domain.complaint_values import (
    REGULATOR_CHANNEL,
    check_aware,
    check_evidence,
    check_outcome,
    check_person,
    check_redress,
    check_text,
)
from domain.complaint_values import REMEDIES as REMEDIES
from domain.complaint_values import URGED_BY as URGED_BY
from domain.complaint_values import AlreadyDecided as AlreadyDecided
from domain.complaint_values import AlreadyPaused as AlreadyPaused
from domain.complaint_values import CaseMerged as CaseMerged
from domain.complaint_values import ClockPaused as ClockPaused
from domain.complaint_values import ComplaintClosed as ComplaintClosed
from domain.complaint_values import ComplaintDeclined as ComplaintDeclined
from domain.complaint_values import ComplaintError as ComplaintError
from domain.complaint_values import ComplaintWithdrawn as ComplaintWithdrawn
from domain.complaint_values import Decision as Decision
from domain.complaint_values import Evidence as Evidence
from domain.complaint_values import Extension as Extension
from domain.complaint_values import ExtensionLimitReached as ExtensionLimitReached
from domain.complaint_values import InvalidTransition as InvalidTransition
from domain.complaint_values import NotDecided as NotDecided
from domain.complaint_values import Notice as Notice
from domain.complaint_values import NotNotified as NotNotified
from domain.complaint_values import NotPaused as NotPaused
from domain.complaint_values import Review as Review
from domain.complaint_values import ReviewWindowClosed as ReviewWindowClosed
from domain.complaint_values import matter_keys as matter_keys
from domain.personal import Sealed

Ev = list[Evidence] | None


class Complaint(ComplaintRecord):
    """A consumer complaint from receipt to the notice of its decision, closure and review."""

    @staticmethod
    def create_id(complaint_id: UUID) -> UUID:
        """The application chooses the complaint's id; it is the stream id."""
        return complaint_id

    @classmethod
    def receive(
        cls,
        *,
        complaint_id: UUID,
        channel: str,
        complainant_ref: str,
        complainant: dict[str, Sealed],
        matter: str,
        request: str,
        cause: str,
        line: str,
        region: str,
        occurred_at: datetime,
        actor: Actor,
        agent: dict[str, Sealed] | None = None,
        facts: str | None = None,
        policy_id: str | None = None,
        claim_id: str | None = None,
        transfer_id: str | None = None,
        new_facts: bool = False,
        evidence: Ev = None,
        channels: Collection[str] = CHANNELS,
    ) -> Complaint:
        """Check an intake and open the case ("Received"); the way to create a complaint."""
        if channel not in channels:
            raise InvalidInput("channel", f"must be one of {', '.join(channels)}")
        if channel == REGULATOR_CHANNEL:
            check_text("transfer_id", transfer_id)
        elif transfer_id is not None:
            raise InvalidInput("transfer_id", "only a 12378 transfer carries a transfer_id")
        check_person("complainant", complainant)
        if agent is not None:
            check_person("agent", agent)
        texts = {"complainant_ref": complainant_ref, "matter": matter, "request": request}
        for name, value in {**texts, "cause": cause, "line": line, "region": region}.items():
            check_text(name, value)
        check_aware("occurred_at", occurred_at)
        return cls(
            complaint_id=complaint_id,
            channel=channel,
            complainant_ref=complainant_ref,
            complainant=complainant,
            agent=agent,
            matter=matter,
            request=request,
            facts=facts,
            cause=cause,
            line=line,
            region=region,
            policy_id=policy_id,
            claim_id=claim_id,
            transfer_id=transfer_id,
            new_facts=new_facts,
            evidence=check_evidence(evidence),
            occurred_at=occurred_at,
            actor=actor,
        )

    # -- handling ----------------------------------------------------------------------------

    def assign(
        self, handler: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """Give the case to a handler (a case that has one is reassigned instead)."""
        self._require("assign", IN_PROGRESS, occurred_at)
        self._check_handler(handler)
        if self.handler is not None:
            raise InvalidTransition(f"already assigned to {self.handler}; reassign instead")
        self._assigned(handler, occurred_at, actor, check_evidence(evidence))

    def reassign(
        self, handler: str, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """Move the case to another handler (supervisor; also a case without one)."""
        self._require("reassign", OPEN, occurred_at)
        self._check_handler(handler)
        check_text("reason", reason)
        if handler == self.handler:
            raise InvalidInput("handler", "is already the case's handler")
        self._reassigned(
            handler, self.handler, reason, occurred_at, actor, check_evidence(evidence)
        )

    def recuse(
        self, handler: str, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """The current handler withdraws for an interest in the matter (回避)."""
        self._require("recuse from", OPEN, occurred_at)
        if self.handler is None:
            raise InvalidTransition("the case has no handler")
        if handler != self.handler:
            raise InvalidInput("handler", "is not the case's handler")
        check_text("reason", reason)
        self._recused(handler, reason, occurred_at, actor, check_evidence(evidence))

    def contact(self, occurred_at: datetime, actor: Actor, *, evidence: Ev = None) -> None:
        """The handler reached the complainant."""
        self._refuse_if_decided()
        self._require("contact", ("assigned", "contacted"), occurred_at)
        if self.handler is None:
            raise InvalidTransition("the case has no handler")
        self._contacted(occurred_at, actor, check_evidence(evidence))

    def urge(
        self, by: str, note: str | None, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """The complainant or the regulator urges the case (催办)."""
        self._require("urge", OPEN, occurred_at)
        if by not in URGED_BY:
            raise InvalidInput("by", f"must be one of {', '.join(URGED_BY)}")
        self._urged(by, note, occurred_at, actor, check_evidence(evidence))

    def escalate(
        self, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """A supervisor escalates the case; the actor is recorded as the approver."""
        self._require("escalate", IN_PROGRESS, occurred_at)
        check_text("reason", reason)
        self._escalated(reason, actor.name, occurred_at, actor, check_evidence(evidence))

    def extend(
        self,
        reason: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        complainant_notified: bool = True,
        rules: ComplaintRules | None = None,
        evidence: Ev = None,
    ) -> None:
        """A supervisor (the approver) extends the period to the next level: 30, then 60 days."""
        rules = rules or ComplaintRules()
        self._require("extend", IN_PROGRESS, occurred_at)
        check_text("reason", reason)
        level = self.extension_level + 1
        if level > rules.max_extension_level:
            raise ExtensionLimitReached("the decision period was already extended to its limit")
        days = rules.decision_days[level]
        evs = check_evidence(evidence)
        self._extended(
            level, days, reason, actor.name, complainant_notified, occurred_at, actor, evs
        )

    def pause(
        self, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """Stop the clock for an external appraisal, test or assessment."""
        self._refuse_if_decided()
        self._require("pause", BEFORE_DECISION, occurred_at)
        check_text("reason", reason)
        if self.paused:
            raise AlreadyPaused("the clock is already paused")
        self._paused(reason, occurred_at, actor, check_evidence(evidence))

    def resume(self, occurred_at: datetime, actor: Actor, *, evidence: Ev = None) -> None:
        """Restart the paused clock; the paused days are added to the deadline."""
        self._require("resume", OPEN, occurred_at)
        started = [p.start for p in self.pauses if p.end is None]
        if not started:
            raise NotPaused("the clock is not paused")
        if occurred_at < started[0]:
            raise InvalidInput("occurred_at", "a resumption cannot precede its pause")
        self._resumed(occurred_at, actor, check_evidence(evidence))

    def add_new_facts(
        self, summary: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """New facts or reasons: the clock restarts from their receipt (levels and pauses anew)."""
        self._refuse_if_decided()
        self._require("add new facts to", BEFORE_DECISION, occurred_at)
        check_text("summary", summary)
        self._new_facts_received(summary, occurred_at, actor, check_evidence(evidence))

    # -- outcome -----------------------------------------------------------------------------

    def decide(
        self,
        outcome: str,
        redress: Decimal,
        facts: str,
        basis: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        evidence: Ev = None,
    ) -> None:
        """Record the verified facts, basis, outcome and redress (a handler, the clock running)."""
        self._refuse_if_decided()
        self._require("decide", ("assigned", "contacted"), occurred_at)
        if self.handler is None:
            raise InvalidTransition("the case has no handler")
        if self.paused:
            raise ClockPaused("resume the clock before deciding")
        check_outcome(outcome)
        amount = check_redress(outcome, redress)
        check_text("facts", facts)
        check_text("basis", basis)
        self._decided(outcome, amount, facts, basis, occurred_at, actor, check_evidence(evidence))

    def notify(
        self,
        method: str,
        delivered_at: datetime | None,
        occurred_at: datetime,
        actor: Actor,
        *,
        evidence: Ev = None,
    ) -> None:
        """Send the notice of the decision; it lists the remedies (核查, 调解, 仲裁, 诉讼)."""
        if self.status in BEFORE_DECISION:
            raise NotDecided("there is no decision to notify")
        self._require("notify", ("decided",), occurred_at)
        check_text("method", method)
        assert self.decision is not None
        self._not_before(occurred_at, self.decision.decided_at, "occurred_at", "the decision")
        if delivered_at is not None:
            check_aware("delivered_at", delivered_at)
            self._not_before(delivered_at, self.decision.decided_at, "delivered_at", "the decision")
        evs = check_evidence(evidence)
        self._notified(method, delivered_at, list(REMEDIES), occurred_at, actor, evs)

    def close(self, occurred_at: datetime, actor: Actor, *, evidence: Ev = None) -> None:
        """Close a notified case (the closure report is generated from the history)."""
        if self.status in IN_PROGRESS:
            raise NotNotified("the decision has not been notified")
        self._require("close", ("notified",), occurred_at)
        assert self.notice is not None
        self._not_before(occurred_at, self.notice.notified_at, "occurred_at", "the notice")
        self._closed(occurred_at, actor, check_evidence(evidence))

    def withdraw(self, occurred_at: datetime, actor: Actor, *, evidence: Ev = None) -> None:
        """The complainant withdraws; the withdrawal is effective the day the case was received."""
        self._require("withdraw", IN_PROGRESS, occurred_at)
        self._withdrawn(self.received_at, occurred_at, actor, check_evidence(evidence))

    def decline(
        self, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """Decline the case (not the complainant or an agent; a repeat with nothing new)."""
        self._refuse_if_decided()
        self._require("decline", BEFORE_DECISION, occurred_at)
        check_text("reason", reason)
        self._declined(reason, occurred_at, actor, check_evidence(evidence))

    def mark_merged(
        self, master_id: UUID, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """This complaint duplicates the open master case and is merged into it."""
        self._refuse_if_decided()
        self._require("merge", BEFORE_DECISION, occurred_at)
        if master_id == self.id:
            raise InvalidInput("master_id", "a complaint cannot be merged into itself")
        self._merged_into(master_id, occurred_at, actor, check_evidence(evidence))

    def add_duplicate(
        self,
        duplicate_id: UUID,
        new_facts: bool,
        occurred_at: datetime,
        actor: Actor,
        *,
        evidence: Ev = None,
    ) -> None:
        """List a duplicate on this master; one with new facts restarts the clock from its receipt.

        `occurred_at` is the duplicate's receipt, which may precede the master's (a late
        transfer); the clock never restarts earlier than it already runs from.
        """
        check_aware("occurred_at", occurred_at)
        self._require("merge a duplicate into", OPEN, None)
        if new_facts and self.status not in BEFORE_DECISION:
            raise AlreadyDecided("new facts cannot restart the clock of a decided case")
        if duplicate_id == self.id or duplicate_id in self.duplicates:
            raise InvalidInput("duplicate_id", "is this case or already merged into it")
        evs = check_evidence(evidence)
        self._duplicate_merged(duplicate_id, new_facts, occurred_at, actor, evs)

    # -- review (核查) -------------------------------------------------------------------------

    def request_review(
        self,
        reason: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: ComplaintRules | None = None,
        evidence: Ev = None,
    ) -> None:
        """Ask for a review within the window after the notice (its delivery, else sending)."""
        if self.status in IN_PROGRESS:
            raise NotNotified("the decision has not been notified")
        if self.status in ("review_requested", "review_decided"):
            raise InvalidTransition("a review was already requested")
        self._require("request a review of", ("notified", "closed"), occurred_at)
        check_text("reason", reason)
        assert self.notice is not None
        self._not_before(occurred_at, self.notice.notified_at, "occurred_at", "the notice")
        last_day, ends = review_window(
            self.notice.received_by_complainant_at, rules or ComplaintRules()
        )
        if occurred_at > ends:
            raise ReviewWindowClosed(f"the review window closed at the end of {last_day}")
        self._review_requested(reason, occurred_at, actor, check_evidence(evidence))

    def decide_review(
        self, outcome: str, basis: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = None
    ) -> None:
        """Record the review's outcome (upheld, partly upheld, not upheld) and basis."""
        if self.status in ("notified", "closed", "review_decided"):
            raise InvalidTransition("there is no pending review")
        self._require("decide a review of", ("review_requested",), occurred_at)
        check_outcome(outcome)
        check_text("basis", basis)
        assert self.review is not None
        self._not_before(occurred_at, self.review.requested_at, "occurred_at", "the request")
        self._review_decided(outcome, basis, occurred_at, actor, check_evidence(evidence))


# eventsourcing redefines every inherited event class on a subclass, yet the inherited
# mutators keep recording ComplaintRecord's classes. Dropping the unused copies makes
# `Complaint.Assigned` (and `get_topic` of it) the class the events really have.
for _name, _value in list(vars(Complaint).items()):
    _inherited = _name in vars(ComplaintRecord) and _name not in ("Event", "Received")
    if _inherited and isinstance(_value, type) and issubclass(_value, Aggregate.Event):
        delattr(Complaint, _name)
