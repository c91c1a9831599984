"""Rectification over HTTP on SQLite and PostgreSQL: the contract's routes, bodies, status
codes, department scope, four eyes, idempotency, If-Match, the report in JSON and HTML."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import orjson

from api import rectification_models as r
from api.read_models import History
from infrastructure.principals import token_digest
from tests.api.conftest import Api, bearer
from tests.api.test_auth_matrix import COMPLAINT as COMPLAINT_BODY

NOTICE = "银保监现检〔2026〕3号"
EVIDENCE = [{"name": "roster.pdf", "sha256": "d" * 64, "ref": "dms://1"}]


def body(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": {"kind": "inspection", "ref": NOTICE},
        "finding": {
            "summary": "销售误导",
            "description": "话术未提示免责条款",
            "basis": "保险法第十七条",
            "severity": "high",
            "amount": "1200.00",
        },
        "department": "claims",
        "owner": "Claims Department",
        "occurred_at": "2026-01-31T10:00:00+08:00",
    }
    values.update(changes)
    return values


def post(api: Api, path: str, payload: dict[str, Any], who: str, **headers: str) -> httpx.Response:
    response: httpx.Response = api.client.post(
        path, json=payload, headers={**bearer(who), **headers}
    )
    return response


def open_item(api: Api, who: str = "compliance", **changes: Any) -> str:
    response = post(api, "/v1/rectifications", body(**changes), who)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def step(api: Api, item: str, name: str, payload: dict[str, Any], who: str) -> httpx.Response:
    return post(api, f"/v1/rectifications/{item}/{name}", payload, who)


def add_sales_department(api: Api) -> None:
    """A second department's principal, added to the principals file (reloaded on change)."""
    path = api.client.app.state.runtime.settings.principals_file  # type: ignore[attr-defined]
    entries = orjson.loads(path.read_bytes())
    entries.append(
        {
            "name": "Sales Department",
            "role": "department",
            "partner_id": None,
            "department": "sales",
            "token_sha256": token_digest("token-sales"),
        }
    )
    path.write_bytes(orjson.dumps(entries, option=orjson.OPT_INDENT_2))


def test_open_answers_201_with_the_id_and_the_due_date(api: Api) -> None:
    response = post(api, "/v1/rectifications", body(), "supervisor")
    assert response.status_code == 201
    assert set(response.json()) >= {"id", "due_date"}
    assert response.json()["due_date"] == "2026-03-02"
    given = post(api, "/v1/rectifications", body(due_date="2026-02-20"), "compliance")
    assert given.json()["due_date"] == "2026-02-20"


def test_unknown_severity_and_source_kind_are_422_naming_the_field(api: Api) -> None:
    bad = body()
    bad["finding"]["severity"] = "critical"
    response = post(api, "/v1/rectifications", bad, "compliance")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["finding.severity"]
    wrong = post(
        api, "/v1/rectifications", body(source={"kind": "rumour", "ref": "x"}), "compliance"
    )
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["source.kind"]


def test_a_department_works_its_own_items_and_reads_them(api: Api) -> None:
    item = open_item(api)
    planned = step(api, item, "plan", {"measures": ["重新培训"]}, "department")
    assert planned.status_code == 200
    assert planned.json()["state"] == "planned"
    progress = step(api, item, "progress", {"note": "培训完成", "evidence": EVIDENCE}, "department")
    assert progress.json()["state"] == "in_progress"
    submitted = step(api, item, "submit", {"evidence": EVIDENCE}, "department")
    assert submitted.json()["state"] == "submitted"
    read = api.get(f"/v1/rectifications/{item}", "department")
    assert read.status_code == 200
    assert read.headers["ETag"] == '"4"'


def test_another_departments_item_answers_as_an_unknown_record(api: Api) -> None:
    add_sales_department(api)
    item = open_item(api)
    sales = {"Authorization": "Bearer token-sales"}
    plan = api.client.post(
        f"/v1/rectifications/{item}/plan", json={"measures": ["m"]}, headers=sales
    )
    unknown_id = str(uuid4())
    unknown = api.client.post(
        f"/v1/rectifications/{unknown_id}/plan", json={"measures": ["m"]}, headers=sales
    )
    assert plan.status_code == unknown.status_code == 409
    assert plan.json()["type"] == unknown.json()["type"] == "urn:xiaobao:rule:unknown_record"
    assert plan.json()["detail"].replace(item, "ID") == unknown.json()["detail"].replace(
        unknown_id, "ID"
    )
    read = api.client.get(f"/v1/rectifications/{item}", headers=sales)
    missing = api.client.get(f"/v1/rectifications/{unknown_id}", headers=sales)
    assert read.status_code == missing.status_code == 404
    assert read.json() == missing.json()
    assert api.client.get(f"/v1/rectifications/{item}/history", headers=sales).status_code == 404
    report = api.client.get(
        "/v1/rectifications/report",
        params={"source_kind": "inspection", "source_ref": NOTICE},
        headers=sales,
    )
    assert report.status_code == 404  # none of this source's items is the sales department's
    own = api.get(
        "/v1/rectifications/report", "department", source_kind="inspection", source_ref=NOTICE
    )
    assert [i["id"] for i in own.json()["items"]] == [item]
    queue = api.client.get("/v1/rectifications", headers=sales).json()
    assert queue["total"] == 0
    assert api.get("/v1/rectifications", "department").json()["total"] == 1


def test_verify_before_submit_is_409_naming_the_rule(api: Api) -> None:
    item = open_item(api)
    response = step(api, item, "verify", {"outcome": "accepted"}, "compliance")
    assert response.status_code == 409
    assert response.json()["type"] == "urn:xiaobao:rule:not_submitted"


def test_a_verifier_who_owns_the_item_is_409_four_eyes(api: Api) -> None:
    item = open_item(api, owner="Compliance")
    step(api, item, "plan", {"measures": ["m"]}, "department")
    step(api, item, "submit", {"evidence": EVIDENCE}, "department")
    response = step(api, item, "verify", {"outcome": "accepted"}, "compliance")
    assert response.status_code == 409
    assert response.json()["type"] == "urn:xiaobao:rule:four_eyes"


def test_verified_closes_the_item_and_the_report_shows_it(api: Api) -> None:
    item = open_item(api)
    step(api, item, "plan", {"measures": ["重新培训"]}, "department")
    step(api, item, "submit", {"evidence": EVIDENCE}, "department")
    verified = step(
        api,
        item,
        "verify",
        {"outcome": "accepted", "comment": "整改到位", "occurred_at": "2026-02-10T15:00:00+08:00"},
        "compliance",
    )
    assert verified.json()["state"] == "closed"
    assert verified.json()["closed_late"] is False
    still = open_item(api)
    report = api.get(
        "/v1/rectifications/report", "auditor", source_kind="inspection", source_ref=NOTICE
    )
    assert report.status_code == 200
    found = report.json()
    assert found["totals"]["closed_on_time"] == 1
    assert found["still_open"] == [still]
    html = api.client.get(
        "/v1/rectifications/report",
        params={"source_kind": "inspection", "source_ref": NOTICE},
        headers={**bearer("supervisor"), "Accept": "text/html"},
    )
    assert html.headers["content-type"].startswith("text/html")
    page = html.text
    assert "整改情况报告" in page
    assert "2026-02-10 15:00 北京时间" in page  # verified at, in Beijing time
    assert "合规管理人员" in page  # the verifier's role in Chinese
    assert "d" * 64 in page  # the evidence digest
    assert "按期完成" in page


def test_the_report_of_an_unknown_source_is_404_and_a_bad_kind_422(api: Api) -> None:
    missing = api.get(
        "/v1/rectifications/report", "compliance", source_kind="inspection", source_ref="none"
    )
    assert missing.status_code == 404
    bad = api.get("/v1/rectifications/report", "compliance", source_kind="rumour", source_ref="x")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "source_kind"


def test_idempotency_key_replays_and_if_match_guards(api: Api) -> None:
    first = post(api, "/v1/rectifications", body(), "compliance", **{"Idempotency-Key": "k1"})
    again = post(api, "/v1/rectifications", body(), "compliance", **{"Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    changed = post(
        api, "/v1/rectifications", body(owner="x"), "compliance", **{"Idempotency-Key": "k1"}
    )
    assert changed.status_code == 409
    item = first.json()["id"]
    stale = post(
        api,
        f"/v1/rectifications/{item}/cancel",
        {"reason": "r"},
        "compliance",
        **{"If-Match": '"9"'},
    )
    assert stale.status_code == 412
    fresh = post(
        api,
        f"/v1/rectifications/{item}/cancel",
        {"reason": "r"},
        "compliance",
        **{"If-Match": '"1"'},
    )
    assert fresh.json()["state"] == "cancelled"


def test_extend_is_for_supervisors_and_moves_the_due_date(api: Api) -> None:
    item = open_item(api)
    assert (
        step(
            api, item, "extend", {"due_date": "2026-03-31", "reason": "r"}, "compliance"
        ).status_code
        == 403
    )
    extended = step(
        api, item, "extend", {"due_date": "2026-03-31", "reason": "系统改造"}, "supervisor"
    )
    assert extended.json()["due_date"] == "2026-03-31"
    earlier = step(api, item, "extend", {"due_date": "2026-03-01", "reason": "r"}, "supervisor")
    assert earlier.status_code == 409
    assert earlier.json()["type"] == "urn:xiaobao:rule:extension_not_later"


def test_history_time_travel_and_queue_filters(api: Api) -> None:
    item = open_item(api)
    step(api, item, "plan", {"measures": ["m"]}, "department")
    history = api.get(f"/v1/rectifications/{item}/history", "auditor").json()["events"]
    assert [e["type"] for e in history] == ["Opened", "Planned"]
    assert history[0]["data"]["finding"]["amount"] == "1200.00"
    then = api.get(f"/v1/rectifications/{item}", "auditor", as_of_version=1).json()
    assert then["state"] == "open"
    overdue = api.get("/v1/rectifications", "compliance", overdue="true").json()
    assert [i["id"] for i in overdue["items"]] == [item]  # due 2026-03-02, long past
    assert api.get("/v1/rectifications", "compliance", severity="low").json()["total"] == 0
    assert api.get("/v1/rectifications", "compliance", state="planned").json()["total"] == 1
    bad = api.get("/v1/rectifications", "compliance", state="finished")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "state"


def test_an_item_traced_from_a_decided_complaint_is_listed_on_the_complaint(api: Api) -> None:
    complaint = post(api, "/v1/complaints", COMPLAINT_BODY, "handler").json()["id"]
    source = {"kind": "complaint", "ref": "2026Q1 投诉溯源"}
    undecided = post(
        api, "/v1/rectifications", body(source=source, complaint_ids=[complaint]), "supervisor"
    )
    assert undecided.status_code == 409
    assert complaint in undecided.json()["detail"]
    assert undecided.json()["type"] == "urn:xiaobao:rule:complaint_not_decided"
    post(api, f"/v1/complaints/{complaint}/assign", {"handler": "Handler"}, "handler")
    decision = {"outcome": "upheld", "redress": "100.00", "facts": "f", "basis": "b"}
    assert post(api, f"/v1/complaints/{complaint}/decide", decision, "handler").status_code == 200
    item = open_item(api, "supervisor", source=source, complaint_ids=[complaint])
    read = api.get(f"/v1/complaints/{complaint}", "handler").json()
    assert read["rectification_items"] == [item]
    missing = str(uuid4())
    unknown = post(
        api, "/v1/rectifications", body(source=source, complaint_ids=[missing]), "supervisor"
    )
    assert unknown.status_code == 409
    assert missing in unknown.json()["detail"]


def test_statistics_count_the_items_by_source_and_department(api: Api) -> None:
    done = open_item(api)
    step(api, done, "plan", {"measures": ["m"]}, "department")
    step(api, done, "submit", {"evidence": EVIDENCE}, "department")
    step(
        api,
        done,
        "verify",
        {"outcome": "accepted", "occurred_at": "2026-03-03T09:00:00+08:00"},  # the day after
        "compliance",
    )
    open_item(api, department="sales", source={"kind": "internal_audit", "ref": "IA-1"})
    answer = api.get(
        "/v1/stats/rectifications",
        "regulator",
        period="2026Q1",
        by="source,department",
        position=api.count(),
        wait=10,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["caught_up"] is True
    assert body["evaluated_at"] == "2026-03-31T16:00:00Z"
    totals = body["totals"]
    assert (totals["opened"], totals["closed"], totals["closed_late"]) == (2, 1, 1)
    assert (totals["open"], totals["overdue"]) == (1, 1)  # the audit item, due 2026-03-02
    assert [g["key"] for g in body["groups"]] == [
        {"source": "inspection", "department": "claims"},
        {"source": "internal_audit", "department": "sales"},
    ]
    csv = api.get(
        "/v1/stats/rectifications", "supervisor", period="2026Q1", by="severity", format="csv"
    )
    table = csv.content.decode("utf-8-sig").splitlines()
    assert table[0].startswith("分组,新增整改事项")
    assert "风险等级：高" in table[2]  # the group, in Chinese
    assert "逾期销号" in table[0]
    bad = api.get("/v1/stats/rectifications", "regulator", period="2026", by="owner")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "by"
    assert api.get("/v1/stats/rectifications", "compliance", period="2026").status_code == 403


def test_every_rectification_read_sends_what_openapi_describes(api: Api) -> None:
    item = open_item(api, complaint_ids=[], due_date="2026-02-28")
    step(
        api,
        item,
        "plan",
        {"measures": ["m"], "milestones": [{"title": "t", "due_date": "2026-02-10"}]},
        "department",
    )
    step(api, item, "progress", {"note": "n", "evidence": EVIDENCE}, "department")
    step(api, item, "submit", {"evidence": EVIDENCE}, "department")
    step(api, item, "verify", {"outcome": "rejected", "comment": "c"}, "compliance")
    step(api, item, "extend", {"due_date": "2026-03-31", "reason": "r"}, "supervisor")
    step(api, item, "submit", {"evidence": EVIDENCE}, "department")
    step(api, item, "verify", {"outcome": "accepted"}, "compliance")
    cancelled = open_item(api)
    step(api, cancelled, "cancel", {"reason": "r"}, "compliance")
    checks = (
        (r.RectificationItemRead, api.get(f"/v1/rectifications/{item}", "auditor")),
        (r.RectificationItemRead, api.get(f"/v1/rectifications/{cancelled}", "auditor")),
        (History, api.get(f"/v1/rectifications/{item}/history", "auditor")),
        (r.RectificationQueue, api.get("/v1/rectifications", "auditor")),
        (
            r.RectificationReport,
            api.get(
                "/v1/rectifications/report", "auditor", source_kind="inspection", source_ref=NOTICE
            ),
        ),
        (
            r.RectificationStatistics,
            api.get(
                "/v1/stats/rectifications",
                "regulator",
                period="2026",
                by="severity",
                position=api.count(),
                wait=10,
            ),
        ),
    )
    for model, response in checks:
        assert response.status_code == 200, response.text
        model.model_validate(response.json())


def test_an_item_traced_from_a_substantiated_report_is_listed_on_the_report(api: Api) -> None:
    from tests.api.test_reports_api import investigate, new_report
    from tests.api.test_reports_api import step as report_step

    report = new_report(api)
    source = {"kind": "report", "ref": "举报核查 2026-01"}
    early = post(api, "/v1/rectifications", body(source=source, report_id=report), "compliance")
    assert early.status_code == 409
    assert early.json()["type"] == "urn:xiaobao:rule:report_not_substantiated"
    assert report in early.json()["detail"]
    investigate(api, report)
    concluded = report_step(
        api, report, "conclude", {"finding": "partly_substantiated", "basis": "录音"}
    )
    assert concluded.status_code == 200, concluded.text
    item = open_item(api, "compliance", source=source, report_id=report)
    read = api.get(f"/v1/reports/{report}", "report_officer").json()
    assert read["rectification_items"] == [item]
    assert api.get(f"/v1/rectifications/{item}", "compliance").json()["report_id"] == report
    missing = str(uuid4())
    unknown = post(api, "/v1/rectifications", body(source=source, report_id=missing), "compliance")
    assert unknown.status_code == 409
    assert missing in unknown.json()["detail"]
