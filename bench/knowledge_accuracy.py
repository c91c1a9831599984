"""Question-answering accuracy (not a test): the demo articles loaded through the aggregate,
the index followed from the log as in the service, and a file of questions — by default the
held-out set the ranking was never tuned on (bench/data/knowledge_holdout.json).

    .venv/bin/python -m bench.knowledge_accuracy [--questions FILE] [--lexical-only]

The test `tests/application/test_knowledge_accuracy.py` runs the same evaluation on
tests/data/knowledge_eval.json and holds it to the issue's floors.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.demo import ARTICLES_FILE, load_knowledge
from application.commands import CommandRunner
from application.knowledge import AskLog, KnowledgeDesk, KnowledgeQueries
from application.saving import Saver
from infrastructure.settings import Settings
from infrastructure.store import (
    build_knowledge_follower,
    build_ledger,
    build_vault,
    migrate,
    search_rules,
)

HOLDOUT = Path(__file__).parent / "data" / "knowledge_holdout.json"


@dataclass(frozen=True)
class Accuracy:
    """Top-1 and top-3 hits and handoffs over a question set."""

    articles: int
    answerable: int
    top1: int
    top3: int
    answerable_handed_off: int
    unanswerable: int
    unanswerable_handed_off: int

    def line(self) -> str:
        n, u = self.answerable, self.unanswerable
        return (
            f"{n} answerable questions over {self.articles} articles: top-1 {self.top1 / n:.1%}, "
            f"top-3 {self.top3 / n:.1%}, handed off {self.answerable_handed_off / n:.1%}; "
            f"unanswerable handed off {self.unanswerable_handed_off}/{u} "
            f"({self.unanswerable_handed_off / u:.1%})"
        )


@contextmanager
def demo_queries(
    workdir: Path, **overrides: Any
) -> Iterator[tuple[KnowledgeQueries, dict[str, str]]]:
    """The demo articles loaded into an in-memory ledger through the aggregate, followed as in
    the service; yields the queries and each article id's slug."""
    settings = Settings(
        database_url="memory://",
        index_key_file=workdir / "index-key",
        signing_key_file=workdir / "signing-key.pem",
        **overrides,
    )
    migrate(settings)
    ledger = build_ledger(settings)
    try:
        desk = KnowledgeDesk(
            ledger, CommandRunner(ledger, build_vault(settings, ledger), Saver(ledger, 10))
        )
        ids = load_knowledge(desk)
        follower = build_knowledge_follower(settings, ledger)
        follower.catch_up()
        follower.encode_missing()
        queries = KnowledgeQueries(ledger, follower, search_rules(settings), AskLog())
        articles = json.loads(ARTICLES_FILE.read_text(encoding="utf-8"))
        yield queries, {i: entry["slug"] for i, entry in zip(ids, articles, strict=True)}
    finally:
        ledger.close()


def evaluate(questions: dict[str, Any], workdir: Path, **overrides: Any) -> Accuracy:
    """Load the demo articles into an in-memory ledger and ask every question."""
    with demo_queries(workdir, **overrides) as (queries, slugs):
        top1 = top3 = answerable_handoff = 0
        for item in questions["answerable"]:
            asked = queries.ask(item["q"], 3)
            found = [slugs[str(f.article.article_id)] for f in asked.answers]
            top1 += bool(found) and found[0] == item["slug"]
            top3 += item["slug"] in found
            answerable_handoff += asked.handoff
        handed_off = sum(queries.ask(item["q"], 3).handoff for item in questions["unanswerable"])
        return Accuracy(
            len(slugs),
            len(questions["answerable"]),
            top1,
            top3,
            answerable_handoff,
            len(questions["unanswerable"]),
            handed_off,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=HOLDOUT)
    parser.add_argument("--lexical-only", action="store_true")
    args = parser.parse_args()
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    overrides = {"knowledge_dense": False} if args.lexical_only else {}
    with tempfile.TemporaryDirectory() as workdir:
        print(evaluate(questions, Path(workdir), **overrides).line())


if __name__ == "__main__":
    main()
