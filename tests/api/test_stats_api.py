"""Complaint statistics over HTTP: figures from the views, attested by position, densities
against exposure, and equal to a recomputation from the raw events."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook

from domain.common import CST
from tests.api.conftest import Api, bearer
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_partner_events import assert_problem


def post(api: Api, path: str, who: str = "handler", **body: Any) -> Any:
    return api.client.post(path, json=body, headers=bearer(who))


def this_month() -> str:
    return datetime.now(tz=UTC).astimezone(CST).strftime("%Y-%m")


def test_figures_reconcile_with_the_log_and_name_their_position(api: Api) -> None:
    month = this_month()
    exposure = {
        "period": month,
        "line": "health",
        "premium": "100000000.00",
        "policies": 10000,
        "insured_persons": 20000,
    }
    assert api.send("insurer.exposure-reported.v1", exposure, who="insurer-1").status_code == 201
    first = post(api, "/v1/complaints", **COMPLAINT).json()
    post(api, "/v1/complaints", **{**COMPLAINT, "channel": "app"})  # merged duplicate
    post(api, "/v1/complaints", **{**COMPLAINT, "complainant": {"id": "c-2", "name": "李四"}})
    post(
        api,
        "/v1/complaints",
        **{
            **COMPLAINT,
            "complainant": {"id": "c-3", "name": "王五"},
            "line": "motor",
            "cause": "service",
        },
    )
    post(
        api,
        f"/v1/complaints/{first['id']}/decide",
        outcome="upheld",
        redress="500.00",
        facts="f",
        basis="b",
    )
    post(api, f"/v1/complaints/{first['id']}/notify")
    target = api.count()
    response = api.get(
        "/v1/stats/complaints", who="regulator", period=month, by="line", position=target, wait=10
    )
    assert response.status_code == 200
    body = response.json()
    assert body["caught_up"] is True
    assert body["position"] >= target - 1  # the last events need not be complaint events
    totals = body["totals"]
    assert totals["received"] == 3
    assert totals["duplicates_merged"] == 1
    assert totals["transfers_12378"] == 0
    assert totals["timeliness"]["within_15"] == 1
    assert totals["upheld_rate"] == "1.0000"
    assert totals["redress"] == "500.00"
    assert totals["per_100m_premium"] == "3.00"
    groups = {g["key"]["line"]: g for g in body["groups"]}
    assert groups["health"]["received"] == 2
    assert groups["health"]["per_10k_policies"] == "2.00"
    assert groups["health"]["per_10k_insured"] == "1.00"
    assert groups["motor"]["per_100m_premium"] is None
    # An independent recomputation from the events themselves.
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    cases = list(runtime.services.complaint_queries.all_complaints())
    received = [
        c
        for c in cases
        if c.merged_into is None and c.received_at.astimezone(CST).strftime("%Y-%m") == month
    ]
    assert totals["received"] == len(received)
    assert totals["open_at_end"] == sum(1 for c in received if c.is_open)
    assert "张三" not in response.text


def test_bad_queries_are_422_and_other_roles_403(api: Api) -> None:
    assert_problem(
        api.get("/v1/stats/complaints", who="regulator", period="2026-13"), 422, "period"
    )
    assert_problem(api.get("/v1/stats/complaints", who="regulator", period="2999"), 422, "period")
    bad_by = api.get("/v1/stats/complaints", who="regulator", period="2026", by="weather")
    assert_problem(bad_by, 422, "by")
    too_many = api.get(
        "/v1/stats/complaints", who="regulator", period="2026", by="cause,line,region"
    )
    assert_problem(too_many, 422, "by")
    assert_problem(api.get("/v1/stats/complaints", who="handler", period="2026"), 403)
    ok = api.get("/v1/stats/complaints", who="auditor", period="2026Q1", by="cause,channel")
    assert ok.status_code == 200
    assert ok.json()["evaluated_at"].startswith("2026-03-31T16:00:00")


def test_exports_in_csv_and_xlsx_with_chinese_headings(api: Api) -> None:
    post(api, "/v1/complaints", **COMPLAINT)
    month = this_month()
    csv = api.get(
        "/v1/stats/complaints",
        who="regulator",
        period=month,
        by="cause",
        format="csv",
        position=api.count(),
        wait=10,
    )
    assert csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:2] == ["分组", "受理投诉量"]  # the header row comes first
    assert "亿元保费投诉量" in header
    assert "投诉原因：理赔纠纷" in text  # group labels in Chinese, not raw codes
    assert "cause=claims" not in text
    assert csv.headers["x-xiaobao-position"] == str(csv_position(api, month))
    assert csv.headers["x-xiaobao-period"] == month
    xlsx = api.get("/v1/stats/complaints", who="regulator", period=month, format="xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book.active
    assert sheet is not None
    assert sheet.cell(row=1, column=2).value == "受理投诉量"
    assert sheet.cell(row=2, column=1).value == "合计"
    about = {row[0]: row[1] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert about["期间"] == month
    assert about["账本位置"] == str(csv_position(api, month))
    assert "张三" not in text


def csv_position(api: Api, month: str) -> int:
    return int(api.get("/v1/stats/complaints", who="regulator", period=month).json()["position"])


def test_claim_and_dispute_figures(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    dispute = api.client.post(
        "/v1/disputes",
        json={
            "party": {"id": "c-1", "name": "张三"},
            "amount": "100.00",
            "matter": "m",
            "claim_id": claim,
        },
        headers=bearer("handler"),
    ).json()["id"]
    api.client.post(
        f"/v1/disputes/{dispute}/mediation",
        json={"mediator": "mediator-1"},
        headers=bearer("handler"),
    )
    api.send("mediation.accepted.v1", {"dispute_id": dispute}, who="mediator-1")
    now = datetime.now(tz=UTC).isoformat()
    api.send(
        "mediation.agreement-signed.v1",
        {"dispute_id": dispute, "signed_at": now, "amount": "80.00", "terms": "t"},
        who="mediator-1",
    )
    month = this_month()
    claims = api.get(
        "/v1/stats/claims", who="regulator", period=month, position=api.count(), wait=10
    ).json()
    assert claims["caught_up"] is True
    assert claims["totals"]["settlements"] == 1
    assert claims["totals"]["social_insurance_paid"] == "64008.00"
    assert claims["totals"]["commercial_paid"] == "24992.00"
    assert claims["totals"]["patient_paid"] == "11000.00"
    disputes = api.get(
        "/v1/stats/disputes", who="supervisor", period=month, position=api.count(), wait=10
    ).json()
    assert disputes["totals"]["opened"] == 1
    assert disputes["totals"]["by_origin"] == {"claim": 1}
    assert disputes["totals"]["mediation_success_rate"] == "1.0000"
    assert_problem(api.get("/v1/stats/disputes", who="handler", period=month), 403)
    grouped = api.get("/v1/stats/claims", who="auditor", period=month, by="region,channel").json()
    assert grouped["groups"] == [
        {
            "key": {"region": "330100", "channel": "one_stop"},
            **claims["totals"],
            "one_stop_share": None,
        }
    ]
    by_channel = api.get("/v1/stats/disputes", who="regulator", period=month, by="channel")
    assert [g["key"] for g in by_channel.json()["groups"]] == [{"channel": "claim"}]
    assert_problem(
        api.get("/v1/stats/claims", who="regulator", period=month, by="cause"), 422, "by"
    )
    assert_problem(api.get("/v1/stats/disputes", who="regulator", period="2026-13"), 422, "period")
    csv = api.get("/v1/stats/claims", who="regulator", period=month, format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "claims-statistics.csv" in csv.headers["content-disposition"]
    text = csv.content.decode("utf-8-sig")
    assert "一站式结算笔数" in text
    assert ",64008.00," in text
    xlsx = api.get("/v1/stats/disputes", who="regulator", period=month, format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.title == "纠纷化解统计"
    assert sheet.cell(row=1, column=2).value == "受理纠纷量"
    assert sheet.cell(row=2, column=2).value == 1
    assert "张三" not in text


def test_total_densities_use_every_lines_exposure_and_bad_years_are_422(api: Api) -> None:
    month = this_month()
    for line, premium in (("health", "100000000.00"), ("life", "900000000.00")):
        exposure = {
            "period": month,
            "line": line,
            "premium": premium,
            "policies": 1,
            "insured_persons": 1,
        }
        assert (
            api.send("insurer.exposure-reported.v1", exposure, who="insurer-1").status_code == 201
        )
    post(api, "/v1/complaints", **COMPLAINT)
    body = api.get(
        "/v1/stats/complaints", who="regulator", period=month, position=api.count(), wait=10
    ).json()
    assert body["totals"]["per_100m_premium"] == "0.10"
    assert_problem(api.get("/v1/stats/complaints", who="regulator", period="0000"), 422, "period")
    cookie = {"Cookie": "xiaobao_session=\u00e9|1|x".encode("latin-1"), "Accept": b"text/html"}
    assert api.client.get("/dashboard", headers=cookie, follow_redirects=False).status_code == 303


def test_exposure_counts_beyond_what_every_view_can_hold_are_422_naming_the_field(
    api: Api,
) -> None:
    exposure = {
        "period": this_month(),
        "line": "health",
        "premium": "1.00",
        "policies": 1,
        "insured_persons": 1,
    }
    before = api.count()
    for field, value in (
        ("policies", 2**63),
        ("insured_persons", 10**12 + 1),
        ("premium", "1" + "0" * 15),
    ):
        response = api.send(
            "insurer.exposure-reported.v1", {**exposure, field: value}, who="insurer-1"
        )
        assert_problem(response, 422, f"data.{field}")
    assert api.count() == before
    at_the_bound = {**exposure, "policies": 10**12, "insured_persons": 10**12}
    response = api.send("insurer.exposure-reported.v1", at_the_bound, who="insurer-1")
    assert response.status_code == 201
    schema = api.client.get("/openapi.json").json()["components"]["schemas"]["ExposureReported"]
    assert schema["properties"]["policies"]["maximum"] == 10**12
    assert schema["properties"]["insured_persons"]["maximum"] == 10**12
