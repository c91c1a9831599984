"""The auditor's console through the ASGI app: login form, Chinese refusals, the page and its
script, and the session cookie standing in for the token on the contract's reads."""

from __future__ import annotations

from tests.api.conftest import TOKENS, Api, bearer
from tests.api.test_auth_matrix import COMPLAINT
from tests.api.test_ledger_api import seal
from tests.api.test_partner_events import assert_problem

BROWSER = {"Accept": "text/html"}


def test_a_browser_without_a_session_is_sent_to_the_chinese_login_form(api: Api) -> None:
    first = api.client.get("/audit", headers=BROWSER, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/audit/login"
    form = api.client.get("/audit/login")
    assert form.headers["content-type"].startswith("text/html")
    assert "审计人员访问令牌" in form.text


def test_a_bad_token_or_another_role_gets_a_chinese_page_never_json(api: Api) -> None:
    bad = api.client.post("/audit/login", data={"token": "nope"})
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("text/html")
    assert "令牌无效" in bad.text
    handler = api.client.post("/audit/login", data={"token": TOKENS["handler"]})
    assert handler.status_code == 403
    assert handler.headers["content-type"].startswith("text/html")
    assert "无权使用审计控制台" in handler.text
    assert "投诉处理人员" in handler.text  # the role as Chinese documents name it
    assert "handler" not in handler.text
    for who, role, name in (
        ("regulator", "regulator", "监管人员"),
        ("supervisor", "supervisor", "消保主管"),
        ("hosp-1", "hospital", "医疗机构"),
    ):
        page = api.client.get("/audit", headers={**bearer(who), **BROWSER})
        assert page.status_code == 403
        assert f"当前令牌的角色（{name}）无权使用审计控制台" in page.text
        assert role not in page.text  # never the raw role code
    api.client.cookies.set("xiaobao_session", "a|1|b")
    forged = api.client.get("/audit", headers=BROWSER)
    assert forged.status_code == 401
    assert "会话已过期" in forged.text
    api.client.cookies.clear()
    assert_problem(api.client.get("/audit"), 401)  # an API client without a token


def test_an_auditor_logs_in_and_the_session_reads_histories_with_proofs(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    seal(api)
    login = api.client.post(
        "/audit/login", data={"token": TOKENS["auditor"]}, follow_redirects=False
    )
    assert login.status_code == 303
    assert login.headers["location"] == "/audit"
    assert "HttpOnly" in login.headers["set-cookie"]
    assert TOKENS["auditor"] not in login.headers["set-cookie"]
    page = api.client.get("/audit", headers=BROWSER)
    assert page.status_code == 200
    assert '<script src="/audit/console.js"></script>' in page.text
    assert "验证密钥" in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert "verifier_key" not in page.text  # the server never hands the page a key
    history = api.client.get(f"/v1/claims/{claim}/history", params={"proofs": "true"})
    assert history.status_code == 200
    assert all(event["proof"] is not None for event in history.json()["events"])
    entry = api.client.get("/v1/ledger/entries", params={"start": 0, "end": 1})
    assert entry.status_code == 200
    # The cookie reads, never writes: a write still needs the token.
    assert_problem(api.client.post("/v1/complaints", json=COMPLAINT), 401)


def test_a_session_of_another_role_reads_only_what_that_role_may(api: Api) -> None:
    api.client.post("/dashboard/login", data={"token": TOKENS["regulator"]})
    assert api.client.get("/v1/ledger/checkpoint").status_code in (200, 404, 503)
    assert_problem(api.client.get("/v1/ledger/entries", params={"start": 0, "end": 1}), 403)


def test_the_script_is_served_by_the_service_and_names_no_other_host(api: Api) -> None:
    script = api.client.get("/audit/console.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert 'crypto.subtle.importKey("raw"' in script.text
    assert "http://" not in script.text
    assert "https://" not in script.text
    assert "public-key" not in script.text  # never fetches the server's verifier key


def test_the_session_reads_complaint_and_dispute_histories_with_proofs_and_past_states(
    api: Api,
) -> None:
    complaint = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    dispute = api.client.post(
        "/v1/disputes",
        json={"party": {"id": "p", "name": "n"}, "amount": "1.00", "matter": "m"},
        headers=bearer("handler"),
    )
    seal(api)
    api.client.post("/audit/login", data={"token": TOKENS["auditor"]})
    for kind, created in (("complaints", complaint), ("disputes", dispute)):
        record = created.json()["id"]
        events = api.client.get(f"/v1/{kind}/{record}/history", params={"proofs": "true"})
        assert events.status_code == 200
        assert events.json()["events"]
        assert all(e["proof"]["index"] >= 0 for e in events.json()["events"])
        past = api.client.get(f"/v1/{kind}/{record}", params={"as_of_version": 1})
        assert past.json()["version"] == 1
