"""Each API process's copy of the published set: a projection of the knowledge topics of
the log into memory, followed from the process's own position (woken by the ledger's NOTIFY
on PostgreSQL, polling on SQLite and in memory). A change builds a new index off the request
path and swaps it in; `ask` reads whichever index is current and names its position.

The passage vectors of the dense retriever are not computed in the API processes (encoding
the demo's 76 articles took ~46% of a worker's CPU while it served): one `VectorWriter`
across processes — in the projection process (`xiaobao project`, or the runner inside
`serve`) — encodes each published version once into the vector cache
(`infrastructure/knowledge_vectors.py`), and each API process reads the vectors back. Until
they are there, the articles without one are ranked by BM25 alone, as before. Only the
in-memory store, which has no other process, encodes in the follower itself.

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
from infrastructure.knowledge_vectors import VectorCache, digest, recall, remember
from infrastructure.sealer import SingleActive

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
        encodes: bool = True,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.analyzer = analyzer
        self.encoder = encoder
        self.rules = rules
        self.defaults = default_synonyms
        self.batch = batch
        self.cache = cache
        self.encodes = encodes  # False: the vectors come from the cache (a `VectorWriter`)
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
        return apply_publication(self.published, event)

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

    def missing(self) -> bool:
        """Whether the current index has articles without their passage vector."""
        known = self._index.known
        return known is not None and not known.all()

    def encode_missing(self, chunk: int = 8, stop: threading.Event | None = None) -> int:
        """Encode the published versions that have no vector yet (cached ones are read back),
        swapping in the fuller index after each chunk. Returns how many were encoded."""
        if self.encoder is None:
            return 0
        done = 0
        while stop is None or not stop.is_set():
            passages = self._missing_passages()
            if not passages:
                return done
            cached = self.cache.get_many(list(passages))
            todo = [(d, a) for d, a in passages.items() if d not in cached][:chunk]
            fresh = {}
            if todo:
                encoded = self.encoder.passages([article_passage(a) for _, a in todo])
                fresh = {d: v for (d, _), v in zip(todo, encoded, strict=True)}
                self.cache.put_many(fresh)
                done += len(fresh)
            self._use(passages, {**cached, **fresh})
        return done

    def load_cached(self) -> int:
        """Read back the vectors (written by the `VectorWriter`) of the published versions
        that have none yet, and swap in the fuller index. Returns how many were found."""
        if self.encoder is None:
            return 0
        passages = self._missing_passages()
        if not passages:
            return 0
        found = self.cache.get_many(list(passages))
        if found:
            self._use(passages, found)
        return len(found)

    def _missing_passages(self) -> dict[str, PublishedArticle]:
        with self._lock:
            missing = [
                a for a in self.published.values() if (a.article_id, a.version) not in self._vectors
            ]
        return {digest(article_passage(a)): a for a in missing}

    def _use(self, passages: dict[str, PublishedArticle], vectors: dict[str, Any]) -> None:
        with self._lock:
            for d, vector in vectors.items():
                a = passages[d]
                self._vectors[(a.article_id, a.version)] = vector
            index = self._index
            found, known = self._vectors_of(index.articles)
            self._index = index.with_vectors(found, known)

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
                target=listen, args=(self.wake, stop, conninfo, channel, poll), daemon=True
            ).start()
        encoder = threading.Thread(target=self._encode, args=(stop,), daemon=True)
        if self.encoder is not None and self.encodes:
            encoder.start()
        tallied = looked = time.monotonic()
        while not stop.is_set():
            _guarded(self.catch_up, "knowledge follower failed; retrying")
            # Vectors still missing: look in the cache now and then (one read of a small
            # table) until the writer has stored them.
            if not self.encodes and self.missing() and time.monotonic() - looked >= 2 * poll:
                looked = time.monotonic()
                _guarded(self.load_cached, "passage vectors not read; retrying")
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


def apply_publication(published: dict[UUID, PublishedArticle], event: Any) -> bool:
    """Apply a knowledge article's event to the published set; whether the set changed."""
    name = type(event).__qualname__.rsplit(".", 1)[-1]
    if name == "Published":
        published[event.originator_id] = PublishedArticle(
            event.originator_id, event.number, event.content
        )
        return True
    if name == "Retired":
        return published.pop(event.originator_id, None) is not None
    return False


def listen(
    wake: threading.Event, stop: threading.Event, conninfo: str, channel: str, poll: float
) -> None:
    """Set `wake` on each NOTIFY of the ledger's channel (reconnecting when the connection
    is lost) until `stop`."""
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wake.set()
        except psycopg.Error:
            log.warning("knowledge follower lost its LISTEN connection; reconnecting")
            stop.wait(poll)


class VectorWriter:
    """Encodes the passage of each published article version once, into the vector cache,
    for every API process to read back. At most one is active across processes (`lock`);
    the encoder is loaded only when there is something to encode."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        encoder: Callable[[], Encoder],
        cache: VectorCache,
        lock: SingleActive,
        batch: int = 1000,
        chunk: int = 8,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.encoder = encoder
        self.cache = cache
        self.lock = lock
        self.batch = batch
        self.chunk = chunk
        self.published: dict[UUID, PublishedArticle] = {}
        self.position = 0
        self.stored: set[str] = set()  # digests known to be in the cache
        self.wake = threading.Event()

    def step(self, stop: threading.Event | None = None) -> int:
        """Catch up with the published set and encode the passages the cache lacks;
        returns how many were encoded."""
        head = int(self.recorder.max_notification_id() or 0)
        while self.position < head:
            notifications = self.recorder.select_notifications(
                self.position, self.batch, stop=head, topics=TOPICS, inclusive_of_start=False
            )
            for n in notifications:
                event = self.mapper.to_domain_event(n)
                if not isinstance(event, SynonymTable.Event):
                    apply_publication(self.published, event)
            if len(notifications) < self.batch:
                break
            self.position = notifications[-1].id
        self.position = max(self.position, head)
        passages = {
            d: p
            for d, p in ((digest(p), p) for p in map(article_passage, self.published.values()))
            if d not in self.stored
        }
        if not passages:
            return 0
        self.stored.update(self.cache.get_many(list(passages)))
        todo = [(d, p) for d, p in passages.items() if d not in self.stored]
        known = recall([d for d, _ in todo])  # met by this process on another ledger
        if known:
            self.cache.put_many(known)
            self.stored.update(known)
            todo = [(d, p) for d, p in todo if d not in known]
        done = 0
        for start in range(0, len(todo), self.chunk):
            if stop is not None and stop.is_set():
                break
            part = todo[start : start + self.chunk]
            encoded = self.encoder().passages([p for _, p in part])
            vectors = {d: v for (d, _), v in zip(part, encoded, strict=True)}
            self.cache.put_many(vectors)
            remember(vectors)
            self.stored.update(d for d, _ in part)
            done += len(part)
        if done:
            log.info("passage vectors encoded", extra={"count": done})
        return done

    def run(
        self, stop: threading.Event, poll: float, conninfo: str | None, channel: str | None
    ) -> None:
        if conninfo and channel:
            threading.Thread(
                target=listen, args=(self.wake, stop, conninfo, channel, poll), daemon=True
            ).start()
        try:
            while not stop.is_set():
                if not _guarded_bool(self.lock.acquire, "vector writer lock not taken"):
                    stop.wait(max(poll, 1.0) * 4)  # another process writes the vectors
                    continue
                _guarded(partial(self.step, stop), "passage vectors not written; retrying")
                self.wake.wait(max(poll, 1.0))
                stop.wait(poll)  # a burst of saves: one look at the log, not one per save
                self.wake.clear()
        finally:
            self.lock.release()


def _guarded_bool(step: Callable[[], bool], message: str) -> bool:
    try:
        return step()
    except Exception:
        log.exception(message)
        return False


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


@contextlib.contextmanager
def writing_vectors(
    writer: VectorWriter, poll: float, conninfo: str | None, channel: str | None
) -> Iterator[VectorWriter]:
    """Run the vector writer in a background thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(
        target=writer.run, args=(stop, poll, conninfo, channel), name="vectors", daemon=True
    )
    thread.start()
    try:
        yield writer
    finally:
        stop.set()
        writer.wake.set()
        thread.join(timeout=60)
