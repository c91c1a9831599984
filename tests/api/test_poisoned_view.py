"""One event must never stall a view: an exposure report its view cannot store, put into the
store below the API, surfaces in /readyz, /metrics and `xiaobao projections` without flooding
the log, while the other views reach the log's head."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from domain.common import Actor
from domain.exposure import Exposure, ExposureReport
from infrastructure.principals import token_digest
from infrastructure.settings import Settings
from tests.api.conftest import PRINCIPALS, TOKENS, Api, bearer
from tests.api.test_auth_matrix import COMPLAINT

UNREADY_AFTER = 1.0


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    settings.principals_file.write_bytes(
        orjson.dumps(
            [
                {**p, "token_sha256": token_digest(TOKENS[p["partner_id"] or p["role"]])}
                for p in PRINCIPALS
            ]
        )
    )
    quick = settings.model_copy(
        update={
            "projection_retry_first_seconds": 0.05,
            "projection_retry_max_seconds": 0.2,
            "projection_failing_unready_seconds": UNREADY_AFTER,
            "projection_gather_seconds": 0.0,
        }
    )
    with TestClient(create_app(quick), raise_server_exceptions=False) as client:
        yield Api(client)


def poison(api: Api) -> None:
    """An exposure report with 2^63 policies, recorded straight through the application."""
    ledger = api.client.app.state.runtime.services.ledger  # type: ignore[attr-defined]
    report = ExposureReport(period=datetime.now(tz=UTC).strftime("%Y-%m"), line="health")
    report.report(
        Exposure(Decimal("1.00"), 2**63, 1),
        datetime.now(tz=UTC),
        Actor("Insurer", "insurer", "insurer-1"),
    )
    ledger.save(report)


def readiness(api: Api, until: Any, seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        response = api.client.get("/readyz")
        if until(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_a_poisoned_event_surfaces_in_readyz_and_metrics_and_the_other_views_keep_up(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="xiaobao.projections")
    poison(api)
    poisoned_at = api.count()
    assert api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler")).is_success
    head = api.count()

    def retried_and_unready(response: Any) -> bool:
        # a loaded machine may starve the runner's thread past UNREADY_AFTER before a retry
        if response.status_code != 503:
            return False
        failing = response.json()["projections"]["exposure_facts"]["failing"]
        return failing is not None and failing["attempts"] >= 2

    response = readiness(api, retried_and_unready)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert "exposure_facts" in body["detail"]
    stuck = body["projections"]["exposure_facts"]
    assert stuck["failing"]["position"] == poisoned_at
    assert stuck["failing"]["topic"].endswith("ExposureReport.Reported")
    assert stuck["failing"]["error"] in ("OverflowError", "DataError"), stuck
    assert stuck["failing"]["attempts"] >= 2
    assert stuck["lag"] == head - poisoned_at + 1
    since = datetime.fromisoformat(stuck["failing"]["since"])
    assert (datetime.now(tz=UTC) - since).total_seconds() >= UNREADY_AFTER
    others = {v: s for v, s in body["projections"].items() if v != "exposure_facts"}
    assert others
    assert all(s["lag"] == 0 and s["failing"] is None for s in others.values()), others

    metrics = api.client.get("/metrics", headers=bearer("admin")).text
    assert 'xiaobao_projection_failing{view="exposure_facts"} 1.0' in metrics
    assert 'xiaobao_projection_failing{view="complaint_facts"} 0.0' in metrics
    assert (
        f'xiaobao_projection_failing_position{{view="exposure_facts"}} {poisoned_at}.0' in metrics
    )
    assert 'xiaobao_projection_failures_total{view="exposure_facts"}' in metrics
    lag = f'xiaobao_projection_lag_entries{{view="exposure_facts"}} {head - poisoned_at + 1}.0'
    assert lag in metrics

    logged = [r for r in caplog.records if r.name == "xiaobao.projections"]
    assert len(logged) == 1, [r.getMessage() for r in logged]  # not a line per retry
    assert logged[0].getMessage() == f"view exposure_facts starts failing at position {poisoned_at}"

    shown = CliRunner().invoke(
        cli, ["projections"], env={"XIAOBAO_DATABASE_URL": settings.database_url}
    )
    assert shown.exit_code == 1, shown.output  # a failing view: the command says so
    assert f"position {poisoned_at}" in shown.output
    assert "ExposureReport.Reported" in shown.output
