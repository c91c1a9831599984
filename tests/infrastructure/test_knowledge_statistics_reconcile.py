"""The knowledge-base figures of the view equal a recomputation from the log, on both
stores: published articles per category (a retired one no longer counts), questions
answered (the processes' tallies) and handed off (one gap each) per CST day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from uuid import UUID

from application.commands import CommandRunner
from application.gateway import Meta
from application.knowledge import (
    AskLog,
    DraftArticle,
    KnowledgeDesk,
    PublishArticle,
    RetireArticle,
    ReviewArticle,
    SubmitArticle,
)
from application.saving import Saver
from domain.common import CST, Actor
from domain.knowledge import ArticleContent
from infrastructure.complaint_stats import parse_period
from infrastructure.knowledge_stats import KnowledgeFacts, recount
from infrastructure.settings import Settings
from infrastructure.store import (
    build_knowledge_statistics,
    build_ledger,
    build_projector,
    build_vault,
    migrate,
)

AT = datetime(2026, 3, 5, 2, tzinfo=UTC)
EDITOR, REVIEWER = Actor("编辑", "editor"), Actor("审核", "reviewer")


def test_knowledge_figures_equal_a_recount_from_the_log(settings: Settings) -> None:
    migrate(settings)
    ledger = build_ledger(settings)
    desk = KnowledgeDesk(
        ledger, CommandRunner(ledger, build_vault(settings, ledger), Saver(ledger, 10))
    )
    ids = []
    for n, category in enumerate(("anti_fraud", "anti_fraud", "motor", "privacy")):
        content = ArticleContent(f"标题{n}", "正文", category, (), ("general",))
        made = desk.draft(DraftArticle(content), Meta(AT, EDITOR), None)
        article_id = UUID(made.body["id"])
        desk.submit(SubmitArticle(article_id), Meta(AT, EDITOR), None, None)
        desk.review(ReviewArticle(article_id, True, ""), Meta(AT, REVIEWER), None, None)
        if category != "privacy":  # approved, never published: not counted
            desk.publish(PublishArticle(article_id), Meta(AT, EDITOR), None, None)
        ids.append(article_id)
    desk.retire(RetireArticle(ids[2], "过时"), Meta(AT, EDITOR), None, None)
    log = AskLog()
    for day in (date(2026, 3, 5), date(2026, 3, 5), date(2026, 3, 6), date(2026, 4, 1)):
        log.handed_off("我的保单号123能查吗", datetime.combine(day, time(12), tzinfo=CST))
    for day in (date(2026, 3, 5), date(2026, 3, 5), date(2026, 3, 7)):
        log.answered(day)
    log.flush(ledger)
    log.answered(date(2026, 3, 5))
    log.flush(ledger)

    projector = build_projector(settings, ledger)
    projector.catch_up()
    stats = build_knowledge_statistics(ledger)
    march = parse_period("2026-03", datetime.now(UTC))
    figures = stats.figures(march)
    expected = recount(ledger.scan(KnowledgeFacts.topics), march)
    assert {k: figures[k] for k in ("totals", "groups", "days")} == expected
    assert figures["totals"] == {"published_articles": 2, "answered": 4, "handed_off": 3}
    assert figures["groups"] == [{"key": {"category": "anti_fraud"}, "published_articles": 2}]
    assert figures["days"][0] == {"day": "2026-03-05", "answered": 3, "handed_off": 2}
    assert stats.figures(parse_period("2026Q2", datetime.now(UTC)))["totals"]["handed_off"] == 1
    ledger.close()
