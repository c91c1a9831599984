"""The collector of a serving process: start-up frozen, requests' temporaries freed before
a young collection would promote them, and both undone when the process's app stops."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.collector import steady_collector
from tests.conftest import settings_for


def burst(requests: int) -> None:
    """Requests like a long history's: thousands of small containers, freed at the end."""
    for _ in range(requests):
        entries = [{"version": n, "data": {"lines": [n, str(n)]}} for n in range(2_000)]
        del entries


def collections_during(work: Any) -> dict[int, int]:
    seen: dict[int, int] = {}

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen[info["generation"]] = seen.get(info["generation"], 0) + 1

    gc.callbacks.append(count)
    try:
        work()
    finally:
        gc.callbacks.remove(count)
    return seen


def test_requests_temporaries_run_no_collection_under_the_steady_collector() -> None:
    before = gc.get_threshold()
    gc.collect()
    default = collections_during(lambda: burst(30))
    with steady_collector(10_000):
        assert gc.get_threshold() == (10_000, *before[1:])
        assert gc.get_freeze_count() > 0
        steady = collections_during(lambda: burst(30))
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    # 30 bursts of 6,000 containers at CPython's 700: young collections, with promotions
    # that lead to full ones; freed by their reference counts first at 10,000: none at all
    assert sum(default.values()) >= 30
    assert steady == {}


def test_the_app_sets_the_collector_for_its_lifespan(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for("sqlite", tmp_path, request).model_copy(
        update={"gc_young_threshold": 4321, "run_projections": False}
    )
    settings.principals_file.write_text("[]")
    before = gc.get_threshold()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold()[0] == 4321
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
