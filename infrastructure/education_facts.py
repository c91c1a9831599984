"""Fact views of consumer education: one row per activity (its current figures: an
amendment replaces them) and one row per training session with a row per attendee, keyed by
a digest of the attendee (statistics count people, never name them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.education import EducationActivity
from domain.training import TrainingSession, attendee_key
from infrastructure.dialect import Statement, marks
from infrastructure.fact_views import FactView, cst, ensure_table, has_columns
from infrastructure.projections import Cursor


class ActivityFacts(FactView):
    """One row per education activity: its date (the start, CST), dimensions and figures."""

    name = "education_activities"
    table = "view_education_activities"
    columns = (
        ("id", "TEXT PRIMARY KEY"),
        ("started_at", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("channel", "TEXT NOT NULL"),
        ("campaign", "TEXT NOT NULL"),
        ("region", "TEXT NOT NULL"),
        ("audiences", "TEXT NOT NULL"),  # comma-separated codes
        ("participants", "BIGINT NOT NULL"),
        ("views", "BIGINT NOT NULL"),
        ("position", "BIGINT NOT NULL"),
    )
    indexed = ("started_at",)

    def __init__(self, loader: Callable[[Any, int], Any]) -> None:
        super().__init__(EducationActivity, loader)

    def row(self, a: EducationActivity, position: int) -> tuple[Any, ...]:
        return (
            str(a.id),
            cst(a.started_at),
            a.kind,
            a.channel,
            a.campaign,
            a.region,
            ",".join(a.audiences),
            a.participants,
            a.views,
            position,
        )


SESSIONS = "view_training_sessions"
ATTENDEES = "view_training_attendees"
SESSION_COLUMNS = (
    ("id", "TEXT PRIMARY KEY"),
    ("held_at", "TEXT NOT NULL"),
    ("hours_cents", "BIGINT NOT NULL"),
    ("attendees", "INTEGER NOT NULL"),
    ("position", "BIGINT NOT NULL"),
)
ATTENDEE_COLUMNS = (
    ("id", "TEXT PRIMARY KEY"),  # session id : attendee key
    ("session_id", "TEXT NOT NULL"),
    ("attendee", "TEXT NOT NULL"),  # attendee_key: a digest, never the name
    ("held_at", "TEXT NOT NULL"),
    ("hours_cents", "BIGINT NOT NULL"),
)
INSERT_SESSION = Statement(
    "INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT (id) DO NOTHING",
    table=SESSIONS,
    names=[n for n, _ in SESSION_COLUMNS],
    values=marks(len(SESSION_COLUMNS)),
)
INSERT_ATTENDEE = Statement(
    "INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT (id) DO NOTHING",
    table=ATTENDEES,
    names=[n for n, _ in ATTENDEE_COLUMNS],
    values=marks(len(ATTENDEE_COLUMNS)),
)


class TrainingFacts:
    """Training sessions (never amended: one insert per session) and their attendees."""

    name = "training_sessions"
    topics = (get_topic(TrainingSession.Recorded),)  # type: ignore[attr-defined]

    def create(self, cursor: Cursor) -> None:
        tables = ((SESSIONS, SESSION_COLUMNS), (ATTENDEES, ATTENDEE_COLUMNS))
        changed = not all(has_columns(cursor, t, [n for n, _ in c]) for t, c in tables)
        for table, columns in tables:
            # Both tables go together: one changed means the view is recomputed whole.
            ensure_table(cursor, table, columns, {"held_at": ["held_at"]}, self.name, changed)

    def clear(self, cursor: Cursor) -> None:
        for table in (ATTENDEES, SESSIONS):
            cursor.execute(Statement("DELETE FROM {table}", table=table))

    def prepare(self, events: Sequence[tuple[int, Any]]) -> tuple[list[Any], list[Any]]:
        sessions: list[tuple[Any, ...]] = []
        attendees: list[tuple[Any, ...]] = []
        for position, e in events:
            held_at = cst(e.held_at)
            cents = int(e.hours * 100)
            sessions.append((str(e.originator_id), held_at, cents, len(e.attendees), position))
            session = str(e.originator_id)
            for name in e.attendees:
                key = attendee_key(name)
                attendees.append((f"{session}:{key}", session, key, held_at, cents))
        return sessions, attendees

    def apply(self, cursor: Cursor, prepared: tuple[list[Any], list[Any]]) -> None:
        sessions, attendees = prepared
        if sessions:
            cursor.executemany(INSERT_SESSION, sessions)
        if attendees:
            cursor.executemany(INSERT_ATTENDEE, attendees)
