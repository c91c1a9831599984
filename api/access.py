"""Who may use which route: the contract's table (contract.md, "Principals and
authentication"), row by row. The route checks (`api.deps.allow`) and the role × route test
(tests/api/test_auth_matrix.py) both read it; nothing else names roles for a route.

Where the contract is silent, the choice is marked `chosen` and stated in docs/api.md.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTNER_ROLES = ("hospital", "insurer", "regulator_platform", "mediator", "arbitrator", "court")
# "every staff role": the insurer's own people.
STAFF_ROLES = (
    "admin",
    "handler",
    "supervisor",
    "editor",
    "reviewer",
    "educator",
    "report_officer",
    "compliance",
    "department",
)
ALL_ROLES = (*PARTNER_ROLES, *STAFF_ROLES, "auditor", "regulator", "consumer_app")
# Readers of reference data and published articles: every staff role and the auditor (the
# contract), and — where it is silent — the insurer (the terms its policies settle under, the
# articles its app answers with) and the regulator (nothing personal; it explains figures).
STAFF_READERS = (*STAFF_ROLES, "auditor", "insurer", "regulator")


@dataclass(frozen=True)
class Rule:
    """One row of the contract's table (or of a choice where it is silent)."""

    row: str
    roles: tuple[str, ...]
    chosen: bool = False


RULES: dict[str, Rule] = {
    "events": Rule("`POST /v1/events` — the partner role each event type names", PARTNER_ROLES),
    "reference.write": Rule("`PUT /v1/reference/...` — admin", ("admin",)),
    "reference.read": Rule(
        "`PUT /v1/reference/...` (reads: every staff role, auditor; insurer, regulator chosen)",
        STAFF_READERS,
        chosen=True,
    ),
    "claims.read": Rule(
        "`GET /v1/claims...` — hospital (own), insurer, handler, supervisor, auditor",
        ("hospital", "insurer", "handler", "supervisor", "auditor"),
    ),
    "complaints.command": Rule(
        "complaint commands — handler, supervisor", ("handler", "supervisor")
    ),
    "complaints.supervisor": Rule(
        "complaint commands — supervisor-only: extend, escalate, reassign", ("supervisor",)
    ),
    "complaints.read": Rule(
        "`GET /v1/complaints...` — handler, supervisor; auditor reads",
        ("handler", "supervisor", "auditor"),
    ),
    "disputes.command": Rule("dispute commands — handler, supervisor", ("handler", "supervisor")),
    "disputes.read": Rule(
        "`GET /v1/disputes...` — handler, supervisor; mediator / arbitrator / court read the "
        "disputes naming them; auditor reads",
        ("handler", "supervisor", "auditor", "mediator", "arbitrator", "court"),
    ),
    "stats": Rule(
        "`GET /v1/stats/...`, exports, `/dashboard` — regulator, supervisor, auditor, admin",
        ("regulator", "supervisor", "auditor", "admin"),
    ),
    "risk": Rule(
        "`GET /v1/risk/customers` — handler, supervisor, regulator (pseudonymous), auditor",
        ("handler", "supervisor", "regulator", "auditor"),
    ),
    "feed": Rule("`GET /v1/regulator/feed` — regulator_platform", ("regulator_platform",)),
    "ledger.public": Rule("ledger checkpoint, public key — every principal", ALL_ROLES),
    "ledger.proofs": Rule("ledger proofs — auditor, regulator", ("auditor", "regulator")),
    "ledger.entries": Rule("ledger entries (leaf bytes) — auditor", ("auditor",)),
    "erase": Rule("`POST /v1/subjects/{id}/erase` — admin", ("admin",)),
    "knowledge.editor": Rule(
        "knowledge article writes — editor (create, revise, submit, publish, retire)",
        ("editor",),
    ),
    "knowledge.reviewer": Rule("knowledge article writes — reviewer (review)", ("reviewer",)),
    "knowledge.read": Rule(
        "`GET /v1/knowledge/ask`, published articles — consumer_app and every staff role "
        "(insurer, regulator chosen as for reference data)",
        ("consumer_app", *STAFF_READERS),
    ),
    "knowledge.drafts": Rule(
        "drafts, versions, gaps of the knowledge base — editor, reviewer, auditor",
        ("editor", "reviewer", "auditor"),
    ),
    "education.write": Rule("education activities and training — educator writes", ("educator",)),
    "education.read": Rule(
        "education activities and training — supervisor, regulator (figures only: the "
        "statistics row), auditor read; the educator reads what it wrote (chosen)",
        ("educator", "supervisor", "auditor"),
    ),
    "reports.command": Rule("report commands — report_officer", ("report_officer",)),
    "reports.extend": Rule("report commands — supervisor (extend)", ("supervisor",)),
    "reports.read": Rule(
        "`GET /v1/reports...` — report_officer; supervisor; auditor reads",
        ("report_officer", "supervisor", "auditor"),
    ),
    "rectifications.open": Rule(
        "rectification commands — compliance, supervisor (open)", ("compliance", "supervisor")
    ),
    "rectifications.department": Rule(
        "rectification commands — department (plan, progress, submit: its own items), compliance",
        ("compliance", "department"),
    ),
    "rectifications.verify": Rule("rectification commands — compliance (verify)", ("compliance",)),
    "rectifications.extend": Rule("rectification commands — supervisor (extend)", ("supervisor",)),
    "rectifications.cancel": Rule(
        "rectification commands — compliance, supervisor (cancel: chosen)",
        ("compliance", "supervisor"),
        chosen=True,
    ),
    "rectifications.read": Rule(
        "`GET /v1/rectifications...` — compliance, supervisor, department (its own), auditor",
        ("compliance", "supervisor", "department", "auditor"),
    ),
    "operations": Rule("`GET /metrics` — admin, auditor", ("admin", "auditor"), chosen=True),
    "dashboard.queues": Rule(
        "`/dashboard/queues/...` — the dashboard's viewers who work complaints (supervisor)",
        ("supervisor",),
        chosen=True,
    ),
    "audit": Rule("`/audit`, the auditor's console — auditor", ("auditor",), chosen=True),
}


def roles_of(name: str) -> tuple[str, ...]:
    """The roles a row admits (KeyError for a row the table does not have)."""
    return RULES[name].roles
