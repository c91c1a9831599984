"""The Complaint aggregate (投诉处理): intake, handling, decision, notice, closure and review.

One class holds the case's state, its commands and their events (domain.md section 2). A
command checks its rule first and then records one event; a refusal raises a `ComplaintError`
and records nothing. Where a command's event records exactly its arguments, `@event` sits on
the command itself and its checks run again at each replay, on the same state, so they pass
again; a command whose event records more than its arguments (the previous handler, the
extension level, the remedies) or whose check needs the rules calls a private `@event`
method instead. Clocks are not stored: `clock()` derives them from `occurred_at` values.
Codes, value objects and refusals live in `domain.complaint_values`, the clock in
`domain.complaint_clock`; the refusals and values a caller needs are re-exported here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.common import Actor, InvalidInput
from domain.complaint_clock import ClockState, ComplaintRules, Pause, compute_clock, review_window
from domain.complaint_values import CHANNELS as CHANNELS
from domain.complaint_values import OUTCOMES as OUTCOMES
from domain.complaint_values import (
    REGULATOR_CHANNEL,
    check_aware,
    check_evidence,
    check_outcome,
    check_person,
    check_redress,
    check_root_causes,
    check_text,
)
from domain.complaint_values import REMEDIES as REMEDIES
from domain.complaint_values import ROOT_CAUSES as ROOT_CAUSES
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
from domain.personal import Sealed, Text

BEFORE_DECISION = frozenset({"received", "assigned", "contacted"})
IN_PROGRESS = BEFORE_DECISION | {"decided"}
OPEN = IN_PROGRESS | {"notified"}
Evs = list[Evidence]
Ev = Sequence[Evidence]
# Until issue 14 the events other than `Received` were classes of `ComplaintRecord` in
# `domain.complaint_record`, and stored events keep those topics.
FORMER_TOPIC = "domain.complaint_record:ComplaintRecord"
_ENDED: dict[str, type[ComplaintClosed]] = {
    "closed": ComplaintClosed,
    "review_requested": ComplaintClosed,
    "review_decided": ComplaintClosed,
    "withdrawn": ComplaintWithdrawn,
    "declined": ComplaintDeclined,
    "merged": CaseMerged,
}


class Complaint(Aggregate):
    """A consumer complaint from receipt to the notice of its decision, closure and review."""

    # The topics of events stored before issue 14 (see `FORMER_TOPIC`): readers that select
    # events by topic (`application.ledger.topics_of`) select these too.
    FORMER_TOPICS: ClassVar[tuple[str, ...]] = tuple(
        f"{FORMER_TOPIC}.{name}"
        for name in (
            "Assigned",
            "Reassigned",
            "Recused",
            "Contacted",
            "Urged",
            "Escalated",
            "Extended",
            "Paused",
            "Resumed",
            "NewFactsReceived",
            "Decided",
            "Notified",
            "Closed",
            "Withdrawn",
            "Declined",
            "MergedInto",
            "DuplicateMerged",
            "ReviewRequested",
            "ReviewDecided",
        )
    )

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
        matter: Text,
        request: Text,
        cause: str,
        line: str,
        region: str,
        occurred_at: datetime,
        actor: Actor,
        agent: dict[str, Sealed] | None = None,
        facts: Text | None = None,
        policy_id: str | None = None,
        claim_id: str | None = None,
        transfer_id: str | None = None,
        new_facts: bool = False,
        evidence: Ev = (),
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

    @event("Received")
    def __init__(
        self,
        *,
        complaint_id: UUID,
        channel: str,
        complainant_ref: str,
        complainant: dict[str, Sealed],
        agent: dict[str, Sealed] | None,
        matter: Text,
        request: Text,
        facts: Text | None,
        cause: str,
        line: str,
        region: str,
        policy_id: str | None,
        claim_id: str | None,
        transfer_id: str | None,
        new_facts: bool,
        evidence: Evs,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.channel = channel
        self.complainant_ref = complainant_ref
        self.complainant = complainant
        self.agent = agent
        self.matter = matter
        self.request = request
        self.facts = facts
        self.cause = cause
        self.line = line
        self.region = region
        self.policy_id = policy_id
        self.claim_id = claim_id
        self.transfer_id = transfer_id
        # A 12378 transfer belongs to the platform partner that posted it.
        self.transferred_by = actor.partner_id if transfer_id is not None else None
        self.new_facts = new_facts
        self.evidence = list(evidence)
        self.received_at = occurred_at
        self.clock_start = occurred_at
        self.status = "received"
        self.handler: str | None = None
        self.handlers_recused: list[str] = []
        self.contacted_at: datetime | None = None
        self.urges = 0
        self.escalations: list[str] = []
        self.extensions: list[Extension] = []
        self.pauses: list[Pause] = []
        self.decision: Decision | None = None
        self.notice: Notice | None = None
        self.closed_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.withdrawal_effective_at: datetime | None = None
        self.decline_reason: str | None = None
        self.merged_into: UUID | None = None
        self.duplicates: list[UUID] = []
        self.review: Review | None = None

    # -- queries -----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Received and not yet closed, withdrawn, declined or merged."""
        return self.status in OPEN

    @property
    def paused(self) -> bool:
        """A pause is under way."""
        return any(p.end is None for p in self.pauses)

    @property
    def extension_level(self) -> int:
        """Extensions granted since the clock (re)started: 0, 1 (30 days) or 2 (60 days)."""
        return sum(1 for e in self.extensions if e.occurred_at >= self.clock_start)

    def clock(self, now: datetime, rules: ComplaintRules) -> ClockState:
        """The deadline, overdue flag and derived escalation at `now`."""
        return compute_clock(
            clock_start=self.clock_start,
            received_at=self.received_at,
            extension_level=self.extension_level,
            pauses=self.pauses,
            notified_at=self.notice.notified_at if self.notice else None,
            decided_at=self.decision.decided_at if self.decision else None,
            urge_count=self.urges,
            escalated_by_supervisor=bool(self.escalations),
            review_requested_at=self.review.requested_at if self.review else None,
            now=now,
            rules=rules,
            ended_at=self.ended_at,
        )

    # -- handling ----------------------------------------------------------------------------

    @event("Assigned")
    def assign(self, handler: str, occurred_at: datetime, actor: Actor, evidence: Ev = ()) -> None:
        """Give the case to a handler (a case that has one is reassigned instead)."""
        self._require("assign", IN_PROGRESS, occurred_at)
        self._check_handler(handler)
        if self.handler is not None:
            raise InvalidTransition(f"already assigned to {self.handler}; reassign instead")
        self.handler = handler
        self.status = "assigned" if self.status == "received" else self.status
        self.evidence += check_evidence(evidence)

    def reassign(
        self, handler: str, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = ()
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

    @event("Reassigned")
    def _reassigned(
        self,
        handler: str,
        previous: str | None,
        reason: str,
        occurred_at: datetime,
        actor: Actor,
        evidence: Evs,
    ) -> None:
        self.handler = handler
        self.status = "assigned" if self.status == "received" else self.status
        self.evidence += evidence

    @event("Recused")
    def recuse(
        self, handler: str, reason: str, occurred_at: datetime, actor: Actor, evidence: Ev = ()
    ) -> None:
        """The current handler withdraws for an interest in the matter (回避)."""
        self._require("recuse from", OPEN, occurred_at)
        if self.handler is None:
            raise InvalidTransition("the case has no handler")
        if handler != self.handler:
            raise InvalidInput("handler", "is not the case's handler")
        check_text("reason", reason)
        self.handler = None
        self.handlers_recused.append(handler)
        self.evidence += check_evidence(evidence)

    @event("Contacted")
    def contact(self, occurred_at: datetime, actor: Actor, evidence: Ev = ()) -> None:
        """The handler reached the complainant."""
        self._refuse_if_decided()
        self._require("contact", ("assigned", "contacted"), occurred_at)
        if self.handler is None:
            raise InvalidTransition("the case has no handler")
        self.status = "contacted"
        if self.contacted_at is None or occurred_at < self.contacted_at:
            self.contacted_at = occurred_at
        self.evidence += check_evidence(evidence)

    @event("Urged")
    def urge(
        self, by: str, note: Text | None, occurred_at: datetime, actor: Actor, evidence: Ev = ()
    ) -> None:
        """The complainant or the regulator urges the case (催办)."""
        self._require("urge", OPEN, occurred_at)
        if by not in URGED_BY:
            raise InvalidInput("by", f"must be one of {', '.join(URGED_BY)}")
        self.urges += 1
        self.evidence += check_evidence(evidence)

    def escalate(
        self, reason: str, occurred_at: datetime, actor: Actor, *, evidence: Ev = ()
    ) -> None:
        """A supervisor escalates the case; the actor is recorded as the approver."""
        self._require("escalate", IN_PROGRESS, occurred_at)
        check_text("reason", reason)
        self._escalated(reason, actor.name, occurred_at, actor, check_evidence(evidence))

    @event("Escalated")
    def _escalated(
        self, reason: str, approver: str, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.escalations.append(reason)
        self.evidence += evidence

    def extend(
        self,
        reason: str,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: ComplaintRules,
        complainant_notified: bool = True,
        evidence: Ev = (),
    ) -> None:
        """A supervisor (the approver) extends the period to the next level: 30, then 60 days."""
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

    @event("Extended")
    def _extended(
        self,
        level: int,
        days: int,
        reason: str,
        approver: str,
        complainant_notified: bool,
        occurred_at: datetime,
        actor: Actor,
        evidence: Evs,
    ) -> None:
        self.extensions.append(Extension(level, reason, approver, occurred_at))
        self.evidence += evidence

    @event("Paused")
    def pause(self, reason: str, occurred_at: datetime, actor: Actor, evidence: Ev = ()) -> None:
        """Stop the clock for an external appraisal, test or assessment."""
        self._refuse_if_decided()
        self._require("pause", BEFORE_DECISION, occurred_at)
        check_text("reason", reason)
        if self.paused:
            raise AlreadyPaused("the clock is already paused")
        self.pauses.append(Pause(start=occurred_at, end=None))
        self.evidence += check_evidence(evidence)

    @event("Resumed")
    def resume(self, occurred_at: datetime, actor: Actor, evidence: Ev = ()) -> None:
        """Restart the paused clock; the paused days are added to the deadline."""
        self._require("resume", OPEN, occurred_at)
        started = [p.start for p in self.pauses if p.end is None]
        if not started:
            raise NotPaused("the clock is not paused")
        if occurred_at < started[0]:
            raise InvalidInput("occurred_at", "a resumption cannot precede its pause")
        self.pauses = [replace(p, end=occurred_at) if p.end is None else p for p in self.pauses]
        self.evidence += check_evidence(evidence)

    @event("NewFactsReceived")
    def add_new_facts(
        self, summary: Text, occurred_at: datetime, actor: Actor, evidence: Ev = ()
    ) -> None:
        """New facts or reasons: the clock restarts from their receipt (levels and pauses anew)."""
        self._refuse_if_decided()
        self._require("add new facts to", BEFORE_DECISION, occurred_at)
        check_text("summary", summary)
        self._restart_clock(occurred_at)
        self.evidence += check_evidence(evidence)

    def _restart_clock(self, at: datetime) -> None:
        # Extensions and pauses count only from the clock start on (see `extension_level` and
        # `compute_clock`), so a restart needs no reset; a late, earlier restart changes nothing.
        self.clock_start = max(self.clock_start, at)

    # -- outcome -----------------------------------------------------------------------------

    @event("Decided")
    def decide(
        self,
        outcome: str,
        redress: Decimal,
        facts: Text,
        basis: Text,
        occurred_at: datetime,
        actor: Actor,
        root_causes: Sequence[str] = (),
        responsible_department: str | None = None,
        evidence: Ev = (),
    ) -> None:
        """Record the verified facts, basis, outcome and redress (a handler, the clock running),
        and the root causes and responsible department it is traced to, when known (溯源).

        Decided events recorded before root-cause tracing have neither: the defaults."""
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
        causes = tuple(check_root_causes(root_causes))
        if responsible_department is not None:
            check_text("responsible_department", responsible_department)
        self.decision = Decision(
            outcome, amount, facts, basis, occurred_at, causes, responsible_department
        )
        self.status = "decided"
        self.evidence += check_evidence(evidence)

    def notify(
        self,
        method: str,
        delivered_at: datetime | None,
        occurred_at: datetime,
        actor: Actor,
        *,
        evidence: Ev = (),
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

    @event("Notified")
    def _notified(
        self,
        method: str,
        delivered_at: datetime | None,
        remedies: list[str],
        occurred_at: datetime,
        actor: Actor,
        evidence: Evs,
    ) -> None:
        self.notice = Notice(method, delivered_at, tuple(remedies), notified_at=occurred_at)
        self.status = "notified"
        self.evidence += evidence

    @event("Closed")
    def close(self, occurred_at: datetime, actor: Actor, evidence: Ev = ()) -> None:
        """Close a notified case (the closure report is generated from the history)."""
        if self.status in IN_PROGRESS:
            raise NotNotified("the decision has not been notified")
        self._require("close", ("notified",), occurred_at)
        assert self.notice is not None
        self._not_before(occurred_at, self.notice.notified_at, "occurred_at", "the notice")
        self.status = "closed"
        self.closed_at = occurred_at
        self.evidence += check_evidence(evidence)

    def withdraw(self, occurred_at: datetime, actor: Actor, *, evidence: Ev = ()) -> None:
        """The complainant withdraws; the withdrawal is effective the day the case was received."""
        self._require("withdraw", IN_PROGRESS, occurred_at)
        self._withdrawn(self.received_at, occurred_at, actor, check_evidence(evidence))

    @event("Withdrawn")
    def _withdrawn(
        self, effective_at: datetime, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.status = "withdrawn"
        self.ended_at = occurred_at
        self.withdrawal_effective_at = effective_at
        self.evidence += evidence

    @event("Declined")
    def decline(self, reason: str, occurred_at: datetime, actor: Actor, evidence: Ev = ()) -> None:
        """Decline the case (not the complainant or an agent; a repeat with nothing new)."""
        self._refuse_if_decided()
        self._require("decline", BEFORE_DECISION, occurred_at)
        check_text("reason", reason)
        self.status = "declined"
        self.ended_at = occurred_at
        self.decline_reason = reason
        self.evidence += check_evidence(evidence)

    @event("MergedInto")
    def mark_merged(
        self, master_id: UUID, occurred_at: datetime, actor: Actor, evidence: Ev = ()
    ) -> None:
        """This complaint duplicates the open master case and is merged into it."""
        self._refuse_if_decided()
        self._require("merge", BEFORE_DECISION, occurred_at)
        if master_id == self.id:
            raise InvalidInput("master_id", "a complaint cannot be merged into itself")
        self.status = "merged"
        self.ended_at = occurred_at
        self.merged_into = master_id
        self.evidence += check_evidence(evidence)

    @event("DuplicateMerged")
    def add_duplicate(
        self,
        duplicate_id: UUID,
        new_facts: bool,
        occurred_at: datetime,
        actor: Actor,
        evidence: Ev = (),
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
        self.duplicates.append(duplicate_id)
        if new_facts:
            self._restart_clock(occurred_at)
        self.evidence += check_evidence(evidence)

    # -- review (核查) -------------------------------------------------------------------------

    def request_review(
        self,
        reason: Text,
        occurred_at: datetime,
        actor: Actor,
        *,
        rules: ComplaintRules,
        evidence: Ev = (),
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
        last_day, ends = review_window(self.notice.received_by_complainant_at, rules)
        if occurred_at > ends:
            raise ReviewWindowClosed(f"the review window closed at the end of {last_day}")
        self._review_requested(reason, occurred_at, actor, check_evidence(evidence))

    @event("ReviewRequested")
    def _review_requested(
        self, reason: Text, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.review = Review(reason, requested_at=occurred_at)
        self.status = "review_requested"
        self.evidence += evidence

    @event("ReviewDecided")
    def decide_review(
        self, outcome: str, basis: Text, occurred_at: datetime, actor: Actor, evidence: Ev = ()
    ) -> None:
        """Record the review's outcome (upheld, partly upheld, not upheld) and basis."""
        if self.status in ("notified", "closed", "review_decided"):
            raise InvalidTransition("there is no pending review")
        self._require("decide a review of", ("review_requested",), occurred_at)
        check_outcome(outcome)
        check_text("basis", basis)
        assert self.review is not None
        self._not_before(occurred_at, self.review.requested_at, "occurred_at", "the request")
        self.review = replace(self.review, outcome=outcome, basis=basis, decided_at=occurred_at)
        self.status = "review_decided"
        self.evidence += check_evidence(evidence)

    # -- guards ------------------------------------------------------------------------------

    def _require(self, action: str, allowed: Collection[str], occurred_at: datetime | None) -> None:
        """Refuse outside the `allowed` states, or at an instant before the receipt."""
        if self.status not in allowed:
            ended = _ENDED.get(self.status)
            if ended is not None:
                raise ended(f"cannot {action} the complaint: it is {self.status}")
            raise InvalidTransition(f"cannot {action} a complaint that is {self.status}")
        if occurred_at is not None:
            check_aware("occurred_at", occurred_at)
            self._not_before(occurred_at, self.received_at, "occurred_at", "the receipt")

    def _refuse_if_decided(self) -> None:
        if self.status in ("decided", "notified"):
            raise AlreadyDecided(f"the complaint is already {self.status}")

    def _check_handler(self, handler: str) -> None:
        check_text("handler", handler)
        if handler in self.handlers_recused:
            raise InvalidInput("handler", "was recused from this complaint")

    @staticmethod
    def _not_before(instant: datetime, earlier: datetime, field: str, what: str) -> None:
        if instant < earlier:
            raise InvalidInput(field, f"precedes {what}")


# Old topics resolve to the events of `Complaint`: `...ComplaintRecord.<Name>` is looked up as
# `Complaint.<Name>`. Registered here, at import, because every reader of complaint events
# imports this module before it reads them (it needs the class) and registering one topic
# is cheap; it uses the library's topic registry (`eventsourcing.utils`, pure, no I/O).
register_topic(FORMER_TOPIC, Complaint)
