"""The one-stop settlement rule (一站式结算), domain.md section 1: a pure function.

Every amount is computed exactly and rounded once, half up, to 0.01 CNY.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.common import ZERO, round_money


class Category(StrEnum):
    """Catalogue category of a charge line: 甲类 A, 乙类 B, 丙类 C (out of catalogue)."""

    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True)
class ChargeLine:
    """One itemised hospital charge."""

    line_id: str
    code: str
    name: str
    category: str
    amount: Decimal
    over_limit: Decimal = ZERO
    prepay_ratio: Decimal | None = None
    necessary: bool = True


@dataclass(frozen=True)
class SchemeTerms:
    """Social-insurance terms for one hospital level, as in force on the admission date."""

    deductible: Decimal
    fund_ratio: Decimal
    annual_cap: Decimal
    b_prepay_ratio: Decimal


@dataclass(frozen=True)
class ProductTerms:
    """Commercial product terms as in force on the admission date."""

    annual_deductible: Decimal
    ratio_with_si: Decimal
    ratio_without_si: Decimal
    annual_limit: Decimal
    covers_out_of_scope: bool


@dataclass(frozen=True)
class SettlementInputs:
    """Everything the rule reads; recorded with every settlement so it can be recomputed."""

    lines: tuple[ChargeLine, ...]
    social_insurance: bool
    scheme: SchemeTerms | None
    product: ProductTerms | None
    fund_paid_this_year: Decimal = ZERO
    deductible_used: Decimal = ZERO
    limit_used: Decimal = ZERO
    platform_fund_paid: Decimal | None = None
    no_policy_reason: str | None = None


@dataclass(frozen=True)
class Split:
    """The settlement with every intermediate amount of the rule."""

    medfee: Decimal
    over_limit: Decimal
    b_prepay: Decimal
    in_scope: Decimal
    si_deductible: Decimal
    si_computed: Decimal
    si_paid: Decimal
    si_difference: Decimal | None
    covered: Decimal
    base: Decimal
    c_deduct: Decimal
    ratio: Decimal | None
    commercial: Decimal
    patient_pays: Decimal
    reasons: tuple[str, ...]


def calculate(inputs: SettlementInputs) -> Split:
    """Split a bill between social insurance, commercial insurance and the patient."""
    lines = inputs.lines
    reasons: list[str] = []
    medfee = sum((line.amount for line in lines), ZERO)
    over_limit = sum((line.over_limit for line in lines if line.category != Category.C), ZERO)
    b_prepay = _b_prepay(lines, inputs.scheme)
    in_scope = (
        sum(
            (line.amount - line.over_limit for line in lines if line.category != Category.C),
            ZERO,
        )
        - b_prepay
    )

    si_deductible = si_computed = ZERO
    if inputs.social_insurance and inputs.scheme is not None:
        scheme = inputs.scheme
        si_deductible = min(in_scope, scheme.deductible)
        room = max(ZERO, scheme.annual_cap - inputs.fund_paid_this_year)
        uncapped = round_money((in_scope - si_deductible) * scheme.fund_ratio)
        si_computed = min(uncapped, room)
        if si_computed < uncapped:
            reasons.append("annual_cap_reached")
    elif not inputs.social_insurance:
        reasons.append("no_social_insurance")

    si_paid, si_difference = si_computed, None
    if inputs.platform_fund_paid is not None:
        si_paid = inputs.platform_fund_paid
        si_difference = inputs.platform_fund_paid - si_computed
        reasons.append("platform_result_used")
        if si_difference != ZERO:
            reasons.append("platform_result_differs")

    covered = base = c_deduct = commercial = ZERO
    ratio: Decimal | None = None
    if inputs.product is not None:
        product = inputs.product
        covered = sum((_covered(line, product) for line in lines), ZERO)
        if any(not line.necessary for line in lines):
            reasons.append("unnecessary_lines_excluded")
        base = max(ZERO, covered - si_paid)
        c_deduct = min(base, max(ZERO, product.annual_deductible - inputs.deductible_used))
        ratio = product.ratio_with_si if inputs.social_insurance else product.ratio_without_si
        uncapped = round_money((base - c_deduct) * ratio)
        commercial = min(uncapped, max(ZERO, product.annual_limit - inputs.limit_used))
        if commercial < uncapped:
            reasons.append("annual_limit_reached")
    else:
        reasons.append(inputs.no_policy_reason or "no_policy")

    return Split(
        medfee=medfee,
        over_limit=over_limit,
        b_prepay=b_prepay,
        in_scope=in_scope,
        si_deductible=si_deductible,
        si_computed=si_computed,
        si_paid=si_paid,
        si_difference=si_difference,
        covered=covered,
        base=base,
        c_deduct=c_deduct,
        ratio=ratio,
        commercial=commercial,
        patient_pays=medfee - si_paid - commercial,
        reasons=tuple(reasons),
    )


def _b_prepay(lines: tuple[ChargeLine, ...], scheme: SchemeTerms | None) -> Decimal:
    """Σ_B (amount − over_limit) × prepay ratio: exact products, rounded once per claim."""
    default = scheme.b_prepay_ratio if scheme is not None else ZERO
    exact = sum(
        (
            (line.amount - line.over_limit)
            * (line.prepay_ratio if line.prepay_ratio is not None else default)
            for line in lines
            if line.category == Category.B
        ),
        Decimal(0),
    )
    return round_money(exact)


def _covered(line: ChargeLine, product: ProductTerms) -> Decimal:
    """What the commercial product covers of one line."""
    if not line.necessary:
        return ZERO
    if product.covers_out_of_scope:
        return line.amount
    if line.category == Category.C:
        return ZERO
    return line.amount - line.over_limit
