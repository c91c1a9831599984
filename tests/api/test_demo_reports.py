"""The demo reports: loaded through the application, idempotent, readable over HTTP, and the
demo reporter's identity never reaches logs or metrics."""

from __future__ import annotations

import logging

import pytest

from api.demo_reports import DEMO_INVESTIGATORS, load_reports
from api.observability import JSONFormatter
from application.services import build_report_services
from infrastructure.store import build_vault, report_rules
from tests.api.conftest import Api


def test_demo_reports_load_once_and_show_each_stage(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    settings = runtime.settings
    reports = build_report_services(
        runtime.services,
        build_vault(settings, runtime.services.ledger),
        report_rules(settings),
        DEMO_INVESTIGATORS,
    )
    ids = load_reports(reports, runtime.services.events, runtime.notary)
    size = api.count()
    assert load_reports(reports, runtime.services.events, runtime.notary) == ids
    assert api.count() == size
    states = {
        name: api.get(f"/v1/reports/{rid}", who="report_officer").json()["state"]
        for name, rid in ids.items()
    }
    assert states == {
        "closed": "closed",
        "anonymous": "closed",
        "extended": "investigating",
        "overdue": "received",
        "transferred": "received",
        "spring": "closed",
        "declined": "declined",
    }
    overdue = api.get("/v1/reports", who="report_officer", queue="overdue").json()["items"]
    assert ids["overdue"] in {i["id"] for i in overdue}
    officer = api.get(f"/v1/reports/{ids['closed']}", who="report_officer").json()
    assert officer["reporter"]["name"] == "陈示范"
    text = "\n".join(JSONFormatter().format(r) for r in caplog.records)
    text += api.get("/metrics", who="admin").text
    for secret in ("陈示范", "330102199003031234", "13900000000"):
        assert secret not in text
