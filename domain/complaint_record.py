"""What a complaint's events record and how each one changes the case.

`ComplaintRecord` holds the state, the guards the commands share and the private `@event`
mutators; `domain.complaints.Complaint` adds the commands, which check the rules before they
record anything (the split only keeps each module small). Events of the mutators here have
topics `domain.complaint_record:ComplaintRecord.<Name>`; only `Received` (the created event)
is `domain.complaints:Complaint.Received`. Not used alone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidInput
from domain.complaint_clock import ClockState, ComplaintRules, Pause, compute_clock
from domain.complaint_values import (
    AlreadyDecided,
    CaseMerged,
    ComplaintClosed,
    ComplaintDeclined,
    ComplaintWithdrawn,
    Decision,
    Evidence,
    Extension,
    InvalidTransition,
    Notice,
    Review,
    check_aware,
    check_text,
)
from domain.personal import Sealed

BEFORE_DECISION = frozenset({"received", "assigned", "contacted"})
IN_PROGRESS = BEFORE_DECISION | {"decided"}
OPEN = IN_PROGRESS | {"notified"}
Evs = list[Evidence]
_ENDED: dict[str, type[ComplaintClosed]] = {
    "closed": ComplaintClosed,
    "review_requested": ComplaintClosed,
    "review_decided": ComplaintClosed,
    "withdrawn": ComplaintWithdrawn,
    "declined": ComplaintDeclined,
    "merged": CaseMerged,
}


class ComplaintRecord(Aggregate):
    """A complaint's state and the events that change it (see `Complaint` for the commands)."""

    @event("Received")
    def __init__(
        self,
        *,
        complaint_id: UUID,
        channel: str,
        complainant_ref: str,
        complainant: dict[str, Sealed],
        agent: dict[str, Sealed] | None,
        matter: str,
        request: str,
        facts: str | None,
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

    # -- guards (used by the commands) ------------------------------------------------------

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

    # -- mutators (they run again at every replay: no checks here) ---------------------------

    @event("Assigned")
    def _assigned(self, handler: str, occurred_at: datetime, actor: Actor, evidence: Evs) -> None:
        self.handler = handler
        self.status = "assigned" if self.status == "received" else self.status
        self.evidence += evidence

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
    def _recused(
        self, handler: str, reason: str, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.handler = None
        self.handlers_recused.append(handler)
        self.evidence += evidence

    @event("Contacted")
    def _contacted(self, occurred_at: datetime, actor: Actor, evidence: Evs) -> None:
        self.status = "contacted"
        if self.contacted_at is None or occurred_at < self.contacted_at:
            self.contacted_at = occurred_at
        self.evidence += evidence

    @event("Urged")
    def _urged(
        self, by: str, note: str | None, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.urges += 1
        self.evidence += evidence

    @event("Escalated")
    def _escalated(
        self, reason: str, approver: str, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.escalations.append(reason)
        self.evidence += evidence

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
    def _paused(self, reason: str, occurred_at: datetime, actor: Actor, evidence: Evs) -> None:
        self.pauses.append(Pause(start=occurred_at, end=None))
        self.evidence += evidence

    @event("Resumed")
    def _resumed(self, occurred_at: datetime, actor: Actor, evidence: Evs) -> None:
        self.pauses = [replace(p, end=occurred_at) if p.end is None else p for p in self.pauses]
        self.evidence += evidence

    @event("NewFactsReceived")
    def _new_facts_received(
        self, summary: str, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self._restart_clock(occurred_at)
        self.evidence += evidence

    def _restart_clock(self, at: datetime) -> None:
        # Extensions and pauses count only from the clock start on (see `extension_level` and
        # `compute_clock`), so a restart needs no reset; a late, earlier restart changes nothing.
        self.clock_start = max(self.clock_start, at)

    @event("Decided")
    def _decided(
        self,
        outcome: str,
        redress: Decimal,
        facts: str,
        basis: str,
        occurred_at: datetime,
        actor: Actor,
        evidence: Evs,
    ) -> None:
        self.decision = Decision(outcome, redress, facts, basis, decided_at=occurred_at)
        self.status = "decided"
        self.evidence += evidence

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
    def _closed(self, occurred_at: datetime, actor: Actor, evidence: Evs) -> None:
        self.status = "closed"
        self.closed_at = occurred_at
        self.evidence += evidence

    @event("Withdrawn")
    def _withdrawn(
        self, effective_at: datetime, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.status = "withdrawn"
        self.ended_at = occurred_at
        self.withdrawal_effective_at = effective_at
        self.evidence += evidence

    @event("Declined")
    def _declined(self, reason: str, occurred_at: datetime, actor: Actor, evidence: Evs) -> None:
        self.status = "declined"
        self.ended_at = occurred_at
        self.decline_reason = reason
        self.evidence += evidence

    @event("MergedInto")
    def _merged_into(
        self, master_id: UUID, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.status = "merged"
        self.ended_at = occurred_at
        self.merged_into = master_id
        self.evidence += evidence

    @event("DuplicateMerged")
    def _duplicate_merged(
        self,
        duplicate_id: UUID,
        new_facts: bool,
        occurred_at: datetime,
        actor: Actor,
        evidence: Evs,
    ) -> None:
        self.duplicates.append(duplicate_id)
        if new_facts:
            self._restart_clock(occurred_at)
        self.evidence += evidence

    @event("ReviewRequested")
    def _review_requested(
        self, reason: str, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        self.review = Review(reason, requested_at=occurred_at)
        self.status = "review_requested"
        self.evidence += evidence

    @event("ReviewDecided")
    def _review_decided(
        self, outcome: str, basis: str, occurred_at: datetime, actor: Actor, evidence: Evs
    ) -> None:
        if self.review is not None:
            self.review = replace(self.review, outcome=outcome, basis=basis, decided_at=occurred_at)
        self.status = "review_decided"
        self.evidence += evidence
