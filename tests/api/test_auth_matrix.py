"""Every route × every role × own/other partner: the contract's 401 / 403 / 404 / 2xx.

The table must name every route the app serves: a new route without a row fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute

from tests.api.conftest import PRINCIPALS, PRODUCT, Api, admission, bearer, cloud_event
from tests.api.test_ledger_api import seal

WHO = [p["partner_id"] or p["role"] for p in PRINCIPALS]  # hosp-1 owns the claim; hosp-2 not
CLAIM_READERS = {"hosp-1", "insurer-1", "handler", "supervisor", "auditor"}
STAFF_READERS = {"admin", "handler", "supervisor", "auditor", "insurer-1", "regulator"}


@dataclass(frozen=True)
class Row:
    """How to call a route, and which status each caller gets (anyone else: 403)."""

    call: Callable[[Api, dict[str, str], dict[str, str]], Any]
    allowed: dict[str, int]
    public: bool = False


def get(path: str) -> Callable[[Api, dict[str, str], dict[str, str]], Any]:
    return lambda api, ids, headers: api.client.get(path.format(**ids), headers=headers)


def claim_row(path: str) -> Row:
    allowed = dict.fromkeys(CLAIM_READERS, 200) | {"hosp-2": 404}
    return Row(get(path), allowed)


def put_product(api: Api, ids: dict[str, str], headers: dict[str, str]) -> Any:
    return api.client.put("/v1/reference/products/MATRIX", json=PRODUCT, headers=headers)


def post_event(api: Api, ids: dict[str, str], headers: dict[str, str]) -> Any:
    event = cloud_event("hospital.admission.v1", admission(f"M-{len(ids['seq'])}"))
    ids["seq"] += "x"
    return api.client.post(
        "/v1/events", json=event, headers={**headers, "Content-Type": "application/json"}
    )


TABLE: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row(get("/healthz"), {}, public=True),
    ("GET", "/readyz"): Row(get("/readyz"), {}, public=True),
    ("GET", "/openapi.json"): Row(get("/openapi.json"), {}, public=True),
    ("GET", "/docs"): Row(get("/docs"), {}, public=True),
    ("GET", "/docs/oauth2-redirect"): Row(get("/docs/oauth2-redirect"), {}, public=True),
    ("GET", "/redoc"): Row(get("/redoc"), {}, public=True),
    ("POST", "/v1/events"): Row(post_event, {"hosp-1": 201}),
    ("GET", "/v1/claims"): Row(
        get("/v1/claims?encounter_id=ZY1&hospital=hosp-1"),
        dict.fromkeys(CLAIM_READERS, 200) | {"hosp-2": 200},
    ),
    ("GET", "/v1/claims/{claim_id}"): claim_row("/v1/claims/{claim}"),
    ("GET", "/v1/claims/{claim_id}/history"): claim_row("/v1/claims/{claim}/history"),
    ("GET", "/v1/claims/{claim_id}/settlement/preview"): claim_row(
        "/v1/claims/{claim}/settlement/preview"
    ),
    ("GET", "/v1/claims/{claim_id}/settlement/verify"): claim_row(
        "/v1/claims/{claim}/settlement/verify"
    ),
    ("GET", "/v1/hospitals/{partner_id}/statement"): claim_row(
        "/v1/hospitals/hosp-1/statement?date=2026-03-09"
    ),
    ("PUT", "/v1/reference/products/{product_code}"): Row(put_product, {"admin": 201}),
    ("PUT", "/v1/reference/schemes/{scheme_id}"): Row(
        lambda api, ids, headers: api.client.put(
            "/v1/reference/schemes/hz", json={}, headers=headers
        ),
        {"admin": 422},  # reached the body validation: the role was let through
    ),
    ("GET", "/v1/reference/products/{product_code}"): Row(
        get("/v1/reference/products/BWYL"), dict.fromkeys(STAFF_READERS, 200)
    ),
    ("GET", "/v1/reference/schemes/{scheme_id}"): Row(
        get("/v1/reference/schemes/hz"), dict.fromkeys(STAFF_READERS, 200)
    ),
    ("GET", "/metrics"): Row(get("/metrics"), {"admin": 200, "auditor": 200}),
    ("GET", "/v1/ledger/checkpoint"): Row(get("/v1/ledger/checkpoint"), dict.fromkeys(WHO, 200)),
    ("GET", "/v1/ledger/public-key"): Row(get("/v1/ledger/public-key"), dict.fromkeys(WHO, 200)),
    ("GET", "/v1/ledger/entries"): Row(get("/v1/ledger/entries?start=0&end=2"), {"auditor": 200}),
    ("GET", "/v1/ledger/proof/inclusion"): Row(
        get("/v1/ledger/proof/inclusion?index=0&size=2"), {"auditor": 200, "regulator": 200}
    ),
    ("GET", "/v1/ledger/proof/consistency"): Row(
        get("/v1/ledger/proof/consistency?first=1&second=2"), {"auditor": 200, "regulator": 200}
    ),
    ("POST", "/v1/subjects/{subject_id}/erase"): Row(
        lambda api, ids, headers: api.client.post("/v1/subjects/nobody/erase", headers=headers),
        {"admin": 404},  # reached the lookup: the role was let through
    ),
}


def flatten(routes: list[Any]) -> list[Any]:
    """Routes of included routers too (FastAPI keeps them behind the router object)."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found.extend(flatten(included.routes) if included is not None else [route])
    return found


def served_routes(api: Api) -> set[tuple[str, str]]:
    routes = set()
    for route in flatten(api.client.app.routes):  # type: ignore[attr-defined]
        methods = route.methods if isinstance(route, APIRoute) else getattr(route, "methods", None)
        for method in methods or {"GET"}:
            if method != "HEAD":
                routes.add((method, route.path))
    return routes


def test_every_served_route_has_a_row(api: Api) -> None:
    assert served_routes(api) - set(TABLE) == set()


def test_every_route_answers_each_caller_as_the_contract_says(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    seal(api)
    ids = {"claim": claim, "seq": ""}
    for (method, path), row in TABLE.items():
        anonymous = row.call(api, ids, {})
        if row.public:
            assert anonymous.status_code == 200, (method, path)
            continue
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["content-type"] == "application/problem+json"
        wrong = row.call(api, ids, {"Authorization": "Bearer not-a-token"})
        assert wrong.status_code == 401, (method, path)
        for who in WHO:
            expected = row.allowed.get(who, 403)
            response = row.call(api, ids, bearer(who))
            if expected == 201 and response.status_code == 200:
                expected = 200  # a later PUT of the same record: a new version
            assert response.status_code == expected, (method, path, who, response.text)
