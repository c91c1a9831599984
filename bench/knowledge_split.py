"""Leave-articles-out check of the handoff threshold (not a test): every question of the
given files asked once with the settings' ranking, then, over several random splits, the
threshold tuned on the questions of half of the articles (and half of the unanswerable ones)
and read on the other half, whose articles it never saw.

    .venv/bin/python -m bench.knowledge_split [--questions FILE ...] [--splits N]

Defaults to the tuning files (tests/data/knowledge_eval.json, knowledge_dev.json,
knowledge_colloquial.json); never run it on the held-out set.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.knowledge_accuracy import demo_queries

TUNING = [
    Path(__file__).parents[1] / "tests" / "data" / "knowledge_eval.json",
    Path(__file__).parents[1] / "tests" / "data" / "knowledge_dev.json",
    Path(__file__).parents[1] / "tests" / "data" / "knowledge_colloquial.json",
]
THRESHOLDS = [round(0.40 + 0.005 * i, 3) for i in range(81)]
OFF_TOPIC_TARGET = 0.85


@dataclass(frozen=True)
class Asked:
    slug: str | None  # the expected article; None for an unanswerable question
    top: str | None
    confidence: float


def rates(asked: list[Asked], threshold: float) -> tuple[float, float]:
    """Share of answerable handed off, share of unanswerable handed off."""
    answerable = [a for a in asked if a.slug is not None]
    other = [a for a in asked if a.slug is None]
    return (
        sum(a.confidence < threshold for a in answerable) / max(len(answerable), 1),
        sum(a.confidence < threshold for a in other) / max(len(other), 1),
    )


def tuned(asked: list[Asked]) -> float:
    """The threshold handing off the fewest answerable questions while handing off at least
    `OFF_TOPIC_TARGET` of the unanswerable ones (a shortfall counts twice)."""

    def cost(threshold: float) -> float:
        answerable, other = rates(asked, threshold)
        return answerable + 2 * max(0.0, OFF_TOPIC_TARGET - other)

    return min(THRESHOLDS, key=cost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="+", default=TUNING)
    parser.add_argument("--splits", type=int, default=6)
    args = parser.parse_args()
    asked: list[Asked] = []
    with tempfile.TemporaryDirectory() as workdir, demo_queries(Path(workdir)) as (q, slugs):
        for path in args.questions:
            questions = json.loads(path.read_text(encoding="utf-8"))
            items = [*questions["answerable"], *questions["unanswerable"]]
            for item in items:
                answers = q.ask(item["q"], 1).answers
                top = slugs[str(answers[0].article.article_id)] if answers else None
                asked.append(Asked(item.get("slug"), top, answers[0].score if answers else 0.0))
    articles = sorted(set(slugs.values()))
    for seed in range(args.splits):
        draw = random.Random(seed)
        seen = set(draw.sample(articles, len(articles) // 2))
        other = [a for a in asked if a.slug is None]
        draw.shuffle(other)
        half = len(other) // 2
        train = [a for a in asked if a.slug in seen] + other[:half]
        test = [a for a in asked if a.slug is not None and a.slug not in seen] + other[half:]
        threshold = tuned(train)
        answerable, off_topic = rates(test, threshold)
        unseen = [a for a in test if a.slug is not None]
        top1 = sum(a.top == a.slug for a in unseen) / len(unseen)
        print(
            f"split {seed}: threshold {threshold:.3f} tuned on {len(train)} questions; "
            f"on the other {len(test)}: top-1 {top1:.1%}, answerable handed off "
            f"{answerable:.1%}, unanswerable handed off {off_topic:.1%}"
        )


if __name__ == "__main__":
    main()
