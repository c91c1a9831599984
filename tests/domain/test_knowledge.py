"""The KnowledgeArticle lifecycle: four eyes, the published version kept until a revision
is published, retirement, and the masking of handed-off questions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.common import Actor, InvalidInput
from domain.knowledge import (
    DEFAULT_AUDIENCES,
    DEFAULT_CATEGORIES,
    ArticleContent,
    ArticleRetired,
    FourEyes,
    KnowledgeArticle,
    NotApproved,
    UnderReview,
    check_content,
)
from domain.knowledge_gaps import mask_question, normalised_question

AT = datetime(2026, 11, 2, 8, tzinfo=UTC)
EDITOR = Actor("编辑甲", "editor")
REVIEWER = Actor("审核乙", "reviewer")
CONTENT = ArticleContent(
    "犹豫期", "犹豫期内退保退还全部保费。", "surrender", ("知情权",), ("general",)
)


def published() -> KnowledgeArticle:
    article = KnowledgeArticle(content=CONTENT, occurred_at=AT, actor=EDITOR)
    article.submit(AT, EDITOR)
    article.review(True, "ok", AT, REVIEWER)
    article.publish(AT, EDITOR)
    return article


def test_the_author_never_reviews_their_own_version() -> None:
    article = KnowledgeArticle(content=CONTENT, occurred_at=AT, actor=REVIEWER)
    article.submit(AT, REVIEWER)
    with pytest.raises(FourEyes):
        article.review(True, "", AT, REVIEWER)
    assert article.state == "submitted"


def test_an_unapproved_version_is_not_published_and_nothing_is_recorded() -> None:
    article = KnowledgeArticle(content=CONTENT, occurred_at=AT, actor=EDITOR)
    article.collect_events()
    with pytest.raises(NotApproved):
        article.publish(AT, EDITOR)
    assert article.collect_events() == []


def test_the_published_version_answers_until_the_revision_is_published() -> None:
    article = published()
    number = article.revise(ArticleContent(**{**CONTENT.__dict__, "title": "新"}), AT, EDITOR)
    assert number == 2
    assert article.published_version is not None
    assert article.published_version.number == 1
    article.submit(AT, EDITOR)
    with pytest.raises(UnderReview):
        article.revise(CONTENT, AT, EDITOR)
    article.review(True, "ok", AT, REVIEWER)
    article.publish(AT, EDITOR)
    assert article.published_version is not None
    assert article.published_version.content.title == "新"
    assert [v.state for v in article.versions] == ["superseded", "published"]


def test_a_retired_article_answers_nothing_and_changes_no_more() -> None:
    article = published()
    article.retire("政策调整", AT, EDITOR)
    assert article.published_version is None
    with pytest.raises(ArticleRetired):
        article.revise(CONTENT, AT, EDITOR)


def test_unknown_category_right_and_audience_are_named() -> None:
    cats, auds = frozenset(DEFAULT_CATEGORIES), frozenset(DEFAULT_AUDIENCES)
    assert len(cats) == 12
    for change, field in (
        ({"category": "nope"}, "category"),
        ({"rights": ("知情权", "飞行权")}, "rights[1]"),
        ({"audiences": ("aliens",)}, "audiences[0]"),
    ):
        with pytest.raises(InvalidInput) as refused:
            check_content(ArticleContent(**{**CONTENT.__dict__, **change}), cats, auds)
        assert refused.value.field == field


def test_questions_are_masked_before_they_are_kept() -> None:
    masked = mask_question("我身份证330102198001011234，电话13812345678，保单号2026")
    assert "330102198001011234" not in masked
    assert "13812345678" not in masked
    assert "2026" not in masked
    assert normalised_question("退保 怎么办？") == normalised_question("退保怎么办")
