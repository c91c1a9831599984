"""Every route × every role × own/other partner: the contract's 401 / 403 / 404 / 2xx.

The table must name every route the app serves: a new route without a row fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute

from api.access import roles_of
from tests.api.conftest import PRINCIPALS, PRODUCT, Api, admission, bearer, cloud_event
from tests.api.test_ledger_api import seal

WHO = [p["partner_id"] or p["role"] for p in PRINCIPALS]  # hosp-1 owns the claim; hosp-2 not
CLAIM_READERS = {"hosp-1", "insurer-1", "insurer-2", "handler", "supervisor", "auditor"}
# Every staff role and the auditor (the contract), the insurers and the regulator (chosen).
STAFF_READERS = {
    *("admin", "handler", "supervisor", "auditor", "regulator", "insurer-1", "insurer-2"),
    *("editor", "reviewer", "educator", "report_officer", "compliance", "department"),
}


@dataclass(frozen=True)
class Row:
    """How to call a route, and which status each caller gets (anyone else: 403). A set of
    statuses means the caller was let through and the command met its business rules."""

    call: Callable[[Api, dict[str, str], dict[str, str]], Any]
    allowed: Mapping[str, int | frozenset[int]]
    public: bool = False
    public_status: int | None = None  # a form that answers on its own, whoever asks


LET_THROUGH = frozenset({200, 409, 422})
COMPLAINT: dict[str, Any] = {
    "channel": "hotline",
    "complainant": {"id": "c-1", "name": "张三"},
    "matter": "理赔被拒",
    "request": "赔付",
    "cause": "claims",
    "line": "health",
    "region": "330100",
}


def post_json(
    path: str, body: dict[str, Any]
) -> Callable[[Api, dict[str, str], dict[str, str]], Any]:
    return lambda api, ids, headers: api.client.post(path.format(**ids), json=body, headers=headers)


DISPUTE_BODIES: dict[str, dict[str, Any]] = {
    "mediation": {"mediator": "mediator-1"},
    "mediation-extension": {"until": "2026-12-31", "consent": True},
    "arbitration": {"arbitrator": "arbitrator-1", "consent": True},
    "confirmation": {"court": "court-1"},
    "enforcement": {"court": "court-1"},
    "performed": {"amount": "1.00"},
    "withdraw": {"reason": "r"},
    "close": {"reason": "r"},
}
COMMAND_BODIES: dict[str, dict[str, Any]] = {
    "assign": {"handler": "Handler"},
    "reassign": {"handler": "Handler"},
    "recuse": {"reason": "interest"},
    "urge": {"by": "complainant"},
    "escalate": {"reason": "slow"},
    "extend": {"reason": "appraisal"},
    "pause": {"reason": "appraisal"},
    "new-facts": {"summary": "new"},
    "decide": {"outcome": "upheld", "redress": "1.00", "facts": "f", "basis": "b"},
    "notify": {"method": "letter"},
    "decline": {"reason": "not the complainant"},
    "review": {"reason": "disagree"},
    "review-decision": {"outcome": "upheld", "basis": "b"},
}
SUPERVISOR_ONLY = {"reassign", "escalate", "extend"}
COMMAND_ROWS = {
    ("POST", f"/v1/complaints/{{complaint_id}}/{action}"): Row(
        post_json(f"/v1/complaints/{{complaint}}/{action}", COMMAND_BODIES.get(action, {})),
        {"supervisor": LET_THROUGH}
        | ({} if action in SUPERVISOR_ONLY else {"handler": LET_THROUGH}),
    )
    for action in (
        "assign",
        "reassign",
        "recuse",
        "contact",
        "urge",
        "escalate",
        "extend",
        "pause",
        "resume",
        "new-facts",
        "decide",
        "notify",
        "withdraw",
        "decline",
        "close",
        "review",
        "review-decision",
    )
}


RECTIFICATION: dict[str, Any] = {
    "source": {"kind": "inspection", "ref": "MATRIX-1"},
    "finding": {"summary": "s", "description": "d", "basis": "b", "severity": "high"},
    "department": "claims",
    "owner": "Claims Department",
}
RECTIFICATION_STEPS: dict[str, tuple[dict[str, Any], frozenset[str]]] = {
    "plan": ({"measures": ["m"]}, frozenset({"compliance", "department"})),
    "progress": ({"note": "n"}, frozenset({"compliance", "department"})),
    "submit": (
        {"evidence": [{"name": "e", "sha256": "c" * 64, "ref": "r"}]},
        frozenset({"compliance", "department"}),
    ),
    "verify": ({"outcome": "rejected", "comment": "c"}, frozenset({"compliance"})),
    "extend": ({"due_date": "2099-12-31", "reason": "r"}, frozenset({"supervisor"})),
    "cancel": ({"reason": "r"}, frozenset({"compliance", "supervisor"})),
}
RECTIFICATION_READERS = {"compliance": 200, "supervisor": 200, "department": 200, "auditor": 200}
RECTIFICATION_ROWS = {
    ("POST", f"/v1/rectifications/{{item_id}}/{step}"): Row(
        post_json(f"/v1/rectifications/{{item}}/{step}", body), dict.fromkeys(roles, LET_THROUGH)
    )
    for step, (body, roles) in RECTIFICATION_STEPS.items()
}
REPORT: dict[str, Any] = {
    "channel": "hotline",
    "anonymous": False,
    "reporter": {"id": "r-1", "name": "李四", "phone": "13800000000"},
    "category": "fraud",
    "subject": {"kind": "staff", "ref": "S-1", "department": "sales"},
    "facts": "虚构理赔",
}
REPORT_BODIES: dict[str, dict[str, Any]] = {
    "decline": {"reason": "duplicate"},
    "assign": {"investigator": "Supervisor"},
    "findings": {"summary": "s"},
    "extend": {"reason": "complex"},
    "conclude": {"finding": "substantiated", "basis": "b"},
    "notify": {"delivery": {"method": "sms", "delivered_at": "2026-01-01T00:00:00Z"}},
}
REPORT_ROWS = {
    ("POST", f"/v1/reports/{{report_id}}/{action}"): Row(
        post_json(f"/v1/reports/{{report}}/{action}", REPORT_BODIES.get(action, {})),
        {"supervisor": LET_THROUGH} if action == "extend" else {"report_officer": LET_THROUGH},
    )
    for action in (
        "accept",
        "decline",
        "assign",
        "findings",
        "extend",
        "conclude",
        "notify",
        "close",
    )
}
REPORT_READERS = {"report_officer": 200, "supervisor": 200, "auditor": 200}


def get(path: str) -> Callable[[Api, dict[str, str], dict[str, str]], Any]:
    return lambda api, ids, headers: api.client.get(path.format(**ids), headers=headers)


def put_json(
    path: str, body: dict[str, Any]
) -> Callable[[Api, dict[str, str], dict[str, str]], Any]:
    return lambda api, ids, headers: api.client.put(path.format(**ids), json=body, headers=headers)


ARTICLE: dict[str, Any] = {
    "title": "犹豫期内退保",
    "body": "犹豫期内退保可退还全部保费。",
    "category": "surrender",
    "rights": ["知情权"],
    "audiences": ["general"],
}
KB_READERS = {
    "consumer_app",
    "insurer-1",
    "insurer-2",
    "handler",
    "supervisor",
    "auditor",
    "regulator",
    "admin",
    "editor",
    "reviewer",
    "educator",
    "compliance",  # every staff role reads published articles (contract)
    "department",
    "report_officer",
}
KB_STAFF = {"editor", "reviewer", "auditor"}
ARTICLE_PATH = "/v1/knowledge/articles/{article_id}"
KNOWLEDGE_ROWS = {
    ("POST", "/v1/knowledge/articles"): Row(
        post_json("/v1/knowledge/articles", ARTICLE), {"editor": 201}
    ),
    ("PUT", ARTICLE_PATH): Row(
        put_json("/v1/knowledge/articles/{article}", ARTICLE), {"editor": LET_THROUGH}
    ),
    ("POST", ARTICLE_PATH + "/submit"): Row(
        post_json("/v1/knowledge/articles/{article}/submit", {}), {"editor": LET_THROUGH}
    ),
    ("POST", ARTICLE_PATH + "/review"): Row(
        post_json("/v1/knowledge/articles/{article}/review", {"decision": "approve"}),
        {"reviewer": LET_THROUGH},
    ),
    ("POST", ARTICLE_PATH + "/publish"): Row(
        post_json("/v1/knowledge/articles/{article}/publish", {}), {"editor": LET_THROUGH}
    ),
    ("POST", ARTICLE_PATH + "/retire"): Row(
        post_json("/v1/knowledge/articles/{retiree}/retire", {"reason": "过时"}),
        {"editor": LET_THROUGH},
    ),
    ("GET", ARTICLE_PATH): Row(
        get("/v1/knowledge/articles/{published}"), dict.fromkeys(KB_READERS, 200)
    ),
    ("GET", ARTICLE_PATH + "/history"): Row(
        get("/v1/knowledge/articles/{published}/history"), dict.fromkeys(KB_STAFF, 200)
    ),
    ("GET", "/v1/knowledge/articles"): Row(
        get("/v1/knowledge/articles"), dict.fromkeys(KB_READERS, 200)
    ),
    ("GET", "/v1/knowledge/ask"): Row(
        get("/v1/knowledge/ask?q=犹豫期退保"), dict.fromkeys(KB_READERS, 200)
    ),
    ("GET", "/v1/knowledge/categories"): Row(
        get("/v1/knowledge/categories"), dict.fromkeys(KB_READERS, 200)
    ),
    ("GET", "/v1/knowledge/gaps"): Row(get("/v1/knowledge/gaps"), dict.fromkeys(KB_STAFF, 200)),
    ("PUT", "/v1/reference/knowledge-synonyms/{canonical}"): Row(
        put_json("/v1/reference/knowledge-synonyms/退保", {"variants": ["解约", "退钱"]}),
        {"admin": 201},
    ),
    ("GET", "/v1/reference/knowledge-synonyms"): Row(
        get("/v1/reference/knowledge-synonyms"),
        dict.fromkeys(KB_READERS - {"consumer_app"}, 200),
    ),
    ("PUT", "/v1/reference/knowledge-categories/{code}"): Row(
        put_json("/v1/reference/knowledge-categories/silver", {"name": "银发专区"}),
        {"admin": 201},
    ),
    ("PUT", "/v1/reference/audiences/{code}"): Row(
        put_json("/v1/reference/audiences/veterans", {"name": "退役军人"}), {"admin": 201}
    ),
    ("GET", "/v1/reference/audiences"): Row(
        get("/v1/reference/audiences"), dict.fromkeys(STAFF_READERS, 200)
    ),
}


def claim_row(path: str, other_insurer: int = 404) -> Row:
    """hosp-2 and insurer-2 (whose policy it is not) do not see hosp-1's claim under P1."""
    allowed = dict.fromkeys(CLAIM_READERS, 200) | {"hosp-2": 404, "insurer-2": other_insurer}
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
    ("GET", "/docs-assets/redoc.standalone.js"): Row(
        get("/docs-assets/redoc.standalone.js"), {}, public=True
    ),
    ("GET", "/static-offline-docs"): Row(
        get("/static-offline-docs/swagger-ui.css"), {}, public=True
    ),
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
        "/v1/hospitals/hosp-1/statement?date=2026-03-09", other_insurer=200
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
    ("PUT", "/v1/reference/causes/{code}"): Row(
        lambda api, ids, headers: api.client.put(
            "/v1/reference/causes/matrix", json={"name": "矩阵"}, headers=headers
        ),
        {"admin": 201},
    ),
    ("PUT", "/v1/reference/report-categories/{code}"): Row(
        lambda api, ids, headers: api.client.put(
            "/v1/reference/report-categories/matrix", json={"name": "矩阵"}, headers=headers
        ),
        {"admin": 201},
    ),
    ("GET", "/v1/reference/report-categories"): Row(
        get("/v1/reference/report-categories"),
        dict.fromkeys(STAFF_READERS, 200) | {"report_officer": 200},
    ),
    ("GET", "/v1/reference/causes"): Row(
        get("/v1/reference/causes"), dict.fromkeys(STAFF_READERS, 200)
    ),
    ("GET", "/v1/reference/schemes/{scheme_id}"): Row(
        get("/v1/reference/schemes/hz"), dict.fromkeys(STAFF_READERS, 200)
    ),
    ("GET", "/v1/reference/schemes"): Row(
        get("/v1/reference/schemes"), dict.fromkeys(STAFF_READERS, 200)
    ),
    ("GET", "/v1/reference/products"): Row(
        get("/v1/reference/products"), dict.fromkeys(STAFF_READERS, 200)
    ),
    ("GET", "/metrics"): Row(get("/metrics"), {"admin": 200, "auditor": 200}),
    ("POST", "/v1/complaints"): Row(
        post_json("/v1/complaints", COMPLAINT), {"handler": 201, "supervisor": 201}
    ),
    ("POST", "/v1/complaints/reassign"): Row(
        post_json("/v1/complaints/reassign", {"ids": ["{complaint_id}"], "handler": "Handler"}),
        {"supervisor": LET_THROUGH},
    ),
    ("GET", "/v1/complaints"): Row(
        get("/v1/complaints?queue=open"), {"handler": 200, "supervisor": 200, "auditor": 200}
    ),
    ("GET", "/v1/complaints/{complaint_id}"): Row(
        get("/v1/complaints/{complaint}"), {"handler": 200, "supervisor": 200, "auditor": 200}
    ),
    ("GET", "/v1/complaints/{complaint_id}/history"): Row(
        get("/v1/complaints/{complaint}/history"),
        {"handler": 200, "supervisor": 200, "auditor": 200},
    ),
    ("GET", "/v1/complaints/{complaint_id}/closure-report"): Row(
        get("/v1/complaints/{complaint}/closure-report"),
        {"handler": 200, "supervisor": 200, "auditor": 200},
    ),
    ("POST", "/v1/disputes"): Row(
        post_json(
            "/v1/disputes", {"party": {"id": "p", "name": "n"}, "amount": "1.00", "matter": "m"}
        ),
        {"handler": 201, "supervisor": 201},
    ),
    **{
        ("POST", f"/v1/disputes/{{dispute_id}}/{action}"): Row(
            post_json(f"/v1/disputes/{{dispute}}/{action}", body),
            {"handler": LET_THROUGH, "supervisor": LET_THROUGH},
        )
        for action, body in DISPUTE_BODIES.items()
    },
    ("GET", "/v1/disputes"): Row(
        get("/v1/disputes?assigned=me"),
        {
            "mediator-1": 200,
            "mediator-2": 200,
            "arbitrator-1": 200,
            "arbitrator-2": 200,
            "court-1": 200,
            "court-2": 200,
            "handler": 422,
            "supervisor": 422,
            "auditor": 422,
        },
    ),
    ("GET", "/v1/disputes/{dispute_id}"): Row(
        get("/v1/disputes/{dispute}"),
        {
            "handler": 200,
            "supervisor": 200,
            "auditor": 200,
            "mediator-1": 200,
            "mediator-2": 404,
            "arbitrator-1": 404,
            "arbitrator-2": 404,
            "court-1": 404,
            "court-2": 404,
        },
    ),
    ("GET", "/v1/disputes/{dispute_id}/history"): Row(
        get("/v1/disputes/{dispute}/history"),
        {
            "handler": 200,
            "supervisor": 200,
            "auditor": 200,
            "mediator-1": 200,
            "mediator-2": 404,
            "arbitrator-1": 404,
            "arbitrator-2": 404,
            "court-1": 404,
            "court-2": 404,
        },
    ),
    ("GET", "/dashboard/login"): Row(get("/dashboard/login"), {}, public=True),
    ("POST", "/dashboard/login"): Row(
        lambda api, ids, headers: api.client.post(
            "/dashboard/login", data={"token": "none"}, headers=headers
        ),
        {},
        public_status=401,
    ),
    ("POST", "/dashboard/logout"): Row(
        lambda api, ids, headers: api.client.post("/dashboard/logout", headers=headers),
        {},
        public=True,
    ),
    ("GET", "/dashboard"): Row(
        get("/dashboard"), {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200}
    ),
    ("GET", "/dashboard/export/warnings"): Row(
        get("/dashboard/export/warnings?format=csv"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/dashboard/queues/{name}"): Row(get("/dashboard/queues/open"), {"supervisor": 200}),
    ("GET", "/v1/stats/reports"): Row(
        get("/v1/stats/reports?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/audit/login"): Row(get("/audit/login"), {}, public=True),
    ("POST", "/audit/login"): Row(
        lambda api, ids, headers: api.client.post(
            "/audit/login", data={"token": "none"}, headers=headers
        ),
        {},
        public_status=401,
    ),
    ("POST", "/audit/logout"): Row(
        lambda api, ids, headers: api.client.post("/audit/logout", headers=headers),
        {},
        public=True,
    ),
    ("GET", "/audit/console.js"): Row(get("/audit/console.js"), {}, public=True),
    ("GET", "/audit"): Row(get("/audit"), {"auditor": 200}),
    ("GET", "/v1/stats/claims"): Row(
        get("/v1/stats/claims?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/v1/stats/disputes"): Row(
        get("/v1/stats/disputes?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/v1/stats/knowledge"): Row(
        get("/v1/stats/knowledge?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/v1/stats/complaints"): Row(
        get("/v1/stats/complaints?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/v1/stats/rectifications"): Row(
        get("/v1/stats/rectifications?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
    ),
    ("GET", "/v1/regulator/feed"): Row(
        get("/v1/regulator/feed?after=0"), {"cbirc-12378": 200, "cbirc-12378-2": 200}
    ),
    ("GET", "/v1/risk/customers"): Row(
        get("/v1/risk/customers"),
        {"handler": 200, "supervisor": 200, "regulator": 200, "auditor": 200},
    ),
    **COMMAND_ROWS,
    ("POST", "/v1/rectifications"): Row(
        post_json("/v1/rectifications", RECTIFICATION), {"compliance": 201, "supervisor": 201}
    ),
    **RECTIFICATION_ROWS,
    ("GET", "/v1/rectifications"): Row(get("/v1/rectifications"), RECTIFICATION_READERS),
    ("GET", "/v1/rectifications/report"): Row(
        get("/v1/rectifications/report?source_kind=inspection&source_ref=MATRIX-1"),
        RECTIFICATION_READERS,
    ),
    ("GET", "/v1/rectifications/{item_id}"): Row(
        get("/v1/rectifications/{item}"), RECTIFICATION_READERS
    ),
    ("GET", "/v1/rectifications/{item_id}/history"): Row(
        get("/v1/rectifications/{item}/history"), RECTIFICATION_READERS
    ),
    **REPORT_ROWS,
    ("POST", "/v1/reports"): Row(post_json("/v1/reports", REPORT), {"report_officer": 201}),
    ("GET", "/v1/reports"): Row(get("/v1/reports?queue=open"), REPORT_READERS),
    ("GET", "/v1/reports/{report_id}"): Row(get("/v1/reports/{report}"), REPORT_READERS),
    ("GET", "/v1/reports/{report_id}/history"): Row(
        get("/v1/reports/{report}/history"), REPORT_READERS
    ),
    ("GET", "/v1/ledger/checkpoint"): Row(get("/v1/ledger/checkpoint"), dict.fromkeys(WHO, 200)),
    ("GET", "/v1/ledger/public-key"): Row(get("/v1/ledger/public-key"), dict.fromkeys(WHO, 200)),
    ("GET", "/v1/ledger/entries"): Row(get("/v1/ledger/entries?start=0&end=2"), {"auditor": 200}),
    ("GET", "/v1/ledger/proof/inclusion"): Row(
        get("/v1/ledger/proof/inclusion?index=0&size=2"), {"auditor": 200, "regulator": 200}
    ),
    ("GET", "/v1/ledger/proof/consistency"): Row(
        get("/v1/ledger/proof/consistency?first=1&second=2"), {"auditor": 200, "regulator": 200}
    ),
    **KNOWLEDGE_ROWS,
    ("POST", "/v1/subjects/{subject_id}/erase"): Row(
        lambda api, ids, headers: api.client.post("/v1/subjects/nobody/erase", headers=headers),
        {"admin": 404},  # reached the lookup: the role was let through
    ),
}


ACTIVITY: dict[str, Any] = {
    "title": "3·15 走进社区",
    "kind": "offline",
    "channel": "community",
    "campaign": "315",
    "region": "330106",
    "audiences": ["elderly"],
    "started_at": "2026-03-15T09:00:00+08:00",
    "ended_at": "2026-03-15T11:00:00+08:00",
    "participants": 80,
}
TRAINING: dict[str, Any] = {
    "topic": "消保培训",
    "trainer": "李主管",
    "hours": "2",
    "held_at": "2026-03-05T14:00:00+08:00",
    "attendees": ["Handler"],
}
EDUCATION_READERS = {"educator": 200, "supervisor": 200, "auditor": 200}
TABLE |= {
    ("POST", "/v1/education/activities"): Row(
        post_json("/v1/education/activities", ACTIVITY), {"educator": 201}
    ),
    ("POST", "/v1/education/activities/{activity_id}/amend"): Row(
        post_json("/v1/education/activities/{activity}/amend", {"reason": "复核", "views": 1}),
        {"educator": LET_THROUGH},
    ),
    ("GET", "/v1/education/activities"): Row(get("/v1/education/activities"), EDUCATION_READERS),
    ("GET", "/v1/education/activities/{activity_id}"): Row(
        get("/v1/education/activities/{activity}"), EDUCATION_READERS
    ),
    ("GET", "/v1/education/activities/{activity_id}/history"): Row(
        get("/v1/education/activities/{activity}/history"), EDUCATION_READERS
    ),
    ("POST", "/v1/education/trainings"): Row(
        post_json("/v1/education/trainings", TRAINING), {"educator": 201}
    ),
    ("GET", "/v1/education/trainings"): Row(get("/v1/education/trainings"), EDUCATION_READERS),
    ("GET", "/v1/education/trainings/{training_id}"): Row(
        get("/v1/education/trainings/{training}"), EDUCATION_READERS
    ),
    ("GET", "/v1/education/trainings/{training_id}/history"): Row(
        get("/v1/education/trainings/{training}/history"), EDUCATION_READERS
    ),
    ("GET", "/v1/stats/education"): Row(
        get("/v1/stats/education?period=2026"),
        {"regulator": 200, "supervisor": 200, "auditor": 200, "admin": 200},
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


def knowledge_ids(api: Api) -> dict[str, str]:
    """A draft article for the commands, one to retire, and one published for the reads."""
    found = {}
    for name in ("article", "retiree", "published"):
        made = api.client.post("/v1/knowledge/articles", json=ARTICLE, headers=bearer("editor"))
        found[name] = made.json()["id"]
    base = f"/v1/knowledge/articles/{found['published']}"
    api.client.post(f"{base}/submit", json={}, headers=bearer("editor"))
    api.client.post(f"{base}/review", json={"decision": "approve"}, headers=bearer("reviewer"))
    assert api.client.post(f"{base}/publish", json={}, headers=bearer("editor")).status_code == 200
    return found


def test_every_served_route_has_a_row(api: Api) -> None:
    assert served_routes(api) - set(TABLE) == set()


ROLE_OF = {p["partner_id"] or p["role"]: p["role"] for p in PRINCIPALS}


def access_rows(api: Api) -> dict[tuple[str, str], str]:
    """The route table's row (api/access.py) each served route checks its caller with."""
    found = {}
    for route in flatten(api.client.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute):
            continue
        rows = set()
        pending = list(route.dependant.dependencies)
        while pending:  # the checks, however deep among the route's dependencies
            dependency = pending.pop()
            pending.extend(dependency.dependencies)
            if hasattr(dependency.call, "access_row"):
                rows.add(dependency.call.access_row)  # type: ignore[union-attr]
        for method in route.methods or ():
            if rows:
                (found[(method, route.path)],) = rows
    return found


def test_the_matrix_lets_through_exactly_the_roles_of_the_route_table(api: Api) -> None:
    """The one table (api/access.py) drives the checks; this matrix's let-through callers
    for every route checked by a row are exactly the principals of that row's roles."""
    rows = access_rows(api)
    # The dashboard's and console's pages read their rows themselves (they answer with pages).
    checked = {
        **rows,
        ("GET", "/dashboard"): "stats",
        ("GET", "/dashboard/export/warnings"): "stats",
        ("GET", "/dashboard/queues/{name}"): "dashboard.queues",
        ("GET", "/audit"): "audit",
    }
    # Every route that needs a principal is checked by a row, but /v1/events, whose roles
    # are the event types' (api/event_types.py, tested in test_partner_events).
    guarded = {
        key
        for key, row in TABLE.items()
        if not row.public and row.public_status is None and key != ("POST", "/v1/events")
    }
    assert guarded - set(checked) == set()
    for key, name in checked.items():
        let_through = {ROLE_OF[who] for who in TABLE[key].allowed}
        assert let_through == set(roles_of(name)) & set(ROLE_OF.values()), (key, name)


def test_every_route_answers_each_caller_as_the_contract_says(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    seal(api)
    complaint = api.client.post("/v1/complaints", json=COMPLAINT, headers=bearer("handler"))
    dispute = api.client.post(
        "/v1/disputes",
        json={"party": {"id": "p", "name": "n"}, "amount": "1.00", "matter": "m"},
        headers=bearer("handler"),
    ).json()["id"]
    api.client.post(
        f"/v1/disputes/{dispute}/mediation",
        json={"mediator": "mediator-1"},
        headers=bearer("handler"),
    )
    activity = api.client.post(
        "/v1/education/activities", json=ACTIVITY, headers=bearer("educator")
    ).json()["id"]
    training = api.client.post(
        "/v1/education/trainings", json=TRAINING, headers=bearer("educator")
    ).json()["id"]
    item = api.client.post(
        "/v1/rectifications", json=RECTIFICATION, headers=bearer("compliance")
    ).json()["id"]
    report = api.client.post("/v1/reports", json=REPORT, headers=bearer("report_officer"))
    ids = {
        "claim": claim,
        "seq": "",
        "complaint": complaint.json()["id"],
        "dispute": dispute,
        **knowledge_ids(api),
        "activity": activity,
        "training": training,
        "item": item,
        "report": report.json()["id"],
    }
    for (method, path), row in TABLE.items():
        anonymous = row.call(api, ids, {})
        if row.public_status is not None:
            for who in WHO:
                assert row.call(api, ids, bearer(who)).status_code == row.public_status
            continue
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
            if isinstance(expected, frozenset):
                assert response.status_code in expected, (method, path, who, response.text)
                continue
            if expected == 201 and response.status_code == 200:
                expected = 200  # a later PUT of the same record: a new version
            assert response.status_code == expected, (method, path, who, response.text)
