"""Dispute refusals (domain.md section 3): out of order, by the wrong partner, after the end."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest

from domain import dispute_values
from domain.common import Actor, DomainError, InvalidInput
from domain.dispute_values import (
    ConfirmationWindowClosed,
    DisputeClosed,
    DisputeError,
    DisputeResolved,
    DisputeWithdrawn,
    EnforcementWindowClosed,
    InvalidTransition,
    MediatorAcceptanceLate,
    NotAccepted,
    PartnerNotNamed,
    StepNotRequested,
)
from domain.disputes import Dispute
from tests.domain.test_dispute_builders import (
    ARBITRATOR,
    COURT,
    ENFORCEMENT_COURT,
    MEDIATOR,
    RULES,
    STAFF,
    accepted,
    applied,
    arbitrating,
    awarded,
    confirmed,
    cst,
    enforcement_named,
    mediating,
    midnight,
    opened,
    pending,
    refuses,
    signed,
)

# -- steps out of order, by the wrong partner, after the end -------------------------------------


def test_partner_steps_before_staff_request_them_are_refused() -> None:
    refuses(
        opened(), StepNotRequested, lambda d: d.mediator_accept(cst(3, 6), MEDIATOR, rules=RULES)
    )
    refuses(
        opened(),
        StepNotRequested,
        lambda d: d.sign_agreement(cst(3, 6), Decimal("1"), "t", cst(3, 6), MEDIATOR, rules=RULES),
    )
    refuses(opened(), StepNotRequested, lambda d: d.fail_mediation("r", cst(3, 6), MEDIATOR))
    refuses(
        opened(), StepNotRequested, lambda d: d.hold_hearing(cst(3, 6), "r", cst(3, 6), ARBITRATOR)
    )
    refuses(opened(), StepNotRequested, lambda d: d.grant_confirmation(cst(3, 6), cst(3, 6), COURT))


def test_steps_out_of_order_are_refused() -> None:
    refuses(
        mediating(),
        NotAccepted,
        lambda d: d.sign_agreement(cst(3, 8), Decimal("1"), "t", cst(3, 8), MEDIATOR, rules=RULES),
    )
    refuses(
        mediating(),
        NotAccepted,
        lambda d: d.hold_session(cst(3, 8), "rec", cst(3, 8), MEDIATOR, rules=RULES),
    )
    refuses(
        mediating(),
        InvalidTransition,
        lambda d: d.apply_confirmation("court-1", cst(3, 8), STAFF, rules=RULES),
    )
    refuses(
        mediating(),
        InvalidTransition,
        lambda d: d.request_arbitration("arb-1", True, cst(3, 8), STAFF),
    )
    refuses(signed(), InvalidTransition, lambda d: d.request_mediation("med-2", cst(3, 17), STAFF))
    refuses(
        confirmed(),
        StepNotRequested,
        lambda d: d.mediator_accept(cst(3, 26), MEDIATOR, rules=RULES),
    )
    refuses(
        arbitrating(),
        InvalidTransition,
        lambda d: d.request_arbitration("arb-2", True, cst(3, 25), STAFF),
    )
    refuses(
        accepted(),
        InvalidInput,
        lambda d: d.hold_session(cst(3, 8), "rec", cst(3, 12), MEDIATOR, rules=RULES),
    )
    refuses(
        accepted(),
        InvalidInput,
        lambda d: d.sign_agreement(
            cst(3, 16),
            Decimal("1"),
            "t",
            cst(3, 16),
            MEDIATOR,
            performance_due=date(2026, 3, 15),
            rules=RULES,
        ),
    )


def test_only_the_named_partner_posts_a_step() -> None:
    other = Actor("med-9", "mediator", "med-9")
    refuses(
        mediating(), PartnerNotNamed, lambda d: d.mediator_accept(cst(3, 9), other, rules=RULES)
    )
    refuses(
        arbitrating(),
        PartnerNotNamed,
        lambda d: d.hold_hearing(cst(4, 1), "r", cst(4, 1), MEDIATOR),
    )
    refuses(
        applied(),
        PartnerNotNamed,
        lambda d: d.court_accept_confirmation(
            "c", cst(3, 18), cst(3, 19), ENFORCEMENT_COURT, rules=RULES
        ),
    )
    refuses(
        enforcement_named(),
        PartnerNotNamed,
        lambda d: d.apply_enforcement(cst(4, 27), cst(4, 27), COURT, rules=RULES),
    )


def test_names_partner_covers_every_partner_named_for_a_step() -> None:
    d = confirmed()
    assert d.names_partner("med-1")
    assert d.names_partner("court-1")
    assert not d.names_partner("court-2")
    assert not d.names_partner("arb-1")
    d.request_enforcement("court-2", midnight(4, 1), STAFF, rules=RULES)
    assert d.names_partner("court-2")
    assert awarded().names_partner("arb-1")


STEPS: list[Callable[[Dispute], object]] = [
    lambda d: d.request_mediation("med-2", cst(6, 1), STAFF),
    lambda d: d.request_arbitration("arb-1", True, cst(6, 1), STAFF),
    lambda d: d.apply_confirmation("court-1", cst(6, 1), STAFF, rules=RULES),
    lambda d: d.request_enforcement("court-2", cst(6, 1), STAFF, rules=RULES),
    lambda d: d.record_performance(Decimal("1"), cst(6, 1), STAFF),
    lambda d: d.extend_mediation(date(2026, 7, 1), True, cst(6, 1), STAFF, rules=RULES),
    lambda d: d.mediator_accept(cst(6, 1), MEDIATOR, rules=RULES),
    lambda d: d.fail_mediation("r", cst(6, 1), MEDIATOR),
    lambda d: d.arbitrator_accept("c", cst(6, 1), ARBITRATOR),
    lambda d: d.issue_award(cst(6, 1), Decimal("1"), "x", cst(6, 1), ARBITRATOR, rules=RULES),
    lambda d: d.grant_confirmation(cst(6, 1), cst(6, 1), COURT),
    lambda d: d.apply_enforcement(cst(6, 1), cst(6, 1), ENFORCEMENT_COURT, rules=RULES),
    lambda d: d.record_enforced(Decimal("1"), cst(6, 1), ENFORCEMENT_COURT),
    lambda d: d.withdraw("again", cst(6, 1), STAFF),
    lambda d: d.close("again", cst(6, 1), STAFF),
]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("build", [accepted, pending, awarded])
def test_a_withdrawn_dispute_takes_no_step(
    build: Callable[[], Dispute], step: Callable[[Dispute], object]
) -> None:
    d = build()
    d.withdraw("consumer settled privately", cst(5, 1), STAFF)
    assert (d.state, d.end_reason) == ("withdrawn", "consumer settled privately")
    refuses(d, DisputeWithdrawn, step)


@pytest.mark.parametrize("step", STEPS)
def test_a_closed_dispute_takes_no_step(step: Callable[[Dispute], object]) -> None:
    d = mediating()
    d.close("consumer unreachable", cst(5, 1), STAFF)
    refuses(d, DisputeClosed, step)


def test_a_resolved_dispute_can_be_closed_but_not_withdrawn() -> None:
    d = confirmed()
    d.record_performance(Decimal("8000"), cst(3, 30), STAFF)
    refuses(d, DisputeResolved, lambda d: d.withdraw("late", cst(4, 1), STAFF))
    refuses(d, DisputeResolved, lambda d: d.request_mediation("med-2", cst(4, 1), STAFF))
    d.close("performed in full", cst(4, 1), STAFF)
    assert d.state == "closed"
    assert d.pending_events[-1].from_state == "performed"  # type: ignore[attr-defined]


def test_a_command_dated_before_the_opening_or_without_offset_is_refused() -> None:
    refuses(opened(), InvalidInput, lambda d: d.request_mediation("med-1", cst(3, 4), STAFF))
    refuses(
        opened(), InvalidInput, lambda d: d.request_mediation("med-1", datetime(2026, 3, 6), STAFF)
    )
    refuses(
        mediating(), InvalidInput, lambda d: d.mediator_accept(cst(3, 6, 9), MEDIATOR, rules=RULES)
    )
    refuses(opened(), InvalidInput, lambda d: d.withdraw(" ", cst(3, 6), STAFF))


def test_every_refusal_is_a_dispute_error_naming_its_own_rule() -> None:
    errors = [
        cls
        for _, cls in inspect.getmembers(dispute_values, inspect.isclass)
        if issubclass(cls, DomainError) and cls.__module__ == dispute_values.__name__
    ]
    assert {MediatorAcceptanceLate, ConfirmationWindowClosed, EnforcementWindowClosed} < set(errors)
    assert all(issubclass(cls, DisputeError) for cls in errors)
    assert len({cls.rule for cls in errors}) == len(errors)
