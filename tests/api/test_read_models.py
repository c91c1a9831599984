"""Typed reads: `/openapi.json` describes every JSON body a GET answers, and the bodies sent
are exactly what it describes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from api import case_read_models as c
from api import read_models as m
from api.app import create_app
from domain.common import CST
from infrastructure.settings import Settings
from infrastructure.store import build_projector
from tests.api.conftest import Api, bearer
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_disputes_api import at, open_dispute, staff, step
from tests.api.test_ledger_api import seal

DESCRIBED = ("$ref", "type", "properties", "anyOf", "allOf", "oneOf")


def free_form(schema: dict[str, Any], components: dict[str, Any]) -> str | None:
    """Why a response schema does not describe its body (None when it does)."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if not any(key in schema for key in DESCRIBED):
        return "an empty schema"
    if schema.get("type") == "object" and not schema.get("properties"):
        extra = schema.get("additionalProperties", True)
        if extra is True or extra == {}:
            return "a free-form object"
    return None


def test_every_json_body_of_a_get_is_described_in_openapi() -> None:
    app = create_app(Settings(database_url="memory://"), run_migrations=False)
    schema = app.openapi()
    components = schema["components"]["schemas"]
    undescribed = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        for status, response in get["responses"].items():
            body = response.get("content", {}).get("application/json")
            if not status.startswith("2") or body is None:
                continue
            why = free_form(body.get("schema", {}), components)
            if why is not None:
                undescribed.append(f"GET {path} {status}: {why}")
    assert undescribed == []


def test_the_checker_sees_empty_and_free_form_schemas() -> None:
    assert free_form({"title": "Response"}, {}) == "an empty schema"
    assert free_form({"type": "object"}, {}) == "a free-form object"
    assert free_form({"type": "object", "additionalProperties": True}, {}) == "a free-form object"
    typed = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert free_form(typed, {}) is None
    assert free_form({"$ref": "#/components/schemas/X"}, {"X": {"type": "string"}}) is None


def conforms(model: type[BaseModel], response: Any) -> None:
    assert response.status_code == 200, response.text
    model.model_validate(response.json())  # extra fields are refused: no undocumented field


def test_claim_and_reference_reads_send_what_openapi_describes(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    seal(api)
    conforms(m.ClaimsFound, api.get("/v1/claims", encounter_id="ZY1"))
    conforms(m.Claim, api.get(f"/v1/claims/{claim}"))
    conforms(m.Claim, api.get(f"/v1/claims/{claim}", as_of_version=2))
    conforms(m.History, api.get(f"/v1/claims/{claim}/history"))
    conforms(m.History, api.get(f"/v1/claims/{claim}/history", proofs="true"))
    conforms(m.SettlementPreview, api.get(f"/v1/claims/{claim}/settlement/preview"))
    conforms(m.SettlementVerification, api.get(f"/v1/claims/{claim}/settlement/verify"))
    today = datetime.now(CST).date().isoformat()  # a statement's day is China's (UTC+8)
    statement = api.get("/v1/hospitals/hosp-1/statement", date=today)
    conforms(m.HospitalStatement, statement)
    assert statement.json()["items"], "the statement shows the settlement"
    conforms(m.CodeList, api.get("/v1/reference/causes", who="admin"))
    conforms(m.SchemeVersions, api.get("/v1/reference/schemes/hz", who="admin"))
    conforms(m.ProductVersions, api.get("/v1/reference/products/BWYL", who="admin"))
    conforms(m.Health, api.client.get("/healthz"))
    conforms(m.Readiness, api.client.get("/readyz"))


def test_ledger_reads_send_what_openapi_describes(api: Api) -> None:
    api.seed()
    api.settle()
    seal(api)
    size = api.get("/v1/ledger/checkpoint", who="auditor").json()["size"]
    conforms(m.Checkpoint, api.get("/v1/ledger/checkpoint", who="auditor"))
    conforms(m.PublicKey, api.get("/v1/ledger/public-key", who="auditor"))
    conforms(m.Entries, api.get("/v1/ledger/entries", who="auditor", start=0, end=size))
    proof = api.get("/v1/ledger/proof/inclusion", who="auditor", index=1, size=size)
    conforms(m.InclusionProof, proof)
    conforms(
        m.ConsistencyProof,
        api.get("/v1/ledger/proof/consistency", who="auditor", first=1, second=size),
    )


def test_statistics_send_what_openapi_describes(api: Api) -> None:
    api.seed()
    api.settle()
    seal(api)
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    build_projector(runtime.settings, runtime.services.ledger).catch_up()
    year = str(datetime.now(CST).year)
    for by in (None, "region,channel", "line"):
        query = {"period": year} | ({"by": by} if by else {})
        conforms(m.ClaimStatistics, api.get("/v1/stats/claims", who="regulator", **query))
        conforms(m.DisputeStatistics, api.get("/v1/stats/disputes", who="regulator", **query))
        complaints = api.get("/v1/stats/complaints", who="regulator", **query)
        conforms(m.ComplaintStatistics, complaints)
    claims = api.get("/v1/stats/claims", who="regulator", period=year, by="channel").json()
    assert claims["groups"], "the settled claim is counted in a group"


def test_a_read_model_refuses_a_field_it_does_not_describe() -> None:
    with pytest.raises(ValidationError):
        m.Health.model_validate({"status": "ok", "extra": 1})


def test_the_served_openapi_names_the_claim_model(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    response = schema["paths"]["/v1/claims/{claim_id}"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Claim"
    }


def test_complaint_and_dispute_reads_send_what_openapi_describes(api: Api) -> None:
    cid = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler")).json()["id"]
    api.client.post(
        "/v1/complaints", json={**COMPLAINT, "channel": "app"}, headers=bearer("handler")
    )
    decision = {"outcome": "partly_upheld", "redress": "300.00", "facts": "核实", "basis": "条款"}
    for action, body in (("decide", decision), ("notify", {"method": "letter"}), ("close", {})):
        done = api.client.post(
            f"/v1/complaints/{cid}/{action}", json=body, headers=bearer("handler")
        )
        assert done.status_code == 200, done.text
    transfer = {**{k: v for k, v in COMPLAINT.items() if k != "channel"}, "transfer_id": "T-9"}
    assert api.send("regulator.complaint-transferred.v1", transfer, who="cbirc-12378").is_success
    did = open_dispute(api, complaint_id=cid)
    staff(api, f"/v1/disputes/{did}/mediation", 1, mediator="mediator-1")
    step(api, "mediator-1", "mediation.accepted.v1", 2, dispute_id=did)
    step(api, "mediator-1", "mediation.session-held.v1", 5, dispute_id=did, held_at=at(5))
    signed = {"signed_at": at(10), "amount": "15000.00", "terms": "分期赔付"}
    step(api, "mediator-1", "mediation.agreement-signed.v1", 10, dispute_id=did, **signed)
    seal(api)
    conforms(c.Queue, api.get("/v1/complaints", who="handler"))
    conforms(c.Complaint, api.get(f"/v1/complaints/{cid}", who="auditor"))
    conforms(m.History, api.get(f"/v1/complaints/{cid}/history", who="auditor", proofs="true"))
    conforms(c.ClosureReport, api.get(f"/v1/complaints/{cid}/closure-report", who="auditor"))
    feed = api.get("/v1/regulator/feed", who="cbirc-12378", after=0)
    conforms(c.Feed, feed)
    assert feed.json()["items"], "the transfer is in the feed"
    for who in ("regulator", "handler"):
        risk = api.get("/v1/risk/customers", who=who)
        conforms(c.RiskCustomers, risk)
        assert risk.json()["items"], "the complainant is warned about"
    conforms(c.DisputesAssigned, api.get("/v1/disputes", who="mediator-1", assigned="me"))
    dispute = api.get(f"/v1/disputes/{did}", who="handler")
    conforms(c.Dispute, dispute)
    assert dispute.json()["mediations"][0]["agreement"] is not None
    assert dispute.headers["ETag"] == f'"{dispute.json()["version"]}"'
    conforms(m.History, api.get(f"/v1/disputes/{did}/history", who="handler"))
