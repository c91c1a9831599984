"""Fact views of consumer education: one row per activity (its current figures: an
amendment replaces them) and one row per training session with a row per attendee, keyed by
a digest of the attendee (statistics count people, never name them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.education import EducationActivity
from domain.training import TrainingSession, attendee_key
from infrastructure.fact_views import FactView, cst, has_columns
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

    def rows_between(self, cursor: Cursor, start: str, end: str) -> list[dict[str, Any]]:
        """The activities that started in [start, end) (CST ISO text)."""
        return self.select(cursor, "started_at >= ? AND started_at < ?", (start, end))


# Instants as CST ISO text compare byte by byte: collation "C" on PostgreSQL.
DDL = {
    False: (
        "CREATE TABLE IF NOT EXISTS view_training_sessions (id TEXT PRIMARY KEY, "
        "held_at TEXT NOT NULL, hours_cents BIGINT NOT NULL, attendees INTEGER NOT NULL, "
        "position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS view_training_attendees (session_id TEXT NOT NULL, "
        "attendee TEXT NOT NULL, held_at TEXT NOT NULL, hours_cents BIGINT NOT NULL, "
        "PRIMARY KEY (session_id, attendee))",
    ),
    True: (
        'CREATE TABLE IF NOT EXISTS view_training_sessions (id TEXT COLLATE "C" PRIMARY KEY, '
        'held_at TEXT COLLATE "C" NOT NULL, hours_cents BIGINT NOT NULL, '
        "attendees INTEGER NOT NULL, position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS view_training_attendees "
        '(session_id TEXT COLLATE "C" NOT NULL, attendee TEXT COLLATE "C" NOT NULL, '
        'held_at TEXT COLLATE "C" NOT NULL, hours_cents BIGINT NOT NULL, '
        "PRIMARY KEY (session_id, attendee))",
    ),
}


class TrainingFacts:
    """Training sessions (never amended: one insert per session) and their attendees."""

    name = "training_sessions"
    topics = (get_topic(TrainingSession.Recorded),)  # type: ignore[attr-defined]

    def create(self, cursor: Cursor) -> None:
        sessions = ["id", "held_at", "hours_cents", "attendees", "position"]
        attendees = ["session_id", "attendee", "held_at", "hours_cents"]
        if not has_columns(cursor, "view_training_sessions", sessions) or not has_columns(
            cursor, "view_training_attendees", attendees
        ):
            cursor.execute("DROP TABLE IF EXISTS view_training_sessions")
            cursor.execute("DROP TABLE IF EXISTS view_training_attendees")
            cursor.execute("DELETE FROM projection_tracking WHERE view = ?", (self.name,))
        for statement in DDL[cursor.postgres]:
            cursor.execute(statement)
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS view_training_sessions_held_at "
            "ON view_training_sessions (held_at)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS view_training_attendees_held_at "
            "ON view_training_attendees (held_at)"
        )

    def clear(self, cursor: Cursor) -> None:
        cursor.execute("DELETE FROM view_training_attendees")
        cursor.execute("DELETE FROM view_training_sessions")

    def prepare(self, events: Sequence[tuple[int, Any]]) -> tuple[list[Any], list[Any]]:
        sessions: list[tuple[Any, ...]] = []
        attendees: list[tuple[Any, ...]] = []
        for position, e in events:
            held_at = cst(e.held_at)
            cents = int(e.hours * 100)
            sessions.append((str(e.originator_id), held_at, cents, len(e.attendees), position))
            attendees.extend(
                (str(e.originator_id), attendee_key(a), held_at, cents) for a in e.attendees
            )
        return sessions, attendees

    def apply(self, cursor: Cursor, prepared: tuple[list[Any], list[Any]]) -> None:
        sessions, attendees = prepared
        if sessions:
            cursor.executemany(
                "INSERT INTO view_training_sessions (id, held_at, hours_cents, attendees, "
                "position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                sessions,
            )
        if attendees:
            cursor.executemany(
                "INSERT INTO view_training_attendees (session_id, attendee, held_at, hours_cents) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (session_id, attendee) DO NOTHING",
                attendees,
            )
