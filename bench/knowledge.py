"""Knowledge-base benchmark (not a test), on PostgreSQL: `GET /v1/knowledge/ask` latency on
one API process with N published articles — lexical only, then with the dense retriever —
beside the same-run time of a bare bm25s query over the same tokens (the service's own
overhead shows), and the delay from a publish (written by this process) to `ask` seeing it
in the API process.

    .venv/bin/python -m bench.knowledge [--articles 1000] [--asks 500] [--publishes 10]
        [--lexical-only]

Every question is timed once as new (the dense retriever caches question vectors), then
`--asks` times cycling over them again. The passage vectors are written before the dense
API process starts (as the projection process would have written them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import bm25s
import httpx

from api.demo import ARTICLES_FILE
from application.commands import CommandRunner
from application.gateway import Meta
from application.knowledge import (
    DraftArticle,
    KnowledgeDesk,
    PublishArticle,
    ReviewArticle,
    SubmitArticle,
)
from application.ledger import utc_now
from application.saving import Saver
from bench.common import database_url, fresh_database
from domain.common import Actor
from domain.knowledge import ArticleContent, PublishedArticle
from infrastructure.knowledge_search import article_text, load_synonym_file, shared_analyzer
from infrastructure.principals import token_digest
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_vault, migrate

DB = os.environ.get("XIAOBAO_BENCH_KNOWLEDGE_DB", "xiaobao_bench_knowledge")
URL = database_url(DB)
# the tuning questions (never the held-out set): real questions, so that as many of them as
# in the service land in the unsure band and pay the latent-term overlap's second e5 pass
QUESTIONS = [
    Path(__file__).parents[1] / "tests" / "data" / name
    for name in ("knowledge_eval.json", "knowledge_dev.json", "knowledge_colloquial.json")
]
VECTOR_CACHE = Path.home() / ".cache" / "xiaobao-bench"
TOKEN = "bench-consumer-app"
EDITOR, REVIEWER = Actor("编辑", "editor"), Actor("审核", "reviewer")


def corpus(n: int) -> list[ArticleContent]:
    """N articles: the demo articles, then variants of them (numbered, region-specific)."""
    demo = json.loads(ARTICLES_FILE.read_text(encoding="utf-8"))
    found = []
    for i in range(n):
        a = demo[i % len(demo)]
        round_ = i // len(demo)
        suffix = f"（第{round_}版·地区{round_ % 31}）" if round_ else ""
        found.append(
            ArticleContent(
                a["title"] + suffix,
                a["body"] + suffix,
                a["category"],
                tuple(a["rights"]),
                tuple(a["audiences"]),
                tuple(a.get("keywords", ())),
                tuple(a.get("lines", ())),
            )
        )
    return found


def publish(desk: KnowledgeDesk, content: ArticleContent) -> UUID:
    made = desk.draft(DraftArticle(content), Meta(utc_now(), EDITOR), None)
    article_id = UUID(made.body["id"])
    desk.submit(SubmitArticle(article_id), Meta(utc_now(), EDITOR), None, None)
    desk.review(ReviewArticle(article_id, True, ""), Meta(utc_now(), REVIEWER), None, None)
    desk.publish(PublishArticle(article_id), Meta(utc_now(), EDITOR), None, None)
    return article_id


class Server:
    """One API process (one worker) on the benchmark database."""

    def __init__(self, workdir: Path, port: int, dense: bool) -> None:
        self.url = f"http://127.0.0.1:{port}"
        principals = workdir / "principals.json"
        entry = {"name": "App", "role": "consumer_app", "partner_id": None}
        principals.write_text(json.dumps([{**entry, "token_sha256": token_digest(TOKEN)}]))
        env = {
            **os.environ,
            "XIAOBAO_DATABASE_URL": URL,
            "XIAOBAO_PRINCIPALS_FILE": str(principals),
            "XIAOBAO_SIGNING_KEY_FILE": str(workdir / "signing-key.pem"),
            "XIAOBAO_INDEX_KEY_FILE": str(workdir / "index-key"),
            "XIAOBAO_KNOWLEDGE_DENSE": "true" if dense else "false",
            "XIAOBAO_ACCESS_LOG": "false",
            "XIAOBAO_RATE_LIMIT_PER_SECOND": "0",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


WARM_UP = ["保险是什么", "怎么投诉", "理赔要多久", "退保流程", "什么是犹豫期"]


def ask_latency(
    client: httpx.Client, questions: list[str], asks: int
) -> tuple[list[float], list[float]]:
    """(each question asked for the first time, then `asks` asks cycling over them again):
    the dense retriever keeps question vectors in an LRU cache, so the first pass is what
    a new question costs and the second what a repeated one costs."""
    for q in WARM_UP:  # warm up (questions outside the timed set)
        client.get("/v1/knowledge/ask", params={"q": q})

    def timed(q: str) -> float:
        started = time.perf_counter()
        response = client.get("/v1/knowledge/ask", params={"q": q})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"ask failed: {response.status_code} {response.text[:200]}")
        return elapsed

    first = [timed(q) for q in questions]
    again = [timed(questions[i % len(questions)]) for i in range(asks)]
    return first, again


def bare_bm25(contents: list[ArticleContent], questions: list[str], asks: int) -> list[float]:
    """bm25s alone over the same analysed tokens: score every article, take the top 3."""
    settings = Settings()
    analyzer = shared_analyzer(settings.knowledge_dictionary_file)
    analyzer.use_synonyms(load_synonym_file(settings.knowledge_synonyms_file))
    articles = [PublishedArticle(UUID(int=i), 1, c) for i, c in enumerate(contents)]
    retriever = bm25s.BM25(k1=settings.knowledge_bm25_k1, b=settings.knowledge_bm25_b)
    retriever.index([analyzer.tokens(article_text(a)) for a in articles], show_progress=False)
    tokens = [analyzer.tokens(q) for q in questions]
    timings = []
    for i in range(asks):
        started = time.perf_counter()
        scores = retriever.get_scores(tokens[i % len(tokens)])
        scores.argsort()[-3:]
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def search_cpu(contents: list[ArticleContent], questions: list[str]) -> None:
    """CPU time (`time.process_time`, all threads) of `SearchIndex.search` per new question
    in this process, over the same articles and passage vectors as the dense API process:
    steadier than the HTTP timings on a shared machine, and it counts the questions that
    paid the latent-term overlap's second e5 pass (confidence in the unsure band), and how
    many had that pass started beside their dense one; and the wall time of the same calls
    (the two passes overlap in time only when a core is free)."""
    import numpy as np
    import psycopg

    from infrastructure.knowledge_search import SearchIndex, article_passage, shared_encoder
    from infrastructure.knowledge_vectors import digest
    from infrastructure.store import search_rules

    settings = Settings()
    analyzer = shared_analyzer(settings.knowledge_dictionary_file)
    analyzer.use_synonyms(load_synonym_file(settings.knowledge_synonyms_file))
    encoder = shared_encoder(settings.knowledge_query_use)
    articles = [PublishedArticle(UUID(int=i), 1, c) for i, c in enumerate(contents)]
    with psycopg.connect(URL, autocommit=True) as conn:
        stored: dict[str, bytes] = dict(
            conn.execute("SELECT digest, vector FROM knowledge_vectors").fetchall()
        )
    vectors = np.stack(
        [np.frombuffer(stored[digest(article_passage(a))], np.float32) for a in articles]
    )
    index = SearchIndex(articles, analyzer, encoder, search_rules(settings), 0, vectors)
    for q in WARM_UP:
        index.search(q, 3)
    # (`anticipated`: absent before the latent terms could start early; same bench on both)
    before, ahead = encoder._terms.cache_info().misses, getattr(encoder, "anticipated", 0)
    timings, walls = [], []
    for q in questions:
        started, wall = time.process_time(), time.perf_counter()
        index.search(q, 3)
        timings.append((time.process_time() - started) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    overlaps = encoder._terms.cache_info().misses - before
    report("search CPU in process, new questions", timings)
    report("search wall in process, new questions", walls)
    started_ahead = getattr(encoder, "anticipated", 0) - ahead
    print(
        f"  {overlaps} of {len(questions)} new questions paid the latent-term overlap; "
        f"{started_ahead} had it started beside their dense pass"
    )


def publish_delay(
    desk: KnowledgeDesk, ledger: Any, client: httpx.Client, publishes: int
) -> list[float]:
    """From the commit of a publish here to the API process answering at that position."""
    delays = []
    for i in range(publishes):
        content = ArticleContent(
            f"基准测试文章{i}号",
            f"专门用于测量发布延迟的第{i}篇文章。",
            "finance_basics",
            (),
            ("general",),
        )
        publish(desk, content)
        target, started = ledger.position(), time.perf_counter()
        while True:
            body = client.get("/v1/knowledge/ask", params={"q": f"基准测试文章{i}号"}).json()
            if body["position"] >= target:
                break
            time.sleep(0.005)
        delays.append((time.perf_counter() - started) * 1000)
    return delays


def precompute_vectors(contents: list[ArticleContent]) -> None:
    """Write the passage vectors of every benchmark article into `knowledge_vectors` before
    the dense API process starts, as the projection process would have (the API process
    then reads them instead of encoding 1,000 articles itself). Real encodings: the demo
    articles' passages are encoded once by the service's encoder (about 2.5 minutes on the
    loaded 2-core machine; kept in `VECTOR_CACHE`, keyed by the model and the passages), and
    each numbered variant (`corpus`) gets its demo article's vector — the suffix is a few
    characters of a long passage. Real vectors matter: the confidence of a question's best
    article decides whether it pays a second e5 pass (the latent-term overlap, when unsure),
    and random vectors never made it unsure."""
    import numpy as np
    import psycopg

    from infrastructure.knowledge_search import EnsembleEncoder, article_passage, shared_encoder
    from infrastructure.knowledge_vectors import digest

    demo = json.loads(ARTICLES_FILE.read_text(encoding="utf-8"))
    base = [article_passage(PublishedArticle(UUID(int=i), 1, c)) for i, c in enumerate(contents)]
    originals = base[: len(demo)]
    key = digest("\n\n".join(originals))[:16]
    cached = VECTOR_CACHE / f"demo-{key}.npy"
    if cached.exists():
        vectors = np.load(cached)
    else:
        started = time.perf_counter()
        vectors = np.asarray(shared_encoder().passages(originals), dtype=np.float32)
        print(
            f"encoded the {len(originals)} demo passages in {time.perf_counter() - started:.0f} s"
        )
        VECTOR_CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    assert vectors.shape[1] == EnsembleEncoder.dim
    rows = [(digest(p), vectors[i % len(demo)].tobytes()) for i, p in enumerate(base)]
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS knowledge_vectors "
            "(digest TEXT PRIMARY KEY, vector BYTEA NOT NULL)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO knowledge_vectors (digest, vector) VALUES (%s, %s) "
                "ON CONFLICT (digest) DO NOTHING",
                rows,
            )


def encoded(count: int, timeout: float = 3600) -> float:
    """Wait until the API process's encoder thread has cached a passage vector for `count`
    articles; returns the seconds waited (dense answers before then use fewer articles)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(URL, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            row = conn.execute("SELECT count(*) FROM knowledge_vectors").fetchone()
            if row is not None and int(row[0]) >= count:
                break
            time.sleep(1)
    return time.monotonic() - started


def report(name: str, timings: list[float]) -> None:
    print(
        f"{name:<38} n {len(timings):4d}   p50 {statistics.median(timings):7.2f} ms   "
        f"p99 {percentile(timings, 0.99):7.2f} ms   max {max(timings):7.2f} ms   "
        f"load {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--asks", type=int, default=500)
    parser.add_argument("--publishes", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--lexical-only", action="store_true", help="skip the dense run")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before dense asks")
    args = parser.parse_args()
    fresh_database(DB)
    workdir = Path(tempfile.mkdtemp(prefix="xiaobao-bench-knowledge-"))
    settings = Settings(database_url=URL, index_key_file=workdir / "index-key")
    migrate(settings)
    ledger = build_ledger(settings)
    desk = KnowledgeDesk(
        ledger, CommandRunner(ledger, build_vault(settings, ledger), Saver(ledger, 10))
    )
    contents = corpus(args.articles)
    started = time.perf_counter()
    for content in contents:
        publish(desk, content)
    print(f"published {len(contents)} articles in {time.perf_counter() - started:.1f} s")
    if not args.lexical_only:
        precompute_vectors(contents)
        print(f"passage vectors of {len(contents)} articles written (the demo articles' own)")
    questions = list(
        dict.fromkeys(
            q["q"]
            for path in QUESTIONS
            for evaluation in [json.loads(path.read_text(encoding="utf-8"))]
            for q in evaluation["answerable"] + evaluation["unanswerable"]
        )
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for dense in (False,) if args.lexical_only else (False, True):
        server = Server(workdir, args.port, dense)
        try:
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                label = "dense + BM25" if dense else "lexical only"
                if dense:
                    waited = encoded(len(contents))
                    print(f"passage vectors of {len(contents)} articles encoded in {waited:.0f} s")
                    time.sleep(args.settle)  # the API process reads them back and re-indexes
                first, again = ask_latency(client, questions, args.asks)
                report(f"ask, {label}, new questions", first)
                report(f"ask, {label}, asked again", again)
                report("bare bm25s query (same tokens)", bare_bm25(contents, questions, args.asks))
                if dense:
                    search_cpu(contents, questions)
                if not dense:
                    delays = publish_delay(desk, ledger, client, args.publishes)
                    report("publish → visible in the API process", delays)
        finally:
            server.stop()
    ledger.close()


if __name__ == "__main__":
    main()
