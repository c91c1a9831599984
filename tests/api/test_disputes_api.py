"""Disputes over HTTP: every path, partner scoping, windows and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api, bearer
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_partner_events import assert_problem

START = datetime.now(tz=UTC) - timedelta(days=90)


def at(days: float) -> str:
    return (START + timedelta(days=days)).isoformat()


def staff(api: Api, path: str, days: float, who: str = "handler", **body: Any) -> Any:
    return api.client.post(path, json={**body, "occurred_at": at(days)}, headers=bearer(who))


def step(api: Api, who: str, kind: str, days: float, **data: Any) -> Any:
    return api.send(kind, data, who=who, time=at(days))


def open_dispute(api: Api, **extra: Any) -> str:
    response = staff(
        api,
        "/v1/disputes",
        0,
        party={"id": "c-1", "name": "张三"},
        amount="20000.00",
        matter="理赔争议",
        **extra,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_mediation_agreement_confirmation_and_performance(api: Api) -> None:
    complaint = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler")).json()
    did = open_dispute(api, complaint_id=complaint["id"])
    linked = api.get(f"/v1/complaints/{complaint['id']}", who="handler").json()["disputes"]
    assert linked == [did]
    assert staff(api, f"/v1/disputes/{did}/mediation", 1, mediator="mediator-1").status_code == 200
    assert step(api, "mediator-1", "mediation.accepted.v1", 2, dispute_id=did).status_code == 201
    step(
        api,
        "mediator-1",
        "mediation.session-held.v1",
        5,
        dispute_id=did,
        held_at=at(5),
        recording_ref="rec-1",
    )
    signed = step(
        api,
        "mediator-1",
        "mediation.agreement-signed.v1",
        10,
        dispute_id=did,
        signed_at=at(10),
        amount="15000.00",
        terms="分期赔付",
    )
    assert signed.status_code == 201, signed.text
    staff(api, f"/v1/disputes/{did}/confirmation", 12, court="court-1")
    accepted = step(
        api,
        "court-1",
        "court.confirmation-accepted.v1",
        13,
        dispute_id=did,
        case_no="(2026)沪0101民特1号",
        applied_at=at(13),
    )
    assert accepted.status_code == 201, accepted.text
    step(api, "court-1", "court.confirmation-granted.v1", 20, dispute_id=did, ruled_at=at(20))
    assert api.get(f"/v1/disputes/{did}", who="court-1").json()["state"] == "confirmed"
    paid = staff(api, f"/v1/disputes/{did}/performed", 21, amount="15000.00")
    assert paid.json()["state"] == "performed"
    windows = {w["name"]: w for w in paid.json()["windows"]}
    assert windows["mediator_acceptance"]["met"] is True
    assert windows["confirmation_application"]["status"] == "met"
    assert {"confirmation_decision_target", "confirmation_decision_maximum"} <= set(windows)


def test_failed_mediation_then_arbitration_award_and_enforcement(api: Api) -> None:
    did = open_dispute(api)
    staff(api, f"/v1/disputes/{did}/mediation", 1, mediator="mediator-1")
    step(api, "mediator-1", "mediation.accepted.v1", 2, dispute_id=did)
    step(api, "mediator-1", "mediation.failed.v1", 6, dispute_id=did, reason="未达成一致")
    no_consent = staff(
        api, f"/v1/disputes/{did}/arbitration", 7, arbitrator="arbitrator-1", consent=False
    )
    assert_problem(no_consent, 422, "consent")
    staff(api, f"/v1/disputes/{did}/arbitration", 7, arbitrator="arbitrator-1", consent=True)
    step(api, "arbitrator-1", "arbitration.accepted.v1", 8, dispute_id=did, case_no="A-1")
    step(
        api,
        "arbitrator-1",
        "arbitration.hearing-held.v1",
        15,
        dispute_id=did,
        held_at=at(15),
        recording_ref="rec-2",
    )
    award = step(
        api,
        "arbitrator-1",
        "arbitration.award-issued.v1",
        20,
        dispute_id=did,
        issued_at=at(20),
        amount="18000.00",
        decision="被申请人赔付",
    )
    assert award.status_code == 201, award.text
    view = api.get(f"/v1/disputes/{did}", who="handler").json()
    assert view["state"] == "awarded"
    assert any(w["name"] == "set_aside" for w in view["windows"])
    staff(api, f"/v1/disputes/{did}/enforcement", 40, court="court-1")
    applied = step(
        api, "court-1", "court.enforcement-applied.v1", 41, dispute_id=did, applied_at=at(41)
    )
    assert applied.status_code == 201, applied.text
    done = step(api, "court-1", "court.enforced.v1", 60, dispute_id=did, amount="18000.00")
    assert done.status_code == 201
    assert api.get(f"/v1/disputes/{did}", who="auditor").json()["state"] == "enforced"


def test_rejected_confirmation_allows_mediation_again(api: Api) -> None:
    did = open_dispute(api)
    staff(api, f"/v1/disputes/{did}/mediation", 1, mediator="mediator-1")
    step(api, "mediator-1", "mediation.accepted.v1", 2, dispute_id=did)
    step(
        api,
        "mediator-1",
        "mediation.agreement-signed.v1",
        5,
        dispute_id=did,
        signed_at=at(5),
        amount="1000.00",
        terms="t",
    )
    staff(api, f"/v1/disputes/{did}/confirmation", 6, court="court-1")
    step(
        api,
        "court-1",
        "court.confirmation-accepted.v1",
        7,
        dispute_id=did,
        case_no="C-1",
        applied_at=at(7),
    )
    step(
        api,
        "court-1",
        "court.confirmation-rejected.v1",
        10,
        dispute_id=did,
        ruled_at=at(10),
        reason="协议内容违法",
    )
    again = staff(api, f"/v1/disputes/{did}/mediation", 11, mediator="mediator-2")
    assert again.status_code == 200
    assert again.json()["state"] == "mediating"


def test_partners_see_and_act_only_on_their_disputes(api: Api) -> None:
    did = open_dispute(api)
    staff(api, f"/v1/disputes/{did}/mediation", 1, mediator="mediator-1")
    mine = api.get("/v1/disputes", who="mediator-1", assigned="me").json()["items"]
    assert [d["id"] for d in mine] == [did]
    assert api.get("/v1/disputes", who="mediator-2", assigned="me").json()["items"] == []
    theirs = api.get(f"/v1/disputes/{did}", who="mediator-2")
    missing = api.get("/v1/disputes/00000000-0000-0000-0000-000000000000", who="mediator-2")
    assert_problem(theirs, 404)
    assert theirs.json() == missing.json()
    foreign = step(api, "mediator-2", "mediation.accepted.v1", 2, dispute_id=did)
    unknown = step(
        api,
        "mediator-2",
        "mediation.accepted.v1",
        2,
        dispute_id="00000000-0000-0000-0000-000000000000",
    )
    assert_problem(foreign, 409)
    assert foreign.json()["detail"].replace(did, "X") == unknown.json()["detail"].replace(
        "00000000-0000-0000-0000-000000000000", "X"
    )


def test_steps_out_of_order_or_outside_their_window_are_409(api: Api) -> None:
    did = open_dispute(api)
    early = step(api, "court-1", "court.confirmation-granted.v1", 2, dispute_id=did, ruled_at=at(2))
    assert_problem(early, 409)
    staff(api, f"/v1/disputes/{did}/mediation", 1, mediator="mediator-1")
    late = step(api, "mediator-1", "mediation.accepted.v1", 12, dispute_id=did)
    body = assert_problem(late, 409)
    assert body["type"] == "urn:xiaobao:rule:mediator_acceptance_window"
    assert_problem(staff(api, f"/v1/disputes/{did}/close", 2, reason=""), 422, "reason")


def test_the_early_warning_lists_a_customers_disputes(api: Api) -> None:
    api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    open_dispute(api)
    items = api.get("/v1/risk/customers", who="handler").json()["items"]
    mine = next(i for i in items if i["customer"]["name"] == "张三")
    assert mine["disputes"] == 1
    assert "dispute_opened" in mine["reasons"]
    assert mine["level"] == "low"


def test_a_claim_shows_the_disputes_opened_from_it(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    did = open_dispute(api, claim_id=claim)
    assert api.get(f"/v1/claims/{claim}", who="insurer-1").json()["disputes"] == [did]
    assert api.get(f"/v1/disputes/{did}", who="handler").json()["origin"] == "claim"
    unknown = staff(
        api,
        "/v1/disputes",
        0,
        party={"id": "p", "name": "n"},
        amount="1.00",
        matter="m",
        claim_id="00000000-0000-0000-0000-000000000000",
    )
    assert_problem(unknown, 409)


def test_a_staff_command_replays_by_idempotency_key_and_honours_if_match(api: Api) -> None:
    did = open_dispute(api)
    etag = api.get(f"/v1/disputes/{did}", who="handler").headers["ETag"]
    path = f"/v1/disputes/{did}/mediation"
    body = {"mediator": "mediator-1", "occurred_at": at(1)}
    headers = {**bearer("handler"), "Idempotency-Key": "mediation-1", "If-Match": etag}
    first = api.client.post(path, json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    again = api.client.post(path, json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = api.client.post(path, json={**body, "mediator": "mediator-2"}, headers=headers)
    assert_problem(other, 409)
    stale = api.client.post(
        f"/v1/disputes/{did}/withdraw",
        json={"reason": "settled"},
        headers={**bearer("handler"), "If-Match": etag},
    )
    assert_problem(stale, 412)
    assert api.get(f"/v1/disputes/{did}", who="handler").json()["state"] == "mediating"
    mine = api.get("/v1/disputes", who="mediator-1", assigned="me").json()["items"]
    assert [item["id"] for item in mine] == [did]
