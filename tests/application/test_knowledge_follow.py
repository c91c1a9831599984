"""Every API process answers from the same published set shortly after a publish: two
application instances on one PostgreSQL ledger, each following the log on its own."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

from application.commands import CommandRunner
from application.gateway import Meta
from application.knowledge import (
    AskLog,
    DraftArticle,
    KnowledgeDesk,
    KnowledgeQueries,
    PublishArticle,
    ReviewArticle,
    SubmitArticle,
)
from application.ledger import utc_now
from application.saving import Saver
from domain.common import Actor
from domain.knowledge import ArticleContent
from infrastructure.knowledge_follower import following
from infrastructure.settings import Settings
from infrastructure.store import build_knowledge_follower, build_ledger, build_vault, search_rules

CONTENT = ArticleContent(
    "接到自称客服的退费电话怎么办",
    "保险公司不会要求客户向个人账户转账，接到退费电话请挂断后拨打官方客服热线核实。",
    "anti_fraud",
    ("财产安全权",),
    ("elderly",),
    ("电信诈骗", "退费"),
)


def test_a_publish_in_one_process_answers_in_another_within_a_second(
    fresh_postgres: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=fresh_postgres,
        index_key_file=tmp_path / "index-key",
        knowledge_follow_seconds=0.1,
    )
    writer, reader = build_ledger(settings), build_ledger(settings)
    desk = KnowledgeDesk(
        writer, CommandRunner(writer, build_vault(settings, writer), Saver(writer, 10))
    )
    follower = build_knowledge_follower(settings, reader)
    queries = KnowledgeQueries(reader, follower, search_rules(settings), AskLog())
    editor, reviewer = Actor("编辑", "editor"), Actor("审核", "reviewer")
    with following(
        follower,
        reader,
        AskLog(),
        settings.knowledge_follow_seconds,
        60,
        settings.postgres_conninfo,
        getattr(reader.recorder, "channel_name", None),
    ):
        assert queries.ask("有人打电话说给我退费", 3).answers == []
        made = desk.draft(DraftArticle(CONTENT), Meta(utc_now(), editor), None)
        article_id = made.body["id"]
        aid = UUID(article_id)
        desk.submit(SubmitArticle(aid), Meta(utc_now(), editor), None, None)
        desk.review(ReviewArticle(aid, True, ""), Meta(utc_now(), reviewer), None, None)
        desk.publish(PublishArticle(aid), Meta(utc_now(), editor), None, None)
        published_at = writer.position()
        started = time.monotonic()
        while follower.current().position < published_at and time.monotonic() - started < 5:
            time.sleep(0.01)
        delay = time.monotonic() - started
        asked = queries.ask("有人打电话说给我退费", 3)
    assert delay < 1.0
    assert asked.position >= published_at
    assert [str(f.article.article_id) for f in asked.answers] == [article_id]
    writer.close()
    reader.close()
