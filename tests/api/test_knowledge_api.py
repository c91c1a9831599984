"""The knowledge base over HTTP: the editor → reviewer → publish lifecycle, what each role
sees, answers from published versions only, gaps, and the refusals of the contract."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.api.conftest import Api, bearer

ARTICLE: dict[str, Any] = {
    "title": "犹豫期内退保能全额退还保费吗",
    "body": "长期人身保险合同一般有15天以上的犹豫期。犹豫期内解除合同，保险公司退还全部保费，"
    "只扣除不超过10元的工本费。过了犹豫期退保，只能拿回保单的现金价值。",
    "category": "surrender",
    "rights": ["自主选择权", "知情权"],
    "audiences": ["general", "elderly"],
    "keywords": ["犹豫期", "退保", "全额退款"],
    "lines": ["life", "health"],
}
FRAUD: dict[str, Any] = {
    "title": "接到自称保险公司的电话要求转账怎么办",
    "body": "保险公司不会要求客户向个人账户转账。接到自称客服、要求退费或理赔先交保证金的电话，"
    "请挂断后拨打官方客服热线核实，不要透露验证码。",
    "category": "anti_fraud",
    "rights": ["财产安全权"],
    "audiences": ["elderly"],
    "keywords": ["电信诈骗", "转账", "验证码"],
}


def post(api: Api, path: str, who: str, body: Any = None, **headers: str) -> httpx.Response:
    response: httpx.Response = api.client.post(
        path, json=body if body is not None else {}, headers={**bearer(who), **headers}
    )
    return response


def published(api: Api, article: dict[str, Any]) -> str:
    created = post(api, "/v1/knowledge/articles", "editor", article)
    assert created.status_code == 201, created.text
    article_id = str(created.json()["id"])
    base = f"/v1/knowledge/articles/{article_id}"
    assert post(api, f"{base}/submit", "editor").status_code == 200
    review = {"decision": "approve", "comment": "准确"}
    assert post(api, f"{base}/review", "reviewer", review).status_code == 200
    assert post(api, f"{base}/publish", "editor").status_code == 200
    return article_id


def ask(api: Api, q: str, who: str = "consumer_app", after: int = 0) -> dict[str, Any]:
    """Ask once the process's index reflects position `after` (its follower polls) with
    every passage vector encoded (its encoder thread follows)."""
    published_set = api.client.app.state.runtime.knowledge.queries.published  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        index = published_set.current()
        if index.position >= after and (index.known is None or index.known.all()):
            break
        time.sleep(0.02)
    response = api.get("/v1/knowledge/ask", who, q=q)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["position"] >= after
    return body


def gaps_once_flushed(api: Api, count: int) -> list[dict[str, Any]]:
    """The gaps, once the process's follower appended them (within a second or so)."""
    deadline = time.monotonic() + 10
    while True:
        gaps: list[dict[str, Any]] = api.get("/v1/knowledge/gaps", "editor").json()["gaps"]
        if sum(g["count"] for g in gaps) >= count or time.monotonic() > deadline:
            return gaps
        time.sleep(0.05)


def test_a_draft_answers_nobody_until_reviewed_and_published(api: Api) -> None:
    created = post(api, "/v1/knowledge/articles", "editor", ARTICLE)
    assert created.status_code == 201
    assert created.json()["version"] == 1
    assert created.json()["state"] == "draft"
    article_id = created.json()["id"]
    base = f"/v1/knowledge/articles/{article_id}"
    refused = post(api, f"{base}/publish", "editor")
    assert refused.status_code == 409
    assert "publish_requires_approval" in refused.json()["type"]
    assert api.get(base, "consumer_app").status_code == 404
    assert ask(api, "犹豫期退保退多少钱", after=api.count())["answers"] == []

    assert post(api, f"{base}/submit", "editor").status_code == 200
    review = post(api, f"{base}/review", "reviewer", {"decision": "approve", "comment": "ok"})
    assert review.json()["state"] == "approved"
    assert post(api, f"{base}/publish", "editor").json()["state"] == "published"
    answer = ask(api, "犹豫期退保退多少钱", after=api.count())
    assert answer["answers"][0]["article_id"] == article_id
    assert answer["answers"][0]["version"] == 1
    assert answer["answers"][0]["category"] == "surrender"
    assert answer["handoff"] is False


def test_the_published_version_answers_until_its_revision_is_published(api: Api) -> None:
    article_id = published(api, ARTICLE)
    base = f"/v1/knowledge/articles/{article_id}"
    revised = {**ARTICLE, "title": "犹豫期退保新规"}
    put = api.client.put(base, json=revised, headers=bearer("editor"))
    assert put.status_code == 200
    assert put.json()["version"] == 2
    answer = ask(api, "犹豫期退保退多少钱", after=api.count())
    assert answer["answers"][0]["version"] == 1
    assert api.get(base, "consumer_app").json()["title"] == ARTICLE["title"]
    assert api.get(base, "editor").json()["title"] == "犹豫期退保新规"
    assert api.get(base, "auditor", version=1).json()["title"] == ARTICLE["title"]
    assert post(api, f"{base}/submit", "editor").status_code == 200
    assert post(api, f"{base}/review", "reviewer", {"decision": "approve"}).status_code == 200
    assert post(api, f"{base}/publish", "editor").status_code == 200
    answer = ask(api, "犹豫期退保退多少钱", after=api.count())
    assert answer["answers"][0]["version"] == 2
    assert answer["answers"][0]["title"] == "犹豫期退保新规"


def test_a_retired_article_never_answers_and_cannot_be_revised(api: Api) -> None:
    article_id = published(api, ARTICLE)
    base = f"/v1/knowledge/articles/{article_id}"
    assert post(api, f"{base}/retire", "editor", {"reason": "政策调整"}).status_code == 200
    assert ask(api, "犹豫期退保退多少钱", after=api.count())["answers"] == []
    again = api.client.put(base, json=ARTICLE, headers=bearer("editor"))
    assert again.status_code == 409
    assert "article_retired" in again.json()["type"]
    assert api.get(base, "consumer_app").status_code == 404
    assert api.get(base, "reviewer").json()["article_state"] == "retired"


def test_an_unanswerable_question_is_handed_off_and_kept_masked(api: Api) -> None:
    published(api, ARTICLE)
    published(api, FRAUD)
    body = ask(api, "我的手机13812345678号码能不能帮我查天气预报", after=api.count())
    assert body["handoff"] is True
    gaps = gaps_once_flushed(api, 1)
    assert len(gaps) == 1
    assert "13812345678" not in gaps[0]["question"]
    assert "[电话]" in gaps[0]["question"]
    assert gaps[0]["count"] == 1
    ask(api, "我的手机13900000000号码能不能帮我查天气预报！")
    assert gaps_once_flushed(api, 2)[0]["count"] == 2


def test_history_shows_the_author_and_the_reviewer(api: Api) -> None:
    article_id = published(api, ARTICLE)
    events = api.get(f"/v1/knowledge/articles/{article_id}/history", "auditor").json()["events"]
    assert [e["type"] for e in events] == ["Drafted", "SubmittedForReview", "Approved", "Published"]
    assert events[0]["actor"]["role"] == "editor"
    assert events[2]["actor"]["role"] == "reviewer"
    assert all(isinstance(e["position"], int) for e in events)


def test_bad_input_is_refused_with_the_field_named(api: Api) -> None:
    unknown_category = post(api, "/v1/knowledge/articles", "editor", {**ARTICLE, "category": "x"})
    assert unknown_category.status_code == 422
    assert unknown_category.json()["errors"][0]["field"] == "category"
    unknown_right = post(api, "/v1/knowledge/articles", "editor", {**ARTICLE, "rights": ["x"]})
    assert unknown_right.json()["errors"][0]["field"] == "rights[0]"
    unknown_audience = post(
        api, "/v1/knowledge/articles", "editor", {**ARTICLE, "audiences": ["martians"]}
    )
    assert unknown_audience.json()["errors"][0]["field"] == "audiences[0]"
    for q in ("", "   ", "问" * 201):
        assert api.get("/v1/knowledge/ask", "consumer_app", q=q).status_code == 422
    before = api.count()
    assert post(api, "/v1/knowledge/articles", "consumer_app", ARTICLE).status_code == 403
    assert api.count() == before


def test_an_editor_may_not_review_and_a_reviewer_may_not_approve_their_own_draft(
    api: Api,
) -> None:
    created = post(api, "/v1/knowledge/articles", "editor", ARTICLE).json()
    base = f"/v1/knowledge/articles/{created['id']}"
    post(api, f"{base}/submit", "editor")
    assert post(api, f"{base}/review", "editor", {"decision": "approve"}).status_code == 403
    assert post(api, f"{base}/review", "reviewer", {"decision": "reject"}).json()["state"] == (
        "rejected"
    )


def test_commands_replay_with_an_idempotency_key_and_refuse_a_stale_if_match(api: Api) -> None:
    first = post(api, "/v1/knowledge/articles", "editor", ARTICLE, **{"Idempotency-Key": "k1"})
    again = post(api, "/v1/knowledge/articles", "editor", ARTICLE, **{"Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    base = f"/v1/knowledge/articles/{first.json()['id']}"
    etag = api.get(base, "editor").headers["ETag"]
    assert post(api, f"{base}/submit", "editor", **{"If-Match": etag}).status_code == 200
    assert post(api, f"{base}/submit", "editor", **{"If-Match": etag}).status_code == 412


def test_categories_list_the_twelve_defaults(api: Api) -> None:
    codes = [
        c["code"] for c in api.get("/v1/knowledge/categories", "consumer_app").json()["categories"]
    ]
    assert len(codes) == 12
    assert "anti_fraud" in codes
