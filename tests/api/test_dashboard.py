"""The dashboard through the ASGI app: login form, HttpOnly session, roles, figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from domain.common import CST
from tests.api.conftest import TOKENS, Api, bearer
from tests.api.test_auth_matrix import ACTIVITY, COMPLAINT, TRAINING
from tests.api.test_partner_events import assert_problem


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found is not None, name
    return found.group(1)


def panel(html: str, name: str) -> str:
    found = re.search(rf'<section class="panel" id="panel-{name}">(.*?)</section>', html)
    assert found is not None, name
    return found.group(1)


def test_login_sets_an_httponly_session_and_the_page_shows_the_apis_figures(api: Api) -> None:
    api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    browser = {"Accept": "text/html"}
    first = api.client.get("/dashboard", headers=browser, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/dashboard/login"
    assert "访问令牌" in api.client.get("/dashboard/login").text
    bad = api.client.post("/dashboard/login", data={"token": "nope"})
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("text/html")
    assert "令牌无效" in bad.text
    assert 'id="token"' in bad.text  # the form again, to retry
    wrong = api.client.post("/dashboard/login", data={"token": TOKENS["handler"]})
    assert wrong.status_code == 403
    assert "当前令牌的角色（投诉处理人员）无权查看监管看板" in wrong.text
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


def test_other_roles_are_refused_with_a_chinese_page(api: Api) -> None:
    refused = api.client.get("/dashboard", headers=bearer("handler"))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "无权查看监管看板" in refused.text
    unknown = api.client.get("/dashboard", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert "令牌无效或会话已过期" in unknown.text
    assert_problem(api.client.get("/dashboard"), 401)  # an API client without credentials
    assert api.client.get("/dashboard", headers=bearer("supervisor")).status_code == 200


def test_a_bad_period_is_a_chinese_page_naming_it(api: Api) -> None:
    for period, reason in (("2026Q5", "格式不正确"), ("2999", "尚未开始"), ("abc", "格式不正确")):
        page = api.client.get("/dashboard", params={"period": period}, headers=bearer("regulator"))
        assert page.status_code == 422, period
        assert page.headers["content-type"].startswith("text/html")
        assert f"统计期间“{period}”无效：{reason}" in page.text
        assert 'id="picker"' in page.text  # and a picker to choose a valid one


def test_a_bad_export_format_is_a_chinese_page_never_json(api: Api) -> None:
    for fmt in ("pdf", "CSV", ""):
        page = api.client.get(
            "/dashboard/export/warnings", params={"format": fmt}, headers=bearer("regulator")
        )
        assert page.status_code == 422, fmt
        assert page.headers["content-type"].startswith("text/html")
        assert f"导出格式“{fmt}”无效" in page.text
    refused = api.client.get(
        "/dashboard/export/warnings", params={"format": "pdf"}, headers=bearer("handler")
    )
    assert refused.status_code == 403  # the role is checked first, in Chinese
    assert "无权查看监管看板" in refused.text
    assert (
        api.client.get(
            "/dashboard/export/warnings", params={"format": "csv"}, headers=bearer("regulator")
        )
        .text.lstrip("\ufeff")
        .startswith("分组")
    )


def test_the_period_is_kept_in_the_url_and_shown_in_the_contracts_syntax(api: Api) -> None:
    api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    now = datetime.now(tz=UTC).astimezone(CST)
    for period in (f"{now.year}", f"{now.year}Q{(now.month - 1) // 3 + 1}", f"{now:%Y-%m}"):
        stats = api.get(
            "/v1/stats/complaints", who="regulator", period=period, position=api.count(), wait=10
        ).json()
        page = api.client.get(
            "/dashboard", params={"period": period}, headers=bearer("regulator")
        ).text
        assert figure(page, "period") == period
        assert f'<option value="{period}" selected>' in page
        assert figure(page, "received") == str(stats["totals"]["received"]) == "1"
        assert f"/v1/stats/complaints?period={period}&amp;format=csv" in page
        assert f"/v1/stats/complaints?period={period}&amp;format=xlsx" in page
    last_year = api.client.get(
        "/dashboard", params={"period": str(now.year - 1)}, headers=bearer("regulator")
    ).text
    assert figure(last_year, "received") == "0"


def test_every_panel_states_its_position_and_times_are_beijing_time(api: Api) -> None:
    api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    for kind in ("complaints", "claims", "disputes"):
        caught = api.get(
            f"/v1/stats/{kind}", "regulator", period="2026", position=api.count(), wait=10
        )
        assert caught.json()["caught_up"] is True, kind
    page = api.client.get("/dashboard", headers=bearer("regulator")).text
    for name in ("complaints", "timeliness", "causes", "trend", "claims", "disputes", "warnings"):
        shown = panel(page, name)
        position = re.search(r'反映账本位置 <b data-figure="position">(\d+)</b>', shown)
        assert position is not None, name
        assert 0 < int(position.group(1)) <= api.count(), name
    assert re.search(r"统计截至 <span[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d 北京时间<", page)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)  # no RFC 3339 instants
    assert "<polyline" in panel(page, "trend")  # trends as lines
    for kind in ("claims", "disputes"):
        assert f'data-export="{kind}-csv"' in panel(page, kind)
        assert f'data-export="{kind}-xlsx"' in panel(page, kind)
    assert "合并入原案件办理" in panel(page, "complaints")  # merged duplicates explained


def test_supervisors_follow_figures_to_their_queues_and_regulators_see_figures_only(
    api: Api,
) -> None:
    made = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    api.get("/v1/stats/complaints", "regulator", period="2026", position=api.count(), wait=10)
    supervisor = api.client.get("/dashboard", headers=bearer("supervisor")).text
    assert 'href="/dashboard/queues/overdue" data-queue="overdue"' in supervisor
    assert 'href="/dashboard/queues/open" data-queue="open"' in supervisor
    assert 'href="/dashboard/queues/warnings" data-queue="warnings"' in supervisor
    queue = api.client.get("/dashboard/queues/open", headers=bearer("supervisor"))
    assert queue.status_code == 200
    assert figure(queue.text, "queue_total") == "1"
    assert f"/v1/complaints/{made.json()['id']}/closure-report" in queue.text
    assert "张三" not in queue.text
    regulator = api.client.get("/dashboard", headers=bearer("regulator")).text
    assert "data-queue=" not in regulator
    assert "/dashboard/queues" not in regulator
    refused = api.client.get("/dashboard/queues/open", headers=bearer("regulator"))
    assert refused.status_code == 403
    assert "工作队列仅供消保主管查看" in refused.text
    unknown = api.client.get("/dashboard/queues/nope", headers=bearer("supervisor"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert "没有名为“nope”的工作队列" in unknown.text
    past = api.client.get("/dashboard", params={"period": "2025"}, headers=bearer("supervisor"))
    assert "data-queue=" not in past.text  # the queues hold the cases as they are now


def test_the_export_buttons_answer_with_the_panels_figures_through_the_session(
    api: Api,
) -> None:
    api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    login = api.client.post("/dashboard/login", data={"token": TOKENS["regulator"]})
    assert login.status_code == 200  # followed to the page
    page = login.text
    hrefs = re.findall(r'data-export="([a-z]+-(?:csv|xlsx))" href="([^"]+)"', page)
    assert {name for name, _ in hrefs} >= {"complaints-csv", "claims-xlsx", "disputes-csv"}
    for name, href in hrefs:
        answer = api.client.get(href.replace("&amp;", "&"))  # the session cookie only
        assert answer.status_code == 200, (name, answer.text)
        if name.endswith("csv"):
            assert answer.text.lstrip("\ufeff").split(",")[0] == "分组"
        else:
            assert answer.content[:2] == b"PK"  # a zip: an XLSX workbook
    assert {"warnings-csv", "warnings-xlsx"} <= {name for name, _ in hrefs}
    warnings = api.client.get("/dashboard/export/warnings?format=csv")
    table = list(csv.reader(io.StringIO(warnings.content.decode("utf-8-sig"))))
    assert table[0] == [
        "分组",
        "客户数",
        "近90日投诉件数",
        "近365日12378转办件数",
        "近365日结案后重复投诉件数",
    ]
    assert [row[0] for row in table[1:]] == ["合计", "预警等级：高", "预警等级：中", "预警等级：低"]
    assert table[1][1] == "1"  # the one complainant, at some level
    assert "张三" not in warnings.text
    assert warnings.headers["x-xiaobao-position"].isdigit()
    book = load_workbook(
        io.BytesIO(api.client.get("/dashboard/export/warnings?format=xlsx").content)
    )
    about = {row[0]: row[1] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d 北京时间", str(about["统计时点"]))
    out = api.client.post("/dashboard/logout", follow_redirects=False)
    assert out.status_code == 303
    assert (
        'xiaobao_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )


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
    assert ">理赔部<" in page  # the department with the overdue item, by its Chinese name
    assert "按期整改率（按季度" in page
    assert ">100%<" in page  # the item closed this quarter, on time


def test_the_period_asked_for_before_logging_in_is_shown_after_it(api: Api) -> None:
    browser = {"Accept": "text/html"}
    first = api.client.get("/dashboard?period=2026", headers=browser, follow_redirects=False)
    assert first.headers["location"] == "/dashboard/login?period=2026"
    form = api.client.get(first.headers["location"]).text
    assert '<input type="hidden" name="period" value="2026">' in form
    login = api.client.post(
        "/dashboard/login",
        data={"token": TOKENS["regulator"], "period": "2026"},
        follow_redirects=False,
    )
    assert login.headers["location"] == "/dashboard?period=2026"
    odd = api.client.post(
        "/dashboard/login",
        data={"token": TOKENS["regulator"], "period": "//evil.example"},
        follow_redirects=False,
    )
    assert odd.headers["location"] == "/dashboard"  # only a period's shape is carried
