"""Who may use which route: the contract's table (contract.md, "Principals and
authentication"), row by row. The route checks (`api.deps.allow`) and the role × route test
(tests/api/test_auth_matrix.py) both read it; nothing else names roles for a route.

Where the contract is silent, the choice is marked `chosen` and stated in docs/api.md.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTNER_ROLES = ("hospital", "insurer", "regulator_platform", "mediator", "arbitrator", "court")
# "every staff role": the insurer's own people, with the auditor and the regulator, as the
# knowledge base's readers have always been (and the insurer: chosen, see STAFF_READERS).
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


@dataclass(frozen=True)
class Rule:
    """One row of the contract's table (or of a choice where it is silent)."""

    row: str
    roles: tuple[str, ...]
    chosen: bool = False


RULES: dict[str, Rule] = {
    "events": Rule("`POST /v1/events` — the partner role each event type names", PARTNER_ROLES),
    "reference.write": Rule("`PUT /v1/reference/...` — admin", ("admin",)),
    # Reads of reference data: the contract's "every staff role, auditor" as the code has
    # always read it, plus the insurer (the terms its policies settle under) and the
    # regulator (not personal; it explains figures) — chosen.
    "reference.read": Rule(
        "`PUT /v1/reference/...` (reads: every staff role, auditor)",
        ("admin", "handler", "supervisor", "auditor", "insurer", "regulator"),
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
    "operations": Rule("`GET /metrics` — admin, auditor", ("admin", "auditor"), chosen=True),
}


def roles_of(name: str) -> tuple[str, ...]:
    """The roles a row admits (KeyError for a row the table does not have)."""
    return RULES[name].roles
