"""The KnowledgeArticle aggregate (消保知识库, domain.md section 5): drafted by an editor,
submitted, approved or rejected by a reviewer who is not the author (four eyes), published,
revised (the published version keeps answering until the revision is published), retired.

Every content version is kept: `versions[n - 1]` is version n. Answers are chosen by the
search side (infrastructure); the rule of when to hand off (转人工) is here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, DomainError, InvalidInput

RIGHTS = (
    "财产安全权",
    "知情权",
    "自主选择权",
    "公平交易权",
    "依法求偿权",
    "受教育权",
    "受尊重权",
    "信息安全权",
)
"""The eight rights of financial consumers, exactly as they appear on the wire."""

DEFAULT_CATEGORIES: dict[str, str] = {
    "rights": "消费者八项权益",
    "anti_fraud": "反诈防非",
    "claims_guide": "理赔指南",
    "buying": "投保须知",
    "surrender": "退保与犹豫期",
    "policy_service": "保全服务",
    "complaints_disputes": "投诉与纠纷化解渠道",
    "privacy": "个人信息保护",
    "health": "健康险与医保结算",
    "motor": "车险服务",
    "pension": "养老与老年金融",
    "finance_basics": "金融基础知识",
}

DEFAULT_AUDIENCES: dict[str, str] = {
    "elderly": "老年人",
    "youth": "青少年",
    "rural": "农村居民",
    "ethnic_minority": "少数民族",
    "new_citizen": "新市民",
    "disabled": "残障人士",
    "general": "社会公众",
}

DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
PUBLISHED = "published"
SUPERSEDED = "superseded"
RETIRED = "retired"


class KnowledgeError(DomainError):
    """Base of the knowledge base's rule refusals."""


class ArticleRetired(KnowledgeError):
    """A retired article is kept for the record and changes no more."""

    rule = "article_retired"


class NotADraft(KnowledgeError):
    """Only a draft version is submitted for review."""

    rule = "submit_requires_draft"


class NotSubmitted(KnowledgeError):
    """Only a version submitted for review is reviewed."""

    rule = "review_requires_submission"


class UnderReview(KnowledgeError):
    """A version under review is not replaced before the reviewer decides."""

    rule = "under_review"


class NotApproved(KnowledgeError):
    """Only an approved version is published."""

    rule = "publish_requires_approval"


class FourEyes(KnowledgeError):
    """The author of a version never approves or rejects it."""

    rule = "four_eyes"


@dataclass(frozen=True)
class ArticleContent:
    """What an editor writes: one version's text and classification."""

    title: str
    body: str
    category: str
    rights: tuple[str, ...]
    audiences: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleVersion:
    """One content version with its author, state and review."""

    number: int
    content: ArticleContent
    author: str
    drafted_at: datetime
    state: str = DRAFT
    reviewer: str | None = None
    comment: str | None = None
    published_at: datetime | None = None


def check_content(
    content: ArticleContent, categories: frozenset[str], audiences: frozenset[str]
) -> None:
    """Refuse an unknown category, right or audience (422 naming the field)."""
    if not content.title.strip():
        raise InvalidInput("title", "must not be blank")
    if not content.body.strip():
        raise InvalidInput("body", "must not be blank")
    if content.category not in categories:
        raise InvalidInput("category", f"unknown category; known: {', '.join(sorted(categories))}")
    for index, right in enumerate(content.rights):
        if right not in RIGHTS:
            raise InvalidInput(f"rights[{index}]", f"unknown right; known: {', '.join(RIGHTS)}")
    for index, audience in enumerate(content.audiences):
        if audience not in audiences:
            raise InvalidInput(
                f"audiences[{index}]", f"unknown audience; known: {', '.join(sorted(audiences))}"
            )


class KnowledgeArticle(Aggregate):
    """A reviewed article of the knowledge base, every version kept."""

    @event("Drafted")
    def __init__(self, *, content: ArticleContent, occurred_at: datetime, actor: Actor) -> None:
        self.versions: list[ArticleVersion] = [ArticleVersion(1, content, actor.name, occurred_at)]
        self.published: int | None = None
        self.retired_reason: str | None = None

    # -- queries -----------------------------------------------------------------------------

    @property
    def latest(self) -> ArticleVersion:
        return self.versions[-1]

    @property
    def state(self) -> str:
        """The article's state: retired, or the state of its latest version."""
        return RETIRED if self.retired_reason is not None else self.latest.state

    @property
    def published_version(self) -> ArticleVersion | None:
        """The version that answers consumers (None when never published, or retired)."""
        if self.published is None or self.retired_reason is not None:
            return None
        return self.versions[self.published - 1]

    def version_of(self, number: int) -> ArticleVersion | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None

    # -- commands ----------------------------------------------------------------------------

    def revise(self, content: ArticleContent, occurred_at: datetime, actor: Actor) -> int:
        """A new draft version; the published one keeps answering until this is published."""
        self._check_not_retired()
        if self.latest.state == SUBMITTED:
            raise UnderReview("the latest version is under review; wait for the decision")
        self._revised(
            number=len(self.versions) + 1, content=content, occurred_at=occurred_at, actor=actor
        )
        return len(self.versions)

    @event("Revised")
    def _revised(
        self, number: int, content: ArticleContent, occurred_at: datetime, actor: Actor
    ) -> None:
        if self.latest.state in (DRAFT, APPROVED):
            self.versions[-1] = replace(self.latest, state=SUPERSEDED)
        self.versions.append(ArticleVersion(number, content, actor.name, occurred_at))

    def submit(self, occurred_at: datetime, actor: Actor) -> None:
        """Submit the latest draft for review."""
        self._check_not_retired()
        if self.latest.state != DRAFT:
            raise NotADraft(f"version {self.latest.number} is {self.latest.state}, not a draft")
        self._submitted(number=self.latest.number, occurred_at=occurred_at, actor=actor)

    @event("SubmittedForReview")
    def _submitted(self, number: int, occurred_at: datetime, actor: Actor) -> None:
        self.versions[-1] = replace(self.latest, state=SUBMITTED)

    def review(self, approve: bool, comment: str, occurred_at: datetime, actor: Actor) -> None:
        """Approve or reject the submitted version; never by its author (four eyes)."""
        self._check_not_retired()
        if self.latest.state != SUBMITTED:
            raise NotSubmitted(f"version {self.latest.number} is {self.latest.state}")
        if actor.name == self.latest.author:
            raise FourEyes("the author of a version may not review it (four eyes)")
        number = self.latest.number
        if approve:
            self._approved(number=number, comment=comment, occurred_at=occurred_at, actor=actor)
        else:
            self._rejected(number=number, comment=comment, occurred_at=occurred_at, actor=actor)

    @event("Approved")
    def _approved(self, number: int, comment: str, occurred_at: datetime, actor: Actor) -> None:
        self.versions[-1] = replace(
            self.latest, state=APPROVED, reviewer=actor.name, comment=comment
        )

    @event("Rejected")
    def _rejected(self, number: int, comment: str, occurred_at: datetime, actor: Actor) -> None:
        self.versions[-1] = replace(
            self.latest, state=REJECTED, reviewer=actor.name, comment=comment
        )

    def publish(self, occurred_at: datetime, actor: Actor) -> None:
        """Publish the approved version; it replaces the one that answered until now."""
        self._check_not_retired()
        if self.latest.state != APPROVED:
            raise NotApproved(
                f"version {self.latest.number} is {self.latest.state}; only an approved "
                "version is published"
            )
        self._published(
            number=self.latest.number,
            content=self.latest.content,
            replaces=self.published,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Published")
    def _published(
        self,
        number: int,
        content: ArticleContent,
        replaces: int | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        # The event carries the content so that views of the published set read one event.
        if self.published is not None:
            self.versions[self.published - 1] = replace(
                self.versions[self.published - 1], state=SUPERSEDED
            )
        self.versions[-1] = replace(self.latest, state=PUBLISHED, published_at=occurred_at)
        self.published = number

    def retire(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Withdraw the article from the answers for good, with a reason."""
        self._check_not_retired()
        if not reason.strip():
            raise InvalidInput("reason", "must not be blank")
        self._retired(
            reason=reason,
            category=self.latest.content.category,
            was_published=self.published is not None,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Retired")
    def _retired(
        self, reason: str, category: str, was_published: bool, occurred_at: datetime, actor: Actor
    ) -> None:
        self.retired_reason = reason

    def _check_not_retired(self) -> None:
        if self.retired_reason is not None:
            raise ArticleRetired("the article is retired")


# -- answering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRules:
    """How questions are answered; every value comes from the settings."""

    handoff_below: float
    """Hand off (转人工) when the best answer's confidence is below this."""
    max_question_chars: int
    dense: bool
    bm25_k1: float
    bm25_b: float
    rrf_k: int
    dense_weight: float
    """Multiplies the encoder's own weights of its dense rankings in the fusion."""
    unknown_token_weight: float


@dataclass(frozen=True)
class PublishedArticle:
    """The version of an article that answers consumers."""

    article_id: UUID
    version: int
    content: ArticleContent


@dataclass(frozen=True)
class Found:
    """One answer: the article, its confidence in [0, 1], and the question's words."""

    article: PublishedArticle
    score: float
    words: tuple[str, ...]


def hands_off(found: list[Found], rules: SearchRules) -> bool:
    """转人工 when nothing answers, or the best answer is not confident enough."""
    return not found or found[0].score < rules.handoff_below


def snippet(body: str, words: tuple[str, ...], width: int = 80) -> str:
    """The part of the body around the first of the question's words that it contains."""
    text = " ".join(line.strip("#*> -") for line in body.splitlines() if line.strip())
    hits = [i for w in words if len(w) > 1 and (i := text.find(w)) >= 0]
    start = max(min(hits) - width // 4, 0) if hits else 0
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
