"""Fixes a newcomer found (issue 19 item 6): a discharge before its admission, the version a
reference read names, the lists of scheme and product codes."""

from __future__ import annotations

import re

from tests.api.conftest import ITEMS, PRODUCT, Api, admission, bearer
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_partner_events import assert_problem


def test_a_discharge_before_its_admission_is_refused_naming_the_rule(api: Api) -> None:
    api.seed()
    assert api.send("hospital.admission.v1", admission("EARLY")).status_code == 201
    charges = {"encounter_id": "EARLY", "items": ITEMS}
    assert api.send("hospital.charges.v1", charges).status_code == 201
    before = api.count()
    early = api.send(
        "hospital.discharge.v1",
        {"encounter_id": "EARLY", "discharged_at": "2026-03-02T08:59:59+08:00"},
    )
    body = assert_problem(early, 409)
    assert body["type"] == "urn:xiaobao:rule:discharge_before_admission"
    assert "admitted_at" in body["detail"]
    assert api.count() == before  # nothing recorded, no settlement at 0.00
    same_moment = api.send(
        "hospital.discharge.v1",
        {"encounter_id": "EARLY", "discharged_at": "2026-03-02T09:00:00+08:00"},
    )
    assert same_moment.status_code == 201, same_moment.text


def test_a_product_read_names_the_version_it_lists(api: Api) -> None:
    admin = bearer("admin")
    assert (
        api.client.put("/v1/reference/products/P", json=PRODUCT, headers=admin).status_code == 201
    )
    first = api.get("/v1/reference/products/P", who="admin")
    assert first.json()["version"] == 1
    assert [v["version"] for v in first.json()["versions"]] == [1]
    assert first.headers["etag"] == '"1"'
    again = api.client.put(
        "/v1/reference/products/P", json=PRODUCT, headers={**admin, "If-Match": '"1"'}
    )
    assert again.status_code == 200, again.text
    second = api.get("/v1/reference/products/P", who="admin").json()
    assert second["version"] == 2 == second["versions"][-1]["version"]
    assert len(second["versions"]) == 2
    api.seed()
    scheme = api.get("/v1/reference/schemes/hz", who="admin").json()
    assert scheme["version"] == 1 == len(scheme["versions"])


def test_the_scheme_and_product_codes_are_listed(api: Api) -> None:
    empty = api.get("/v1/reference/products", who="handler")
    assert empty.status_code == 200
    assert empty.json() == {"kind": "products", "codes": []}
    api.seed()
    admin = bearer("admin")
    api.client.put("/v1/reference/products/AAA", json=PRODUCT, headers=admin)
    api.client.put(
        "/v1/reference/products/AAA",
        json={**PRODUCT, "effective_from": "2026-06-01"},
        headers=admin,
    )
    products = api.get("/v1/reference/products", who="auditor").json()
    assert products == {
        "kind": "products",
        "codes": [
            {"code": "AAA", "version": 2, "effective_from": "2026-06-01"},
            {"code": "BWYL", "version": 1, "effective_from": "2026-01-01"},
        ],
    }
    schemes = api.get("/v1/reference/schemes", who="regulator").json()
    assert schemes == {
        "kind": "schemes",
        "codes": [
            {
                "code": "hz",
                "version": 1,
                "region": "330100",
                "person_type": "employee",
                "effective_from": "2026-01-01",
            }
        ],
    }
    assert_problem(api.get("/v1/reference/schemes", who="hosp-1"), 403)


def test_the_closure_report_of_an_open_case_is_a_draft_in_beijing_time(api: Api) -> None:
    made = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    cid = made.json()["id"]
    html = api.client.get(
        f"/v1/complaints/{cid}/closure-report",
        headers={**bearer("supervisor"), "Accept": "text/html"},
    ).text
    assert "<title>投诉结案报告 · 未结案（草稿）</title>" in html
    assert "<h1>投诉结案报告 · 未结案（草稿）</h1>" in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d 北京时间", html)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", html)  # no RFC 3339 instants
    assert "（投诉处理人员）" in html  # the handler's role by its Chinese name
    assert "（handler）" not in html
