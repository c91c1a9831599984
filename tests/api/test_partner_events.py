"""POST /v1/events through the ASGI app: the contract's statuses, bodies and idempotency."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from infrastructure.checkpoints import open_note
from tests.api.conftest import ITEMS, Api, admission, bearer, cloud_event


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def test_discharge_answers_with_the_settlement(api: Api) -> None:
    api.seed()
    response = api.settle()
    assert response.status_code == 201
    body = response.json()
    assert body["type"] == "xiaobao.hospital.discharge.v1"
    assert body["duplicate"] is False
    assert body["stream"]["kind"] == "claims"
    assert body["settlement"]["medfee"] == "100000.00"
    assert body["settlement"]["social_insurance_paid"] == "64008.00"
    assert body["settlement"]["commercial_paid"] == "24992.00"
    assert body["settlement"]["patient_pays"] == "11000.00"
    assert body["version"] == 4
    assert body["position"] == api.count()


def test_reposting_an_event_returns_the_original_result_marked_duplicate(api: Api) -> None:
    api.seed()
    event = cloud_event("hospital.admission.v1", admission())
    first = api.post_event(event)
    # Same event, keys in another order and another formatting: compared as parsed JSON.
    again = api.client.post(
        "/v1/events",
        content=orjson.dumps(dict(reversed(list(event.items()))), option=orjson.OPT_INDENT_2),
        headers={**bearer("hosp-1"), "Content-Type": "application/json"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}


def test_same_id_with_a_different_event_is_a_conflict(api: Api) -> None:
    api.seed()
    api.send("hospital.admission.v1", admission(), id="fixed")
    before = api.count()
    response = api.send("hospital.admission.v1", admission("ZY2"), id="fixed")
    assert_problem(response, 409)
    assert api.count() == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (100, "not a number"),
        ("100.005", "more than 2 decimals"),
        ("-1.00", "negative"),
        ("abc", "not a decimal"),
    ],
)
def test_bad_money_is_422_naming_the_field(api: Api, amount: Any, message: str) -> None:
    api.seed()
    api.send("hospital.admission.v1", admission())
    before = api.count()
    items = [{**ITEMS[0], "amount": amount}]
    response = api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": items})
    assert_problem(response, 422, "data.items[0].amount")
    assert api.count() == before, message


def test_over_limit_above_amount_or_on_a_c_line_is_422(api: Api) -> None:
    api.seed()
    api.send("hospital.admission.v1", admission())
    above = [{**ITEMS[1], "over_limit": "30000.01"}]
    on_c = [{**ITEMS[2], "over_limit": "1.00"}]
    for items in (above, on_c):
        response = api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": items})
        assert_problem(response, 422, "data.items[0].over_limit")


def test_unknown_type_is_422_and_missing_attributes_are_named(api: Api) -> None:
    assert_problem(api.send("hospital.teleport.v1", {}), 422, "type")
    event = cloud_event("hospital.admission.v1", admission())
    del event["id"]
    assert_problem(api.post_event(event), 422, "id")
    assert api.count() == 0


def test_missing_data_fields_are_named(api: Api) -> None:
    response = api.send("hospital.admission.v1", {"encounter_id": "ZY1"})
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"data.patient", "data.region", "data.admitted_at"} <= fields


def test_spoofed_source_and_wrong_role_are_403(api: Api) -> None:
    api.seed()
    before = api.count()
    spoofed = api.send("hospital.admission.v1", admission(), source="/partners/hosp-2")
    assert_problem(spoofed, 403)
    wrong_role = api.send(
        "insurer.remittance-paid.v1", {"claim_id": "x", "amount": "1.00"}, who="hosp-1"
    )
    assert_problem(wrong_role, 403)
    assert api.count() == before


def test_missing_or_unknown_token_is_401(api: Api) -> None:
    event = orjson.dumps(cloud_event("hospital.admission.v1", admission()))
    assert_problem(api.client.post("/v1/events", content=event), 401)
    unknown = {"Authorization": "Bearer nope", "Content-Type": "application/json"}
    assert_problem(api.client.post("/v1/events", content=event, headers=unknown), 401)


def test_business_rule_refusals_are_409_with_the_rule(api: Api) -> None:
    api.seed()
    unknown = api.send(
        "hospital.discharge.v1", {"encounter_id": "nope", "discharged_at": "2026-03-09"}
    )
    assert "unknown encounter" in assert_problem(unknown, 409)["detail"]
    api.send("hospital.admission.v1", admission())
    duplicate = api.send("hospital.admission.v1", admission())
    assert "already registered" in assert_problem(duplicate, 409)["detail"]
    no_scheme = api.send("hospital.admission.v1", admission("ZY9", region="110000"))
    assert "no social-insurance scheme" in assert_problem(no_scheme, 409)["detail"]


def test_another_hospitals_encounter_is_exactly_like_a_missing_one(api: Api) -> None:
    api.seed()
    settled = api.settle().json()
    theirs = api.send(
        "hospital.charges.v1", {"encounter_id": "ZY1", "items": ITEMS[:1]}, who="hosp-2"
    )
    missing = api.send(
        "hospital.charges.v1", {"encounter_id": "ZY404", "items": ITEMS[:1]}, who="hosp-2"
    )
    assert_problem(theirs, 409)
    assert_problem(missing, 409)
    assert theirs.json()["detail"].replace("ZY1", "X") == missing.json()["detail"].replace(
        "ZY404", "X"
    )
    read = api.get(f"/v1/claims/{settled['stream']['id']}", who="hosp-2")
    read_missing = api.get("/v1/claims/00000000-0000-0000-0000-000000000000", who="hosp-2")
    assert_problem(read, 404)
    assert read.json() == read_missing.json()


def test_charges_on_a_closed_claim_are_409(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    api.send("hospital.copay-collected.v1", {"encounter_id": "ZY1", "amount": "11000.00"})
    paid = api.send(
        "insurer.remittance-paid.v1", {"claim_id": claim, "amount": "24992.00"}, who="insurer-1"
    )
    assert paid.status_code == 201
    assert api.get(f"/v1/claims/{claim}").json()["status"] == "closed"
    late = api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": ITEMS[:1]})
    assert "closed" in assert_problem(late, 409)["detail"]


def test_time_more_than_five_minutes_ahead_is_422(api: Api) -> None:
    api.seed()
    response = api.send("hospital.admission.v1", admission(), time="2999-01-01T00:00:00Z")
    assert_problem(response, 422, "time")


def test_batch_results_carry_each_events_own_status(api: Api) -> None:
    api.seed()
    first = cloud_event("hospital.admission.v1", admission())
    batch = [
        first,
        cloud_event("hospital.charges.v1", {"encounter_id": "ZY1", "items": ITEMS}),
        cloud_event("hospital.charges.v1", {"encounter_id": "nope", "items": ITEMS}),
        first,
        cloud_event("hospital.charges.v1", {"encounter_id": "ZY1", "items": [{"bad": 1}]}),
    ]
    response = api.post_event(batch, content_type="application/cloudevents-batch+json")
    assert response.status_code == 200
    results = response.json()
    assert [r["status"] for r in results] == [201, 201, 409, 200, 422]
    assert results[3]["duplicate"] is True
    assert results[3]["position"] == results[0]["position"]
    assert results[2]["id"] == batch[2]["id"]
    assert "errors" in results[4]


def test_batch_over_1000_events_is_refused(api: Api) -> None:
    batch = [cloud_event("hospital.admission.v1", admission(f"E{i}")) for i in range(1001)]
    response = api.post_event(batch, content_type="application/cloudevents-batch+json")
    assert_problem(response, 422)
    assert api.count() == 0


def test_binary_content_mode_is_the_same_event(api: Api) -> None:
    api.seed()
    event = cloud_event("hospital.admission.v1", admission())
    headers = {f"ce-{k}": v for k, v in event.items() if k != "data"}
    binary = api.client.post(
        "/v1/events",
        content=orjson.dumps(event["data"]),
        headers={**bearer("hosp-1"), **headers, "Content-Type": "application/json"},
    )
    assert binary.status_code == 201
    structured = api.post_event(event)
    assert structured.status_code == 200
    assert structured.json()["duplicate"] is True


def test_wrong_media_type_is_415_and_bad_json_is_400(api: Api) -> None:
    text = api.client.post(
        "/v1/events", content=b"hello", headers={**bearer("hosp-1"), "Content-Type": "text/plain"}
    )
    assert_problem(text, 415)
    broken = api.client.post(
        "/v1/events", content=b"{", headers={**bearer("hosp-1"), "Content-Type": "application/json"}
    )
    assert_problem(broken, 400)


def test_accepted_events_carry_a_receipt_the_partner_can_verify(api: Api) -> None:
    api.seed()
    event = cloud_event("hospital.admission.v1", admission())
    body = api.post_event(event).json()
    receipt = body["receipt"]
    text = open_note(receipt["note"], receipt["verifier_key"])
    assert text is not None
    digest = hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()
    lines = text.splitlines()
    assert lines[:5] == [
        "xiaobao.receipt/v1",
        "source /partners/hosp-1",
        f"id {event['id']}",
        f"sha256 {digest}",
        f"position {body['position']}",
    ]
    assert lines[5].startswith("recorded 20")
    forged = receipt["note"].replace(f"position {body['position']}", "position 1")
    assert open_note(forged, receipt["verifier_key"]) is None
    duplicate = api.post_event(event).json()
    assert duplicate["receipt"] == receipt


def test_a_platform_result_above_the_bill_is_refused(api: Api) -> None:
    api.seed()
    api.send("hospital.admission.v1", admission())
    api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": ITEMS[:1]})
    refused = api.send(
        "hospital.discharge.v1",
        {
            "encounter_id": "ZY1",
            "discharged_at": "2026-03-09",
            "social_insurance_result": {"fund_paid": "999999.00", "name": "张三"},
        },
    )
    assert "exceed" in assert_problem(refused, 409)["detail"]


def test_a_correction_below_what_was_remitted_is_refused(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    paid = api.send(
        "insurer.remittance-paid.v1", {"claim_id": claim, "amount": "24992.00"}, who="insurer-1"
    )
    assert paid.status_code == 201
    reversal = api.send("hospital.charges-reversal.v1", {"encounter_id": "ZY1", "line_ids": ["L3"]})
    assert "remitted" in assert_problem(reversal, 409)["detail"]


def test_prepay_ratio_off_a_b_line_is_422_naming_the_field(api: Api) -> None:
    api.seed()
    api.send("hospital.admission.v1", admission())
    items = [ITEMS[0], {**ITEMS[2], "prepay_ratio": "0.10"}]
    response = api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": items})
    body = assert_problem(response, 422, "data.items[1].prepay_ratio")
    assert body["errors"][0]["message"] == "prepay_ratio applies to B lines only"
