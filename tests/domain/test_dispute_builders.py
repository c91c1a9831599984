"""Builders for the dispute tests: disputes at each step of their paths, hand-picked dates.

Named test_* only to sit with them; it holds no tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.common import CST, Actor
from domain.dispute_rules import DisputeRules
from domain.disputes import Dispute
from domain.personal import Sealed

RULES = DisputeRules()
STAFF = Actor(name="handler-1", role="handler")
MEDIATOR = Actor("med-1", "mediator", "med-1", "/partners/med-1", "evt-1")
MEDIATOR_2 = Actor("med-2", "mediator", "med-2", "/partners/med-2", "evt-2")
ARBITRATOR = Actor("arb-1", "arbitrator", "arb-1", "/partners/arb-1", "evt-3")
COURT = Actor("court-1", "court", "court-1", "/partners/court-1", "evt-4")
ENFORCEMENT_COURT = Actor("court-2", "court", "court-2", "/partners/court-2", "evt-5")
PARTY = {"id": Sealed("ref-1", "c2VhbGVkLWlk"), "name": Sealed("ref-1", "c2VhbGVkLW5hbWU=")}


def cst(m: int, d: int, h: int = 10, mi: int = 0, y: int = 2026) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CST)


def eod(m: int, d: int, y: int = 2026) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=CST)


def midnight(m: int, d: int, y: int = 2026) -> datetime:
    return datetime(y, m, d, tzinfo=CST)


def opened(at: datetime | None = None, **extra: Any) -> Dispute:
    """Opened Thursday 2026-03-05 (or `at`), claiming 10,000.00."""
    return Dispute.open(
        dispute_id=uuid4(),
        party_ref="ref-1",
        party=PARTY,
        amount=Decimal("10000"),
        matter="claim partly refused",
        occurred_at=at or cst(3, 5),
        actor=STAFF,
        **extra,
    )


def mediating() -> Dispute:
    """Mediation requested Friday 2026-03-06: the mediator accepts by Wednesday 2026-03-11."""
    d = opened()
    d.request_mediation("med-1", cst(3, 6), STAFF)
    return d


def accepted() -> Dispute:
    """Accepted Monday 2026-03-09: the mediation period runs to 2026-04-08."""
    d = mediating()
    d.mediator_accept(cst(3, 9), MEDIATOR, rules=RULES)
    d.hold_session(cst(3, 12), "rec://med/1", cst(3, 12), MEDIATOR, rules=RULES)
    return d


def signed(performance_due: date | None = None) -> Dispute:
    """Agreement signed 2026-03-16 for 8,000.00: perform by 03-31, apply by 04-15."""
    d = accepted()
    d.sign_agreement(
        cst(3, 16),
        Decimal("8000"),
        "insurer pays 8,000",
        cst(3, 16),
        MEDIATOR,
        performance_due=performance_due,
        rules=RULES,
    )
    return d


def applied() -> Dispute:
    """Staff applied on 03-17 to court-1."""
    d = signed()
    d.apply_confirmation("court-1", cst(3, 17), STAFF, rules=RULES)
    return d


def pending() -> Dispute:
    """The court received the application 03-18 and accepted it 03-19 (decide by 04-03)."""
    d = applied()
    d.court_accept_confirmation("(2026)沪0101民特1号", cst(3, 18), cst(3, 19), COURT, rules=RULES)
    return d


def confirmed() -> Dispute:
    d = pending()
    d.grant_confirmation(cst(3, 25), cst(3, 25), COURT)
    return d


def rejected() -> Dispute:
    d = pending()
    d.reject_confirmation(cst(3, 25), "terms unclear", cst(3, 25), COURT)
    return d


def failed() -> Dispute:
    d = accepted()
    d.fail_mediation("no agreement on the amount", cst(3, 20), MEDIATOR)
    return d


def arbitrating() -> Dispute:
    """Arbitration requested 03-23 after the failed mediation, accepted 03-24."""
    d = failed()
    d.request_arbitration("arb-1", True, cst(3, 23), STAFF)
    d.arbitrator_accept("(2026)沪仲网字第1号", cst(3, 24), ARBITRATOR)
    return d


def awarded(issued_at: datetime | None = None, performance_due: date | None = None) -> Dispute:
    """Award of 9,000.00 issued 2026-04-10: perform by 04-25."""
    d = arbitrating()
    d.hold_hearing(cst(4, 1), "rec://arb/1", cst(4, 1), ARBITRATOR)
    d.issue_award(
        issued_at or cst(4, 10),
        Decimal("9000"),
        "respondent pays 9,000",
        issued_at or cst(4, 10),
        ARBITRATOR,
        performance_due=performance_due,
        rules=RULES,
    )
    return d


def enforcement_named() -> Dispute:
    """Unpaid past 04-25: staff name court-2 on 04-26."""
    d = awarded()
    d.request_enforcement("court-2", cst(4, 26), STAFF, rules=RULES)
    return d


def refuses(d: Dispute, error: type[Exception], command: Callable[[Dispute], object]) -> None:
    """The command raises `error` and records nothing."""
    before, version, state = len(d.pending_events), d.version, d.state
    with pytest.raises(error):
        command(d)
    assert (len(d.pending_events), d.version, d.state) == (before, version, state)


def names(d: Dispute) -> list[str]:
    return [type(e).__name__ for e in d.pending_events]
