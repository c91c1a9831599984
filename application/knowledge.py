"""The knowledge base (消保知识库): article commands (editor, reviewer), reads, and question
answering over the published set that each process follows from the log."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta
from application.ledger import Ledger, NotFound, ProofSource, utc_now
from application.views import history_entry, rfc3339, with_proofs
from domain.codes import CodeList, SynonymTable, all_codes, all_synonyms, code_list_id
from domain.common import InvalidInput, StaleVersion, cst_date
from domain.knowledge import (
    PUBLISHED,
    ArticleContent,
    ArticleVersion,
    Found,
    KnowledgeArticle,
    SearchRules,
    check_content,
    hands_off,
    snippet,
)
from domain.knowledge_gaps import AnswerTally, KnowledgeGap, mask_question, normalised_question

CATEGORIES = "knowledge_categories"
AUDIENCES = "audiences"
DRAFTED_TOPIC = get_topic(getattr(KnowledgeArticle, "Drafted"))  # noqa: B009 - by the library
GAP_TOPIC = get_topic(getattr(KnowledgeGap, "Recorded"))  # noqa: B009


@dataclass(frozen=True)
class DraftArticle:
    content: ArticleContent


@dataclass(frozen=True)
class ReviseArticle:
    article_id: UUID
    content: ArticleContent


@dataclass(frozen=True)
class SubmitArticle:
    article_id: UUID


@dataclass(frozen=True)
class ReviewArticle:
    article_id: UUID
    approve: bool
    comment: str


@dataclass(frozen=True)
class PublishArticle:
    article_id: UUID


@dataclass(frozen=True)
class RetireArticle:
    article_id: UUID
    reason: str


class Searcher(Protocol):
    """One published set, indexed: the log position it reflects and its best answers."""

    @property
    def position(self) -> int: ...

    def search(self, question: str, limit: int) -> list[Found]: ...


class PublishedSet(Protocol):
    """Where a process finds its current index (kept fresh from the log)."""

    def current(self) -> Searcher: ...


@dataclass(frozen=True)
class Asked:
    """What `ask` answers: the best articles, whether to hand off, and the log position."""

    answers: list[Found]
    handoff: bool
    position: int


class AskLog:
    """What `ask` leaves behind, kept in memory and appended by the process's follower
    thread, never on the request path: the handed-off questions (masked, one
    `KnowledgeGap` each, appended within a second) and the answered ones (counted per CST
    day, one `AnswerTally` per day now and then). A crash loses at most that much."""

    def __init__(self) -> None:
        self._counts: Counter[date] = Counter()
        self._gaps: list[KnowledgeGap] = []
        self._lock = threading.Lock()

    def answered(self, day: date) -> None:
        with self._lock:
            self._counts[day] += 1

    def handed_off(self, question: str, at: datetime) -> None:
        masked = mask_question(question)
        gap = KnowledgeGap(
            masked=masked, normalised=normalised_question(masked), day=cst_date(at), occurred_at=at
        )
        with self._lock:
            self._gaps.append(gap)

    def flush(self, ledger: Ledger, tallies: bool = True) -> int:
        """Append the pending gaps (and, with `tallies`, one tally per day counted since the
        last flush) in one save; returns how many records were appended."""
        with self._lock:
            gaps, self._gaps = self._gaps, []
            counts: Counter[date] = Counter()
            if tallies:
                counts, self._counts = self._counts, Counter()
        now = utc_now()
        records = [
            *gaps,
            *(AnswerTally(day=day, answered=n, occurred_at=now) for day, n in counts.items()),
        ]
        if records:
            try:
                ledger.save(*records)
            except Exception:
                with self._lock:  # kept for the next flush
                    self._gaps[:0] = gaps
                    self._counts.update(counts)
                raise
        return len(records)


class KnowledgeDesk:
    """Editors' and reviewers' commands on articles."""

    def __init__(self, ledger: Ledger, runner: CommandRunner) -> None:
        self.ledger = ledger
        self.runner = runner

    def _checked(self, content: ArticleContent) -> ArticleContent:
        categories = all_codes(CATEGORIES, self.ledger.find(CodeList, code_list_id(CATEGORIES)))
        audiences = all_codes(AUDIENCES, self.ledger.find(CodeList, code_list_id(AUDIENCES)))
        check_content(content, frozenset(categories), frozenset(audiences))
        return content

    def draft(self, cmd: DraftArticle, meta: Meta, key: CommandKey | None) -> CommandResult:
        """A new article, its first version a draft (201)."""

        def attempt() -> Answer:
            article = KnowledgeArticle(
                content=self._checked(cmd.content), occurred_at=meta.occurred_at, actor=meta.actor
            )
            return Answer([article], True, _brief(article))

        return self.runner.run(key, attempt)

    def revise(
        self, cmd: ReviseArticle, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        content = self._checked(cmd.content)
        return self._act(
            cmd.article_id,
            key,
            if_match,
            lambda a: a.revise(content, meta.occurred_at, meta.actor),
        )

    def submit(
        self, cmd: SubmitArticle, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        return self._act(
            cmd.article_id, key, if_match, lambda a: a.submit(meta.occurred_at, meta.actor)
        )

    def review(
        self, cmd: ReviewArticle, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        return self._act(
            cmd.article_id,
            key,
            if_match,
            lambda a: a.review(cmd.approve, cmd.comment, meta.occurred_at, meta.actor),
        )

    def publish(
        self, cmd: PublishArticle, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        return self._act(
            cmd.article_id, key, if_match, lambda a: a.publish(meta.occurred_at, meta.actor)
        )

    def retire(
        self, cmd: RetireArticle, meta: Meta, key: CommandKey | None, if_match: int | None
    ) -> CommandResult:
        return self._act(
            cmd.article_id,
            key,
            if_match,
            lambda a: a.retire(cmd.reason, meta.occurred_at, meta.actor),
        )

    def _act(
        self,
        article_id: UUID,
        key: CommandKey | None,
        if_match: int | None,
        command: Callable[[KnowledgeArticle], object],
    ) -> CommandResult:
        def attempt() -> Answer:
            article = self.ledger.require(KnowledgeArticle, article_id, f"article {article_id}")
            if if_match is not None and article.version != if_match:
                raise StaleVersion("the article changed since it was read; read it again")
            command(article)
            return Answer([article], False, _brief(article))

        return self.runner.run(key, attempt)


def _brief(article: KnowledgeArticle) -> dict[str, Any]:
    return {
        "id": str(article.id),
        "version": article.latest.number,
        "state": article.state,
        "published_version": article.published,
        "record_version": article.version,
    }


def version_view(version: ArticleVersion) -> dict[str, Any]:
    c = version.content
    return {
        "version": version.number,
        "state": version.state,
        "title": c.title,
        "body": c.body,
        "category": c.category,
        "rights": list(c.rights),
        "audiences": list(c.audiences),
        "keywords": list(c.keywords),
        "lines": list(c.lines),
        "author": version.author,
        "drafted_at": rfc3339(version.drafted_at),
        "reviewer": version.reviewer,
        "comment": version.comment,
        "published_at": rfc3339(version.published_at) if version.published_at else None,
    }


def article_view(article: KnowledgeArticle, shown: ArticleVersion) -> dict[str, Any]:
    return {
        "id": str(article.id),
        **version_view(shown),
        "article_state": article.state,
        "latest_version": article.latest.number,
        "published_version": article.published if article.published_version else None,
        "retired_reason": article.retired_reason,
        "record_version": article.version,
    }


class KnowledgeQueries:
    """Reads of the knowledge base, and question answering."""

    def __init__(
        self,
        ledger: Ledger,
        published: PublishedSet,
        rules: SearchRules,
        log: AskLog,
        proofs: ProofSource | None = None,
    ) -> None:
        self.ledger = ledger
        self.published = published
        self.rules = rules
        self.log = log
        self.proofs = proofs

    def _get(self, article_id: UUID) -> KnowledgeArticle:
        found = self.ledger.find(KnowledgeArticle, article_id)
        if found is None:
            raise NotFound("no such article")
        return found

    def article(
        self,
        article_id: UUID,
        drafts: bool,
        version: int | None = None,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """Staff with `drafts` see the latest version (or `version`, or the record as it
        was); everyone else sees only the published version."""
        article = self._get(article_id)
        if not drafts:
            shown = article.published_version
            if shown is None:
                raise NotFound("no such article")
            return article_view(article, shown)
        article = self.ledger.then(article, as_of_version, as_of, "article")
        if version is None:
            return article_view(article, article.latest)
        chosen = article.version_of(version)
        if chosen is None:
            raise InvalidInput("version", f"the article has {len(article.versions)} versions")
        return article_view(article, chosen)

    def history(self, article_id: UUID, proofs: bool = False) -> list[dict[str, Any]]:
        self._get(article_id)
        positions = self.ledger.positions.of(article_id)
        entries = [
            history_entry(e, positions.get(e.originator_version))
            for e in self.ledger.stream(article_id)
        ]
        return with_proofs(entries, self.proofs) if proofs else entries

    def articles(
        self, drafts: bool, category: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """Every article (its latest version for staff; the published one for the others)."""
        items = []
        for article in self._all():
            shown = article.latest if drafts else article.published_version
            if shown is None or (not drafts and shown.state != PUBLISHED):
                continue
            if category is not None and shown.content.category != category:
                continue
            if state is not None and article.state != state:
                continue
            view = article_view(article, shown)
            del view["body"]
            items.append(view)
        return items

    def _all(self) -> Iterator[KnowledgeArticle]:
        ids = [event.originator_id for event in self.ledger.scan([DRAFTED_TOPIC])]
        for start in range(0, len(ids), 200):
            found = self.ledger.find_many(ids[start : start + 200])
            for article_id in ids[start : start + 200]:
                article = found.get(article_id)
                if isinstance(article, KnowledgeArticle):
                    yield article

    def categories(self) -> dict[str, Any]:
        recorded = self.ledger.find(CodeList, code_list_id(CATEGORIES))
        return {
            "categories": [
                {"code": c, "name": n} for c, n in all_codes(CATEGORIES, recorded).items()
            ]
        }

    def gaps(self) -> dict[str, Any]:
        """Handed-off questions by normalised form, most asked first (masked)."""
        counts: Counter[str] = Counter()
        example: dict[str, str] = {}
        first: dict[str, date] = {}
        last: dict[str, date] = {}
        for gap in self.ledger.scan([GAP_TOPIC]):
            counts[gap.normalised] += 1
            example.setdefault(gap.normalised, gap.masked)
            first.setdefault(gap.normalised, gap.day)
            last[gap.normalised] = gap.day
        return {
            "gaps": [
                {
                    "question": example[form],
                    "normalised": form,
                    "count": n,
                    "first_asked": first[form].isoformat(),
                    "last_asked": last[form].isoformat(),
                }
                for form, n in counts.most_common()
            ],
            "position": self.ledger.position(),
        }

    def ask(self, question: str, limit: int) -> Asked:
        """The best published articles for a consumer's question; a handed-off question is
        kept as a masked knowledge gap, an answered one only counted (both by the AskLog,
        off the request path)."""
        text = question.strip()
        if not text or len(text) > self.rules.max_question_chars:
            raise InvalidInput("q", f"must hold 1 to {self.rules.max_question_chars} characters")
        index = self.published.current()
        found = index.search(text, limit)
        handoff = hands_off(found, self.rules)
        now = utc_now()
        if handoff:
            self.log.handed_off(text, now)
        else:
            self.log.answered(cst_date(now))
        return Asked(found, handoff, index.position)


def answer_view(found: Found) -> dict[str, Any]:
    a = found.article
    return {
        "article_id": str(a.article_id),
        "version": a.version,
        "title": a.content.title,
        "category": a.content.category,
        "rights": list(a.content.rights),
        "snippet": snippet(a.content.body, found.words),
        "score": found.score,
    }


class KnowledgeReference:
    """Reference data of the knowledge base that admins change (versions kept)."""

    def __init__(
        self, ledger: Ledger, runner: CommandRunner, defaults: dict[str, tuple[str, ...]]
    ) -> None:
        self.ledger = ledger
        self.runner = runner
        self.defaults = defaults

    def synonyms(self) -> dict[str, Any]:
        table = self.ledger.find(SynonymTable, SynonymTable.create_id())
        groups = all_synonyms(self.defaults, table)
        return {
            "groups": [{"canonical": c, "variants": list(v)} for c, v in groups.items()],
            "version": table.version if table else 0,
        }

    def put_synonyms(
        self, canonical: str, variants: tuple[str, ...], meta: Meta, key: CommandKey | None
    ) -> CommandResult:
        def attempt() -> Answer:
            table = self.ledger.find(SynonymTable, SynonymTable.create_id()) or SynonymTable()
            known = canonical in all_synonyms(self.defaults, table)
            table.put(canonical, variants, meta.occurred_at, meta.actor)
            body = {"canonical": canonical, "variants": list(variants), "version": table.version}
            return Answer([table], not known, body)

        return self.runner.run(key, attempt)
