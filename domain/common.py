"""Value objects and rules shared by every aggregate: actors, money, ids and business time."""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID, uuid5

CST = timezone(timedelta(hours=8), "CST")
"""China Standard Time (Asia/Shanghai has kept UTC+8 without daylight saving since 1991)."""

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_FUTURE_SKEW = timedelta(minutes=5)

# Fixed namespace so that stream ids derived from business keys are stable forever.
LEDGER_NAMESPACE = UUID("6c2f1f5e-5b8e-4d7a-9a51-7f3a0d0b8e11")


class DomainError(Exception):
    """Base of every business-rule refusal; the API maps it to 409 unless said otherwise."""

    rule = "business_rule"


class UnknownRecord(DomainError):
    """The record an event or command names does not exist (or may not be seen)."""

    rule = "unknown_record"


class InvalidInput(DomainError):
    """The input is malformed in a way only the domain can see (mapped to 422)."""

    rule = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a principal, and for partner events the partner's own event id."""

    name: str
    role: str
    partner_id: str | None = None
    source: str | None = None
    event_id: str | None = None


@functools.lru_cache(maxsize=8192)  # a batch names each stream a few times; UUIDs are immutable
def stream_id(kind: str, *key: str) -> UUID:
    """A stable stream id for a business key (encounter, policy, accumulator...)."""
    return uuid5(LEDGER_NAMESPACE, ":".join((kind, *key)))


def round_money(amount: Decimal) -> Decimal:
    """Round once to 0.01 CNY, half up (domain.md conventions)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def cst_date(instant: datetime) -> date:
    """The calendar date in China Standard Time of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("business instants must be timezone-aware")
    return instant.astimezone(CST).date()


def end_of_day(day: date) -> datetime:
    """The last instant (23:59:59.999999 CST) of a CST day, as aware UTC."""
    return datetime.combine(day, time.max, tzinfo=CST).astimezone(UTC)


def deadline(start: datetime, days: int, paused_days: int = 0) -> tuple[date, datetime]:
    """N calendar days from an event: day D excluded, ends at the end of D + N (+ paused days)."""
    due_date = cst_date(start) + timedelta(days=days + paused_days)
    return due_date, end_of_day(due_date)


def add_months(day: date, months: int) -> date:
    """Same date `months` later, or the last day of that month when the date does not exist."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_occurred_at(occurred_at: datetime, now: datetime) -> None:
    """Refuse an `occurred_at` without offset or more than five minutes in the future."""
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurred_at", "must carry a UTC offset (RFC 3339)")
    if occurred_at - now > MAX_FUTURE_SKEW:
        raise InvalidInput("occurred_at", "lies more than 5 minutes in the future")


class StaleVersion(DomainError):
    """A write conditioned on a version (If-Match) that is no longer current (412)."""

    rule = "stale_version"
