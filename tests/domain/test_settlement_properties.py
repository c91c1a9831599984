"""Properties of the settlement rule that hold for every bill (domain.md section 1)."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.settlement import (
    ChargeLine,
    ProductTerms,
    SchemeTerms,
    SettlementInputs,
    Split,
    calculate,
)

ZERO = Decimal("0.00")


def money(max_value: str = "200000") -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal("0"),
        max_value=Decimal(max_value),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )


ratios: st.SearchStrategy[Decimal] = st.decimals(
    min_value=Decimal("0"),
    max_value=Decimal("1"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)


@st.composite
def charge_line(draw: st.DrawFn, index: int) -> ChargeLine:
    category = draw(st.sampled_from(["A", "B", "C"]))
    amount = draw(money("100000"))
    over_limit = ZERO
    if category != "C" and draw(st.booleans()):
        over_limit = draw(
            st.decimals(
                min_value=Decimal("0"),
                max_value=amount,
                places=2,
                allow_nan=False,
                allow_infinity=False,
            )
        )
    prepay_ratio = draw(st.none() | ratios) if category == "B" else None
    return ChargeLine(
        line_id=f"L{index}",
        code=f"code-{index}",
        name=f"item {index}",
        category=category,
        amount=amount,
        over_limit=over_limit,
        prepay_ratio=prepay_ratio,
        necessary=draw(st.booleans()),
    )


@st.composite
def charge_lines(draw: st.DrawFn) -> tuple[ChargeLine, ...]:
    count = draw(st.integers(min_value=0, max_value=8))
    return tuple(draw(charge_line(index)) for index in range(count))


schemes: st.SearchStrategy[SchemeTerms] = st.builds(
    SchemeTerms,
    deductible=money("5000"),
    fund_ratio=ratios,
    annual_cap=money("500000"),
    b_prepay_ratio=ratios,
)

products: st.SearchStrategy[ProductTerms] = st.builds(
    ProductTerms,
    annual_deductible=money("20000"),
    ratio_with_si=ratios,
    ratio_without_si=ratios,
    annual_limit=money("1000000"),
    covers_out_of_scope=st.booleans(),
)


@st.composite
def settlement_inputs(draw: st.DrawFn, with_platform: bool = False) -> SettlementInputs:
    social_insurance = draw(st.booleans())
    scheme = draw(schemes) if social_insurance else draw(st.none() | schemes)
    platform: Decimal | None = None
    if with_platform and social_insurance:
        platform = draw(st.none() | money("300000"))
    return SettlementInputs(
        lines=draw(charge_lines()),
        social_insurance=social_insurance,
        scheme=scheme,
        product=draw(st.none() | products),
        fund_paid_this_year=draw(money("600000")),
        deductible_used=draw(money("30000")),
        limit_used=draw(money("1200000")),
        platform_fund_paid=platform,
        no_policy_reason=draw(st.sampled_from([None, "no_policy", "ambiguous_policy"])),
    )


def money_fields(split: Split) -> list[tuple[str, Decimal]]:
    values = [(f.name, getattr(split, f.name)) for f in fields(split)]
    return [
        (name, value)
        for name, value in values
        if isinstance(value, Decimal) and name not in ("ratio",)
    ]


@settings(max_examples=400, deadline=None)
@given(settlement_inputs(with_platform=True))
def test_split_always_sums_to_the_medical_fee(inputs: SettlementInputs) -> None:
    split = calculate(inputs)
    assert split.si_paid + split.commercial + split.patient_pays == split.medfee
    assert split.medfee == sum((line.amount for line in inputs.lines), ZERO)


@settings(max_examples=400, deadline=None)
@given(settlement_inputs())
def test_no_amount_is_negative(inputs: SettlementInputs) -> None:
    split = calculate(inputs)
    for name, value in money_fields(split):
        assert value >= ZERO, f"{name} = {value}"


@settings(max_examples=300, deadline=None)
@given(settlement_inputs(with_platform=True))
def test_commercial_never_exceeds_what_is_covered_beyond_social_insurance(
    inputs: SettlementInputs,
) -> None:
    split = calculate(inputs)
    assert split.commercial <= max(ZERO, split.covered - split.si_paid)


@settings(max_examples=300, deadline=None)
@given(settlement_inputs())
def test_social_insurance_never_exceeds_the_room_under_the_annual_cap(
    inputs: SettlementInputs,
) -> None:
    split = calculate(inputs)
    if inputs.social_insurance and inputs.scheme is not None:
        assert split.si_paid <= max(ZERO, inputs.scheme.annual_cap - inputs.fund_paid_this_year)
    else:
        assert split.si_paid == ZERO


@settings(max_examples=300, deadline=None)
@given(settlement_inputs(with_platform=True))
def test_commercial_never_exceeds_the_remaining_annual_limit(inputs: SettlementInputs) -> None:
    split = calculate(inputs)
    if inputs.product is not None:
        assert split.commercial <= max(ZERO, inputs.product.annual_limit - inputs.limit_used)
    else:
        assert split.commercial == ZERO


@settings(max_examples=300, deadline=None)
@given(settlement_inputs(with_platform=True))
def test_every_money_amount_has_at_most_two_decimal_places(inputs: SettlementInputs) -> None:
    split = calculate(inputs)
    for name, value in money_fields(split):
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        assert exponent >= -2, f"{name} = {value}"


@settings(max_examples=300, deadline=None)
@given(settlement_inputs())
def test_commercial_deductible_never_exceeds_the_remaining_deductible(
    inputs: SettlementInputs,
) -> None:
    split = calculate(inputs)
    if inputs.product is not None:
        remaining = max(ZERO, inputs.product.annual_deductible - inputs.deductible_used)
        assert split.c_deduct <= remaining
        assert split.c_deduct <= split.base
    else:
        assert split.c_deduct == ZERO
