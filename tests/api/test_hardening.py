"""Limits, request ids, metrics, logs, Idempotency-Key and If-Match."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.demo import demo_events, load_demo
from api.observability import JSONFormatter, configure_logging
from api.ratelimit import FailureThrottle
from infrastructure.principals import PrincipalsFileError, token_digest
from infrastructure.settings import Settings
from tests.api.conftest import PATIENT, PRINCIPALS, PRODUCT, TOKENS, Api, admission, bearer
from tests.api.test_auth_matrix import ACTIVITY, COMPLAINT
from tests.api.test_partner_events import assert_problem


def client_with(settings: Settings, **overrides: object) -> TestClient:
    configured = settings.model_copy(update=overrides)
    configured.principals_file.write_bytes(
        orjson.dumps(
            [
                {**p, "token_sha256": token_digest(TOKENS[p["partner_id"] or p["role"]])}
                for p in PRINCIPALS
            ]
        )
    )
    return TestClient(create_app(configured), raise_server_exceptions=False)


@pytest.fixture
def small(settings: Settings) -> Iterator[Api]:
    with client_with(settings, max_body_bytes=2000, rate_limit_per_second=0) as client:
        yield Api(client)


def test_body_over_the_limit_is_413_and_records_nothing(small: Api) -> None:
    big = {"encounter_id": "ZY1", "items": [{"line_id": "x" * 3000}]}
    response = small.send("hospital.charges.v1", big)
    assert_problem(response, 413)

    def chunks() -> Iterator[bytes]:
        yield b'{"specversion": "1.0", "data": "'
        for _ in range(10):
            yield b"y" * 500

    streamed = small.client.post(
        "/v1/events",
        content=chunks(),
        headers={**bearer("hosp-1"), "Content-Type": "application/json"},
    )
    assert_problem(streamed, 413)
    assert small.count() == 0


def test_wrong_media_type_on_a_json_route_is_415(small: Api) -> None:
    response = small.client.put(
        "/v1/reference/products/X",
        content=orjson.dumps(PRODUCT),
        headers={**bearer("admin"), "Content-Type": "text/plain"},
    )
    assert_problem(response, 415)
    assert small.count() == 0


def test_rate_limit_answers_429_with_retry_after(settings: Settings) -> None:
    with client_with(settings, rate_limit_per_second=0.01, rate_limit_burst=2) as client:
        api = Api(client)
        statuses = [
            api.get("/v1/reference/products/none", who="admin").status_code for _ in range(3)
        ]
        assert statuses == [404, 404, 429]
        limited = api.get("/v1/reference/products/none", who="admin")
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        # Another principal has its own bucket.
        assert api.get("/v1/reference/products/none", who="auditor").status_code == 404


def test_failed_authentication_is_throttled_per_address_and_never_a_valid_token(
    settings: Settings,
) -> None:
    with client_with(settings, auth_failures_per_minute=3) as first:
        app = first.app
        attacker = TestClient(app, client=("10.0.0.1", 4000), raise_server_exceptions=False)
        neighbour = TestClient(app, client=("10.0.0.2", 4000), raise_server_exceptions=False)
        path = "/v1/reference/products/none"
        wrong = {"Authorization": "Bearer not-a-token"}
        assert [attacker.get(path, headers=wrong).status_code for _ in range(3)] == [401] * 3
        refused = attacker.get(path, headers=wrong)
        assert_problem(refused, 429)
        assert 1 <= int(refused.headers["retry-after"]) <= 20  # a failure back every 20 s
        # Failures are throttled, not the address: a valid token still goes through.
        assert attacker.get(path, headers=bearer("admin")).status_code == 404
        login = attacker.post(
            "/dashboard/login", data={"token": TOKENS["regulator"]}, follow_redirects=False
        )
        assert login.status_code == 303
        # The dashboard login form and partner events count as failures of that address too.
        throttled = attacker.post("/dashboard/login", data={"token": "guess"})
        assert throttled.status_code == 429  # the login form says so, in Chinese
        assert "登录失败次数过多" in throttled.text
        assert 1 <= int(throttled.headers["retry-after"]) <= 20
        assert_problem(attacker.post("/v1/events", content=b"{}", headers=wrong), 429)
        assert_problem(attacker.get("/dashboard", headers=wrong), 429)
        # Another address has its own count.
        assert neighbour.get(path, headers=wrong).status_code == 401
        assert neighbour.post("/dashboard/login", data={"token": "guess"}).status_code == 401


def test_the_failure_throttle_lets_an_address_fail_again_as_its_minute_passes() -> None:
    now = [0.0]
    throttle = FailureThrottle(50, clock=lambda: now[0])
    for _ in range(50):
        assert throttle.refused("a") == 0
        throttle.failed("a")
    assert throttle.refused("a") == pytest.approx(1.2)  # 60 s / 50 failures
    assert throttle.refused("b") == 0
    now[0] = 1.2
    assert throttle.refused("a") == 0
    throttle.failed("a")
    assert throttle.refused("a") > 0
    now[0] = 61.2
    assert throttle.refused("a") == 0
    assert FailureThrottle(0).refused("a") == 0  # 0 switches it off


def test_every_response_carries_a_request_id(api: Api) -> None:
    given = api.client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = api.client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    assert_problem(api.client.get("/v1/claims/x"), 401)


def test_metrics_count_requests_by_route_template_and_events_by_type(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    api.get(f"/v1/claims/{claim}")
    text = api.get("/metrics", who="admin").text
    assert 'route="/v1/claims/{claim_id}"' in text
    assert claim not in text
    assert 'xiaobao_events_recorded_total{type="xiaobao.hospital.discharge.v1"} 1.0' in text
    assert "xiaobao_http_request_seconds_bucket" in text


def test_logs_carry_no_personal_data(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.seed()
    api.settle()
    api.send("hospital.admission.v1", admission("bad", patient={"id": 5, "name": PATIENT["name"]}))
    api.get("/v1/claims", encounter_id="ZY1")
    formatter = JSONFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"route": "/v1/events"' in line or '"route":"/v1/events"' in line for line in lines)
    for line in lines:
        for secret in (PATIENT["id"], PATIENT["name"], TOKENS["hosp-1"]):
            assert secret not in line


def test_logs_go_to_the_stderr_of_the_moment_never_to_a_closed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", root.handlers[:])  # restored afterwards
    monkeypatch.setattr(root, "level", root.level)
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("info")  # as a CLI command run under a captured stderr does
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("xiaobao.test").info("after the first stream closed")
    (line,) = second.getvalue().splitlines()  # one JSON line, no "--- Logging error ---"
    assert orjson.loads(line)["message"] == "after the first stream closed"


def test_idempotency_key_replays_the_first_response(api: Api) -> None:
    headers = {**bearer("admin"), "Idempotency-Key": "k-1"}
    first = api.client.put("/v1/reference/products/P", json=PRODUCT, headers=headers)
    again = api.client.put("/v1/reference/products/P", json=PRODUCT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(api.get("/v1/reference/products/P", who="admin").json()["versions"]) == 1
    other = api.client.put(
        "/v1/reference/products/P", json={**PRODUCT, "annual_limit": "1.00"}, headers=headers
    )
    assert_problem(other, 409)


def test_if_match_with_a_stale_version_is_412(api: Api) -> None:
    api.client.put("/v1/reference/products/P", json=PRODUCT, headers=bearer("admin"))
    read = api.get("/v1/reference/products/P", who="admin")
    etag = read.headers["etag"]
    fresh = api.client.put(
        "/v1/reference/products/P", json=PRODUCT, headers={**bearer("admin"), "If-Match": etag}
    )
    assert fresh.status_code == 200
    before = api.count()
    stale = api.client.put(
        "/v1/reference/products/P", json=PRODUCT, headers={**bearer("admin"), "If-Match": etag}
    )
    assert_problem(stale, 412)
    assert api.count() == before


def test_principals_file_is_reloaded_when_it_changes(api: Api, settings: Settings) -> None:
    assert api.get("/metrics", who="admin").status_code == 200
    path: Path = settings.principals_file
    kept = [p for p in orjson.loads(path.read_bytes()) if p["role"] != "admin"]
    path.write_bytes(orjson.dumps(kept) + b"\n")
    assert_problem(api.get("/metrics", who="admin"), 401)


def test_erasure_is_admin_only_and_deferred_while_records_are_held(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    assert_problem(
        api.client.post(f"/v1/subjects/{PATIENT['id']}/erase", headers=bearer("handler")), 403
    )
    response = api.client.post(
        f"/v1/subjects/{PATIENT['id']}/erase", json={"reason": "request"}, headers=bearer("admin")
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "deferred"
    assert {h["reason"] for h in body["holds"]} == {"open_record"}
    assert PATIENT["id"] not in response.text  # the answer names the blind index only
    assert api.get(f"/v1/claims/{claim}").json()["patient"]["name"] == PATIENT["name"]


def test_demo_data_never_reaches_logs_or_metrics(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    claims = load_demo(runtime.services, runtime.notary)
    for claim in claims.values():
        api.get(f"/v1/claims/{claim}", who="insurer-1")
        api.get(f"/v1/claims/{claim}/history", who="auditor")
    api.send("hospital.admission.v1", admission("x", patient={"id": "330102198001011234"}))
    text = "\n".join(JSONFormatter().format(r) for r in caplog.records)
    text += api.get("/metrics", who="admin").text
    secrets = [
        value
        for _, event in demo_events()
        for person in (
            event["data"].get("patient"),
            event["data"].get("insured"),
            event["data"].get("complainant"),
        )
        if person
        for value in person.values()
    ]
    assert len(secrets) >= 6
    for secret in secrets:
        assert secret not in text, secret


def test_an_unknown_role_in_the_principals_file_stops_the_start_naming_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from api.cli import cli

    settings.principals_file.write_bytes(
        orjson.dumps([{"name": "ops-1", "role": "superuser", "token_sha256": "ab" * 32}])
    )
    monkeypatch.setenv("XIAOBAO_PRINCIPALS_FILE", str(settings.principals_file))
    monkeypatch.setenv("XIAOBAO_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "'ops-1'" in result.output
    assert "'superuser'" in result.output
    with (
        pytest.raises(PrincipalsFileError, match="superuser"),
        TestClient(create_app(settings)),
    ):
        pass  # the lifespan refuses too (a worker started without the CLI)


def test_a_bad_edit_of_a_running_services_principals_file_keeps_the_last_good_one(
    api: Api, settings: Settings
) -> None:
    assert api.get("/v1/ledger/checkpoint", who="auditor").status_code in (200, 503)
    settings.principals_file.write_bytes(b'[{"name": "x", "role": "nobody"}]')
    answer = api.get("/v1/ledger/public-key", who="auditor")
    assert answer.status_code == 200


def test_a_body_nested_too_deep_names_the_limit(api: Api) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    answer = api.client.post(
        "/v1/events",
        content=b'{"specversion": "1.0", "data": ' + deep + b"}",
        headers={**bearer("hosp-1"), "Content-Type": "application/cloudevents+json"},
    )
    assert answer.status_code == 400
    assert "1024 levels" in answer.json()["detail"]


def test_field_messages_carry_no_pydantic_prefix(api: Api) -> None:
    answer = api.client.post("/v1/complaints", json={"channel": "app"}, headers=bearer("handler"))
    assert answer.status_code == 422
    assert all(not e["message"].startswith("Value error") for e in answer.json()["errors"])


def test_a_damaged_ledger_is_named_not_a_500() -> None:
    from api.errors import problem_for
    from infrastructure.proof_service import LedgerDamaged

    problem = problem_for(LedgerDamaged(41, 7))
    assert problem.status == 409
    assert "position 41" in problem.detail


def test_a_missing_principals_file_answers_401_not_500(api: Api, settings: Settings) -> None:
    settings.principals_file.unlink()
    assert_problem(api.get("/v1/ledger/public-key", who="auditor"), 401)


# Issue 17 item 2: dates within their bounds, as_of any instant, positions within 64 bits.

FUTURE = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def test_dates_outside_their_bounds_are_422_naming_the_field_and_record_nothing(
    api: Api,
) -> None:
    api.seed()
    before = api.count()
    for admitted_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", FUTURE):
        answer = api.send("hospital.admission.v1", admission("ZY9", admitted_at=admitted_at))
        assert_problem(answer, 422, "data.admitted_at")
    for occurred_at in ("0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59+08:00", FUTURE):
        answer = api.client.post(
            "/v1/complaints",
            json={**COMPLAINT, "occurred_at": occurred_at},
            headers=bearer("handler"),
        )
        assert_problem(answer, 422, "occurred_at")
        event = api.send("hospital.admission.v1", admission("ZY9"), time=occurred_at)
        assert_problem(event, 422, "time")
    policy = {"policy_id": "P9", "product_code": "BWYL", "insured": PATIENT}
    for start, end, field in (
        ("1999-12-31", "2026-12-31", "data.period_start"),
        ("2026-01-01", "2101-01-01", "data.period_end"),
        ("0001-01-01", "9999-12-31", "data.period_end"),
    ):
        answer = api.send(
            "insurer.policy-issued.v1",
            {**policy, "period_start": start, "period_end": end},
            "insurer-1",
        )
        assert_problem(answer, 422, field)
    assert api.count() == before


def test_dates_at_their_bounds_are_recorded_and_read_back(api: Api) -> None:
    api.seed()
    policy = {
        "policy_id": "P-LONG",
        "product_code": "BWYL",
        "insured": {"id": "330102200001011234", "name": "王五"},
        "period_start": "2000-01-01",
        "period_end": "2100-12-31",
    }
    assert api.send("insurer.policy-issued.v1", policy, "insurer-1").status_code == 201
    complaint = api.client.post(
        "/v1/complaints",
        json={**COMPLAINT, "occurred_at": "2000-01-01T00:00:00+08:00"},
        headers=bearer("handler"),
    )
    assert complaint.status_code == 201, complaint.text
    read = api.get(f"/v1/complaints/{complaint.json()['id']}", who="handler")
    assert read.status_code == 200
    assert read.json()["overdue"] is True
    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    assert api.send("hospital.admission.v1", admission("ZY2"), time=soon).status_code == 201


def test_the_date_floor_is_a_setting_and_the_openapi_states_it(settings: Settings) -> None:
    with client_with(settings, date_floor=date(2020, 1, 1)) as client:
        api = Api(client)
        answer = api.client.post(
            "/v1/complaints",
            json={**COMPLAINT, "occurred_at": "2019-12-31T23:00:00+08:00"},
            headers=bearer("handler"),
        )
        body = assert_problem(answer, 422, "occurred_at")
        assert "2020-01-01" in body["errors"][0]["message"]
        schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
        admitted = schemas["Admission"]["properties"]["admitted_at"]
        assert admitted["format"] == "date-time"
        assert "2020-01-01" in admitted["description"]
        assert "2100-12-31" in schemas["PolicyIssued"]["properties"]["period_end"]["description"]
        assert api.count() == 0
    with client_with(settings) as client:  # back to the default floor
        assert "2000-01-01" in Api(client).client.get("/openapi.json").text


def test_as_of_any_instant_reads_complaints_and_disputes_clamped_to_the_log(api: Api) -> None:
    complaint = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    dispute = api.client.post(
        "/v1/disputes",
        json={"party": {"id": "p", "name": "n"}, "amount": "1.00", "matter": "m"},
        headers=bearer("handler"),
    )
    for path in (
        f"/v1/complaints/{complaint.json()['id']}",
        f"/v1/disputes/{dispute.json()['id']}",
    ):
        now = api.get(path, who="handler").json()
        for late in ("9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z"):
            then = api.get(path, who="handler", as_of=late)
            assert then.status_code == 200, then.text
            assert then.json()["version"] == now["version"]
        assert_problem(api.get(path, who="handler", as_of="0001-01-01T00:00:00+14:00"), 404)


def test_positions_beyond_64_bits_are_422_naming_the_parameter(api: Api) -> None:
    for after in (2**63 - 1, 2**63, 2**64):
        answer = api.get("/v1/regulator/feed", who="cbirc-12378", after=after)
        assert_problem(answer, 422, "after")
    assert api.get("/v1/regulator/feed", who="cbirc-12378", after=2**63 - 2).status_code == 200
    answer = api.get("/v1/stats/complaints", who="regulator", period="2026", position=2**63)
    assert_problem(answer, 422, "position")


# Issue 17 item 7: identifiers, text, money in ASCII digits, resent events as parsed JSON.

HIDDEN = ("A\u202eB", "A\u200fB", "A\u2066B", "A\x00B", "A\x1bB", "A\nB", "A\u200bB")


def test_partner_identifiers_have_a_length_and_a_character_set(api: Api) -> None:
    api.seed()
    before = api.count()
    transfer = {**{k: v for k, v in COMPLAINT.items() if k != "channel"}, "transfer_id": "T-1"}
    for bad in (*HIDDEN, "x" * 129, " ZY1", "ZY1 ", "\u3000ZY1"):
        answer = api.send("hospital.admission.v1", admission(bad))
        assert_problem(answer, 422, "data.encounter_id")
        answer = api.send("hospital.admission.v1", admission("ZY1"), id=bad)
        assert_problem(answer, 422, "id")
        answer = api.send(
            "regulator.complaint-transferred.v1", {**transfer, "transfer_id": bad}, "cbirc-12378"
        )
        assert_problem(answer, 422, "data.transfer_id")
    answer = api.send("hospital.admission.v1", admission("ZY1"), subject="s\u202e")
    assert_problem(answer, 422, "subject")
    assert api.count() == before
    longest = "编" * 128  # printable characters of any script, up to 128
    assert api.send("hospital.admission.v1", admission(longest), id=longest).status_code == 201


def test_text_refuses_control_and_bidi_characters_but_keeps_line_breaks(api: Api) -> None:
    before = api.count()
    for bad in HIDDEN:
        named = {**COMPLAINT, "complainant": {"id": "c-1", "name": bad}}
        answer = api.client.post("/v1/complaints", json=named, headers=bearer("handler"))
        assert_problem(answer, 422, "complainant.name")
    for bad in (h for h in HIDDEN if h != "A\nB"):
        answer = api.client.post(
            "/v1/complaints", json={**COMPLAINT, "matter": bad}, headers=bearer("handler")
        )
        assert_problem(answer, 422, "matter")
    assert api.count() == before
    kept = api.client.post(
        "/v1/complaints",
        json={
            **COMPLAINT,
            "matter": "第一行\n第二行\t完",
            "complainant": {"id": "c", "name": "李\ue000"},
        },
        headers=bearer("handler"),
    )
    assert kept.status_code == 201, kept.text  # line breaks, tabs, private-use name characters


def test_money_and_decimals_only_in_ascii_digits(api: Api) -> None:
    api.seed()
    assert api.send("hospital.admission.v1", admission("ZY1")).status_code == 201
    before = api.count()
    for digits in ("１２３.00", "\u0661\u0662\u0663.00", "\u06f1\u06f2.00", "12\u0967.00", "１"):
        item = {"line_id": "L1", "code": "A", "name": "n", "category": "A", "amount": digits}
        answer = api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": [item]})
        assert_problem(answer, 422, "data.items[0].amount")
        ratio = {**item, "amount": "1.00", "category": "B", "prepay_ratio": "０.５"}
        answer = api.send("hospital.charges.v1", {"encounter_id": "ZY1", "items": [ratio]})
        assert_problem(answer, 422, "data.items[0].prepay_ratio")
        answer = api.send("hospital.copay-collected.v1", {"encounter_id": "ZY1", "amount": digits})
        assert_problem(answer, 422, "data.amount")
        dispute = {"party": {"id": "p", "name": "n"}, "amount": digits, "matter": "m"}
        answer = api.client.post("/v1/disputes", json=dispute, headers=bearer("handler"))
        assert_problem(answer, 422, "amount")
    training = {
        "topic": "t",
        "trainer": "r",
        "hours": "２",
        "held_at": "2026-03-05T14:00:00+08:00",
        "attendees": ["Handler"],
    }
    answer = api.client.post("/v1/education/trainings", json=training, headers=bearer("educator"))
    assert_problem(answer, 422, "hours")
    activity = {**ACTIVITY, "region": "３３０１０６"}
    answer = api.client.post("/v1/education/activities", json=activity, headers=bearer("educator"))
    assert_problem(answer, 422, "region")
    assert api.count() == before


def test_a_resent_event_is_compared_as_parsed_json(api: Api) -> None:
    api.seed()
    assert api.send("hospital.admission.v1", admission("ZY1")).status_code == 201
    headers = {**bearer("hosp-1"), "Content-Type": "application/json"}
    first = (
        b'{"specversion": "1.0", "id": "c-1", "source": "/partners/hosp-1",'
        b' "type": "xiaobao.hospital.charges.v1", "x-batch": 3, "data": {"encounter_id": "ZY1",'
        b' "items": [{"line_id": "L1", "code": "B1", "name": "n", "category": "B",'
        b' "amount": "100.00", "prepay_ratio": 1}]}}'
    )
    recorded = api.client.post("/v1/events", content=first, headers=headers)
    assert recorded.status_code == 201, recorded.text
    count = api.count()
    # The same event: other spacing and key order, 3.0 for 3 and 1.0 / 1e0 for 1.
    same = (
        b'{"data":{"items":[{"prepay_ratio":1.0,"amount":"100.00","category":"B","name":"n",'
        b'"code":"B1","line_id":"L1"}],"encounter_id":"ZY1"},"x-batch":3.0,'
        b'"type":"xiaobao.hospital.charges.v1","source":"/partners/hosp-1","id":"c-1",'
        b'"specversion":"1.0"}'
    )
    for body in (same, same.replace(b'"prepay_ratio":1.0', b'"prepay_ratio":1e0')):
        again = api.client.post("/v1/events", content=body, headers=headers)
        assert again.status_code == 200, again.text
        assert again.json()["duplicate"] is True
        assert again.json()["position"] == recorded.json()["position"]
    other = api.client.post(
        "/v1/events", content=same.replace(b'"x-batch":3.0', b'"x-batch":3.5'), headers=headers
    )
    assert_problem(other, 409)
    assert api.count() == count


def test_an_exposure_period_is_of_a_year_from_the_floor_to_2100_in_ascii_digits(
    api: Api,
) -> None:
    exposure = {"line": "health", "premium": "1.00", "policies": 1, "insured_persons": 1}
    before = api.count()
    for period in ("0000", "1999Q4", "2101", "9999-12", "２０２６", "\u0662\u0660\u0662\u0666"):
        answer = api.send(
            "insurer.exposure-reported.v1", {**exposure, "period": period}, "insurer-1"
        )
        assert_problem(answer, 422, "data.period")
    assert api.count() == before
    for period in ("2000", "2100Q4"):
        answer = api.send(
            "insurer.exposure-reported.v1", {**exposure, "period": period}, "insurer-1"
        )
        assert answer.status_code == 201, answer.text
