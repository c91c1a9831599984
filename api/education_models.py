"""Response models of the education reads and statistics (see api/read_models.py)."""

from __future__ import annotations

from pydantic import Field

from api.knowledge_models import CategoryGroup, KnowledgeDay
from api.read_models import Figures, Instant, ReadModel


class EvidenceFile(ReadModel):
    name: str
    sha256: str = Field(description="hex")
    ref: str = Field(description="where the file is stored")


class Activity(ReadModel):
    id: str
    version: int
    title: str
    kind: str = Field(description="online or offline")
    channel: str
    campaign: str
    region: str = Field(description="GB/T 2260 code")
    place: str | None
    audiences: list[str]
    one_old_one_young: bool = Field(description="reaches the elderly or the young (一老一小)")
    participants: int = Field(description="offline head count, as last amended")
    views: int = Field(description="online views, as last amended")
    article_ids: list[str]
    evidence: list[EvidenceFile]
    started_at: Instant
    ended_at: Instant
    amendments: int
    recorded_by: str
    created_at: Instant
    updated_at: Instant


class ActivityPage(ReadModel):
    items: list[Activity]
    next_after: int | None = Field(description="pass as `after` for the next page; null: none")


class Training(ReadModel):
    id: str
    version: int
    topic: str
    trainer: str
    hours: str = Field(description="decimal string")
    held_at: Instant
    attendees: list[str] = Field(description="principal names or staff ids")
    scores: dict[str, str] = Field(description="attendee → test score (decimal string)")
    attendee_hours: str = Field(description="hours × attendees")
    recorded_by: str
    created_at: Instant


class TrainingPage(ReadModel):
    items: list[Training]
    next_after: int | None


class ActivityFigures(ReadModel):
    activities: int
    participants: int
    views: int
    one_old_one_young: int = Field(description="activities reaching the elderly or the young")
    one_old_one_young_share: str | None = Field(description="4 places; null without activities")


class EducationTotals(ActivityFigures):
    training_sessions: int
    training_hours: str
    attendees: int = Field(description="distinct attendees (staff or not)")
    attendee_hours: str = Field(description="person-hours")
    staff: int = Field(description="consumer-protection staff in the principals file")
    trained_staff: int
    coverage: str | None = Field(description="trained staff / staff; null without staff")
    hours_per_person: str | None = Field(description="the staff's training hours / staff")
    published_articles: int = Field(description="knowledge articles published now")
    questions_answered: int = Field(description="questions asked of the knowledge base")
    questions_handed_off: int = Field(description="of which handed off (转人工)")


class EducationGroup(ActivityFigures):
    key: dict[str, str | None] = Field(description="the group's value of each dimension")


class EducationKnowledge(ReadModel):
    categories: list[CategoryGroup] = Field(description="published articles per category, now")
    days: list[KnowledgeDay] = Field(description="questions per CST day of the period")


class EducationStatistics(Figures):
    totals: EducationTotals
    groups: list[EducationGroup] = Field(
        description="activity figures per group (an activity counts in each of its audiences)"
    )
    knowledge: EducationKnowledge
