"""Reports (举报) over HTTP: the lifecycle, confidentiality of the reporter, bad input, rule
refusals, idempotency, If-Match, 12378 transfers and the regulator feed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api import read_models as rm
from api import report_models as m
from domain.common import CST
from tests.api.conftest import Api, bearer
from tests.api.test_read_models import conforms

REPORTER = {"id": "110101199001011234", "name": "王小明", "phone": "13912345678"}
REPORT: dict[str, Any] = {
    "channel": "hotline",
    "anonymous": False,
    "reporter": REPORTER,
    "category": "sales_misrepresentation",
    "subject": {"kind": "agent", "ref": "AG-1", "department": "consumer-protection"},
    "facts": "代理人承诺保本收益",
}
OFFICER = "report_officer"


def now() -> str:
    return datetime.now(tz=UTC).isoformat()


def post(
    api: Api, path: str, body: dict[str, Any], who: str = OFFICER, **headers: str
) -> httpx.Response:
    response: httpx.Response = api.client.post(path, json=body, headers={**bearer(who), **headers})
    return response


def new_report(api: Api, **changes: Any) -> str:
    response = post(api, "/v1/reports", {**REPORT, **changes})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def step(
    api: Api, rid: str, action: str, body: dict[str, Any] | None = None, who: str = OFFICER
) -> httpx.Response:
    return post(api, f"/v1/reports/{rid}/{action}", body or {}, who)


def investigate(api: Api, rid: str) -> None:
    assert step(api, rid, "accept").status_code == 200
    assert step(api, rid, "assign", {"investigator": "Supervisor"}).status_code == 200
    assert step(api, rid, "findings", {"summary": "录音证实"}).status_code == 200


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in {e["field"] for e in body.get("errors", [])}, body
    return body


def test_a_report_is_handled_from_receipt_to_closing(api: Api) -> None:
    rid = new_report(api)
    investigate(api, rid)
    concluded = step(
        api, rid, "conclude", {"finding": "substantiated", "basis": "第十二条", "actions": ["问责"]}
    )
    assert concluded.json()["state"] == "concluded"
    delivery = {"method": "letter", "delivered_at": now()}
    notified = step(api, rid, "notify", {"delivery": delivery})
    assert notified.status_code == 200, notified.text
    assert step(api, rid, "close").json()["state"] == "closed"
    view = api.get(f"/v1/reports/{rid}", who=OFFICER)
    assert view.headers["ETag"] == '"7"'
    body = view.json()
    assert body["state"] == "closed"
    assert body["acceptance_due"]["due_date"]
    assert body["conclusion_due"]["due_at"].endswith("Z")
    assert body["overdue"] is False
    history = api.get(f"/v1/reports/{rid}/history", who="auditor").json()["events"]
    assert [e["type"] for e in history] == [
        "Received",
        "Accepted",
        "Assigned",
        "FindingsRecorded",
        "Concluded",
        "Notified",
        "Closed",
    ]


def test_only_report_officers_see_the_reporter(api: Api) -> None:
    rid = new_report(api)
    assert api.get(f"/v1/reports/{rid}", who=OFFICER).json()["reporter"] == REPORTER
    for who in ("auditor", "supervisor"):
        view = api.get(f"/v1/reports/{rid}", who=who)
        assert view.status_code == 200
        assert "reporter" not in view.json()
        history = api.get(f"/v1/reports/{rid}/history", who=who).text
        queue = api.get("/v1/reports", who=who, queue="open").text
        for value in REPORTER.values():
            assert value not in view.text
            assert value not in history
            assert value not in queue


def test_the_reporter_never_reaches_logs_or_metrics(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rid = new_report(api)
    api.get(f"/v1/reports/{rid}", who=OFFICER)
    api.get(f"/v1/reports/{rid}/history", who=OFFICER)
    metrics = api.get("/metrics", who="admin").text
    for value in REPORTER.values():
        assert value not in caplog.text
        assert value not in metrics


def test_a_handler_may_not_use_any_report_route(api: Api) -> None:
    rid = new_report(api)
    assert_problem(post(api, "/v1/reports", REPORT, who="handler"), 403)
    assert_problem(api.get(f"/v1/reports/{rid}", who="handler"), 403)
    assert_problem(step(api, rid, "accept", who="handler"), 403)


def test_an_unknown_report_reads_as_not_found_and_commands_name_the_unknown_record(
    api: Api,
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(api.get(f"/v1/reports/{missing}", who=OFFICER), 404)
    body = assert_problem(step(api, missing, "accept"), 409)
    assert body["type"].endswith("unknown_record")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"anonymous": True}, "reporter"),
        ({"category": "gossip"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"subject": {"kind": "cat", "ref": "x", "department": "d"}}, "subject.kind"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    before = api.count()
    assert_problem(post(api, "/v1/reports", {**REPORT, **changes}), 422, field)
    assert api.count() == before


def test_an_anonymous_report_without_a_reporter_closes_after_its_conclusion(api: Api) -> None:
    rid = new_report(api, anonymous=True, reporter=None)
    investigate(api, rid)
    step(api, rid, "conclude", {"finding": "not_substantiated", "basis": "无证据"})
    delivery = {"method": "sms", "delivered_at": now()}
    body = assert_problem(step(api, rid, "notify", {"delivery": delivery}), 409)
    assert body["type"].endswith("anonymous_report_not_notified")
    assert step(api, rid, "close").json()["state"] == "closed"


def test_an_unknown_finding_names_the_field(api: Api) -> None:
    rid = new_report(api)
    investigate(api, rid)
    assert_problem(step(api, rid, "conclude", {"finding": "maybe", "basis": "b"}), 422, "finding")


def test_steps_out_of_order_are_refused_naming_the_rule(api: Api) -> None:
    rid = new_report(api)
    body = assert_problem(
        step(api, rid, "conclude", {"finding": "substantiated", "basis": "b"}), 409
    )
    assert body["type"].endswith("report_not_accepted")
    step(api, rid, "accept")
    assert step(api, rid, "extend", {"reason": "复杂"}, who="supervisor").status_code == 200
    second = assert_problem(step(api, rid, "extend", {"reason": "再次"}, who="supervisor"), 409)
    assert second["type"].endswith("extension_already_granted")
    assert_problem(step(api, rid, "extend", {"reason": "x"}), 403)  # officers do not extend


def test_an_investigator_from_the_reported_department_is_a_conflict(api: Api) -> None:
    rid = new_report(api)
    step(api, rid, "accept")
    body = assert_problem(step(api, rid, "assign", {"investigator": "Report Officer"}), 409)
    assert body["type"].endswith("investigator_in_reported_department")
    assert_problem(step(api, rid, "assign", {"investigator": "Nobody"}), 422, "investigator")


def test_idempotency_key_replays_and_if_match_guards_staleness(api: Api) -> None:
    first = post(api, "/v1/reports", REPORT, **{"Idempotency-Key": "r-1"})
    again = post(api, "/v1/reports", REPORT, **{"Idempotency-Key": "r-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    rid = first.json()["id"]
    step(api, rid, "accept")
    stale = api.client.post(
        f"/v1/reports/{rid}/decline",
        json={"reason": "dup"},
        headers={**bearer(OFFICER), "If-Match": '"1"'},
    )
    assert_problem(stale, 412)


def test_time_travel_reads_the_report_as_it_was(api: Api) -> None:
    rid = new_report(api)
    step(api, rid, "accept")
    then = api.get(f"/v1/reports/{rid}", who="auditor", as_of_version=1).json()
    assert then["state"] == "received"


def test_queues_page_and_filter_by_state_and_due(api: Api) -> None:
    first, second = new_report(api), new_report(api)
    step(api, second, "accept")
    received = api.get("/v1/reports", who=OFFICER, state="received").json()
    assert [i["id"] for i in received["items"]] == [first]
    page = api.get("/v1/reports", who=OFFICER, queue="open", size=1, page=2).json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert api.get("/v1/reports", who=OFFICER, due="overdue").json()["total"] == 0
    assert_problem(api.get("/v1/reports", who=OFFICER, queue="nope"), 422)


def test_a_12378_report_is_idempotent_and_its_progress_reaches_the_feed(api: Api) -> None:
    data = {k: v for k, v in REPORT.items() if k != "channel"} | {"transfer_id": "JB-1"}
    first = api.send("regulator.report-transferred.v1", data, who="cbirc-12378", id="jb-ev-1")
    assert first.status_code == 201, first.text
    again = api.send("regulator.report-transferred.v1", data, who="cbirc-12378", id="jb-ev-1")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    rid = first.json()["stream"]["id"]
    other = api.send("regulator.report-transferred.v1", data, who="cbirc-12378", id="jb-ev-2")
    assert_problem(other, 409)
    step(api, rid, "accept")
    feed = api.get("/v1/regulator/feed", who="cbirc-12378", after=0).json()["items"]
    reports = [i for i in feed if i.get("kind") == "report"]
    assert [i["state"] for i in reports] == ["received", "accepted"]
    assert {i["transfer_id"] for i in reports} == {"JB-1"}
    assert all(i["report_id"] == rid for i in reports)
    for value in REPORTER.values():
        assert value not in str(feed)


def test_a_staff_report_stays_out_of_the_feed(api: Api) -> None:
    new_report(api)
    assert api.get("/v1/regulator/feed", who="cbirc-12378", after=0).json()["items"] == []


def test_report_statistics_count_without_reporter_data_and_export_in_chinese(api: Api) -> None:
    rid = new_report(api)
    step(api, rid, "accept")
    new_report(api, channel="email", category="fraud")
    year = datetime.now(tz=UTC).astimezone(CST).strftime("%Y")
    params = {"period": year, "by": "category,channel", "position": api.count(), "wait": 10}
    answer = api.get("/v1/stats/reports", who="regulator", **params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["caught_up"] is True
    assert (body["totals"]["received"], body["totals"]["accepted"]) == (2, 1)
    assert body["totals"]["acceptance_timeliness"] == "1.0000"
    assert {tuple(g["key"].values()): g["received"] for g in body["groups"]} == {
        ("fraud", "email"): 1,
        ("sales_misrepresentation", "hotline"): 1,
    }
    assert body["evaluated_at"].endswith("Z")
    csv = api.get("/v1/stats/reports", who="regulator", format="csv", **params)
    assert "受理举报量" in csv.text
    for value in REPORTER.values():
        assert value not in answer.text
        assert value not in csv.text
    assert_problem(
        api.get("/v1/stats/reports", who="regulator", period=year, by="region"), 422, "by"
    )


def test_the_dashboard_shows_reports_by_category_without_the_reporter(api: Api) -> None:
    new_report(api, category="fraud")
    new_report(api, category="fraud", channel="email")
    year = datetime.now(tz=UTC).astimezone(CST).strftime("%Y")
    api.get("/v1/stats/reports", who="regulator", period=year, position=api.count(), wait=10)
    page = api.client.get("/dashboard", headers=bearer("supervisor"))
    assert page.status_code == 200
    assert "举报类别分布" in page.text
    chart = page.text[page.text.index("举报类别分布") :]
    chart = chart[: chart.index("</svg>")]
    assert "欺诈" in chart
    assert ">2<" in chart
    for value in REPORTER.values():
        assert value not in page.text


def test_an_admin_adds_a_report_category_that_intake_then_accepts(api: Api) -> None:
    assert_problem(post(api, "/v1/reports", {**REPORT, "category": "kickbacks"}), 422, "category")
    added = api.client.put(
        "/v1/reference/report-categories/kickbacks",
        json={"name": "商业贿赂"},
        headers=bearer("admin"),
    )
    assert added.status_code == 201
    listed = api.get("/v1/reference/report-categories", who=OFFICER).json()["codes"]
    assert {"code": "kickbacks", "name": "商业贿赂"} in listed
    assert {"code": "fraud", "name": "欺诈"} in listed
    new_report(api, category="kickbacks")


def test_report_reads_send_what_openapi_describes(api: Api) -> None:
    named = new_report(api)
    investigate(api, named)
    step(api, named, "extend", {"reason": "复杂"}, who="supervisor")
    step(api, named, "conclude", {"finding": "substantiated", "basis": "b", "actions": ["整改"]})
    step(api, named, "notify", {"delivery": {"method": "app", "delivered_at": now()}})
    anonymous = new_report(api, anonymous=True, reporter=None)
    for rid in (named, anonymous):
        for who in (OFFICER, "auditor"):
            conforms(m.Report, api.get(f"/v1/reports/{rid}", who=who))
        conforms(rm.History, api.get(f"/v1/reports/{rid}/history", who="auditor"))
    conforms(m.ReportQueue, api.get("/v1/reports", who=OFFICER, queue="open"))
    year = datetime.now(tz=UTC).astimezone(CST).strftime("%Y")
    stats = api.get("/v1/stats/reports", who="regulator", period=year, by="category")
    conforms(m.ReportStatistics, stats)
