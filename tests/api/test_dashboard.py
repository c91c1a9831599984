"""The dashboard through the ASGI app: login form, HttpOnly session, roles, figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from domain.common import CST
from tests.api.conftest import TOKENS, Api, bearer
from tests.api.test_auth_matrix import ACTIVITY, COMPLAINT, TRAINING
from tests.api.test_partner_events import assert_problem


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found is not None, name
    return found.group(1)


def test_login_sets_an_httponly_session_and_the_page_shows_the_apis_figures(api: Api) -> None:
    api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    browser = {"Accept": "text/html"}
    first = api.client.get("/dashboard", headers=browser, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/dashboard/login"
    assert "访问令牌" in api.client.get("/dashboard/login").text
    assert_problem(api.client.post("/dashboard/login", data={"token": "nope"}), 401)
    assert_problem(api.client.post("/dashboard/login", data={"token": TOKENS["handler"]}), 403)
    login = api.client.post(
        "/dashboard/login", data={"token": TOKENS["regulator"]}, follow_redirects=False
    )
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert TOKENS["regulator"] not in cookie
    page = api.client.get("/dashboard", headers=browser)
    assert page.status_code == 200
    period = figure(page.text, "period")
    stats = api.get(
        "/v1/stats/complaints", who="regulator", period=period, position=api.count(), wait=10
    ).json()
    page = api.client.get("/dashboard", headers=browser)  # now that the views caught up
    assert figure(page.text, "received") == str(stats["totals"]["received"])
    assert figure(page.text, "transfers") == str(stats["totals"]["transfers_12378"])
    assert "<svg" in page.text
    assert "投诉原因分布" in page.text
    assert "张三" not in page.text


def test_the_education_panel_shows_the_quarters_education_figures(api: Api) -> None:
    now = datetime.now(tz=UTC).astimezone(CST).replace(microsecond=0)
    started = now.isoformat()  # in this quarter whenever the test runs
    activity = {**ACTIVITY, "started_at": started, "ended_at": started}
    for body in (activity, {**activity, "audiences": ["rural"], "channel": "village"}):
        api.client.post("/v1/education/activities", json=body, headers=bearer("educator"))
    training = {**TRAINING, "held_at": started}
    api.client.post("/v1/education/trainings", json=training, headers=bearer("educator"))
    period = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    stats = api.get(
        "/v1/stats/education", who="regulator", period=period, position=api.count(), wait=10
    ).json()
    assert stats["totals"]["activities"] == 2
    page = api.client.get("/dashboard", headers=bearer("regulator")).text
    assert figure(page, "education_activities") == "2"
    assert figure(page, "education_participants") == "160"
    assert figure(page, "one_old_one_young_share") == "50.0%"
    assert figure(page, "training_hours") == "2.00"
    assert "宣教活动渠道分布" in page
    assert "乡村" in page


def test_other_roles_are_refused(api: Api) -> None:
    assert_problem(api.client.get("/dashboard", headers=bearer("handler")), 403)
    assert_problem(api.client.get("/dashboard"), 401)
    assert api.client.get("/dashboard", headers=bearer("supervisor")).status_code == 200


def test_the_dashboard_shows_overdue_rectification_by_department_and_the_on_time_trend(
    api: Api,
) -> None:
    long_ago = datetime.now(tz=UTC) - timedelta(days=40)
    finding = {"summary": "s", "description": "d", "basis": "b", "severity": "high"}
    overdue = {
        "source": {"kind": "inspection", "ref": "N-1"},
        "finding": finding,
        "department": "claims",
        "owner": "Claims Department",
        "due_date": long_ago.astimezone(CST).date().isoformat(),
        "occurred_at": long_ago.isoformat(),
    }
    opened = api.client.post("/v1/rectifications", json=overdue, headers=bearer("compliance"))
    assert opened.status_code == 201
    on_time = {k: v for k, v in overdue.items() if k not in ("due_date", "occurred_at")}
    item = api.client.post("/v1/rectifications", json=on_time, headers=bearer("supervisor"))
    item_id = item.json()["id"]
    evidence = [{"name": "e", "sha256": "f" * 64, "ref": "r"}]
    for path, body, who in (
        ("plan", {"measures": ["m"]}, "department"),
        ("submit", {"evidence": evidence}, "department"),
        ("verify", {"outcome": "accepted"}, "compliance"),
    ):
        done = api.client.post(
            f"/v1/rectifications/{item_id}/{path}", json=body, headers=bearer(who)
        )
        assert done.status_code == 200, done.text
    api.get("/v1/stats/rectifications", "regulator", period="2026", position=api.count(), wait=10)
    page = api.client.get("/dashboard", headers=bearer("regulator")).text
    assert "逾期整改事项（按部门）" in page
    assert ">claims<" in page  # the department with the overdue item
    assert "按期整改率（按季度）" in page
    assert ">100%<" in page  # the item closed this quarter, on time
