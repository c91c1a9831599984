"""Education statistics (domain.md §5, section 4 style): activities, participants, views and
the 一老一小 share, per period by the activity's start (CST), in total and grouped by up to
two of kind, channel, campaign, region and audience — an activity with two audiences counts
once in the total and once in each audience group; training sessions, hours, hours per
person and coverage of the consumer-protection staff by the session's date (CST).

Staff are the principals of the roles in `domain.training.STAFF_ROLES`, as the principals
file lists them when the figures are asked for; `coverage` is the share of them who attended
a session in the period and `hours_per_person` their training hours divided by their number.
Attendees are matched by a digest of the name (`attendee_key`): no name is read here.

The figures come from the fact views (education_facts.py), read in one snapshot with their
tracking positions: the database sums each combination of the dimensions, the groups are
folded from those combinations here (no SQL is composed)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from domain.education import ONE_OLD_ONE_YOUNG
from infrastructure.complaint_stats import Period
from infrastructure.dialect import Statement
from infrastructure.projections import ViewStore

DIMENSIONS = ("kind", "channel", "campaign", "region", "audience")
VIEWS = ("education_activities", "training_sessions")
# Summed by the database per combination of the dimensions (a few rows per period, whatever
# the number of activities); the groups asked for are folded from those combinations.
ACTIVITIES = Statement(
    "SELECT kind, channel, campaign, region, audiences, COUNT(*), SUM(participants), "
    "SUM(views) FROM view_education_activities WHERE started_at >= {p} AND started_at < {p} "
    "GROUP BY kind, channel, campaign, region, audiences"
)
SESSIONS = Statement(
    "SELECT COUNT(*), COALESCE(SUM(hours_cents), 0) FROM view_training_sessions "
    "WHERE held_at >= {p} AND held_at < {p}"
)
ATTENDEES = Statement(
    "SELECT attendee, SUM(hours_cents) FROM view_training_attendees "
    "WHERE held_at >= {p} AND held_at < {p} GROUP BY attendee"
)
RATE = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")
Key = tuple[str, ...]


class EducationStatistics:
    """Education figures per period and group, with the position they reflect."""

    def __init__(self, views: ViewStore, staff: Callable[[], frozenset[str]]) -> None:
        self.views = views
        self.staff = staff  # the attendee keys of the consumer-protection staff, now

    def tracked(self) -> int:
        """The position both education views have reached."""
        known = self.views.positions()
        return min(known.get(v, 0) for v in VIEWS)

    def figures(self, period: Period, by: tuple[str, ...]) -> dict[str, Any]:
        """`position`, `totals` (activity and training figures) and `groups` (activity
        figures per group)."""
        bounds = (period.start.isoformat(), period.end.isoformat())
        with self.views.snapshot() as cur:
            position = min(self.views.position(cur, v) for v in VIEWS)
            cur.execute(ACTIVITIES, bounds)
            activities = cur.fetchall()
            cur.execute(SESSIONS, bounds)
            sessions, hours_cents = (int(v or 0) for v in cur.fetchall()[0])
            cur.execute(ATTENDEES, bounds)
            attended = {str(a): int(h or 0) for a, h in cur.fetchall()}
        totals = Sums()
        groups: dict[Key, Sums] = {}
        for kind, channel, campaign, region, audiences, count, participants, views in activities:
            reached = tuple(a for a in str(audiences).split(",") if a)
            fields = {"kind": kind, "channel": channel, "campaign": campaign, "region": region}
            sums = (
                int(count),
                int(participants or 0),
                int(views or 0),
                bool(ONE_OLD_ONE_YOUNG.intersection(reached)),
            )
            totals.add(*sums)
            for key in _keys(by, fields, reached):
                groups.setdefault(key, Sums()).add(*sums)
        staff = self.staff()
        trained = {a: h for a, h in attended.items() if a in staff}
        training = {
            "training_sessions": sessions,
            "training_hours": _hours(hours_cents),
            "attendees": len(attended),
            "attendee_hours": _hours(sum(attended.values())),
            "staff": len(staff),
            "trained_staff": len(trained),
            "coverage": _rate(len(trained), len(staff)),
            "hours_per_person": (
                None
                if not staff
                else str((Decimal(sum(trained.values())) / 100 / len(staff)).quantize(TWO_PLACES))
            ),
        }
        return {
            "position": position,
            "totals": {**totals.figures(), **training},
            "groups": [
                {"key": dict(zip(by, key, strict=True)), **sums.figures()}
                for key, sums in sorted(groups.items())
            ],
        }


class Sums:
    """Activity figures of one group."""

    def __init__(self) -> None:
        self.activities = self.participants = self.views = self.one_old_one_young = 0

    def add(self, activities: int, participants: int, views: int, reaching: bool) -> None:
        """Add `activities` activities with these summed figures, reaching 一老一小 or not."""
        self.activities += activities
        self.participants += participants
        self.views += views
        self.one_old_one_young += activities if reaching else 0

    def figures(self) -> dict[str, Any]:
        return {
            "activities": self.activities,
            "participants": self.participants,
            "views": self.views,
            "one_old_one_young": self.one_old_one_young,
            "one_old_one_young_share": _rate(self.one_old_one_young, self.activities),
        }


def with_knowledge(education: dict[str, Any], knowledge: dict[str, Any]) -> dict[str, Any]:
    """The education figures with the knowledge base's (`KnowledgeStatistics.figures`):
    published articles, questions answered and handed off in the totals, per category and
    per day under `knowledge`; the position is the lower of the two views'."""
    known = knowledge["totals"]
    return {
        **education,
        "position": min(education["position"], knowledge["position"]),
        "totals": {
            **education["totals"],
            "published_articles": known["published_articles"],
            "questions_answered": known["answered"],
            "questions_handed_off": known["handed_off"],
        },
        "knowledge": {"categories": knowledge["groups"], "days": knowledge["days"]},
    }


def _keys(by: tuple[str, ...], fields: dict[str, str], audiences: Key) -> list[Key]:
    """The groups an activity counts in: one per audience when grouped by audience."""
    if not by:
        return []
    if "audience" not in by:
        return [tuple(fields[d] for d in by)]
    return [tuple(a if d == "audience" else fields[d] for d in by) for a in audiences]


def _rate(part: int, whole: int) -> str | None:
    return None if whole == 0 else str((Decimal(part) / Decimal(whole)).quantize(RATE))


def _hours(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(TWO_PLACES))
