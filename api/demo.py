"""Demonstration data: principals with known demo tokens, reference data modelled on real
city schemes, policies and a few settled claims — all posted through the partner gateway.

Running it twice changes nothing: every demo event has a fixed id (idempotent) and reference
data is only put when absent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from api.cloudevents import record_one
from api.demo_education import EDUCATOR, load_education
from api.demo_rectification import RECTIFICATION_PRINCIPALS, load_rectification_demo
from application.commands import CommandKey
from application.gateway import Meta
from application.knowledge import (
    DraftArticle,
    KnowledgeDesk,
    PublishArticle,
    ReviewArticle,
    SubmitArticle,
)
from application.ledger import utc_now
from application.reference import ProductDraft, SchemeDraft
from application.services import Services
from domain.common import Actor
from domain.knowledge import ArticleContent
from domain.reference import LevelTerms, Product, Scheme, product_stream_id, scheme_stream_id
from domain.settlement import ProductTerms
from infrastructure.notary import Notary
from infrastructure.principals import Principal, token_digest

D = Decimal

# More handlers for the demonstration year's caseload, each with a token of its own.
HANDLERS: list[dict[str, Any]] = [
    {"name": name, "role": "handler", "partner_id": None, "team": team, "token": token}
    for name, team, token in (
        ("赵处理", "east", "handler-zhao"),
        ("钱处理", "east", "handler-qian"),
        ("孙处理", "north", "handler-sun"),
        ("周处理", "north", "handler-zhou"),
        ("吴处理", "north", "handler-wu"),
    )
]
DEMO_PRINCIPALS: list[dict[str, Any]] = [
    {"name": "示范第一人民医院", "role": "hospital", "partner_id": "hosp-hz-001"},
    {"name": "示范第二医院", "role": "hospital", "partner_id": "hosp-bj-002"},
    {"name": "示范第三医院", "role": "hospital", "partner_id": "hosp-hz-003"},
    {"name": "示范保险公司理赔系统", "role": "insurer", "partner_id": "insurer-001"},
    {"name": "12378 平台", "role": "regulator_platform", "partner_id": "cbirc-12378"},
    {"name": "调解中心", "role": "mediator", "partner_id": "mediator-001"},
    {"name": "仲裁委员会", "role": "arbitrator", "partner_id": "arbitrator-001"},
    {"name": "人民法院", "role": "court", "partner_id": "court-001"},
    {
        "name": "王处理",
        "role": "handler",
        "partner_id": None,
        "team": "east",
        "regions": ["330100"],
        "causes": ["claims"],
        "lines": ["health"],
    },
    *HANDLERS,
    {"name": "李主管", "role": "supervisor", "partner_id": None, "team": "east"},
    {"name": "审计员", "role": "auditor", "partner_id": None},
    {"name": "监管员", "role": "regulator", "partner_id": None},
    {"name": "管理员", "role": "admin", "partner_id": None},
    {"name": "消保编辑", "role": "editor", "partner_id": None},
    {"name": "消保审核员", "role": "reviewer", "partner_id": None},
    {"name": "示范保险公司App", "role": "consumer_app", "partner_id": None},
    EDUCATOR,
    *RECTIFICATION_PRINCIPALS,
    {"name": "举报专员", "role": "report_officer", "partner_id": None, "department": "消保部"},
]
ARTICLES_FILE = Path(__file__).with_name("demo_data") / "knowledge_articles.json"


def demo_token(entry: dict[str, Any]) -> str:
    """Demo tokens are public by design: never use them outside a demonstration."""
    suffix = entry.get("token") or entry["partner_id"] or entry["role"]
    return f"xb-demo-{suffix}"


def write_principals(path: Path) -> bool:
    """Write the demo principals file unless one exists; True when written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [
        {
            **{k: v for k, v in e.items() if k != "token"},
            "token_sha256": token_digest(demo_token(e)),
        }
        for e in DEMO_PRINCIPALS
    ]
    path.write_bytes(orjson.dumps(entries, option=orjson.OPT_INDENT_2))
    return True


def _principal(partner_id: str) -> Principal:
    entry = next(e for e in DEMO_PRINCIPALS if e["partner_id"] == partner_id)
    return Principal(name=entry["name"], role=entry["role"], partner_id=partner_id)


def _reference(services: Services) -> None:
    meta = Meta(utc_now(), Actor(name="管理员", role="admin"))
    ledger, ref = services.ledger, services.reference
    schemes = {
        # Modelled on Hangzhou's employee scheme at a level-3 hospital (the domain's example).
        "hz-employee": SchemeDraft(
            "330100",
            "employee",
            date.fromisoformat("2026-01-01"),
            D("400000.00"),
            D("0.10"),
            {
                "1": LevelTerms(D("300.00"), D("0.92")),
                "2": LevelTerms(D("500.00"), D("0.88")),
                "3": LevelTerms(D("800.00"), D("0.84")),
            },
        ),
        # Modelled on Beijing's employee scheme (起付线 1300, ratios by hospital level).
        "bj-employee": SchemeDraft(
            "110000",
            "employee",
            date.fromisoformat("2026-01-01"),
            D("500000.00"),
            D("0.10"),
            {
                "1": LevelTerms(D("1300.00"), D("0.90")),
                "2": LevelTerms(D("1300.00"), D("0.87")),
                "3": LevelTerms(D("1300.00"), D("0.85")),
            },
        ),
    }
    for scheme_id, draft in schemes.items():
        if ledger.find(Scheme, scheme_stream_id(scheme_id)) is None:
            ref.put_scheme(scheme_id, draft, meta)
    products = {
        "BWYL-2026": ProductTerms(D("10000.00"), D("1.00"), D("0.60"), D("2000000.00"), True),
        "HMB-HZ-2026": ProductTerms(D("20000.00"), D("0.80"), D("0.50"), D("1000000.00"), False),
    }
    for code, terms in products.items():
        if ledger.find(Product, product_stream_id(code)) is None:
            ref.put_product(code, ProductDraft(date.fromisoformat("2026-01-01"), terms), meta)


def _event(n: int, partner: str, kind: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"demo-{n:04d}",
        "source": f"/partners/{partner}",
        "type": f"xiaobao.{kind}",
        "time": time,
        "data": data,
    }


def _lines(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "line_id": f"{prefix}-1",
            "code": "A001",
            "name": "手术费",
            "category": "A",
            "amount": "55000.00",
            "over_limit": "5000.00",
        },
        {
            "line_id": f"{prefix}-2",
            "code": "B001",
            "name": "靶向药",
            "category": "B",
            "amount": "30000.00",
        },
        {
            "line_id": f"{prefix}-3",
            "code": "C001",
            "name": "进口耗材",
            "category": "C",
            "amount": "14000.00",
        },
        {
            "line_id": f"{prefix}-4",
            "code": "C002",
            "name": "特需病房",
            "category": "C",
            "amount": "1000.00",
            "necessary": False,
        },
    ]


def demo_events() -> list[tuple[str, dict[str, Any]]]:
    """The demo's partner events, in order, with the partner that posts each."""
    ins, hz, bj = "insurer-001", "hosp-hz-001", "hosp-bj-002"
    zhang = {"id": "330102198001011234", "name": "张三"}
    li = {"id": "110105197505052345", "name": "李四"}
    t = "2026-11-{:02d}T{}:00:00+08:00".format
    events: list[tuple[str, str, str, dict[str, Any]]] = [
        (
            ins,
            "insurer.policy-issued.v1",
            t(1, "09"),
            {
                "policy_id": "P-2026-0001",
                "product_code": "BWYL-2026",
                "insured": zhang,
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
            },
        ),
        (
            ins,
            "insurer.policy-issued.v1",
            t(1, "09"),
            {
                "policy_id": "P-2026-0002",
                "product_code": "BWYL-2026",
                "insured": li,
                "period_start": "2026-03-01",
                "period_end": "2027-02-28",
            },
        ),
        (
            ins,
            "insurer.exposure-reported.v1",
            t(1, "10"),
            {
                "period": "2026Q3",
                "line": "health",
                "premium": "125000000.00",
                "policies": 84000,
                "insured_persons": 91000,
            },
        ),
        # The domain's worked example: settles 64008.00 / 24992.00 / 11000.00.
        (
            hz,
            "hospital.admission.v1",
            t(2, "08"),
            {
                "encounter_id": "ZY-2026-0001",
                "patient": zhang,
                "region": "330100",
                "person_type": "employee",
                "hospital_level": 3,
                "social_insurance": True,
                "admitted_at": t(2, "08"),
            },
        ),
        (
            hz,
            "hospital.charges.v1",
            t(5, "16"),
            {"encounter_id": "ZY-2026-0001", "items": _lines("ZY1")},
        ),
        (
            hz,
            "hospital.discharge.v1",
            t(6, "10"),
            {"encounter_id": "ZY-2026-0001", "discharged_at": t(6, "10")},
        ),
        (
            hz,
            "hospital.copay-collected.v1",
            t(6, "11"),
            {"encounter_id": "ZY-2026-0001", "amount": "11000.00"},
        ),
        (ins, "insurer.remittance-paid.v1", t(8, "15"), {"claim_id": "", "amount": "24992.00"}),
        # The same bill without social insurance at another hospital: 0 / 53400.00 / 46600.00.
        (
            bj,
            "hospital.admission.v1",
            t(3, "09"),
            {
                "encounter_id": "BJ-2026-0007",
                "patient": li,
                "region": "110000",
                "person_type": "employee",
                "hospital_level": 3,
                "social_insurance": False,
                "admitted_at": t(3, "09"),
            },
        ),
        (
            bj,
            "hospital.charges.v1",
            t(4, "12"),
            {
                "encounter_id": "BJ-2026-0007",
                "items": [
                    *_lines("BJ7"),
                    {
                        "line_id": "BJ7-9",
                        "code": "X",
                        "name": "重复计费",
                        "category": "A",
                        "amount": "800.00",
                    },
                ],
            },
        ),
        (
            bj,
            "hospital.charges-reversal.v1",
            t(4, "13"),
            {"encounter_id": "BJ-2026-0007", "line_ids": ["BJ7-9"]},
        ),
        (
            bj,
            "hospital.discharge.v1",
            t(7, "10"),
            {"encounter_id": "BJ-2026-0007", "discharged_at": t(7, "10")},
        ),
        # Two 12378 transfers (one a duplicate of the other, merged) and an urging.
        (
            "cbirc-12378",
            "regulator.complaint-transferred.v1",
            t(10, "09"),
            {
                "transfer_id": "12378-2026-000101",
                "complainant": {**li, "phone": "13900000001"},
                "matter": "商保理赔款未到账",
                "request": "尽快支付商保赔款",
                "cause": "claims",
                "line": "health",
                "region": "110000",
            },
        ),
        (
            "cbirc-12378",
            "regulator.complaint-transferred.v1",
            t(11, "10"),
            {
                "transfer_id": "12378-2026-000117",
                "complainant": {**li, "phone": "13900000001"},
                "matter": "再次反映理赔款未到账",
                "request": "尽快支付商保赔款",
                "cause": "claims",
                "line": "health",
                "region": "110000",
            },
        ),
        (
            "cbirc-12378",
            "regulator.urged.v1",
            t(12, "10"),
            {"transfer_id": "12378-2026-000101", "note": "请加快办理"},
        ),
        # An open encounter to try previews on.
        (
            hz,
            "hospital.admission.v1",
            t(9, "08"),
            {
                "encounter_id": "ZY-2026-0002",
                "patient": {"id": "330106199202023456", "name": "王五"},
                "region": "330100",
                "person_type": "employee",
                "hospital_level": 2,
                "social_insurance": True,
                "admitted_at": t(9, "08"),
            },
        ),
        (
            hz,
            "hospital.charges.v1",
            t(9, "12"),
            {
                "encounter_id": "ZY-2026-0002",
                "items": [
                    {
                        "line_id": "ZY2-1",
                        "code": "A010",
                        "name": "床位费",
                        "category": "A",
                        "amount": "3600.00",
                    }
                ],
            },
        ),
    ]
    return [(p, _event(n, p, k, time, d)) for n, (p, k, time, d) in enumerate(events, 1)]


def load_demo(services: Services, notary: Notary) -> dict[str, str]:
    """Load everything; returns the ids of the demo claims by encounter."""
    _reference(services)
    claims: dict[str, str] = {}
    for partner, event in demo_events():
        data = event["data"]
        if event["type"].endswith("remittance-paid.v1"):
            data["claim_id"] = claims["ZY-2026-0001"]
        _, result = record_one(services.events, notary, event, _principal(partner))
        if "encounter_id" in data:
            claims[data["encounter_id"]] = result["stream"]["id"]
    load_education(services)
    load_rectification_demo(services)
    return claims


def _staff(role: str) -> Actor:
    entry = next(p for p in DEMO_PRINCIPALS if p["role"] == role)
    return Actor(name=entry["name"], role=role)


def _key(actor: Actor, slug: str, step: str) -> CommandKey:
    """Each demo step has a fixed Idempotency-Key: a second run replays, records nothing."""
    return CommandKey(actor.name, f"demo-article:{slug}:{step}", f"demo:{slug}:{step}")


def load_knowledge(desk: KnowledgeDesk, path: Path = ARTICLES_FILE) -> list[str]:
    """The demonstration articles through the aggregate: drafted by the demo editor,
    approved by the demo reviewer (four eyes), published. Returns their ids."""
    editor, reviewer = _staff("editor"), _staff("reviewer")
    ids = []
    for entry in orjson.loads(path.read_bytes()):
        slug = entry["slug"]
        content = ArticleContent(
            title=entry["title"],
            body=entry["body"],
            category=entry["category"],
            rights=tuple(entry["rights"]),
            audiences=tuple(entry["audiences"]),
            keywords=tuple(entry.get("keywords", ())),
            lines=tuple(entry.get("lines", ())),
        )
        made = desk.draft(
            DraftArticle(content), Meta(utc_now(), editor), _key(editor, slug, "draft")
        )
        article_id = UUID(made.body["id"])
        desk.submit(
            SubmitArticle(article_id), Meta(utc_now(), editor), _key(editor, slug, "submit"), None
        )
        desk.review(
            ReviewArticle(article_id, True, "内容准确，同意发布"),
            Meta(utc_now(), reviewer),
            _key(reviewer, slug, "review"),
            None,
        )
        desk.publish(
            PublishArticle(article_id), Meta(utc_now(), editor), _key(editor, slug, "publish"), None
        )
        ids.append(str(article_id))
    return ids
