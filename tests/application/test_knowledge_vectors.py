"""The dense retriever's passage vectors are encoded once, by the one vector writer (the
projection process), never by an API process: the API process reads them back from the
cache beside the ledger and answers as an index that encoded them itself would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID, uuid4

import numpy as np

from application.commands import CommandRunner
from application.gateway import Meta
from application.knowledge import (
    DraftArticle,
    KnowledgeDesk,
    PublishArticle,
    ReviewArticle,
    SubmitArticle,
)
from application.ledger import Ledger, utc_now
from application.saving import Saver
from domain.common import Actor
from domain.knowledge import ArticleContent
from infrastructure.knowledge_search import SearchIndex, shared_encoder
from infrastructure.settings import Settings
from infrastructure.store import (
    build_knowledge_follower,
    build_ledger,
    build_vault,
    build_vector_writer,
    migrate,
)


class Counting:
    """The service's encoder, counting the passages it is asked to encode."""

    def __init__(self, settings: Settings) -> None:
        self.inner = shared_encoder(settings.knowledge_query_use)
        self.dim = self.inner.dim
        self.weights = self.inner.weights
        self.passages_encoded = 0

    def passages(self, texts: Sequence[str]) -> Any:
        self.passages_encoded += len(texts)
        return self.inner.passages(texts)

    def query(self, text: str) -> Any:
        return self.inner.query(text)

    def similarities(self, vectors: Any, query: Any) -> list[Any]:
        return self.inner.similarities(vectors, query)

    def confidence(
        self, similarities: Sequence[float], overlap: Callable[[], float] | None = None
    ) -> float:
        return self.inner.confidence(similarities, overlap)

    def overlap(self, vector: Any, text: str) -> float:
        return self.inner.overlap(vector, text)


def publish(ledger: Ledger, settings: Settings, title: str, body: str) -> UUID:
    desk = KnowledgeDesk(
        ledger, CommandRunner(ledger, build_vault(settings, ledger), Saver(ledger, 10))
    )
    editor, reviewer = Actor("编辑", "editor"), Actor("审核", "reviewer")
    content = ArticleContent(title, body, "anti_fraud", ("财产安全权",), ("elderly",), ("退费",))
    made = desk.draft(DraftArticle(content), Meta(utc_now(), editor), None)
    aid = UUID(made.body["id"])
    desk.submit(SubmitArticle(aid), Meta(utc_now(), editor), None, None)
    desk.review(ReviewArticle(aid, True, ""), Meta(utc_now(), reviewer), None, None)
    desk.publish(PublishArticle(aid), Meta(utc_now(), editor), None, None)
    return aid


def test_the_writer_encodes_each_version_once_and_api_processes_only_read_them(
    settings: Settings,
) -> None:
    migrate(settings)
    writer_ledger, api_ledger = build_ledger(settings), build_ledger(settings)
    fresh = uuid4().hex  # passages never seen by the cache of an earlier run
    publish(
        writer_ledger,
        settings,
        "接到自称客服的退费电话怎么办",
        f"请挂断后拨打官方热线核实。{fresh}",
    )
    publish(
        writer_ledger, settings, "犹豫期内退保能退多少", f"犹豫期内解除合同退还全部保费。{fresh}"
    )

    follower = build_knowledge_follower(settings, api_ledger)
    api_encoder = Counting(settings)
    follower.encoder = api_encoder
    follower.catch_up()
    assert follower.encodes is False
    assert follower.current().known is not None
    assert not follower.current().known.any()
    assert follower.load_cached() == 0  # nothing written yet: still BM25 alone

    writer = build_vector_writer(settings, writer_ledger)
    assert writer is not None
    counting = Counting(settings)
    writer.encoder = lambda: counting
    assert writer.step() == 2
    assert writer.step() == 0  # stored: not encoded again
    assert counting.passages_encoded == 2

    assert follower.load_cached() == 2
    index = follower.current()
    assert index.known is not None
    assert index.known.all()
    assert api_encoder.passages_encoded == 0  # the API process encoded no passage

    # The same answers as an index that encoded its passages itself.
    own = SearchIndex(index.articles, index.analyzer, api_encoder.inner, index.rules, 0)
    np.testing.assert_allclose(index.vectors, own.vectors, rtol=1e-6, atol=1e-6)
    for question in ("有人打电话说给我退费", "犹豫期退保"):
        assert [(f.article.article_id, f.score) for f in index.search(question, 3)] == [
            (f.article.article_id, f.score) for f in own.search(question, 3)
        ]
    writer_ledger.close()
    api_ledger.close()
