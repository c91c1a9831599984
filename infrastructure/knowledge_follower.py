"""Each API process's copy of the published set: a projection of the knowledge topics of
the log into memory, followed from the process's own position (woken by the ledger's NOTIFY
on PostgreSQL, polling on SQLite and in memory). A change builds a new index off the request
path and swaps it in; `ask` reads whichever index is current and names its position.

It also appends the process's tally of answered questions now and then (`AskLog`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from uuid import UUID

import numpy as np
import psycopg
from eventsourcing.persistence import ApplicationRecorder, Mapper
from psycopg import sql

from application.knowledge import AskLog
from application.ledger import Ledger, topics_of
from domain.codes import SynonymTable, all_synonyms
from domain.knowledge import KnowledgeArticle, PublishedArticle, SearchRules
from infrastructure.knowledge_search import Analyzer, Encoder, SearchIndex, article_passage
from infrastructure.knowledge_vectors import VectorCache, digest

log = logging.getLogger("xiaobao.knowledge")
TOPICS = sorted({*topics_of(KnowledgeArticle), *topics_of(SynonymTable)})


class KnowledgeFollower:
    """The published articles and synonyms as of `position`, and their index."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        analyzer: Analyzer,
        encoder: Encoder | None,
        rules: SearchRules,
        default_synonyms: dict[str, tuple[str, ...]],
        cache: VectorCache,
        batch: int = 1000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.analyzer = analyzer
        self.encoder = encoder
        self.rules = rules
        self.defaults = default_synonyms
        self.batch = batch
        self.cache = cache
        self.encode_wake = threading.Event()
        self.published: dict[UUID, PublishedArticle] = {}
        self.table: SynonymTable | None = None
        self.position = 0
        self.wake = threading.Event()
        self._lock = threading.Lock()  # one catch-up at a time
        self._vectors: dict[tuple[UUID, int], Any] = {}
        analyzer.use_synonyms(all_synonyms(self.defaults, None))
        self._index = SearchIndex([], analyzer, encoder, rules, 0)

    def current(self) -> SearchIndex:
        return self._index

    def catch_up(self) -> int:
        """Apply the knowledge events up to the log's head; returns the position reached."""
        with self._lock:
            head = int(self.recorder.max_notification_id() or 0)
            changed = synonyms_changed = False
            while self.position < head:
                notifications = self.recorder.select_notifications(
                    self.position,
                    self.batch,
                    stop=head,
                    topics=TOPICS,
                    inclusive_of_start=False,
                )
                for n in notifications:
                    event = self.mapper.to_domain_event(n)
                    if isinstance(event, SynonymTable.Event):
                        self.table = event.mutate(self.table)
                        synonyms_changed = True
                    else:
                        changed = self._apply(event) or changed
                if len(notifications) < self.batch:
                    break
                self.position = notifications[-1].id
            self.position = max(self.position, head)
            if synonyms_changed:
                self.analyzer.use_synonyms(all_synonyms(self.defaults, self.table))
            if changed or synonyms_changed or self._index.position != self.position:
                self._rebuild(changed or synonyms_changed)
            return self.position

    def _apply(self, event: Any) -> bool:
        name = type(event).__qualname__.rsplit(".", 1)[-1]
        if name == "Published":
            self.published[event.originator_id] = PublishedArticle(
                event.originator_id, event.number, event.content
            )
            return True
        if name == "Retired":
            return self.published.pop(event.originator_id, None) is not None
        return False

    def _rebuild(self, content_changed: bool) -> None:
        """Swap in an index of the published set: the lexical part now, with the passage
        vectors already known; the encoder thread adds the others (`encode_missing`)."""
        if not content_changed:  # only the position moved: same index, newer position
            self._index = self._index.at(self.position)
            return
        articles = sorted(self.published.values(), key=lambda a: str(a.article_id))
        vectors, known = self._vectors_of(articles)
        self._index = SearchIndex(
            articles, self.analyzer, self.encoder, self.rules, self.position, vectors, known
        )
        if known is not None and not known.all():
            self.encode_wake.set()

    def _vectors_of(self, articles: list[PublishedArticle]) -> tuple[Any, Any]:
        if self.encoder is None or not articles:
            return None, None
        dim = self.encoder.dim
        vectors = np.zeros((len(articles), dim), dtype=np.float32)
        known = np.zeros(len(articles), dtype=bool)
        for row, article in enumerate(articles):
            found = self._vectors.get((article.article_id, article.version))
            if found is not None:
                vectors[row], known[row] = found, True
        return vectors, known

    def encode_missing(self, chunk: int = 8, stop: threading.Event | None = None) -> int:
        """Encode the published versions that have no vector yet (cached ones are read back),
        swapping in the fuller index after each chunk. Returns how many were encoded."""
        if self.encoder is None:
            return 0
        done = 0
        while stop is None or not stop.is_set():
            with self._lock:
                missing = [
                    a
                    for a in self.published.values()
                    if (a.article_id, a.version) not in self._vectors
                ]
            if not missing:
                return done
            passages = {digest(article_passage(a)): a for a in missing}
            cached = self.cache.get_many(list(passages))
            todo = [(d, a) for d, a in passages.items() if d not in cached][:chunk]
            fresh = {}
            if todo:
                encoded = self.encoder.passages([article_passage(a) for _, a in todo])
                fresh = {d: v for (d, _), v in zip(todo, encoded, strict=True)}
                self.cache.put_many(fresh)
                done += len(fresh)
            with self._lock:
                for d, vector in {**cached, **fresh}.items():
                    a = passages[d]
                    self._vectors[(a.article_id, a.version)] = vector
                index = self._index
                vectors, known = self._vectors_of(index.articles)
                self._index = index.with_vectors(vectors, known)
        return done

    # -- the background follower ---------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        ledger: Ledger,
        log: AskLog,
        poll: float,
        flush_every: float,
        conninfo: str | None,
        channel: str | None,
    ) -> None:
        if conninfo and channel:
            threading.Thread(
                target=self._listen, args=(stop, conninfo, channel, poll), daemon=True
            ).start()
        encoder = threading.Thread(target=self._encode, args=(stop,), daemon=True)
        if self.encoder is not None:
            encoder.start()
        tallied = time.monotonic()
        while not stop.is_set():
            _guarded(self.catch_up, "knowledge follower failed; retrying")
            self.wake.wait(poll)
            # A burst of saves notifies once per save: gather it (a publish is still seen
            # within about 2 × poll) instead of reading the log after every save.
            stop.wait(poll)
            self.wake.clear()
            tallies = time.monotonic() - tallied >= flush_every
            if tallies:
                tallied = time.monotonic()
            _guarded(partial(log.flush, ledger, tallies), "gaps and tallies not saved; kept")
        _guarded(partial(log.flush, ledger), "gaps and tallies not saved at shutdown")
        if encoder.is_alive():
            self.encode_wake.set()
            encoder.join(timeout=30)  # an encoding under way ends before the ledger closes

    def _encode(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.encode_wake.wait(1.0) and not stop.is_set():
                self.encode_wake.clear()
                _guarded(partial(self.encode_missing, stop=stop), "vectors not encoded; retrying")

    def _listen(self, stop: threading.Event, conninfo: str, channel: str, poll: float) -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except psycopg.Error:
                log.warning("knowledge follower lost its LISTEN connection; reconnecting")
                stop.wait(poll)


def _guarded(step: Callable[[], object], message: str) -> None:
    try:
        step()
    except Exception:
        log.exception(message)


@contextlib.contextmanager
def following(
    follower: KnowledgeFollower,
    ledger: Ledger,
    log: AskLog,
    poll: float,
    flush_every: float,
    conninfo: str | None,
    channel: str | None,
) -> Iterator[KnowledgeFollower]:
    """Follow the log in a background thread for the duration of the block."""
    follower.catch_up()
    stop = threading.Event()
    thread = threading.Thread(
        target=follower.run,
        args=(stop, ledger, log, poll, flush_every, conninfo, channel),
        name="knowledge",
        daemon=True,
    )
    thread.start()
    try:
        yield follower
    finally:
        stop.set()
        follower.wake.set()
        thread.join(timeout=60)
