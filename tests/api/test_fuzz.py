"""Fuzzing: schemathesis over the OpenAPI document, hypothesis over CloudEvents.

Bounded examples with a fixed seed, so runs are repeatable; no input may cause a 5xx and no
response may break the schema the document declares for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
