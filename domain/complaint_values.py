"""Complaint codes, value objects, refusals, input checks and same-matter keys, without I/O.

Refusals form one tree under `ComplaintError`, each naming its `rule`. A case that has left
the process refuses further commands with `ComplaintClosed` or one of its subclasses
(`ComplaintWithdrawn`, `ComplaintDeclined`, `CaseMerged`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from domain.common import CENT, DomainError, InvalidInput
from domain.personal import Sealed, Text

CHANNELS = ("12378", "hotline", "app", "online", "letter", "visit")
REGULATOR_CHANNEL = "12378"
OUTCOMES = ("upheld", "partly_upheld", "not_upheld")
URGED_BY = ("complainant", "regulator")
REMEDIES = ("review", "mediation", "arbitration", "litigation")  # 核查, 调解, 仲裁, 诉讼
ROOT_CAUSES = (  # 投诉溯源 (domain.md section 7)
    "product_design",
    "sales_practice",
    "underwriting",
    "claims_service",
    "customer_service",
    "third_party",
    "system",
    "other",
)
PERSON_FIELDS = frozenset({"id", "name", "phone"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ComplaintError(DomainError):
    """Base of the complaint's business-rule refusals."""


class InvalidTransition(ComplaintError):
    """The command does not apply in the complaint's current state."""

    rule = "invalid_transition"


class ComplaintClosed(ComplaintError):
    """A closed case (or one under review) takes no further handling commands."""

    rule = "complaint_closed"


class ComplaintWithdrawn(ComplaintClosed):
    """The complainant withdrew the complaint."""

    rule = "complaint_withdrawn"


class ComplaintDeclined(ComplaintClosed):
    """The complaint was declined."""

    rule = "complaint_declined"


class CaseMerged(ComplaintClosed):
    """The complaint was merged into a master case; act on the master."""

    rule = "case_merged"


class NotDecided(ComplaintError):
    """A notice needs a decision."""

    rule = "not_decided"


class AlreadyDecided(ComplaintError):
    """The step belongs before the decision."""

    rule = "already_decided"


class NotNotified(ComplaintError):
    """Closure and review need the notice of the decision."""

    rule = "not_notified"


class ExtensionLimitReached(ComplaintError):
    """The clock was already extended to its last level (60 days by default)."""

    rule = "extension_limit_reached"


class AlreadyPaused(ComplaintError):
    """The clock is already paused."""

    rule = "already_paused"


class NotPaused(ComplaintError):
    """Only a paused clock can be resumed."""

    rule = "not_paused"


class ClockPaused(ComplaintError):
    """A decision waits until the paused clock is resumed (the appraisal has come back)."""

    rule = "clock_paused"


class ReviewWindowClosed(ComplaintError):
    """A review (核查) must be requested within the window after the notice (30 days)."""

    rule = "review_window_closed"


@dataclass(frozen=True)
class Evidence:
    """A reference to a piece of evidence held outside the log, with its SHA-256 digest."""

    name: str
    sha256: str
    ref: str


@dataclass(frozen=True)
class Extension:
    """An extension of the decision period, approved by a supervisor."""

    level: int
    reason: str
    approver: str
    occurred_at: datetime


@dataclass(frozen=True)
class Decision:
    """The verified facts, basis, outcome and redress of a complaint, and where it is traced
    to (root causes and the responsible department; none on decisions recorded before)."""

    outcome: str
    redress: Decimal
    facts: Text
    basis: Text
    decided_at: datetime
    root_causes: tuple[str, ...] = ()
    responsible_department: str | None = None


@dataclass(frozen=True)
class Notice:
    """The notice of the decision; it lists the remedies open to the complainant."""

    method: str
    delivered_at: datetime | None
    remedies: tuple[str, ...]
    notified_at: datetime

    @property
    def received_by_complainant_at(self) -> datetime:
        """When the complainant had the notice (delivered, else sent): the review window starts."""
        return self.delivered_at or self.notified_at


@dataclass(frozen=True)
class Review:
    """A review (核查) of the decision, requested after the notice."""

    reason: Text
    requested_at: datetime
    outcome: str | None = None
    basis: Text | None = None
    decided_at: datetime | None = None


def check_text(field: str, value: Text | None) -> None:
    """Refuse a missing or blank text field (a sealed one was checked before sealing)."""
    if isinstance(value, Sealed):
        return
    if value is None or not value.strip():
        raise InvalidInput(field, "must not be empty")


def check_aware(field: str, value: datetime) -> None:
    """Refuse an instant without a UTC offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must carry a UTC offset")


def check_person(field: str, person: dict[str, Sealed]) -> None:
    """A complainant or agent: sealed id and name, optionally a sealed phone, nothing else."""
    if not {"id", "name"} <= person.keys() <= PERSON_FIELDS:
        raise InvalidInput(field, "needs id and name, and may add phone only")


def check_evidence(evidence: Sequence[Evidence] | None) -> list[Evidence]:
    """Evidence references as a list, each with a SHA-256 digest and a reference."""
    for item in evidence or ():
        if not _SHA256.fullmatch(item.sha256):
            raise InvalidInput("evidence", f"{item.name!r}: sha256 must be 64 lowercase hex digits")
        check_text("evidence", item.name)
        check_text("evidence", item.ref)
    return list(evidence or ())


def check_outcome(outcome: str) -> None:
    """Upheld, partly upheld or not upheld."""
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome", f"must be one of {', '.join(OUTCOMES)}")


def check_redress(outcome: str, redress: Decimal) -> Decimal:
    """Redress in CNY: finite, not negative, at most 2 decimals, none when not upheld."""
    if not redress.is_finite() or redress < 0:
        raise InvalidInput("redress", "must be a non-negative amount")
    try:
        rounded = redress.quantize(CENT)
    except InvalidOperation:
        raise InvalidInput("redress", "is too large") from None
    if rounded != redress:
        raise InvalidInput("redress", "must have at most 2 decimals")
    if outcome == "not_upheld" and redress > 0:
        raise InvalidInput("redress", "a complaint not upheld carries no redress")
    return rounded


def check_root_causes(codes: Sequence[str]) -> list[str]:
    """Root-cause codes of `ROOT_CAUSES`, each named once."""
    for code in codes:
        if code not in ROOT_CAUSES:
            raise InvalidInput("root_causes", f"{code!r} is not one of {', '.join(ROOT_CAUSES)}")
    if len(set(codes)) != len(codes):
        raise InvalidInput("root_causes", "names a code twice")
    return list(codes)


def _part(value: str) -> str:
    # Escaped so that no id can forge another key by containing the separator.
    return value.replace("%", "%25").replace("|", "%7C")


def matter_keys(
    complainant_ref: str,
    cause: str,
    policy_id: str | None,
    claim_id: str | None,
    claim_policy_id: str | None,
) -> list[str]:
    """Keys of a complaint's matter (重复投诉): two complaints are on the same matter exactly
    when their key lists share at least one key.

    Every key starts with the complainant's blind index and the cause, so matching needs the
    same complainant and cause. A complaint naming neither policy nor claim has only the key
    `ref|cause|-`, so it matches only complaints that name neither. Otherwise its keys are
    `ref|cause|policy:P` for the policy it names and for the policy its claim belongs to
    (`claim_policy_id`, looked up by the application), and `ref|cause|claim:C` for its claim:
    it matches a complaint naming the same claim, or the same policy directly or through a
    claim under it (so two different claims under one policy are the same matter).
    """
    if claim_policy_id is not None and claim_id is None:
        raise ValueError("claim_policy_id belongs to a named claim")
    base = f"{_part(complainant_ref)}|{_part(cause)}|"
    keys: list[str] = []
    for policy in (policy_id, claim_policy_id):
        if policy is not None and f"{base}policy:{_part(policy)}" not in keys:
            keys.append(f"{base}policy:{_part(policy)}")
    if claim_id is not None:
        keys.append(f"{base}claim:{_part(claim_id)}")
    return keys or [f"{base}-"]
