"""Fit the confidence of the dense retriever (not a test): the demo articles loaded and
followed as in the service, every question of the tuning files asked once, and a logistic
regression of the similarities of the best article (answerable questions against questions
no article answers, the two classes weighed equally) — the coefficients and bias that
`EnsembleEncoder` keeps — and a second one with the article's latent-term overlap as a
fourth feature (used when the first is unsure). Then each file's top-1, top-3 and handoff
rates at the settings' threshold with the encoder's confidence as it now is, and as it
would be with the newly fitted coefficients.

    .venv/bin/python -m bench.knowledge_calibrate [--questions FILE ...]

Defaults to the tuning files (tests/data/knowledge_eval.json, knowledge_dev.json,
knowledge_colloquial.json); never run it on the held-out set.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.knowledge_accuracy import demo_queries
from bench.knowledge_split import TUNING
from infrastructure.knowledge_search import EnsembleEncoder, SearchIndex


@dataclass(frozen=True)
class Asked:
    file: str
    slug: str | None  # the expected article; None for an unanswerable question
    found: tuple[str, ...]  # the best three articles' slugs
    similarities: tuple[float, ...]  # of the best article, one per dense block
    overlap: float  # the best article's latent-term overlap with the question
    score: float  # the confidence the index gave


def ask(index: SearchIndex, slugs: dict[str, str], file: str, item: dict[str, str]) -> Asked:
    found = index.search(item["q"], 3)
    encoder = index.encoder
    assert encoder is not None
    assert index.vectors is not None
    assert found
    row = index.articles.index(found[0].article)
    text = index.analyzer.corrected(item["q"])
    query = encoder.query(text)
    sims = tuple(float(d[0]) for d in encoder.similarities(index.vectors[row : row + 1], query))
    return Asked(
        file,
        item.get("slug"),
        tuple(slugs[str(f.article.article_id)] for f in found),
        sims,
        encoder.overlap(index.vectors[row], text),
        found[0].score,
    )


def fit(x: Any, y: Any, l2: float = 0.1, steps: int = 5000, rate: float = 0.1) -> Any:
    """Class-balanced logistic regression by gradient descent on standardised features;
    returns the coefficients and bias in the features' own units."""
    mean, spread = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / spread
    w, b = np.zeros(z.shape[1]), 0.0
    weight = np.where(y, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * weight
        w -= rate * (z.T @ g / len(y) + l2 * w)
        b -= rate * float(g.mean())
    return w / spread, b - float(mean @ (w / spread))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="+", default=TUNING)
    args = parser.parse_args()
    asked: list[Asked] = []
    with tempfile.TemporaryDirectory() as workdir, demo_queries(Path(workdir)) as (q, slugs):
        index = q.published.current()
        assert isinstance(index, SearchIndex)
        threshold = q.rules.handoff_below
        for path in args.questions:
            questions = json.loads(path.read_text(encoding="utf-8"))
            for item in [*questions["answerable"], *questions["unanswerable"]]:
                asked.append(ask(index, slugs, path.name, item))
    # the similarities the confidence is fitted on: not RoFormer-Sim's, the last (it ranks only)
    fitted = len(EnsembleEncoder.coefficients)
    assert all(len(a.similarities) == fitted + 1 for a in asked), "questions encoded with USE"
    x = np.array([a.similarities[:fitted] for a in asked])
    y = np.array([a.slug is not None for a in asked], dtype=float)
    coefficients, bias = fit(x, y)
    print(f"coefficients {tuple(round(float(c), 2) for c in coefficients)}, bias {bias:.2f}")
    x4 = np.column_stack([x, [a.overlap for a in asked]])
    with_overlap, overlap_bias = fit(x4, y)
    print(
        f"with the overlap: coefficients {tuple(round(float(c), 2) for c in with_overlap)}, "
        f"bias {overlap_bias:.2f}"
    )
    low, high = EnsembleEncoder.UNSURE
    sure = 1 / (1 + np.exp(-(x @ coefficients + bias)))
    unsure = (sure > low) & (sure < high)
    refitted = np.where(unsure, 1 / (1 + np.exp(-(x4 @ with_overlap + overlap_bias))), sure)
    print(f"{unsure.mean():.1%} of the questions within {EnsembleEncoder.UNSURE}")
    bands(x4, threshold)
    report(asked, np.array([a.score for a in asked]), threshold, "as the index answers")
    report(asked, refitted, threshold, "refitted")


def bands(x4: Any, threshold: float) -> None:
    """With the encoder's coefficients: the share of questions that pay the overlap's second
    e5 pass for narrower unsure bands, and how many handoff decisions they change against
    the kept band (the pass costs as much CPU as the question's dense encoding)."""
    e = EnsembleEncoder

    def logistic(coefficients: Any, bias: float, x: Any) -> Any:
        return 1 / (1 + np.exp(-(x @ np.asarray(coefficients) + bias)))

    sure = logistic(e.coefficients, e.bias, x4[:, :3])
    overlap = logistic(e.overlap_coefficients, e.overlap_bias, x4)

    def decided(low: float, high: float) -> Any:
        return np.where((sure > low) & (sure < high), overlap, sure) < threshold

    kept = decided(*e.UNSURE)
    for low, high in (e.UNSURE, (0.3, 0.7), (0.35, 0.65), (0.4, 0.6)):
        unsure = (sure > low) & (sure < high)
        changed = int((decided(low, high) != kept).sum())
        print(
            f"band {low}-{high}: {unsure.mean():.1%} of the questions pay the overlap, "
            f"{changed} handoff decisions differ from {e.UNSURE}"
        )


def report(asked: list[Asked], confidence: Any, threshold: float, label: str) -> None:
    print(label)
    for name in dict.fromkeys(a.file for a in asked):
        rows = [i for i, a in enumerate(asked) if a.file == name]
        answerable = [i for i in rows if asked[i].slug is not None]
        other = [i for i in rows if asked[i].slug is None]
        top1 = sum(asked[i].found[:1] == (asked[i].slug,) for i in answerable)
        top3 = sum(asked[i].slug in asked[i].found for i in answerable)
        print(
            f"{name}: top-1 {top1 / len(answerable):.1%}, top-3 {top3 / len(answerable):.1%}, "
            f"answerable handed off {np.mean(confidence[answerable] < threshold):.1%}, "
            f"unanswerable handed off {np.mean(confidence[other] < threshold):.1%} "
            f"(threshold {threshold})"
        )


if __name__ == "__main__":
    main()
