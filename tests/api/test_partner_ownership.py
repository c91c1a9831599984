"""Partners of one role are separate (issue 17 items 3 and 4), on both stores.

With two principals per partner role, every partner event type the second posts about a
record of the first gets the contract's "unknown record" answer — the same body, but for
the id, as for a record that does not exist — and records nothing. Staff may name only a
partner of the right role as mediator, arbitrator or court.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from api.event_types import EVENT_TYPES
from domain.common import Actor
from domain.exposure import Exposure, ExposureReport
from tests.api.conftest import ITEMS, Api, admission, bearer
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_partner_events import assert_problem

MISSING = "00000000-0000-0000-0000-00000000dead"
NOW = datetime.now(tz=UTC)


COMPLAINT_TRANSFER: dict[str, Any] = {
    **{k: v for k, v in COMPLAINT.items() if k != "channel"},
    "complainant": {"id": "c-1", "name": "张三", "phone": "13800000000"},
}


def recent(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def dispute_named_to(api: Api) -> str:
    """A dispute handed to mediator-1 (and no other partner)."""
    made = api.client.post(
        "/v1/disputes",
        json={"party": {"id": "c-1", "name": "张三"}, "amount": "100.00", "matter": "争议"},
        headers=bearer("handler"),
    )
    assert made.status_code == 201, made.text
    did = str(made.json()["id"])
    handed = api.client.post(
        f"/v1/disputes/{did}/mediation", json={"mediator": "mediator-1"}, headers=bearer("handler")
    )
    assert handed.status_code == 200, handed.text
    return did


# Every type that names an existing record: (who of the first role owns it, the second
# principal of that role, the data naming a record; `{ref}` is the record, or a missing one).
NAMING: dict[str, tuple[str, str, dict[str, Any]]] = {
    "hospital.charges.v1": ("hosp-1", "hosp-2", {"encounter_id": "{ref}", "items": ITEMS[:1]}),
    "hospital.charges-reversal.v1": (
        "hosp-1",
        "hosp-2",
        {"encounter_id": "{ref}", "line_ids": ["L1"]},
    ),
    "hospital.policy-named.v1": (
        "hosp-1",
        "hosp-2",
        {"encounter_id": "{ref}", "policy_id": "P1"},
    ),
    "hospital.discharge.v1": (
        "hosp-1",
        "hosp-2",
        {"encounter_id": "{ref}", "discharged_at": "2026-03-09T10:00:00+08:00"},
    ),
    "hospital.settlement-cancelled.v1": (
        "hosp-1",
        "hosp-2",
        {"encounter_id": "{ref}", "reason": "录入错误"},
    ),
    "hospital.copay-collected.v1": (
        "hosp-1",
        "hosp-2",
        {"encounter_id": "{ref}", "amount": "1.00"},
    ),
    "insurer.policy-cancelled.v1": (
        "insurer-1",
        "insurer-2",
        {"policy_id": "{ref}", "effective": "2026-06-01"},
    ),
    "insurer.offline-claim-paid.v1": (
        "insurer-1",
        "insurer-2",
        {
            "policy_id": "{ref}",
            "paid_at": "2026-04-01T10:00:00+08:00",
            "amount": "100.00",
            "deductible_applied": "0.00",
        },
    ),
    "insurer.remittance-paid.v1": (
        "insurer-1",
        "insurer-2",
        {"claim_id": "{ref}", "amount": "1.00"},
    ),
    "regulator.urged.v1": (
        "cbirc-12378",
        "cbirc-12378-2",
        {"complaint_id": "{ref}", "note": "催办"},
    ),
    "mediation.accepted.v1": ("mediator-1", "mediator-2", {"dispute_id": "{ref}"}),
    "mediation.session-held.v1": (
        "mediator-1",
        "mediator-2",
        {"dispute_id": "{ref}", "held_at": recent(1), "recording_ref": "rec-1"},
    ),
    "mediation.agreement-signed.v1": (
        "mediator-1",
        "mediator-2",
        {"dispute_id": "{ref}", "signed_at": recent(1), "amount": "10.00", "terms": "赔付"},
    ),
    "mediation.failed.v1": ("mediator-1", "mediator-2", {"dispute_id": "{ref}", "reason": "r"}),
    "arbitration.accepted.v1": (
        "arbitrator-1",
        "arbitrator-2",
        {"dispute_id": "{ref}", "case_no": "A-1"},
    ),
    "arbitration.hearing-held.v1": (
        "arbitrator-1",
        "arbitrator-2",
        {"dispute_id": "{ref}", "held_at": recent(1), "recording_ref": "rec-1"},
    ),
    "arbitration.award-issued.v1": (
        "arbitrator-1",
        "arbitrator-2",
        {"dispute_id": "{ref}", "issued_at": recent(1), "amount": "1.00", "decision": "d"},
    ),
    "court.confirmation-accepted.v1": (
        "court-1",
        "court-2",
        {"dispute_id": "{ref}", "case_no": "C-1", "applied_at": recent(1)},
    ),
    "court.confirmation-granted.v1": (
        "court-1",
        "court-2",
        {"dispute_id": "{ref}", "ruled_at": recent(1)},
    ),
    "court.confirmation-rejected.v1": (
        "court-1",
        "court-2",
        {"dispute_id": "{ref}", "ruled_at": recent(1), "reason": "r"},
    ),
    "court.enforcement-applied.v1": (
        "court-1",
        "court-2",
        {"dispute_id": "{ref}", "applied_at": recent(1)},
    ),
    "court.enforced.v1": ("court-1", "court-2", {"dispute_id": "{ref}", "amount": "1.00"}),
}
# Types that create a record under the partner's own key (tested one by one below).
CREATING = {
    "hospital.admission.v1",
    "insurer.policy-issued.v1",
    "insurer.exposure-reported.v1",
    "regulator.complaint-transferred.v1",
    "regulator.report-transferred.v1",
}


def test_every_partner_event_type_has_an_ownership_test() -> None:
    assert {t.removeprefix("xiaobao.") for t in EVENT_TYPES} == set(NAMING) | CREATING


def fill(data: dict[str, Any], ref: str) -> dict[str, Any]:
    return {k: (ref if v == "{ref}" else v) for k, v in data.items()}


@pytest.fixture
def owned(api: Api) -> dict[str, str]:
    """One record of each kind, owned by the first principal of its role."""
    api.seed()  # policy P1 by insurer-1
    claim = api.settle().json()["stream"]["id"]  # hosp-1's ZY1, settled under P1
    transfer = {**COMPLAINT_TRANSFER, "transfer_id": "T-OWN"}
    sent = api.send("regulator.complaint-transferred.v1", transfer, who="cbirc-12378")
    assert sent.status_code == 201, sent.text
    dispute = dispute_named_to(api)
    return {
        "hosp-1": "ZY1",
        "insurer-1": "P1",
        "claim": claim,
        "cbirc-12378": sent.json()["stream"]["id"],
        "dispute": dispute,
    }


def ref_of(owner: str, type_: str, owned: dict[str, str]) -> tuple[str, str]:
    """The owner's record the type names, and a missing record of the same kind."""
    if type_ == "insurer.remittance-paid.v1":
        return owned["claim"], MISSING
    if owner in ("hosp-1", "insurer-1", "cbirc-12378"):
        missing = MISSING if owner == "cbirc-12378" else "NOPE-404"
        return owned[owner], missing
    return owned["dispute"], MISSING


@pytest.mark.parametrize("type_", sorted(NAMING))
def test_another_partners_record_is_exactly_like_a_missing_one(
    api: Api, owned: dict[str, str], type_: str
) -> None:
    owner, other, data = NAMING[type_]
    ref, missing = ref_of(owner, type_, owned)
    before = api.count()
    theirs = api.send(type_, fill(data, ref), who=other)
    absent = api.send(type_, fill(data, missing), who=other)
    assert_problem(theirs, 409)
    assert_problem(absent, 409)
    assert theirs.json()["type"] == "urn:xiaobao:rule:unknown_record"
    mine = theirs.json()["detail"].replace(ref, "X")
    assert mine == absent.json()["detail"].replace(missing, "X")
    assert {k: v for k, v in theirs.json().items() if k != "detail"} == {
        k: v for k, v in absent.json().items() if k != "detail"
    }
    assert api.count() == before  # nothing recorded


def test_the_owner_still_acts_on_its_records(api: Api, owned: dict[str, str]) -> None:
    """The control: what the second principal was refused, the first may do."""
    remit = {"claim_id": owned["claim"], "amount": "1.00"}
    assert api.send("insurer.remittance-paid.v1", remit, who="insurer-1").status_code == 201
    offline = fill(NAMING["insurer.offline-claim-paid.v1"][2], "P1")
    assert api.send("insurer.offline-claim-paid.v1", offline, who="insurer-1").status_code == 201
    cancel = {"policy_id": "P1", "effective": "2026-06-01"}
    assert api.send("insurer.policy-cancelled.v1", cancel, who="insurer-1").status_code == 201
    urge = {"transfer_id": "T-OWN", "note": "催办"}
    assert api.send("regulator.urged.v1", urge, who="cbirc-12378").status_code == 201
    accept = {"dispute_id": owned["dispute"]}
    assert api.send("mediation.accepted.v1", accept, who="mediator-1").status_code == 201


@pytest.mark.parametrize(
    "path",
    ["{claim}", "{claim}/history", "{claim}/settlement/preview", "{claim}/settlement/verify"],
)
def test_an_insurer_reads_only_the_claims_under_its_policies(
    api: Api, owned: dict[str, str], path: str
) -> None:
    mine = api.get("/v1/claims/" + path.format(claim=owned["claim"]), who="insurer-1")
    assert mine.status_code == 200, mine.text
    theirs = api.get("/v1/claims/" + path.format(claim=owned["claim"]), who="insurer-2")
    missing = api.get("/v1/claims/" + path.format(claim=MISSING), who="insurer-2")
    assert_problem(theirs, 404)
    assert theirs.json() == missing.json()


def test_an_insurer_finds_and_lists_only_the_claims_under_its_policies(
    api: Api, owned: dict[str, str]
) -> None:
    found = {"encounter_id": "ZY1", "hospital": "hosp-1"}
    assert len(api.get("/v1/claims", who="insurer-1", **found).json()["items"]) == 1
    assert api.get("/v1/claims", who="insurer-2", **found).json()["items"] == []
    events = api.get(f"/v1/claims/{owned['claim']}/history", who="auditor").json()["events"]
    settled = datetime.fromisoformat(events[-1]["occurred_at"])
    day = {"date": settled.astimezone(timezone(timedelta(hours=8))).date().isoformat()}
    mine = api.get("/v1/hospitals/hosp-1/statement", who="insurer-1", **day).json()
    theirs = api.get("/v1/hospitals/hosp-1/statement", who="insurer-2", **day).json()
    assert [i["claim_id"] for i in mine["items"]] == [owned["claim"]]
    assert (theirs["items"], theirs["counts"]) == ([], {})
    assert mine["totals"] != theirs["totals"]


def test_a_platform_urges_by_transfer_id_only_its_own_transfers(
    api: Api, owned: dict[str, str]
) -> None:
    before = api.count()
    theirs = api.send("regulator.urged.v1", {"transfer_id": "T-OWN", "note": "n"}, "cbirc-12378-2")
    absent = api.send("regulator.urged.v1", {"transfer_id": "T-404", "note": "n"}, "cbirc-12378-2")
    assert_problem(theirs, 409)
    assert theirs.json() == absent.json()
    assert api.count() == before


def test_the_12378_feed_shows_a_platform_only_its_own_transfers(
    api: Api, owned: dict[str, str]
) -> None:
    mine = api.get("/v1/regulator/feed", who="cbirc-12378", after=0).json()["items"]
    assert {i["transfer_id"] for i in mine} == {"T-OWN"}
    assert api.get("/v1/regulator/feed", who="cbirc-12378-2", after=0).json()["items"] == []
    transfer = {**COMPLAINT_TRANSFER, "transfer_id": "T-TWO", "region": "110100"}
    assert api.send("regulator.complaint-transferred.v1", transfer, "cbirc-12378-2").is_success
    theirs = api.get("/v1/regulator/feed", who="cbirc-12378-2", after=0).json()["items"]
    assert {i["transfer_id"] for i in theirs} == {"T-TWO"}
    mine = api.get("/v1/regulator/feed", who="cbirc-12378", after=0).json()["items"]
    assert {i["transfer_id"] for i in mine} == {"T-OWN"}


def test_a_transfer_id_taken_is_refused_alike_whoever_took_it(
    api: Api, owned: dict[str, str]
) -> None:
    """Transfer ids are one namespace: the answer is the platform's own resend's."""
    transfer = {**COMPLAINT_TRANSFER, "transfer_id": "T-OWN"}
    before = api.count()
    theirs = api.send("regulator.complaint-transferred.v1", transfer, who="cbirc-12378-2")
    own = api.send("regulator.complaint-transferred.v1", transfer, who="cbirc-12378")
    assert_problem(theirs, 409)
    assert theirs.json() == own.json()
    assert api.count() == before


def test_a_report_transfer_belongs_to_its_platform(api: Api) -> None:
    data = {
        "anonymous": True,
        "category": "sales_misrepresentation",
        "subject": {"kind": "agent", "ref": "AG-1", "department": "consumer-protection"},
        "facts": "代理人承诺保本收益",
        "transfer_id": "JB-OWN",
    }
    assert api.send("regulator.report-transferred.v1", data, who="cbirc-12378").status_code == 201
    before = api.count()
    theirs = api.send("regulator.report-transferred.v1", data, who="cbirc-12378-2")
    own = api.send("regulator.report-transferred.v1", data, who="cbirc-12378")
    assert_problem(theirs, 409)
    assert theirs.json() == own.json()
    assert api.count() == before
    mine = api.get("/v1/regulator/feed", who="cbirc-12378", after=0).json()["items"]
    assert [i["transfer_id"] for i in mine if i.get("kind") == "report"] == ["JB-OWN"]
    assert api.get("/v1/regulator/feed", who="cbirc-12378-2", after=0).json()["items"] == []


def test_another_insurers_policy_id_cannot_be_issued_or_amended(
    api: Api, owned: dict[str, str]
) -> None:
    policy = {
        "policy_id": "P1",
        "product_code": "BWYL",
        "insured": {"id": "330102198001011234", "name": "张三"},
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
    }
    before = api.count()
    taken = api.send("insurer.policy-issued.v1", policy, who="insurer-2")
    assert_problem(taken, 409)
    assert taken.json()["type"] == "urn:xiaobao:rule:policy_id_taken"
    assert api.count() == before
    amended = api.send("insurer.policy-issued.v1", policy, who="insurer-1")
    assert amended.status_code == 201, amended.text


def test_encounter_ids_are_per_hospital(api: Api, owned: dict[str, str]) -> None:
    theirs = api.send("hospital.admission.v1", admission("ZY1"), who="hosp-2")
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["stream"]["id"] != owned["claim"]
    assert theirs.json()["version"] == 1  # a new claim of hosp-2, not hosp-1's


def test_each_insurer_states_its_own_exposure_and_the_figures_add_up(api: Api) -> None:
    report = {
        "period": "2026Q1",
        "line": "health",
        "premium": "100000000.00",
        "policies": 10000,
        "insured_persons": 10000,
    }
    first = api.send("insurer.exposure-reported.v1", report, who="insurer-1").json()
    second = api.send("insurer.exposure-reported.v1", report, who="insurer-2").json()
    assert first["stream"]["id"] != second["stream"]["id"]
    again = api.send("insurer.exposure-reported.v1", report, who="insurer-1").json()
    assert (again["stream"]["id"], again["version"]) == (first["stream"]["id"], 3)
    complaint = {**COMPLAINT, "occurred_at": "2026-02-01T10:00:00+08:00"}
    made = api.client.post("/v1/complaints", json=complaint, headers=bearer("handler"))
    assert made.status_code == 201, made.text
    stats = api.get(
        "/v1/stats/complaints",
        who="regulator",
        period="2026Q1",
        position=api.count(),
    ).json()
    # One complaint over both insurers' 20,000 policies (insurer-1's restatement counted
    # once): 0.50 per 10,000 policies and per 100 million CNY of premium.
    assert stats["totals"]["per_10k_policies"] == "0.50"
    assert stats["totals"]["per_100m_premium"] == "0.50"
    assert stats["caught_up"] is True


def test_a_shared_exposure_record_from_before_ownership_is_restated_in_place(api: Api) -> None:
    """Exposure stored before it belonged to its insurer (one record per period and line) is
    restated by the insurer that reported it, never counted beside its new figure."""
    ledger = api.client.app.state.runtime.services.ledger  # type: ignore[attr-defined]
    legacy = ExposureReport(period="2026Q1", line="health")  # the old, shared stream id
    legacy.report(
        Exposure(Decimal("50000000.00"), 5000, 5000),
        datetime(2026, 4, 2, tzinfo=UTC),
        Actor("Insurer", "insurer", "insurer-1"),
    )
    ledger.save(legacy)
    report = {
        "period": "2026Q1",
        "line": "health",
        "premium": "100000000.00",
        "policies": 10000,
        "insured_persons": 10000,
    }
    restated = api.send("insurer.exposure-reported.v1", report, who="insurer-1").json()
    assert (restated["stream"]["id"], restated["version"]) == (str(legacy.id), 3)
    other = api.send("insurer.exposure-reported.v1", report, who="insurer-2").json()
    assert other["stream"]["id"] != str(legacy.id)  # the old record is insurer-1's alone
    complaint = {**COMPLAINT, "occurred_at": "2026-02-01T10:00:00+08:00"}
    made = api.client.post("/v1/complaints", json=complaint, headers=bearer("handler"))
    assert made.status_code == 201, made.text
    stats = api.get(
        "/v1/stats/complaints", who="regulator", period="2026Q1", position=api.count()
    ).json()
    # 20,000 policies in all: the legacy 5,000 were restated, not added.
    assert stats["totals"]["per_10k_policies"] == "0.50"


@pytest.mark.parametrize(
    ("command", "field", "named"),
    [
        ("mediation", "mediator", "court-1"),
        ("mediation", "mediator", "nobody"),
        ("arbitration", "arbitrator", "mediator-1"),
        ("confirmation", "court", "arbitrator-1"),
        ("enforcement", "court", "hosp-1"),
    ],
)
def test_staff_name_only_a_partner_of_the_right_role(
    api: Api, command: str, field: str, named: str
) -> None:
    made = api.client.post(
        "/v1/disputes",
        json={"party": {"id": "c-1", "name": "张三"}, "amount": "100.00", "matter": "争议"},
        headers=bearer("handler"),
    )
    did = made.json()["id"]
    before = api.count()
    body: dict[str, Any] = {field: named}
    if command == "arbitration":
        body["consent"] = True
    refused = api.client.post(f"/v1/disputes/{did}/{command}", json=body, headers=bearer("handler"))
    assert_problem(refused, 422, field)
    assert api.count() == before
    partner = "court-1" if named == "nobody" else named
    assert api.get(f"/v1/disputes/{did}", who=partner).status_code in (403, 404)
    assert api.get("/v1/disputes", who="court-1", assigned="me").json()["items"] == []
