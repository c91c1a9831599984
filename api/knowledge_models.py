"""Response bodies of the knowledge base's reads (typed, so /openapi.json describes them)."""

from __future__ import annotations

from pydantic import Field

from api.read_models import Figures, ReadModel

Instant = str


class KnowledgeAnswer(ReadModel):
    article_id: str
    version: int = Field(description="the published version that answered")
    title: str
    category: str
    rights: list[str]
    snippet: str
    score: float = Field(description="confidence in [0, 1]")


class Answers(ReadModel):
    answers: list[KnowledgeAnswer] = Field(description="best first")
    handoff: bool = Field(description="转人工: no answer is confident enough")
    position: int = Field(description="the log position of the published set that answered")


class Category(ReadModel):
    code: str
    name: str


class Categories(ReadModel):
    categories: list[Category]


class Gap(ReadModel):
    question: str = Field(description="masked: digits, national ids and phones replaced")
    normalised: str
    count: int
    first_asked: str
    last_asked: str


class Gaps(ReadModel):
    gaps: list[Gap] = Field(description="most asked first")
    position: int


class ArticleSummary(ReadModel):
    id: str
    version: int = Field(description="the content version shown")
    state: str = Field(description="that version's state")
    title: str
    category: str
    rights: list[str]
    audiences: list[str]
    keywords: list[str]
    lines: list[str]
    author: str
    drafted_at: Instant
    reviewer: str | None
    comment: str | None
    published_at: Instant | None
    article_state: str = Field(
        description="draft, submitted, approved, rejected, published or retired"
    )
    latest_version: int
    published_version: int | None
    retired_reason: str | None
    record_version: int = Field(description="the record's version (its ETag, for If-Match)")


class Article(ArticleSummary):
    body: str


class Articles(ReadModel):
    items: list[ArticleSummary]


class SynonymGroup(ReadModel):
    canonical: str
    variants: list[str]


class Synonyms(ReadModel):
    groups: list[SynonymGroup]
    version: int = Field(description="the synonym table's version (0: the defaults)")


class KnowledgeTotals(ReadModel):
    published_articles: int
    answered: int
    handed_off: int


class CategoryKey(ReadModel):
    category: str


class CategoryGroup(ReadModel):
    key: CategoryKey
    published_articles: int


class KnowledgeDay(ReadModel):
    day: str = Field(description="a CST date")
    answered: int
    handed_off: int


class KnowledgeStatistics(Figures):
    totals: KnowledgeTotals
    groups: list[CategoryGroup] = Field(description="published articles per category, now")
    days: list[KnowledgeDay] = Field(description="questions per CST day of the period")
