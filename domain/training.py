"""The TrainingSession aggregate: one consumer-protection training session for staff (消保培训),
with its hours, the staff attending (principal names or staff ids) and optional test scores."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidInput
from domain.education import check_instant

MAX_HOURS = Decimal(24)
MAX_SCORE = Decimal(100)
HOUR_PLACES = Decimal("0.01")
STAFF_ROLES = frozenset({"handler", "supervisor", "report_officer", "compliance", "educator"})
"""Consumer-protection staff, whom training coverage counts: the principals of these roles."""


def attendee_key(attendee: str) -> str:
    """The key under which statistics count an attendee (a digest, never the name)."""
    return hashlib.sha256(attendee.strip().encode()).hexdigest()


def staff_keys(principals: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The attendee keys of the consumer-protection staff among (name, role) pairs."""
    return frozenset(attendee_key(name) for name, role in principals if role in STAFF_ROLES)


def check_training(
    *, hours: Decimal, held_at: datetime, attendees: Sequence[str], scores: Mapping[str, Decimal]
) -> None:
    """Every field of a session, each refusal naming its field (422)."""
    if not hours.is_finite() or hours <= 0:
        raise InvalidInput("hours", "must be greater than zero")
    if hours > MAX_HOURS:
        raise InvalidInput("hours", f"a session lasts at most {MAX_HOURS} hours")
    if hours != hours.quantize(HOUR_PLACES):
        raise InvalidInput("hours", "at most two decimal places")
    check_instant("held_at", held_at)
    if not attendees:
        raise InvalidInput("attendees", "name at least one attendee")
    for index, attendee in enumerate(attendees):
        if not attendee.strip():
            raise InvalidInput(f"attendees[{index}]", "must not be empty")
    if len(set(attendees)) != len(attendees):
        raise InvalidInput("attendees", "an attendee is listed twice")
    for attendee, score in scores.items():
        if attendee not in attendees:
            raise InvalidInput(f"scores.{attendee}", "scores belong to attendees")
        if not score.is_finite() or not Decimal(0) <= score <= MAX_SCORE:
            raise InvalidInput(f"scores.{attendee}", f"must lie between 0 and {MAX_SCORE}")


class TrainingSession(Aggregate):
    """A staff training session on consumer protection."""

    @event("Recorded")
    def __init__(
        self,
        *,
        topic: str,
        trainer: str,
        hours: Decimal,
        held_at: datetime,
        attendees: tuple[str, ...],
        scores: dict[str, Decimal],
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        check_training(hours=hours, held_at=held_at, attendees=attendees, scores=scores)
        self.topic = topic
        self.trainer = trainer
        self.hours = hours
        self.held_at = held_at
        self.attendees = tuple(attendees)
        self.scores = dict(scores)
        self.recorded_by = actor.name

    @property
    def attendee_hours(self) -> Decimal:
        """Person-hours of the session (hours × attendees)."""
        return self.hours * len(self.attendees)
