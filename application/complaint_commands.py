"""The complaint department's commands (投诉处理), one frozen dataclass each.

The routes and the 12378 event types build them; `application.complaints.ComplaintDesk` has
one method for each. How a staff command came (`Sent`: who, when, its Idempotency-Key and
If-Match) travels beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from application.commands import CommandKey
from application.gateway import Meta
from domain.complaints import Evidence


@dataclass(frozen=True)
class Sent:
    """How a staff command came: who sent it and when (`meta`), its Idempotency-Key (replays
    answer with the first response) and the If-Match version (a stale one is refused)."""

    meta: Meta
    key: CommandKey | None = None
    if_match: int | None = None


@dataclass(frozen=True)
class Intake:
    """A complaint as received (personal values in clear, sealed at intake)."""

    channel: str
    complainant: dict[str, str]
    matter: str
    request: str
    cause: str
    line: str
    region: str
    agent: dict[str, str] | None = None
    facts: str | None = None
    policy_id: str | None = None
    claim_id: str | None = None
    transfer_id: str | None = None
    new_facts: bool = False
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class TransferComplaint:
    """`xiaobao.regulator.complaint-transferred.v1`: a 12378 transfer."""

    intake: Intake


@dataclass(frozen=True)
class UrgeComplaint:
    """`xiaobao.regulator.urged.v1`: the regulator urges a case."""

    complaint_id: UUID | None
    transfer_id: str | None
    note: str


@dataclass(frozen=True)
class BulkReassign:
    """Reassign several cases to one handler (supervisor), all or none."""

    ids: tuple[UUID, ...]
    handler: str


@dataclass(frozen=True, kw_only=True)
class CaseCommand:
    """A command on one complaint, with the evidence it attaches."""

    complaint_id: UUID
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReasonCommand(CaseCommand):
    """A command on one complaint that states its reason."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class Assign(CaseCommand):
    """Give the case to a handler."""

    handler: str


@dataclass(frozen=True, kw_only=True)
class Reassign(CaseCommand):
    """Move the case to another handler (supervisor)."""

    handler: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Recuse(ReasonCommand):
    """The case's handler withdraws (回避); the case is routed again."""


@dataclass(frozen=True, kw_only=True)
class Contact(CaseCommand):
    """The handler reached the complainant."""


@dataclass(frozen=True, kw_only=True)
class Urge(CaseCommand):
    """The complainant or the regulator urges the case (催办)."""

    by: str = "complainant"
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Escalate(ReasonCommand):
    """A supervisor escalates the case."""


@dataclass(frozen=True, kw_only=True)
class Extend(ReasonCommand):
    """A supervisor extends the decision period to its next level."""


@dataclass(frozen=True, kw_only=True)
class Pause(ReasonCommand):
    """Stop the clock for an external appraisal."""


@dataclass(frozen=True, kw_only=True)
class Resume(CaseCommand):
    """Restart the paused clock."""


@dataclass(frozen=True, kw_only=True)
class AddNewFacts(CaseCommand):
    """New facts or reasons: the clock restarts."""

    summary: str


@dataclass(frozen=True, kw_only=True)
class Decide(CaseCommand):
    """The decision: outcome, redress, verified facts and basis, and what it is traced to."""

    outcome: str
    redress: Decimal
    facts: str
    basis: str
    root_causes: tuple[str, ...] = ()
    responsible_department: str | None = None


@dataclass(frozen=True, kw_only=True)
class Notify(CaseCommand):
    """The notice of the decision to the complainant."""

    method: str = "letter"
    delivered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Withdraw(CaseCommand):
    """The complainant withdraws."""


@dataclass(frozen=True, kw_only=True)
class Decline(ReasonCommand):
    """Decline the case, with the reason."""


@dataclass(frozen=True, kw_only=True)
class Close(CaseCommand):
    """Close a notified case."""


@dataclass(frozen=True, kw_only=True)
class RequestReview(ReasonCommand):
    """Ask for a review (核查) of the decision."""


@dataclass(frozen=True, kw_only=True)
class DecideReview(CaseCommand):
    """The review's outcome and basis."""

    outcome: str
    basis: str
