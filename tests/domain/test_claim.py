"""The Claim and Accumulator aggregates, without I/O (domain.md section 1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.accumulators import (
    DEDUCTIBLE_USED,
    FUND_PAID,
    LIMIT_USED,
    POLICY_YEAR,
    SI_FUND,
    Accumulator,
    AccumulatorUnderflow,
    accumulator_id,
)
from domain.claims import (
    AlreadyDischarged,
    AmountExceedsOutstanding,
    Claim,
    ClaimClosed,
    ClaimNotSettled,
    DuplicateChargeLine,
    InvalidChargeLine,
    ReferenceVersions,
    RemittanceAlreadyPaid,
    Settlement,
    UnknownChargeLine,
    claim_id,
    validate_line,
)
from domain.common import Actor
from domain.personal import Sealed
from domain.settlement import (
    ChargeLine,
    ProductTerms,
    SchemeTerms,
    SettlementInputs,
    calculate,
)

D = Decimal
ACTOR = Actor(name="t", role="hospital")
T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)

SCHEME = SchemeTerms(
    deductible=D("800"), fund_ratio=D("0.84"), annual_cap=D("400000"), b_prepay_ratio=D("0.10")
)
PRODUCT = ProductTerms(
    annual_deductible=D("10000"),
    ratio_with_si=D("1.00"),
    ratio_without_si=D("0.60"),
    annual_limit=D("4000000"),
    covers_out_of_scope=True,
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def line(
    line_id: str,
    category: str,
    amount: str,
    over_limit: str = "0.00",
    prepay_ratio: str | None = None,
    necessary: bool = True,
) -> ChargeLine:
    return ChargeLine(
        line_id=line_id,
        code=f"code-{line_id}",
        name=f"item {line_id}",
        category=category,
        amount=D(amount),
        over_limit=D(over_limit),
        prepay_ratio=None if prepay_ratio is None else D(prepay_ratio),
        necessary=necessary,
    )


WORKED_LINES = [
    line("a1", "A", "55000.00", over_limit="5000.00"),
    line("b1", "B", "30000.00"),
    line("c1", "C", "14000.00"),
    line("c2", "C", "1000.00", necessary=False),
]


def new_claim(encounter_id: str = "E1") -> Claim:
    return Claim(
        hospital="H1",
        encounter_id=encounter_id,
        patient_ref="ref-p1",
        patient_id=Sealed("ref-p1", "c2VhbGVk"),
        patient_name=Sealed("ref-p1", "bmFtZQ=="),
        region="310000",
        person_type="employee",
        hospital_level=3,
        social_insurance=True,
        admitted_at=T0,
        policy_id="POL-1",
        diagnoses=None,
        occurred_at=T0,
        actor=ACTOR,
    )


def settlement_for(claim: Claim) -> Settlement:
    """Settle the claim's active lines on the worked-example terms, nothing used before."""
    inputs = SettlementInputs(
        lines=claim.active_lines,
        social_insurance=True,
        scheme=SCHEME,
        product=PRODUCT,
    )
    return Settlement(calculate(inputs), inputs, ReferenceVersions())


def settled_claim() -> Claim:
    """The worked example: patient pays 11,000.00, commercial share 24,992.00."""
    claim = new_claim()
    claim.post_charges(list(WORKED_LINES), at(1), ACTOR)
    claim.discharge(at(2), None, at(2), ACTOR)
    claim.record_settlement(settlement_for(claim), at(2), ACTOR)
    return claim


def closed_claim() -> Claim:
    claim = settled_claim()
    claim.collect_copay(D("11000.00"), at(3), ACTOR)
    claim.pay_remittance(D("24992.00"), at(4), ACTOR)
    assert claim.status == "closed"
    return claim


def event_names(claim: Claim | Accumulator) -> list[str]:
    return [type(e).__name__ for e in claim.collect_events()]


# -- admission and charges ---------------------------------------------------------------


def test_admission_records_one_event_and_derives_the_id_from_hospital_and_encounter() -> None:
    claim = new_claim()
    assert claim.id == claim_id("H1", "E1")
    assert claim.id != claim_id("H2", "E1")
    assert claim.status == "admitted"
    assert claim.version == 1
    assert event_names(claim) == ["AdmissionRegistered"]


def test_posted_charges_become_active_lines_in_posting_order() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    claim.post_charges([line("y", "B", "20.00"), line("z", "C", "30.00")], at(2), ACTOR)
    assert [ln.line_id for ln in claim.active_lines] == ["x", "y", "z"]
    assert claim.version == 3


def test_line_id_posted_twice_is_refused() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    claim.collect_events()
    version = claim.version
    with pytest.raises(DuplicateChargeLine):
        claim.post_charges([line("y", "A", "5.00"), line("x", "A", "99.00")], at(2), ACTOR)
    assert claim.version == version
    assert claim.collect_events() == []
    assert [(ln.line_id, ln.amount) for ln in claim.active_lines] == [("x", D("10.00"))]


def test_line_id_repeated_within_one_posting_is_refused() -> None:
    claim = new_claim()
    with pytest.raises(DuplicateChargeLine):
        claim.post_charges([line("x", "A", "10.00"), line("x", "A", "10.00")], at(1), ACTOR)
    assert claim.active_lines == ()


def test_reversed_line_id_cannot_be_posted_again() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    claim.reverse_charges(["x"], at(2), ACTOR)
    with pytest.raises(DuplicateChargeLine):
        claim.post_charges([line("x", "A", "10.00")], at(3), ACTOR)


def test_reversed_lines_are_not_active() -> None:
    claim = new_claim()
    claim.post_charges(list(WORKED_LINES), at(1), ACTOR)
    claim.reverse_charges(["c1"], at(2), ACTOR)
    assert [ln.line_id for ln in claim.active_lines] == ["a1", "b1", "c2"]
    assert claim.reversed == {"c1"}


def test_settlement_of_active_lines_is_net_of_reversals() -> None:
    claim = new_claim()
    claim.post_charges(list(WORKED_LINES), at(1), ACTOR)
    claim.reverse_charges(["c1", "c2"], at(2), ACTOR)
    split = settlement_for(claim).split
    assert split.medfee == D("85000.00")  # 100,000 − 14,000 − 1,000
    assert split.si_paid == D("64008.00")
    assert split.commercial == D("10992.00")  # 85,000 − 64,008 − 10,000
    assert split.patient_pays == D("10000.00")


def test_reversing_a_line_never_posted_is_refused() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    claim.collect_events()
    with pytest.raises(UnknownChargeLine):
        claim.reverse_charges(["nope"], at(2), ACTOR)
    assert claim.collect_events() == []
    assert claim.reversed == set()


def test_reversing_a_line_twice_is_refused() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    claim.reverse_charges(["x"], at(2), ACTOR)
    version = claim.version
    with pytest.raises(UnknownChargeLine):
        claim.reverse_charges(["x"], at(3), ACTOR)
    assert claim.version == version


def test_naming_a_line_twice_in_one_reversal_is_refused() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00"), line("y", "A", "1.00")], at(1), ACTOR)
    with pytest.raises(UnknownChargeLine):
        claim.reverse_charges(["x", "x"], at(2), ACTOR)
    assert [ln.line_id for ln in claim.active_lines] == ["x", "y"]


def test_reversal_with_one_unknown_id_reverses_nothing() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    with pytest.raises(UnknownChargeLine):
        claim.reverse_charges(["x", "nope"], at(2), ACTOR)
    assert claim.reversed == set()


# -- discharge and settlement -------------------------------------------------------------


def test_discharge_then_settlement_records_the_split() -> None:
    claim = new_claim()
    claim.post_charges(list(WORKED_LINES), at(1), ACTOR)
    claim.discharge(at(2), {"fund_paid": D("64008.00")}, at(2), ACTOR)
    assert claim.status == "discharged"
    assert claim.discharged_at == at(2)
    assert claim.platform_fund_paid == D("64008.00")
    assert not claim.is_settled
    claim.record_settlement(settlement_for(claim), at(2), ACTOR)
    assert claim.status == "settled"
    assert claim.settled_at == at(2)
    assert claim.is_settled
    assert claim.patient_outstanding == D("11000.00")
    assert claim.commercial_outstanding == D("24992.00")
    assert event_names(claim)[-2:] == ["Discharged", "SettlementCalculated"]


def test_settled_claim_cannot_be_discharged_again() -> None:
    claim = settled_claim()
    version = claim.version
    with pytest.raises(AlreadyDischarged):
        claim.discharge(at(5), None, at(5), ACTOR)
    assert claim.version == version
    assert claim.status == "settled"


def test_nothing_is_outstanding_before_settlement() -> None:
    claim = new_claim()
    assert claim.patient_outstanding == D("0.00")
    assert claim.commercial_outstanding == D("0.00")
    assert claim.platform_fund_paid is None


def test_payments_need_a_settlement() -> None:
    claim = new_claim()
    claim.post_charges([line("x", "A", "10.00")], at(1), ACTOR)
    with pytest.raises(ClaimNotSettled):
        claim.collect_copay(D("1.00"), at(2), ACTOR)
    with pytest.raises(ClaimNotSettled):
        claim.pay_remittance(D("1.00"), at(2), ACTOR)
    with pytest.raises(ClaimNotSettled):
        claim.cancel_settlement("mistake", at(2), ACTOR)
    with pytest.raises(ClaimNotSettled):
        claim.adjust_settlement(settlement_for(claim), at(2), ACTOR)


# -- payments and closing ------------------------------------------------------------------


def test_claim_closes_by_itself_once_copay_collected_and_remittance_paid() -> None:
    claim = settled_claim()
    claim.collect_copay(D("5000.00"), at(3), ACTOR)
    claim.collect_copay(D("6000.00"), at(4), ACTOR)
    assert claim.patient_outstanding == D("0.00")
    assert claim.status == "settled"
    claim.pay_remittance(D("24000.00"), at(5), ACTOR)
    assert claim.status == "settled"
    assert claim.commercial_outstanding == D("992.00")
    claim.pay_remittance(D("992.00"), at(6), ACTOR)
    assert claim.status == "closed"
    assert claim.closed_at == at(6)
    assert event_names(claim)[-2:] == ["RemittancePaid", "Closed"]


def test_claim_closes_when_remittance_comes_before_the_copay() -> None:
    claim = settled_claim()
    claim.pay_remittance(D("24992.00"), at(3), ACTOR)
    assert claim.status == "settled"
    claim.collect_copay(D("11000.00"), at(4), ACTOR)
    assert claim.status == "closed"
    assert claim.closed_at == at(4)


def test_settlement_owing_nothing_closes_when_asked() -> None:
    claim = new_claim()
    claim.discharge(at(1), None, at(1), ACTOR)
    claim.record_settlement(settlement_for(claim), at(1), ACTOR)
    assert claim.status == "settled"
    claim.close_when_settled_in_full(at(2), ACTOR)
    assert claim.status == "closed"


def test_settlement_still_owed_does_not_close_when_asked() -> None:
    claim = settled_claim()
    claim.close_when_settled_in_full(at(3), ACTOR)
    assert claim.status == "settled"
    assert claim.closed_at is None


def test_copay_above_the_outstanding_amount_is_refused() -> None:
    claim = settled_claim()
    claim.collect_copay(D("10000.00"), at(3), ACTOR)
    claim.collect_events()
    with pytest.raises(AmountExceedsOutstanding):
        claim.collect_copay(D("1000.01"), at(4), ACTOR)
    assert claim.collect_events() == []
    assert claim.patient_outstanding == D("1000.00")


def test_remittance_above_the_outstanding_amount_is_refused() -> None:
    claim = settled_claim()
    version = claim.version
    with pytest.raises(AmountExceedsOutstanding):
        claim.pay_remittance(D("24992.01"), at(3), ACTOR)
    assert claim.version == version
    assert claim.commercial_outstanding == D("24992.00")


def test_cancel_after_remittance_is_refused() -> None:
    claim = settled_claim()
    claim.pay_remittance(D("1000.00"), at(3), ACTOR)
    version = claim.version
    with pytest.raises(RemittanceAlreadyPaid):
        claim.cancel_settlement("wrong patient", at(4), ACTOR)
    assert claim.version == version
    assert claim.status == "settled"
    assert claim.is_settled


def test_cancel_before_remittance_returns_to_admitted_and_allows_discharge_again() -> None:
    claim = settled_claim()
    claim.collect_events()
    claim.cancel_settlement("wrong bill", at(3), ACTOR)
    assert event_names(claim) == ["SettlementCancelled"]
    assert claim.status == "admitted"
    assert not claim.is_settled
    assert claim.discharged_at is None
    assert claim.patient_outstanding == D("0.00")
    claim.post_charges([line("late", "A", "1000.00")], at(4), ACTOR)
    claim.discharge(at(5), None, at(5), ACTOR)
    claim.record_settlement(settlement_for(claim), at(5), ACTOR)
    assert claim.status == "settled"
    # the worked example plus A 1,000: si (78,000 − 800) × 0.84 = 64,848.00;
    # commercial 100,000 − 64,848 − 10,000 = 25,152.00; patient 101,000 − 89,000 = 11,000.00
    assert claim.commercial_outstanding == D("25152.00")
    assert claim.patient_outstanding == D("11000.00")


# -- a closed claim -----------------------------------------------------------------------

CLOSED_CLAIM_COMMANDS: list[tuple[str, Callable[[Claim], object]]] = [
    ("post_charges", lambda c: c.post_charges([line("n", "A", "1.00")], at(9), ACTOR)),
    ("reverse_charges", lambda c: c.reverse_charges(["a1"], at(9), ACTOR)),
    ("name_policy", lambda c: c.name_policy("POL-2", at(9), ACTOR)),
    ("discharge", lambda c: c.discharge(at(9), None, at(9), ACTOR)),
    ("adjust_settlement", lambda c: c.adjust_settlement(settlement_for(c), at(9), ACTOR)),
    ("cancel_settlement", lambda c: c.cancel_settlement("late", at(9), ACTOR)),
    ("collect_copay", lambda c: c.collect_copay(D("0.00"), at(9), ACTOR)),
    ("pay_remittance", lambda c: c.pay_remittance(D("0.00"), at(9), ACTOR)),
]


@pytest.mark.parametrize(
    "command", [c for _, c in CLOSED_CLAIM_COMMANDS], ids=[n for n, _ in CLOSED_CLAIM_COMMANDS]
)
def test_nothing_can_change_a_closed_claim(command: Callable[[Claim], object]) -> None:
    claim = closed_claim()
    claim.collect_events()
    version = claim.version
    with pytest.raises(ClaimClosed):
        command(claim)
    assert claim.version == version
    assert claim.collect_events() == []
    assert claim.status == "closed"


def test_recording_a_settlement_on_a_closed_claim_is_refused() -> None:
    claim = closed_claim()
    version = claim.version
    with pytest.raises(ClaimClosed):
        claim.record_settlement(settlement_for(claim), at(9), ACTOR)
    assert claim.version == version


# -- adjustments and accumulators ---------------------------------------------------------


def test_adjustment_records_the_delta_and_adjusting_back_negates_it() -> None:
    claim = settled_claim()
    original = claim.settlement
    assert original is not None
    claim.post_charges([line("late", "A", "1000.00")], at(3), ACTOR)
    delta = claim.adjust_settlement(settlement_for(claim), at(3), ACTOR)
    # new split: medfee 101,000.00; si 64,848.00; commercial 25,152.00; patient 11,000.00
    assert delta == {
        "medfee": D("1000.00"),
        "social_insurance_paid": D("840.00"),
        "commercial_paid": D("160.00"),
        "patient_pays": D("0.00"),
    }
    assert claim.commercial_outstanding == D("25152.00")
    claim.reverse_charges(["late"], at(4), ACTOR)
    back = claim.adjust_settlement(settlement_for(claim), at(4), ACTOR)
    assert back == {key: -value for key, value in delta.items()}
    assert claim.settlement is not None
    assert claim.settlement.split == original.split
    assert event_names(claim)[-4:] == [
        "ChargesPosted",
        "SettlementAdjusted",
        "ChargesReversed",
        "SettlementAdjusted",
    ]


def test_accumulator_moves_add_up_and_identify_by_kind_and_key() -> None:
    acc = Accumulator(POLICY_YEAR, "POL-1/2026-03-01")
    assert acc.id == accumulator_id(POLICY_YEAR, "POL-1/2026-03-01")
    assert acc.total(LIMIT_USED) == D("0.00")
    acc.move({LIMIT_USED: D("24992.00"), DEDUCTIBLE_USED: D("10000.00")}, uuid4(), "s", T0, ACTOR)
    acc.move({LIMIT_USED: D("160.00")}, uuid4(), "adjustment", T0, ACTOR)
    assert acc.total(LIMIT_USED) == D("25152.00")
    assert acc.total(DEDUCTIBLE_USED) == D("10000.00")
    assert event_names(acc) == ["Opened", "Moved", "Moved"]


def test_accumulator_refuses_a_give_back_larger_than_consumed() -> None:
    acc = Accumulator(SI_FUND, "P1/2026")
    acc.move({FUND_PAID: D("100.00")}, uuid4(), "settlement", T0, ACTOR)
    acc.collect_events()
    version = acc.version
    with pytest.raises(AccumulatorUnderflow):
        acc.move({FUND_PAID: D("-100.01")}, uuid4(), "cancellation", T0, ACTOR)
    assert acc.version == version
    assert acc.collect_events() == []
    assert acc.total(FUND_PAID) == D("100.00")


def test_accumulator_refuses_a_move_whose_any_field_would_underflow() -> None:
    acc = Accumulator(POLICY_YEAR, "POL-1/2026-03-01")
    acc.move({LIMIT_USED: D("50.00")}, uuid4(), "settlement", T0, ACTOR)
    with pytest.raises(AccumulatorUnderflow):
        acc.move({LIMIT_USED: D("-10.00"), DEDUCTIBLE_USED: D("-0.01")}, uuid4(), "x", T0, ACTOR)
    assert acc.total(LIMIT_USED) == D("50.00")
    assert acc.total(DEDUCTIBLE_USED) == D("0.00")


def test_give_back_of_everything_consumed_reaches_exactly_zero() -> None:
    acc = Accumulator(SI_FUND, "P1/2026")
    acc.move({FUND_PAID: D("64008.00")}, uuid4(), "settlement", T0, ACTOR)
    acc.move({FUND_PAID: D("-64008.00")}, uuid4(), "cancellation", T0, ACTOR)
    assert acc.total(FUND_PAID) == D("0.00")


def test_adjustment_followed_by_its_inverse_restores_every_accumulator_total() -> None:
    fund = Accumulator(SI_FUND, "P1/2026")
    year = Accumulator(POLICY_YEAR, "POL-1/2026-03-01")
    fund.move({FUND_PAID: D("1234.56")}, uuid4(), "earlier claim", T0, ACTOR)
    year.move(
        {DEDUCTIBLE_USED: D("2000.00"), LIMIT_USED: D("500.00")}, uuid4(), "earlier", T0, ACTOR
    )
    before = (dict(fund.totals), dict(year.totals))
    fund_delta = {FUND_PAID: D("840.00")}
    year_delta = {DEDUCTIBLE_USED: D("-2000.00"), LIMIT_USED: D("160.17")}
    cause = uuid4()
    fund.move(fund_delta, cause, "adjustment", T0, ACTOR)
    year.move(year_delta, cause, "adjustment", T0, ACTOR)
    assert fund.total(FUND_PAID) == D("2074.56")
    assert year.total(DEDUCTIBLE_USED) == D("0.00")
    assert year.total(LIMIT_USED) == D("660.17")
    fund.move({k: -v for k, v in fund_delta.items()}, cause, "adjustment", T0, ACTOR)
    year.move({k: -v for k, v in year_delta.items()}, cause, "adjustment", T0, ACTOR)
    assert (fund.totals, year.totals) == before


def test_claim_adjustment_and_its_reversal_leave_the_accumulators_where_they_were() -> None:
    claim = settled_claim()
    assert claim.settlement is not None
    fund = Accumulator(SI_FUND, "P1/2026")
    year = Accumulator(POLICY_YEAR, "POL-1/2026-03-01")
    split = claim.settlement.split
    fund.move({FUND_PAID: split.si_paid}, claim.id, "settlement", at(2), ACTOR)
    year.move(
        {DEDUCTIBLE_USED: split.c_deduct, LIMIT_USED: split.commercial},
        claim.id,
        "settlement",
        at(2),
        ACTOR,
    )
    before = (dict(fund.totals), dict(year.totals))
    assert before == (
        {FUND_PAID: D("64008.00")},
        {DEDUCTIBLE_USED: D("10000.00"), LIMIT_USED: D("24992.00")},
    )

    def apply(delta: dict[str, Decimal]) -> None:
        fund.move({FUND_PAID: delta["social_insurance_paid"]}, claim.id, "adj", at(5), ACTOR)
        year.move({LIMIT_USED: delta["commercial_paid"]}, claim.id, "adj", at(5), ACTOR)

    claim.post_charges([line("late", "B", "2000.00")], at(3), ACTOR)
    forward = claim.adjust_settlement(settlement_for(claim), at(3), ACTOR)
    # B 2,000: pre-pay 200, in_scope +1,800 → si +1,512.00; covered +2,000 → commercial +488.00
    assert forward["social_insurance_paid"] == D("1512.00")
    assert forward["commercial_paid"] == D("488.00")
    apply(forward)
    assert fund.total(FUND_PAID) == D("65520.00")
    assert year.total(LIMIT_USED) == D("25480.00")
    claim.reverse_charges(["late"], at(4), ACTOR)
    backward = claim.adjust_settlement(settlement_for(claim), at(4), ACTOR)
    assert backward == {key: -value for key, value in forward.items()}
    apply(backward)
    assert (fund.totals, year.totals) == before


# -- line validation ------------------------------------------------------------------------


def test_valid_lines_pass_validation() -> None:
    validate_line(line("a", "A", "100.00", over_limit="100.00"))
    validate_line(line("b", "B", "100.00", over_limit="10.00", prepay_ratio="0.2"))
    validate_line(line("c", "C", "100.00"))


def refusal(bad: ChargeLine) -> tuple[str, str]:
    with pytest.raises(InvalidChargeLine) as refused:
        validate_line(bad)
    return refused.value.field, refused.value.message


def test_over_limit_above_the_amount_is_invalid() -> None:
    problem = refusal(line("a", "A", "100.00", over_limit="100.01"))
    assert problem == ("over_limit", "over_limit must not exceed amount")


def test_over_limit_on_a_c_line_is_invalid() -> None:
    problem = refusal(line("c", "C", "100.00", over_limit="1.00"))
    assert problem == ("over_limit", "over_limit applies to A and B lines only")


def test_prepay_ratio_on_a_non_b_line_is_invalid() -> None:
    assert refusal(line("a", "A", "100.00", prepay_ratio="0.1")) == (
        "prepay_ratio",
        "prepay_ratio applies to B lines only",
    )
    assert refusal(line("c", "C", "100.00", prepay_ratio="0.1")) == (
        "prepay_ratio",
        "prepay_ratio applies to B lines only",
    )


def test_posting_a_line_the_rule_cannot_take_names_it_and_records_nothing() -> None:
    claim = new_claim()
    claim.collect_events()
    good, bad = line("a", "A", "100.00"), line("c", "C", "100.00", over_limit="1.00")
    with pytest.raises(InvalidChargeLine) as refused:
        claim.post_charges([good, bad], at(1), ACTOR)
    assert refused.value.field == "items[1].over_limit"
    assert (claim.collect_events(), claim.lines) == ([], {})
