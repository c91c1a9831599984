"""Accuracy of question answering, measured honestly: the demo articles loaded through the
aggregate (editor → reviewer → publish), the index followed from the log as in the service,
and the evaluation set of consumer questions (tests/data/knowledge_eval.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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

EVAL = Path(__file__).parents[1] / "data" / "knowledge_eval.json"


def test_answers_reach_the_accuracy_targets_on_the_evaluation_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        database_url="memory://",
        index_key_file=tmp_path / "index-key",
        signing_key_file=tmp_path / "signing-key.pem",
    )
    migrate(settings)
    ledger = build_ledger(settings)
    desk = KnowledgeDesk(
        ledger, CommandRunner(ledger, build_vault(settings, ledger), Saver(ledger, 10))
    )
    ids = load_knowledge(desk)
    follower = build_knowledge_follower(settings, ledger)
    follower.catch_up()
    follower.encode_missing()
    queries = KnowledgeQueries(ledger, follower, search_rules(settings), AskLog())
    slugs = {
        article_id: entry["slug"]
        for article_id, entry in zip(ids, json.loads(ARTICLES_FILE.read_text()), strict=True)
    }
    questions = json.loads(EVAL.read_text(encoding="utf-8"))
    answerable, unanswerable = questions["answerable"], questions["unanswerable"]
    top1 = top3 = answerable_handoff = 0
    for item in answerable:
        asked = queries.ask(item["q"], 3)
        found = [slugs[str(f.article.article_id)] for f in asked.answers]
        top1 += bool(found) and found[0] == item["slug"]
        top3 += item["slug"] in found
        answerable_handoff += asked.handoff
    handed_off = sum(queries.ask(item["q"], 3).handoff for item in unanswerable)
    n = len(answerable)
    with capsys.disabled():
        print(
            f"\nknowledge accuracy on {n} answerable questions over {len(ids)} articles: "
            f"top-1 {top1 / n:.1%}, top-3 {top3 / n:.1%}, handed off {answerable_handoff / n:.1%}; "
            f"unanswerable handed off {handed_off}/{len(unanswerable)} "
            f"({handed_off / len(unanswerable):.1%})"
        )
    assert len(ids) >= 60
    assert n >= 80
    assert len(unanswerable) >= 10
    assert top3 / n >= 0.85
    assert handed_off / len(unanswerable) >= 0.80
    assert answerable_handoff / n <= 0.25
    ledger.close()
