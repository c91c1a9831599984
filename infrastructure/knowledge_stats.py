"""Knowledge-base figures (domain.md section 5, statistics): published articles per
category, and questions answered and handed off per CST day.

`view_knowledge_articles` holds one row per article (its category and whether a version of
it is published); `view_knowledge_days` one row per day with the answered count (summed from
the processes' `AnswerTally` events) and the handed-off count (one `KnowledgeGap` each).
`recount` computes the same figures from the events themselves, for reconciliation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from application.ledger import topics_of
from domain.common import cst_date
from domain.knowledge import KnowledgeArticle
from domain.knowledge_gaps import AnswerTally, KnowledgeGap
from infrastructure.complaint_stats import Period
from infrastructure.dialect import Statement
from infrastructure.projections import Cursor, ViewStore

VIEW = "knowledge_facts"
CREATE_ARTICLES = Statement(
    "CREATE TABLE IF NOT EXISTS view_knowledge_articles "
    "(id TEXT PRIMARY KEY, category TEXT NOT NULL, published INTEGER NOT NULL)"
)
CREATE_DAYS = Statement(
    "CREATE TABLE IF NOT EXISTS view_knowledge_days "
    "(day TEXT PRIMARY KEY, answered BIGINT NOT NULL, handed_off BIGINT NOT NULL)"
)
UPSERT_ARTICLE = Statement(
    "INSERT INTO view_knowledge_articles (id, category, published) VALUES ({p}, {p}, {p}) "
    "ON CONFLICT (id) DO UPDATE SET category = excluded.category, "
    "published = excluded.published"
)
ADD_TO_DAY = Statement(
    "INSERT INTO view_knowledge_days (day, answered, handed_off) VALUES ({p}, {p}, {p}) "
    "ON CONFLICT (day) DO UPDATE SET "
    "answered = view_knowledge_days.answered + excluded.answered, "
    "handed_off = view_knowledge_days.handed_off + excluded.handed_off"
)
CLEAR_ARTICLES = Statement("DELETE FROM view_knowledge_articles")
CLEAR_DAYS = Statement("DELETE FROM view_knowledge_days")
PUBLISHED_PER_CATEGORY = Statement(
    "SELECT category, COUNT(*) FROM view_knowledge_articles WHERE published = 1 GROUP BY category"
)
DAYS = Statement(
    "SELECT day, answered, handed_off FROM view_knowledge_days WHERE day >= {p} AND day < {p}"
)


@dataclass
class KnowledgeCounts:
    """What a batch of events (or the whole log) says: articles' category and whether
    published, and per day the answered and handed-off questions."""

    articles: dict[str, tuple[str, bool]] = field(default_factory=dict)
    answered: Counter[date] = field(default_factory=Counter)
    handed_off: Counter[date] = field(default_factory=Counter)

    def add(self, event: Any) -> None:
        kind = type(event).__qualname__
        if kind == "KnowledgeArticle.Published":
            self.articles[str(event.originator_id)] = (event.content.category, True)
        elif kind == "KnowledgeArticle.Retired":
            self.articles[str(event.originator_id)] = (event.category, False)
        elif kind == "KnowledgeGap.Recorded":
            self.handed_off[event.day] += 1
        elif kind == "AnswerTally.Counted":
            self.answered[event.day] += event.answered


class KnowledgeFacts:
    """The projection (on the engine of infrastructure/projections.py)."""

    name = VIEW
    topics = sorted(
        t
        for t in (*topics_of(KnowledgeArticle), *topics_of(KnowledgeGap), *topics_of(AnswerTally))
        if t.endswith((".Published", ".Retired", ".Recorded", ".Counted"))
    )

    def create(self, cursor: Cursor) -> None:
        cursor.execute(CREATE_ARTICLES)
        cursor.execute(CREATE_DAYS)

    def prepare(self, events: Sequence[tuple[int, Any]]) -> KnowledgeCounts:
        counts = KnowledgeCounts()
        for _, event in events:
            counts.add(event)
        return counts

    def apply(self, cursor: Cursor, prepared: KnowledgeCounts) -> None:
        if prepared.articles:
            cursor.executemany(
                UPSERT_ARTICLE,
                [(i, c, int(p)) for i, (c, p) in prepared.articles.items()],
            )
        days = set(prepared.answered) | set(prepared.handed_off)
        if days:
            cursor.executemany(
                ADD_TO_DAY,
                [
                    (d.isoformat(), prepared.answered[d], prepared.handed_off[d])
                    for d in sorted(days)
                ],
            )

    def clear(self, cursor: Cursor) -> None:
        cursor.execute(CLEAR_ARTICLES)
        cursor.execute(CLEAR_DAYS)


def figures_of(
    per_category: Iterable[tuple[str, int]], days: Iterable[tuple[str, int, int]]
) -> dict[str, Any]:
    """The response's figures from the published articles per category and the days."""
    groups = [{"key": {"category": c}, "published_articles": n} for c, n in sorted(per_category)]
    day_rows = [{"day": d, "answered": a, "handed_off": h} for d, a, h in sorted(days)]
    return {
        "totals": {
            "published_articles": sum(g["published_articles"] for g in groups),
            "answered": sum(r["answered"] for r in day_rows),
            "handed_off": sum(r["handed_off"] for r in day_rows),
        },
        "groups": groups,
        "days": day_rows,
    }


class KnowledgeStatistics:
    """Reads of the view, in one snapshot."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def tracked(self) -> int:
        return self.views.positions().get(VIEW, 0)

    def figures(self, period: Period) -> dict[str, Any]:
        first, after = cst_date(period.start).isoformat(), cst_date(period.end).isoformat()
        with self.views.snapshot() as cursor:
            cursor.execute(PUBLISHED_PER_CATEGORY)
            per_category = [(str(c), int(n)) for c, n in cursor.fetchall()]
            cursor.execute(DAYS, (first, after))
            days = [(str(d), int(a), int(h)) for d, a, h in cursor.fetchall()]
            position = self.views.position(cursor, VIEW)
        return {**figures_of(per_category, days), "position": position}


def recount(events: Iterable[Any], period: Period) -> dict[str, Any]:
    """The same figures recomputed from the events (the reconciliation's reference)."""
    counts = KnowledgeCounts()
    for event in events:
        counts.add(event)
    first, after = cst_date(period.start), cst_date(period.end)
    per_category = Counter(c for c, published in counts.articles.values() if published)
    days = [
        (d.isoformat(), counts.answered[d], counts.handed_off[d])
        for d in set(counts.answered) | set(counts.handed_off)
        if first <= d < after
    ]
    return figures_of(per_category.items(), days)
