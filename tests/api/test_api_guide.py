"""Every event example in docs/api.md is posted, in the guide's order, and accepted (both
stores): the partner guide cannot drift from what the service takes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.event_types import EVENT_TYPES
from infrastructure.principals import token_digest
from infrastructure.settings import Settings
from tests.api.conftest import ITEMS, PRODUCT, SCHEME

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PARTNERS = {
    "hosp-hz-001": "hospital",
    "insurer-001": "insurer",
    "cbirc-12378": "regulator_platform",
    "mediator-001": "mediator",
    "arbitrator-001": "arbitrator",
    "court-001": "court",
}
STAFF = ("handler", "admin")
# The guide's example dispute ids, replaced by the disputes the test opens.
MEDIATED, REJECTED, ARBITRATED = (
    "2f5c0c1e-8d7b-4a51-9c36-0e9a1b3d5a71",
    "5b0e3a94-1c7d-4f2a-8e6b-93d4c2a1f0e8",
    "9d41b7a2-6e3f-4c08-b5a1-27f8e0c6d934",
)


def examples() -> list[Any]:
    """The events (and batches) of the guide, in order."""
    blocks = re.findall(r"```json\n(.*?)\n```", GUIDE.read_text(encoding="utf-8"), re.S)
    found = []
    for block in blocks:
        parsed = orjson.loads(block)
        first = parsed[0] if isinstance(parsed, list) else parsed
        if isinstance(first, dict) and "specversion" in first:
            found.append(parsed)
    return found


def headers(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{who}"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    principals = [
        {"name": who, "role": role, "partner_id": who, "token_sha256": token_digest(f"token-{who}")}
        for who, role in PARTNERS.items()
    ] + [
        {
            "name": role,
            "role": role,
            "partner_id": None,
            "token_sha256": token_digest(f"token-{role}"),
        }
        for role in STAFF
    ]
    settings.principals_file.write_bytes(orjson.dumps(principals))
    with TestClient(create_app(settings), raise_server_exceptions=False) as made:
        yield made


def staff(client: TestClient, path: str, at: str, **body: Any) -> Any:
    answer = client.post(path, json={**body, "occurred_at": at}, headers=headers("handler"))
    assert answer.status_code in (200, 201), (path, answer.text)
    return answer.json()


def event(client: TestClient, who: str, type_: str, id_: str, time: str, **data: Any) -> None:
    body = {
        "specversion": "1.0",
        "id": id_,
        "source": f"/partners/{who}",
        "type": f"xiaobao.{type_}",
        "time": time,
        "data": data,
    }
    answer = client.post("/v1/events", json=body, headers=headers(who))
    assert answer.status_code == 201, answer.text


def test_every_example_in_the_partner_guide_is_accepted(client: TestClient) -> None:
    admin = headers("admin")
    assert client.put("/v1/reference/schemes/hz", json=SCHEME, headers=admin).status_code == 201
    assert client.put("/v1/reference/products/BWYL", json=PRODUCT, headers=admin).status_code == 201
    hospital = "hosp-hz-001"
    earlier = {
        "encounter_id": "ZY2026000124",
        "patient": {"id": "330102198502021111", "name": "李四"},
        "region": "330100",
        "person_type": "employee",
        "hospital_level": 3,
        "social_insurance": True,
        "admitted_at": "2026-03-01T09:00:00+08:00",
    }
    event(client, hospital, "hospital.admission.v1", "s-1", "2026-03-01T09:00:00+08:00", **earlier)
    event(
        client,
        hospital,
        "hospital.charges.v1",
        "s-2",
        "2026-03-02T09:00:00+08:00",
        encounter_id="ZY2026000124",
        items=ITEMS[:2],
    )
    event(
        client,
        hospital,
        "hospital.discharge.v1",
        "s-3",
        "2026-03-03T09:00:00+08:00",
        encounter_id="ZY2026000124",
        discharged_at="2026-03-03T09:00:00+08:00",
    )
    party = {"party": {"id": "330102198001011234", "name": "张三"}, "matter": "理赔争议"}
    ids = {}
    for name in (MEDIATED, REJECTED, ARBITRATED):
        opened = staff(
            client, "/v1/disputes", "2026-11-01T09:00:00+08:00", amount="20000.00", **party
        )
        ids[name] = opened["id"]
        staff(
            client,
            f"/v1/disputes/{opened['id']}/mediation",
            "2026-11-02T09:00:00+08:00",
            mediator="mediator-001",
        )
    rejected = ids[REJECTED]
    court, mediator = "court-001", "mediator-001"
    event(
        client,
        mediator,
        "mediation.accepted.v1",
        "s-4",
        "2026-11-03T09:00:00+08:00",
        dispute_id=rejected,
    )
    event(
        client,
        mediator,
        "mediation.agreement-signed.v1",
        "s-5",
        "2026-11-04T09:00:00+08:00",
        dispute_id=rejected,
        signed_at="2026-11-04T09:00:00+08:00",
        amount="100.00",
        terms="赔付",
    )
    staff(client, f"/v1/disputes/{rejected}/confirmation", "2026-11-05T09:00:00+08:00", court=court)
    event(
        client,
        court,
        "court.confirmation-accepted.v1",
        "s-6",
        "2026-11-06T09:00:00+08:00",
        dispute_id=rejected,
        case_no="(2026)浙0106民特120号",
        applied_at="2026-11-06T09:00:00+08:00",
    )
    # The staff steps between the partners' examples, by the example they come before.
    before: dict[str, Callable[[], Any]] = {
        "court-0001": lambda: staff(
            client,
            f"/v1/disputes/{ids[MEDIATED]}/confirmation",
            "2026-11-08T09:00:00+08:00",
            court=court,
        ),
        "arb-0001": lambda: staff(
            client,
            f"/v1/disputes/{ids[ARBITRATED]}/arbitration",
            "2026-11-05T09:00:00+08:00",
            arbitrator="arbitrator-001",
            consent=True,
        ),
        "court-0101": lambda: staff(
            client,
            f"/v1/disputes/{ids[ARBITRATED]}/enforcement",
            "2026-12-02T09:00:00+08:00",
            court=court,
        ),
    }
    posted: set[str] = set()
    for example in examples():
        text = orjson.dumps(example).decode()
        for placeholder, real in ids.items():
            text = text.replace(placeholder, real)
        events = orjson.loads(text)
        first = events[0] if isinstance(events, list) else events
        if first["id"] == "arb-0001" and not any(e == "med-0001" for e in posted):
            pytest.fail("the guide's dispute examples are out of order")
        if first["id"] in before:
            before[first["id"]]()
        who = first["source"].removeprefix("/partners/")
        if isinstance(events, list):
            answer = client.post(
                "/v1/events",
                content=text,
                headers={**headers(who), "Content-Type": "application/cloudevents-batch+json"},
            )
            assert answer.status_code == 200, answer.text
            assert [r["status"] for r in answer.json()] == [201] * len(events), answer.text
            posted.update(e["type"] for e in events)
        else:
            answer = client.post(
                "/v1/events",
                content=text,
                headers={**headers(who), "Content-Type": "application/cloudevents+json"},
            )
            assert answer.status_code == 201, (first["id"], answer.text)
            posted.add(first["type"])
            posted.add(first["id"])
    # Every event type of the service has an example in the guide.
    assert set(EVENT_TYPES) <= posted
    remitted = client.get(
        "/v1/claims/89ba7217-0a2e-553e-8b48-495beb7dedd3", headers=headers("insurer-001")
    )
    assert remitted.json()["remitted"] == "10000.00"  # the guide's claim id is the real one
