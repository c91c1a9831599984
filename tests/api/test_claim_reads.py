"""Claim reads, reference data and operations routes through the ASGI app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.common import CST
from tests.api.conftest import ITEMS, PRODUCT, SCHEME, Api, bearer
from tests.api.test_partner_events import assert_problem


def test_claim_read_has_state_version_and_etag(api: Api) -> None:
    api.seed()
    claim_id = api.settle().json()["stream"]["id"]
    response = api.get(f"/v1/claims/{claim_id}")
    assert response.status_code == 200
    body = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert body["status"] == "settled"
    assert body["settlement"]["patient_pays"] == "11000.00"
    assert body["patient_outstanding"] == "11000.00"
    assert body["commercial_outstanding"] == "24992.00"
    assert [line["line_id"] for line in body["lines"]] == ["L1", "L2", "L3", "L4"]


def test_time_travel_by_version_and_by_recorded_instant(api: Api) -> None:
    api.seed()
    claim_id = api.settle().json()["stream"]["id"]
    then = api.get(f"/v1/claims/{claim_id}", as_of_version=1).json()
    assert then["version"] == 1
    assert then["lines"] == []
    assert then["settlement"] is None
    yesterday = (datetime.now(tz=UTC) - timedelta(days=1)).isoformat()
    assert_problem(api.get(f"/v1/claims/{claim_id}", as_of=yesterday), 404)
    assert_problem(api.get(f"/v1/claims/{claim_id}", as_of_version=99), 422, "as_of_version")
    assert_problem(api.get(f"/v1/claims/{claim_id}", as_of="yesterday"), 422, "as_of")


def test_history_lists_every_event_with_its_position(api: Api) -> None:
    api.seed()
    claim_id = api.settle().json()["stream"]["id"]
    events = api.get(f"/v1/claims/{claim_id}/history").json()["events"]
    assert [e["type"] for e in events] == [
        "AdmissionRegistered",
        "ChargesPosted",
        "Discharged",
        "SettlementCalculated",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    assert events[0]["actor"]["partner_id"] == "hosp-1"
    assert events[0]["actor"]["source"] == "/partners/hosp-1"
    assert events[0]["occurred_at"].endswith("Z")
    assert events[3]["data"]["settlement"]["split"]["si_paid"] == "64008.00"


def test_find_by_encounter_is_scoped_to_the_hospital(api: Api) -> None:
    api.seed()
    claim_id = api.settle().json()["stream"]["id"]
    own = api.get("/v1/claims", encounter_id="ZY1").json()["items"]
    assert [c["id"] for c in own] == [claim_id]
    assert api.get("/v1/claims", who="hosp-2", encounter_id="ZY1").json()["items"] == []
    insurer = api.get("/v1/claims", who="insurer-1", encounter_id="ZY1", hospital="hosp-1")
    assert [c["id"] for c in insurer.json()["items"]] == [claim_id]
    assert_problem(api.get("/v1/claims", who="insurer-1", encounter_id="ZY1"), 422, "hospital")


def test_preview_records_nothing(api: Api) -> None:
    api.seed()
    created = api.send(
        "hospital.admission.v1",
        {
            "encounter_id": "ZY1",
            "patient": {"id": "330102198001011234", "name": "张三"},
            "region": "330100",
            "person_type": "employee",
            "hospital_level": 3,
            "social_insurance": True,
            "admitted_at": "2026-03-02T09:00:00+08:00",
        },
    ).json()
    api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": ITEMS})
    before = api.count()
    preview = api.get(f"/v1/claims/{created['stream']['id']}/settlement/preview").json()
    assert preview["social_insurance_paid"] == "64008.00"
    assert preview["commercial_paid"] == "24992.00"
    assert api.count() == before


def test_verify_reports_a_match_from_history(api: Api) -> None:
    api.seed()
    claim_id = api.settle().json()["stream"]["id"]
    report = api.get(f"/v1/claims/{claim_id}/settlement/verify", who="auditor").json()
    assert report["matches"] is True
    assert report["settlements"][0]["recomputed"]["commercial_paid"] == "24992.00"


def test_statement_lists_the_days_settlements_for_that_hospital_only(api: Api) -> None:
    api.seed()
    api.settle()
    today = datetime.now(tz=UTC).astimezone(CST).date().isoformat()
    statement = api.get("/v1/hospitals/hosp-1/statement", date=today).json()
    assert statement["totals"]["medfee"] == "100000.00"
    assert statement["items"][0]["encounter_id"] == "ZY1"
    assert_problem(api.get("/v1/hospitals/hosp-1/statement", who="hosp-2", date=today), 404)
    assert_problem(api.get("/v1/hospitals/hosp-1/statement", date="2026-13-01"), 422, "date")


def test_claim_routes_are_closed_to_other_roles(api: Api) -> None:
    api.seed()
    claim_id = api.settle().json()["stream"]["id"]
    for role in ("regulator", "admin", "cbirc-12378"):
        assert_problem(api.get(f"/v1/claims/{claim_id}", who=role), 403)
    for role in ("insurer-1", "handler", "supervisor", "auditor"):
        assert api.get(f"/v1/claims/{claim_id}", who=role).status_code == 200


def test_reference_put_records_new_versions_and_only_admin_may(api: Api) -> None:
    first = api.client.put("/v1/reference/products/X1", json=PRODUCT, headers=bearer("admin"))
    second = api.client.put(
        "/v1/reference/products/X1",
        json={**PRODUCT, "effective_from": "2026-07-01", "annual_deductible": "5000.00"},
        headers=bearer("admin"),
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    versions = api.get("/v1/reference/products/X1", who="auditor").json()["versions"]
    assert [v["annual_deductible"] for v in versions] == ["10000.00", "5000.00"]
    forbidden = api.client.put("/v1/reference/schemes/s", json=SCHEME, headers=bearer("hosp-1"))
    assert_problem(forbidden, 403)
    assert_problem(api.get("/v1/reference/products/none", who="auditor"), 404)


def test_reference_bodies_are_validated(api: Api) -> None:
    bad = {**SCHEME, "annual_cap": 400000, "b_prepay_ratio": "1.5", "levels": {"4": {}}}
    response = api.client.put("/v1/reference/schemes/s", json=bad, headers=bearer("admin"))
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"annual_cap", "b_prepay_ratio"} <= fields
    assert api.count() == 0


def test_openapi_describes_every_route_and_event_type(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    for path in (
        "/v1/events",
        "/v1/claims",
        "/v1/claims/{claim_id}",
        "/v1/claims/{claim_id}/history",
        "/v1/claims/{claim_id}/settlement/preview",
        "/v1/claims/{claim_id}/settlement/verify",
        "/v1/hospitals/{partner_id}/statement",
        "/v1/reference/schemes/{scheme_id}",
        "/v1/reference/products/{product_code}",
        "/healthz",
        "/readyz",
    ):
        assert path in schema["paths"], path
    titles = {s.get("title") for s in schema["components"]["schemas"].values()}
    assert "xiaobao.hospital.discharge.v1" in titles
    assert "xiaobao.insurer.offline-claim-paid.v1" in titles


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
