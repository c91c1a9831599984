"""The demo's rectification items: loaded through the application, idempotent, and forming
one inspection's report (closed on time, in progress, overdue)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.demo import DEMO_PRINCIPALS, demo_token
from api.demo_rectification import NOTICE, load_rectification_demo
from application.services import Services


def test_the_demo_items_load_once_and_form_the_inspections_report(services: Services) -> None:
    first = load_rectification_demo(services)
    position = services.ledger.position()
    assert load_rectification_demo(services) == first
    assert services.ledger.position() == position  # replays recorded nothing
    now = datetime(2026, 12, 7, tzinfo=UTC)
    report = services.rectification_queries.report("inspection", NOTICE, now)
    assert report["totals"]["items"] == 3
    assert report["totals"]["closed_on_time"] == 1
    assert report["totals"]["overdue"] == 1
    assert report["still_open"] == first[1:]


def test_the_demo_has_compliance_and_department_principals_with_tokens() -> None:
    roles = {e["role"]: e for e in DEMO_PRINCIPALS}
    assert roles["department"]["department"] == "claims"
    assert demo_token(roles["compliance"]) == "xb-demo-compliance"
    assert demo_token(roles["department"]) == "xb-demo-department"
