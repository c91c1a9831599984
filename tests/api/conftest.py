"""An API client over a fresh ledger on each real store, with one principal per role."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.principals import token_digest
from infrastructure.settings import Settings

PRINCIPALS: list[dict[str, Any]] = [
    {"name": "Hospital One", "role": "hospital", "partner_id": "hosp-1"},
    {"name": "Hospital Two", "role": "hospital", "partner_id": "hosp-2"},
    {"name": "Insurer", "role": "insurer", "partner_id": "insurer-1"},
    {"name": "Second Insurer", "role": "insurer", "partner_id": "insurer-2"},
    {"name": "12378", "role": "regulator_platform", "partner_id": "cbirc-12378"},
    {"name": "Second 12378", "role": "regulator_platform", "partner_id": "cbirc-12378-2"},
    {"name": "Mediation Centre", "role": "mediator", "partner_id": "mediator-1"},
    {"name": "Other Mediator", "role": "mediator", "partner_id": "mediator-2"},
    {"name": "Arbitration Commission", "role": "arbitrator", "partner_id": "arbitrator-1"},
    {"name": "Other Arbitrator", "role": "arbitrator", "partner_id": "arbitrator-2"},
    {"name": "People's Court", "role": "court", "partner_id": "court-1"},
    {"name": "Other Court", "role": "court", "partner_id": "court-2"},
    {"name": "Handler", "role": "handler", "partner_id": None},
    {"name": "Supervisor", "role": "supervisor", "partner_id": None},
    {"name": "Auditor", "role": "auditor", "partner_id": None},
    {"name": "Regulator", "role": "regulator", "partner_id": None},
    {"name": "Admin", "role": "admin", "partner_id": None},
    {"name": "Editor", "role": "editor", "partner_id": None},
    {"name": "Reviewer", "role": "reviewer", "partner_id": None},
    {"name": "Consumer App", "role": "consumer_app", "partner_id": None},
    {"name": "Educator", "role": "educator", "partner_id": None},
    {"name": "Compliance", "role": "compliance", "partner_id": None},
    {"name": "Claims Department", "role": "department", "partner_id": None, "department": "claims"},
    {
        "name": "Report Officer",
        "role": "report_officer",
        "partner_id": None,
        "department": "consumer-protection",
    },
]
TOKENS = {p["partner_id"] or p["role"]: f"token-{p['partner_id'] or p['role']}" for p in PRINCIPALS}
_ids = itertools.count(1)

SCHEME: dict[str, Any] = {
    "region": "330100",
    "person_type": "employee",
    "effective_from": "2026-01-01",
    "annual_cap": "400000.00",
    "b_prepay_ratio": "0.10",
    "levels": {"3": {"deductible": "800.00", "ratio": "0.84"}},
}
PRODUCT: dict[str, Any] = {
    "effective_from": "2026-01-01",
    "annual_deductible": "10000.00",
    "ratio_with_si": "1.00",
    "ratio_without_si": "0.60",
    "annual_limit": "2000000.00",
    "covers_out_of_scope": True,
}
PATIENT: dict[str, Any] = {"id": "330102198001011234", "name": "张三"}
ITEMS: list[dict[str, Any]] = [
    {
        "line_id": "L1",
        "code": "A001",
        "name": "手术",
        "category": "A",
        "amount": "55000.00",
        "over_limit": "5000.00",
    },
    {"line_id": "L2", "code": "B001", "name": "药品", "category": "B", "amount": "30000.00"},
    {"line_id": "L3", "code": "C001", "name": "耗材", "category": "C", "amount": "14000.00"},
    {
        "line_id": "L4",
        "code": "C002",
        "name": "特需",
        "category": "C",
        "amount": "1000.00",
        "necessary": False,
    },
]


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


def cloud_event(
    type_: str, data: dict[str, Any], who: str = "hosp-1", **attrs: Any
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": attrs.pop("id", f"e-{next(_ids)}"),
        "source": attrs.pop("source", f"/partners/{who}"),
        "type": f"xiaobao.{type_}",
        "data": data,
        **attrs,
    }


def admission(encounter: str = "ZY1", **data: Any) -> dict[str, Any]:
    return {
        "encounter_id": encounter,
        "patient": PATIENT,
        "region": "330100",
        "person_type": "employee",
        "hospital_level": 3,
        "social_insurance": True,
        "admitted_at": "2026-03-02T09:00:00+08:00",
        **data,
    }


@dataclass
class Api:
    """The test client with the contract's calls."""

    client: TestClient

    def post_event(
        self, event: Any, who: str = "hosp-1", content_type: str = "application/cloudevents+json"
    ) -> httpx.Response:
        response: httpx.Response = self.client.post(
            "/v1/events",
            content=orjson.dumps(event),
            headers={**bearer(who), "Content-Type": content_type},
        )
        return response

    def send(
        self, type_: str, data: dict[str, Any], who: str = "hosp-1", **attrs: Any
    ) -> httpx.Response:
        return self.post_event(cloud_event(type_, data, who, **attrs), who)

    def get(self, path: str, who: str = "hosp-1", **params: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(path, headers=bearer(who), params=params)
        return response

    def count(self) -> int:
        """How many events the ledger holds (to prove a refusal recorded nothing)."""
        recorder = self.client.app.state.runtime.services.ledger.recorder  # type: ignore[attr-defined]
        return int(recorder.max_notification_id() or 0)

    def seed(self) -> None:
        assert (
            self.client.put(
                "/v1/reference/schemes/hz", json=SCHEME, headers=bearer("admin")
            ).status_code
            == 201
        )
        assert (
            self.client.put(
                "/v1/reference/products/BWYL", json=PRODUCT, headers=bearer("admin")
            ).status_code
            == 201
        )
        policy = {
            "policy_id": "P1",
            "product_code": "BWYL",
            "insured": PATIENT,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        }
        assert self.send("insurer.policy-issued.v1", policy, "insurer-1").status_code == 201

    def settle(self, encounter: str = "ZY1", who: str = "hosp-1") -> httpx.Response:
        assert self.send("hospital.admission.v1", admission(encounter), who).status_code == 201
        assert (
            self.send(
                "hospital.charges.v1", {"encounter_id": encounter, "items": ITEMS}, who
            ).status_code
            == 201
        )
        return self.send(
            "hospital.discharge.v1",
            {"encounter_id": encounter, "discharged_at": "2026-03-09T10:00:00+08:00"},
            who,
        )


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    settings.principals_file.write_bytes(
        orjson.dumps(
            [
                {**p, "token_sha256": token_digest(TOKENS[p["partner_id"] or p["role"]])}
                for p in PRINCIPALS
            ]
        )
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client)
