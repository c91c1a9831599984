"""Complaints over HTTP: intake, supervisor-only commands, refusals, reports, feed, warning."""

from __future__ import annotations

from typing import Any

from infrastructure.store import build_sealer
from tests.api.conftest import Api, bearer, cloud_event
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_partner_events import assert_problem


def post(api: Api, path: str, who: str = "handler", **body: Any) -> Any:
    return api.client.post(path, json=body, headers=bearer(who))


def test_intake_then_a_duplicate_names_the_master(api: Api) -> None:
    first = post(api, "/v1/complaints", **COMPLAINT)
    assert first.status_code == 201
    assert first.json()["merged"] is False
    again = post(api, "/v1/complaints", **{**COMPLAINT, "channel": "app"})
    assert again.status_code == 201
    assert again.json() == {**again.json(), "id": first.json()["id"], "merged": True}
    case = api.get(f"/v1/complaints/{first.json()['id']}", who="auditor")
    assert case.json()["duplicates"] == [again.json()["duplicate_id"]]
    assert case.json()["complainant"]["name"] == "张三"
    assert case.headers["etag"] == f'"{case.json()["version"]}"'


def test_missing_fields_unknown_codes_and_future_times_are_422(api: Api) -> None:
    before = api.count()
    missing = post(api, "/v1/complaints", channel="hotline")
    fields = {e["field"] for e in assert_problem(missing, 422)["errors"]}
    assert {"complainant", "matter", "cause"} <= fields
    assert_problem(post(api, "/v1/complaints", **{**COMPLAINT, "cause": "weather"}), 422, "cause")
    future = post(api, "/v1/complaints", **COMPLAINT, occurred_at="2999-01-01T00:00:00Z")
    assert_problem(future, 422, "occurred_at")
    assert api.count() == before


def test_supervisor_commands_are_403_for_handlers_and_order_is_enforced(api: Api) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    assert_problem(post(api, f"/v1/complaints/{cid}/extend", reason="appraisal"), 403)
    extended = post(api, f"/v1/complaints/{cid}/extend", who="supervisor", reason="appraisal")
    assert extended.status_code == 200
    assert extended.json()["extension_level"] == 1
    post(api, f"/v1/complaints/{cid}/extend", who="supervisor", reason="more")
    third = post(api, f"/v1/complaints/{cid}/extend", who="supervisor", reason="again")
    assert "extension" in assert_problem(third, 409)["type"]
    close = post(api, f"/v1/complaints/{cid}/close")
    assert_problem(close, 409)
    assert_problem(post(api, "/v1/complaints/00000000-0000-0000-0000-000000000000/contact"), 409)
    assert_problem(
        api.get("/v1/complaints/00000000-0000-0000-0000-000000000000", who="auditor"), 404
    )


def test_if_match_and_idempotency_key_on_commands(api: Api) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    etag = api.get(f"/v1/complaints/{cid}", who="handler").headers["etag"]
    headers = {**bearer("handler"), "If-Match": etag, "Idempotency-Key": "k1"}
    first = api.client.post(f"/v1/complaints/{cid}/contact", json={}, headers=headers)
    assert first.status_code == 200
    replay = api.client.post(f"/v1/complaints/{cid}/contact", json={}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    stale = api.client.post(
        f"/v1/complaints/{cid}/pause",
        json={"reason": "appraisal"},
        headers={**bearer("handler"), "If-Match": etag},
    )
    assert_problem(stale, 412)


def test_closure_report_in_json_and_chinese_html(api: Api) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    post(
        api,
        f"/v1/complaints/{cid}/decide",
        outcome="partly_upheld",
        redress="300.00",
        facts="核实",
        basis="条款",
    )
    post(api, f"/v1/complaints/{cid}/notify", method="letter")
    post(api, f"/v1/complaints/{cid}/close")
    report = api.get(f"/v1/complaints/{cid}/closure-report", who="auditor").json()
    assert report["outcome"] == "partly_upheld"
    assert report["deadlines"]["met"] is True
    html = api.client.get(
        f"/v1/complaints/{cid}/closure-report",
        headers={**bearer("supervisor"), "Accept": "text/html"},
    )
    assert html.headers["content-type"].startswith("text/html")
    assert "投诉结案报告" in html.text
    assert "投诉部分成立" in html.text
    assert "申请核查、调解、仲裁、诉讼" in html.text


def test_a_decision_traces_root_causes_to_a_department_in_the_read_and_report(
    api: Api,
) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    decision = {"outcome": "upheld", "redress": "100.00", "facts": "f", "basis": "b"}
    unknown = post(api, f"/v1/complaints/{cid}/decide", **decision, root_causes=["weather"])
    assert_problem(unknown, 422, "root_causes")
    traced = post(
        api,
        f"/v1/complaints/{cid}/decide",
        **decision,
        root_causes=["claims_service", "system"],
        responsible_department="理赔部",
    )
    assert traced.status_code == 200
    case = api.get(f"/v1/complaints/{cid}", who="auditor").json()
    assert case["root_causes"] == ["claims_service", "system"]
    assert case["responsible_department"] == "理赔部"
    post(api, f"/v1/complaints/{cid}/notify", method="letter")
    report = api.get(f"/v1/complaints/{cid}/closure-report", who="auditor").json()
    assert (report["root_causes"], report["responsible_department"]) == (
        ["claims_service", "system"],
        "理赔部",
    )
    html = api.client.get(
        f"/v1/complaints/{cid}/closure-report",
        headers={**bearer("supervisor"), "Accept": "text/html"},
    )
    assert "理赔服务、系统" in html.text
    assert "<th>责任部门</th><td>理赔部</td>" in html.text


def test_a_decision_without_root_causes_reads_none(api: Api) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    assert api.get(f"/v1/complaints/{cid}", who="auditor").json()["root_causes"] == []
    decision = {"outcome": "not_upheld", "redress": "0.00", "facts": "f", "basis": "b"}
    assert post(api, f"/v1/complaints/{cid}/decide", **decision).status_code == 200
    case = api.get(f"/v1/complaints/{cid}", who="auditor").json()
    assert (case["root_causes"], case["responsible_department"]) == ([], None)


def test_12378_transfer_urge_and_feed(api: Api) -> None:
    transfer = {**{k: v for k, v in COMPLAINT.items() if k != "channel"}, "transfer_id": "T-9"}
    transfer["complainant"] = {**transfer["complainant"], "phone": "13800000000"}
    received = api.send("regulator.complaint-transferred.v1", transfer, who="cbirc-12378")
    assert received.status_code == 201
    cid = received.json()["stream"]["id"]
    urged = api.send(
        "regulator.urged.v1", {"transfer_id": "T-9", "note": "催办"}, who="cbirc-12378"
    )
    assert urged.status_code == 201
    feed = api.get("/v1/regulator/feed", who="cbirc-12378", after=0).json()
    assert {i["transfer_id"] for i in feed["items"]} == {"T-9"}
    assert all(i["complaint_id"] == cid for i in feed["items"])
    again = api.send("regulator.complaint-transferred.v1", transfer, who="cbirc-12378")
    assert_problem(again, 409)
    wrong = cloud_event("regulator.urged.v1", {"note": "x"}, who="cbirc-12378")
    assert_problem(api.post_event(wrong, who="cbirc-12378"), 422)


def test_regulators_see_pseudonyms_in_the_early_warning(api: Api) -> None:
    post(api, "/v1/complaints", **COMPLAINT)
    post(api, "/v1/complaints", **{**COMPLAINT, "cause": "service"})
    regulator = api.get("/v1/risk/customers", who="regulator", level="high")
    assert regulator.status_code == 200
    item = regulator.json()["items"][0]
    assert str(item["customer"]).startswith("P-")
    assert "张三" not in regulator.text
    assert "c-1" not in regulator.text
    handler = api.get("/v1/risk/customers", who="handler", level="high").json()
    assert handler["items"][0]["customer"]["name"] == "张三"


def test_time_travel_and_history_with_proofs(api: Api) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    post(api, f"/v1/complaints/{cid}/contact")
    then = api.get(f"/v1/complaints/{cid}", who="auditor", as_of_version=2).json()
    assert then["version"] == 2
    assert then["status"] == "assigned"
    now = api.get(f"/v1/complaints/{cid}", who="auditor").json()
    assert now["status"] == "contacted"
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    build_sealer(runtime.settings, runtime.services.ledger, runtime.notary).catch_up()
    events = api.get(f"/v1/complaints/{cid}/history", who="auditor", proofs="true").json()["events"]
    assert [e["type"] for e in events] == ["Received", "Assigned", "Contacted"]
    size = api.get("/v1/ledger/checkpoint", who="auditor").json()["size"]
    assert all(e["proof"]["size"] == size for e in events)


def test_cause_codes_are_reference_data_admins_can_extend(api: Api) -> None:
    causes = api.get("/v1/reference/causes", who="handler").json()["codes"]
    assert {"code": "claims", "name": "理赔纠纷"} in causes
    assert_problem(post(api, "/v1/complaints", **{**COMPLAINT, "cause": "pension"}), 422, "cause")
    added = api.client.put(
        "/v1/reference/causes/pension", json={"name": "养老保险纠纷"}, headers=bearer("admin")
    )
    assert added.status_code == 201
    assert post(api, "/v1/complaints", **{**COMPLAINT, "cause": "pension"}).status_code == 201
    forbidden = api.client.put(
        "/v1/reference/causes/x", json={"name": "x"}, headers=bearer("handler")
    )
    assert_problem(forbidden, 403)


def test_idempotent_replays_keep_personal_data_out_of_the_log(api: Api) -> None:
    body = {**COMPLAINT, "complainant": {"id": "c-77", "name": "赵六", "phone": "13800138000"}}
    cid = post(api, "/v1/complaints", **body).json()["id"]
    headers = {**bearer("handler"), "Idempotency-Key": "k-77"}
    first = api.client.post(f"/v1/complaints/{cid}/contact", json={}, headers=headers)
    replay = api.client.post(f"/v1/complaints/{cid}/contact", json={}, headers=headers)
    assert replay.json() == first.json()
    assert first.json()["complainant"]["phone"] == "13800138000"
    recorder = api.client.app.state.runtime.services.ledger.recorder  # type: ignore[attr-defined]
    raw = b"".join(n.state for n in recorder.select_notifications(1, 10_000))
    assert b"13800138000" not in raw
    assert "赵六".encode() not in raw


def test_the_platform_may_urge_only_its_own_transfers(api: Api) -> None:
    cid = post(api, "/v1/complaints", **COMPLAINT).json()["id"]
    urged = api.send("regulator.urged.v1", {"complaint_id": cid, "note": "x"}, who="cbirc-12378")
    assert_problem(urged, 409)
