"""Fuzzing: schemathesis over the OpenAPI document, hypothesis over CloudEvents.

Bounded examples with a fixed seed, so runs are repeatable; no input may cause a 5xx and no
response may break the schema the document declares for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from api.app import create_app
from api.fields import DEFAULT_DATE_FLOOR, LAST_PLANNED_DAY
from domain.common import CST
from infrastructure.principals import token_digest
from infrastructure.settings import Settings
from tests.api.conftest import PRINCIPALS, TOKENS, Api, admission, bearer

TOKEN_FOR_PATH = (
    ("/v1/events", "hosp-1"),
    ("/v1/reference", "admin"),
    ("/metrics", "admin"),
    ("/v1/education", "educator"),
    ("/v1/", "insurer-1"),
    ("/", "admin"),
)


def fuzz_settings(tmp_path: Path) -> Settings:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'fuzz.sqlite3'}",
        principals_file=tmp_path / "principals.json",
        rate_limit_per_second=0,
        access_log=False,
    )
    settings.principals_file.write_bytes(
        orjson.dumps(
            [
                {**p, "token_sha256": token_digest(TOKENS[p["partner_id"] or p["role"]])}
                for p in PRINCIPALS
            ]
        )
    )
    return settings


# No 5xx, and every response as the document declares it. Business rules legitimately refuse
# some schema-valid requests (422/409), so "positive data acceptance" is not among them.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def fuzz_operation(operation: Any, who: str) -> Any:
    """A hypothesis test of one operation, called with a token allowed to use it."""

    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        case.call_and_validate(headers=bearer(who), checks=CHECKS)

    return call


def test_no_input_causes_a_server_error_or_breaks_the_schema(tmp_path: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzz_settings(tmp_path)))
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    for operation in operations:
        who = next(w for prefix, w in TOKEN_FOR_PATH if operation.path.startswith(prefix))
        fuzz_operation(operation, who)()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
TYPES = st.sampled_from(
    [
        "xiaobao.hospital.admission.v1",
        "xiaobao.hospital.charges.v1",
        "xiaobao.hospital.discharge.v1",
        "xiaobao.insurer.remittance-paid.v1",
        "nonsense",
    ]
)


def mutated_events() -> st.SearchStrategy[Any]:
    base = {
        "specversion": "1.0",
        "id": "fuzz",
        "source": "/partners/hosp-1",
        "type": "xiaobao.hospital.admission.v1",
        "data": admission(),
    }
    replace_attr = st.tuples(st.sampled_from(sorted(base)), JSON).map(
        lambda kv: {**base, kv[0]: kv[1]}
    )
    replace_data = st.tuples(st.sampled_from(sorted(admission())), JSON, TYPES).map(
        lambda kv: {**base, "type": kv[2], "data": {**admission(), kv[0]: kv[1]}}
    )
    return st.one_of(JSON, replace_attr, replace_data, st.lists(replace_data, max_size=3))


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings_ = fuzz_settings(tmp_path_factory.mktemp("events"))
    with TestClient(create_app(settings_), raise_server_exceptions=False) as client:
        yield Api(client)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(event=mutated_events(), batch=st.booleans())
def test_generated_cloudevents_never_cause_a_server_error(
    fuzz_client: Api, event: Any, batch: bool
) -> None:
    content_type = "application/cloudevents-batch+json" if batch else "application/json"
    response = fuzz_client.client.post(
        "/v1/events",
        content=json.dumps(event).encode(),  # the stdlib writes integers of any size
        headers={**bearer("hosp-1"), "Content-Type": content_type},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


# Extremes: every integer, date and instant a request carries (query parameters, staff
# bodies, partner event data), on both stores. Out of bounds → 422 naming the field and
# nothing recorded; any value → never a 5xx. The fields are read from the OpenAPI document,
# so a field added later is fuzzed too.

HUGE_INTEGERS = (2**63 - 1, 2**63, 2**64, 10**30)
EXTREME_INSTANTS = (
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "1999-12-31T23:59:59+08:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
)
EXTREME_DAYS = ("0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31")
AS_OF = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59Z",
    "2026-03-09T10:00:00+08:00",
)
FILLED = {"period": "2026", "q": "退保", "date": "2026-03-09", "wait": "0"}
"""Values for the other query parameters (required ones, and no waiting for a position)."""
PATH_IDS = {
    "claim_id": "claim",
    "complaint_id": "complaint",
    "dispute_id": "dispute",
    "activity_id": "activity",
    "training_id": "training",
    "item_id": "item",
    "report_id": "report",
    "article_id": "article",
    "partner_id": "partner",
}


def seeded(api: Api) -> dict[str, str]:
    """One record of each kind, so reads and commands reach their handlers."""
    from tests.api.test_auth_matrix import (
        ACTIVITY,
        ARTICLE,
        COMPLAINT,
        RECTIFICATION,
        REPORT,
        TRAINING,
    )

    api.seed()
    claim = api.settle().json()["stream"]["id"]

    def made(path: str, body: dict[str, Any], who: str) -> str:
        answer = api.client.post(path, json=body, headers=bearer(who))
        assert answer.status_code == 201, (path, answer.text)
        return str(answer.json()["id"])

    return {
        "claim": claim,
        "complaint": made("/v1/complaints", COMPLAINT, "handler"),
        "dispute": made(
            "/v1/disputes",
            {"party": {"id": "p", "name": "n"}, "amount": "1.00", "matter": "m"},
            "handler",
        ),
        "activity": made("/v1/education/activities", ACTIVITY, "educator"),
        "training": made("/v1/education/trainings", TRAINING, "educator"),
        "item": made("/v1/rectifications", RECTIFICATION, "compliance"),
        "report": made("/v1/reports", REPORT, "report_officer"),
        "article": made("/v1/knowledge/articles", ARTICLE, "editor"),
        "partner": "hosp-1",
    }


def caller_for(method: str, path: str) -> str:
    """A principal the contract lets through to this route (from the role × route table)."""
    from tests.api.test_auth_matrix import TABLE

    allowed = TABLE[(method.upper(), path)].allowed
    if allowed.get("auditor") == 200:  # reads every history, drafts and versions included
        return "auditor"
    return next(who for who, status in allowed.items() if status != 403)


def concrete(path: str, ids: dict[str, str]) -> str:
    for name, key in PATH_IDS.items():
        path = path.replace(f"{{{name}}}", ids[key])
    return path


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def scalar(doc: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """`integer`, `date` or `date-time` and its schema (or None), through `anyOf` nulls."""
    schema = resolve(doc, schema)
    for option in schema.get("anyOf", [schema]):
        option = resolve(doc, option)
        if option.get("type") == "integer":
            return "integer", option
        if option.get("format") in ("date", "date-time"):
            return str(option["format"]), option
    return None


def scalar_kind(doc: dict[str, Any], schema: dict[str, Any]) -> str | None:
    found = scalar(doc, schema)
    return None if found is None else found[0]


def leaf_fields(
    doc: dict[str, Any], schema: dict[str, Any], depth: int = 0
) -> Iterator[tuple[tuple[str | int, ...], str, dict[str, Any]]]:
    """Every integer, date and instant field of a body schema: (path, kind, its schema)."""
    schema = resolve(doc, schema)
    if depth > 6:
        return
    for option in schema.get("anyOf", []):
        if resolve(doc, option).get("type") == "object":
            yield from leaf_fields(doc, option, depth + 1)
    for name, prop in schema.get("properties", {}).items():
        found = scalar(doc, prop)
        if found is not None:
            yield (name,), *found
            continue
        prop = resolve(doc, prop)
        nested = [resolve(doc, o) for o in prop.get("anyOf", [prop])]
        for option in nested:
            if option.get("type") == "object" or "properties" in option:
                for path, k, s in leaf_fields(doc, option, depth + 1):
                    yield (name, *path), k, s
            elif option.get("type") == "array" and "items" in option:
                item = resolve(doc, option["items"])
                found = scalar(doc, item)
                if found is not None:
                    yield (name, 0), *found
                for path, k, s in leaf_fields(doc, item, depth + 1):
                    yield (name, 0, *path), k, s


def carrying(path: tuple[str | int, ...], value: Any) -> Any:
    """A body holding only `value` at `path` (`("items", 0, "amount")` → {"items": [{...}]})."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [carrying(rest, value)] if isinstance(head, int) else {head: carrying(rest, value)}


def dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def out_of_bounds(kind: str, schema: dict[str, Any]) -> list[Any]:
    if kind == "integer":
        below = [schema["minimum"] - 1] if "minimum" in schema else []
        return [*below, *HUGE_INTEGERS]
    return list(EXTREME_INSTANTS if kind == "date-time" else EXTREME_DAYS)


def post_raw(api: Api, event: dict[str, Any], who: str) -> Any:
    """Post with the stdlib's JSON, which writes integers of any size."""
    return api.client.post(
        "/v1/events",
        content=json.dumps(event).encode(),
        headers={**bearer(who), "Content-Type": "application/json"},
    )


def named(response: Any, field: str) -> bool:
    return field in [e["field"] for e in response.json().get("errors", [])]


def request_bodies(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content and path != "/v1/events":
                yield method, path, content["application/json"]["schema"]


def event_data(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    from api.event_types import EVENT_TYPES

    for type_name, kind in EVENT_TYPES.items():
        who = next(p["partner_id"] for p in PRINCIPALS if p["role"] == kind.role)
        yield type_name, who, {"$ref": f"#/components/schemas/{kind.model.__name__}"}


def test_every_integer_date_and_instant_field_refuses_its_extremes_naming_it(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    ids = seeded(api)
    before = api.count()
    tried: set[str] = set()
    for method, path, schema in request_bodies(doc):
        who = caller_for(method, path)
        for field_path, kind, field_schema in leaf_fields(doc, schema):
            field = dotted(field_path)
            for value in out_of_bounds(kind, field_schema):
                answer = api.client.request(
                    method.upper(),
                    concrete(path, ids),
                    json=carrying(field_path, value),
                    headers=bearer(who),
                )
                assert answer.status_code == 422, (method, path, field, value, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                assert named(answer, field), (method, path, field, value, answer.text)
            tried.add(field)
    for type_name, who, schema in event_data(doc):
        for field_path, kind, field_schema in leaf_fields(doc, schema):
            field = f"data.{dotted(field_path)}"
            for value in out_of_bounds(kind, field_schema):
                event = {
                    "specversion": "1.0",
                    "id": f"x-{len(tried)}",
                    "source": f"/partners/{who}",
                    "type": type_name,
                    "data": carrying(field_path, value),
                }
                answer = post_raw(api, event, who)
                assert answer.status_code == 422, (type_name, field, value, answer.text)
                assert named(answer, field), (type_name, field, value, answer.text)
            tried.add(field)
        for value in EXTREME_INSTANTS:
            event = {
                "specversion": "1.0",
                "id": "t",
                "source": f"/partners/{who}",
                "type": type_name,
                "time": value,
                "data": {},
            }
            answer = post_raw(api, event, who)
            assert answer.status_code == 422, (type_name, value, answer.text)
            assert named(answer, "time"), (type_name, value, answer.text)
    assert api.count() == before  # nothing recorded
    # Every date field of the contract is among them (the issue's list, and the newer bodies').
    contract = {
        "occurred_at",
        "data.admitted_at",
        "data.discharged_at",
        "data.paid_at",
        "data.signed_at",
        "data.applied_at",
        "data.held_at",
        "data.issued_at",
        "data.ruled_at",
        "delivery.delivered_at",
        "delivered_at",
        "data.period_start",
        "data.period_end",
        "effective_from",
        "data.effective",
        "data.performance_due",
        "due_date",
        "milestones[0].due_date",
        "until",
        "started_at",
        "ended_at",
        "held_at",
        "data.policies",
        "data.insured_persons",
        "participants",
        "views",
    }
    assert contract - tried == set()


def test_every_query_integer_and_instant_at_the_extremes(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    ids = seeded(api)
    before = api.count()
    tried = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                kind = scalar_kind(doc, parameter.get("schema", {}))
                if parameter["in"] != "query" or kind is None:
                    continue
                name = parameter["name"]
                who = caller_for(method, path)
                # The dashboard's pages answer a browser with a Chinese page, errors included.
                page = "text/html" in operation["responses"].get("200", {}).get("content", {})
                if kind == "integer":
                    values: list[Any] = [-1, 0, *HUGE_INTEGERS]
                elif name == "as_of":
                    values = list(AS_OF)
                else:
                    values = [*EXTREME_DAYS, "2026-03-09"]
                others = {
                    p["name"]: FILLED[p["name"]]
                    for p in operation["parameters"]
                    if p["name"] in FILLED and p["name"] != name
                }
                for value in values:
                    answer = api.client.request(
                        method.upper(),
                        concrete(path, ids),
                        params={**others, name: str(value)},
                        headers=bearer(who),
                    )
                    tried += 1
                    assert answer.status_code < 500, (path, name, value, answer.text)
                    assert answer.status_code != 403, (path, who)
                    if answer.status_code >= 400:
                        expected = (
                            "text/html; charset=utf-8" if page else "application/problem+json"
                        )
                        assert answer.headers["content-type"] == expected, (path, name, value)
                    if page:
                        continue
                    if kind == "integer" and value >= 2**63:
                        assert answer.status_code == 422, (path, name, value, answer.text)
                        assert named(answer, name), (path, name, answer.text)
                    if name == "as_of" and path.endswith(("{complaint_id}", "{dispute_id}")):
                        # any instant: before the record → 404, after the log → its state now
                        assert answer.status_code == (200 if value.startswith("9999") else 404)
    assert tried >= 100
    assert api.count() == before


def body_fields(doc: dict[str, Any]) -> list[tuple[str, str, str, tuple[str | int, ...], str, Any]]:
    """(method, path or event type, caller, field path, kind, schema) of every field."""
    found: list[tuple[str, str, str, tuple[str | int, ...], str, Any]] = []
    for method, path, schema in request_bodies(doc):
        who = caller_for(method, path)
        for field_path, kind, field_schema in leaf_fields(doc, schema):
            found.append((method, path, who, field_path, kind, field_schema))
    for type_name, who, schema in event_data(doc):
        for field_path, kind, field_schema in leaf_fields(doc, schema):
            found.append(("event", type_name, who, field_path, kind, field_schema))
    return found


OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
ANY_INSTANT = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    OFFSETS,
)


def in_bounds(kind: str, schema: dict[str, Any], value: Any, now: datetime) -> bool:
    if kind == "integer":
        if "enum" in schema:
            return value in schema["enum"]
        return bool(schema.get("minimum", -(2**200)) <= value <= schema.get("maximum", 2**200))
    if kind == "date":
        return bool(DEFAULT_DATE_FLOOR <= value <= LAST_PLANNED_DAY)
    floor = datetime.combine(DEFAULT_DATE_FLOOR, datetime.min.time(), tzinfo=CST)
    return bool(floor <= value <= now + timedelta(minutes=4))


@settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_value_of_any_integer_or_date_field_is_422_naming_it_or_not_refused_for_it(
    api: Api, data: st.DataObject
) -> None:
    doc = api.client.get("/openapi.json").json()
    fields = body_fields(doc)
    method, target, who, field_path, kind, schema = data.draw(st.sampled_from(fields))
    value: Any
    if kind == "integer":
        value = data.draw(st.integers(min_value=-(2**70), max_value=2**70) | st.integers(-3, 3))
        wire: Any = value
    elif kind == "date":
        value = data.draw(st.dates())
        wire = value.isoformat()
    else:
        value = data.draw(ANY_INSTANT)
        wire = value.isoformat()
    before = api.count()
    now = datetime.now(UTC)
    body = carrying(field_path, wire)
    if method == "event":
        event = {"specversion": "1.0", "id": "p", "source": f"/partners/{who}", "type": target}
        answer = post_raw(api, {**event, "data": body}, who)
        field = f"data.{dotted(field_path)}"
    else:
        path = concrete(
            target, dict.fromkeys(PATH_IDS.values(), "00000000-0000-4000-8000-000000000000")
        )
        answer = api.client.request(method.upper(), path, json=body, headers=bearer(who))
        field = dotted(field_path)
    assert answer.status_code < 500, answer.text
    if in_bounds(kind, schema, value, now):
        assert not named(answer, field), (target, field, wire, answer.text)
    else:
        assert answer.status_code == 422, (target, field, wire, answer.text)
        assert named(answer, field), (target, field, wire, answer.text)
        assert api.count() == before
