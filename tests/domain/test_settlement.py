"""Hand-computed cases of the one-stop settlement rule (domain.md section 1).

Every expected amount below is worked out by hand in the comment beside it and written as a
Decimal literal; nothing expected is computed by the code under test.
"""

from __future__ import annotations

from decimal import Decimal

from domain.settlement import (
    ChargeLine,
    ProductTerms,
    SchemeTerms,
    SettlementInputs,
    Split,
    calculate,
)

D = Decimal

# Worked example of domain.md: level-3 hospital, employee, deductible 800, fund ratio 0.84,
# B pre-pay 10 %; cap far above the amounts.
WORKED_SCHEME = SchemeTerms(
    deductible=D("800"),
    fund_ratio=D("0.84"),
    annual_cap=D("400000"),
    b_prepay_ratio=D("0.10"),
)
# Product: deductible 10,000, 100 % / 60 %, covers out-of-catalogue; limit far above.
WORKED_PRODUCT = ProductTerms(
    annual_deductible=D("10000"),
    ratio_with_si=D("1.00"),
    ratio_without_si=D("0.60"),
    annual_limit=D("4000000"),
    covers_out_of_scope=True,
)
# A plain scheme and product used by the smaller cases (no deductibles, full ratios).
PLAIN_SCHEME = SchemeTerms(
    deductible=D("0"),
    fund_ratio=D("1"),
    annual_cap=D("1000000"),
    b_prepay_ratio=D("0"),
)
PLAIN_PRODUCT = ProductTerms(
    annual_deductible=D("0"),
    ratio_with_si=D("1"),
    ratio_without_si=D("1"),
    annual_limit=D("1000000"),
    covers_out_of_scope=True,
)


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


WORKED_LINES = (
    line("a1", "A", "55000.00", over_limit="5000.00"),
    line("b1", "B", "30000.00"),
    line("c1", "C", "14000.00"),
    line("c2", "C", "1000.00", necessary=False),
)


def worked(**changes: object) -> Split:
    """The worked example of domain.md with some inputs changed."""
    fields: dict[str, object] = {
        "lines": WORKED_LINES,
        "social_insurance": True,
        "scheme": WORKED_SCHEME,
        "product": WORKED_PRODUCT,
    }
    fields.update(changes)
    return calculate(SettlementInputs(**fields))  # type: ignore[arg-type]


def assert_balanced(split: Split) -> None:
    assert split.si_paid + split.commercial + split.patient_pays == split.medfee


# -- the worked example of domain.md ----------------------------------------------------------


def test_worked_example_with_social_insurance_splits_as_domain_md_says() -> None:
    split = worked()
    assert split.medfee == D("100000.00")
    assert split.over_limit == D("5000.00")
    assert split.b_prepay == D("3000.00")  # 30,000 × 10 %
    assert split.in_scope == D("77000.00")  # 50,000 + 30,000 − 3,000
    assert split.si_deductible == D("800.00")
    assert split.si_computed == D("64008.00")  # 76,200 × 0.84
    assert split.si_paid == D("64008.00")
    assert split.si_difference is None
    assert split.covered == D("99000.00")  # 55,000 + 30,000 + 14,000 (unnecessary C excluded)
    assert split.base == D("34992.00")  # 99,000 − 64,008
    assert split.c_deduct == D("10000.00")
    assert split.ratio == D("1.00")
    assert split.commercial == D("24992.00")  # (34,992 − 10,000) × 100 %
    assert split.patient_pays == D("11000.00")
    assert split.reasons == ("unnecessary_lines_excluded",)


def test_worked_example_without_social_insurance_uses_the_lower_ratio() -> None:
    split = worked(social_insurance=False, scheme=None)
    assert split.medfee == D("100000.00")
    assert split.si_deductible == D("0.00")
    assert split.si_paid == D("0.00")
    assert split.covered == D("99000.00")
    assert split.base == D("99000.00")
    assert split.c_deduct == D("10000.00")
    assert split.ratio == D("0.60")
    assert split.commercial == D("53400.00")  # (99,000 − 10,000) × 0.6
    assert split.patient_pays == D("46600.00")
    assert "no_social_insurance" in split.reasons
    assert "no_policy" not in split.reasons


def test_scheme_on_file_is_ignored_when_the_admission_has_no_social_insurance() -> None:
    split = worked(social_insurance=False)
    assert split.si_paid == D("0.00")
    assert split.ratio == D("0.60")
    assert split.commercial == D("53400.00")
    assert split.patient_pays == D("46600.00")
    assert "no_social_insurance" in split.reasons


# -- social insurance ---------------------------------------------------------------------------


def test_social_insurance_pays_only_the_room_left_under_the_annual_cap() -> None:
    scheme = SchemeTerms(
        deductible=D("1000"), fund_ratio=D("0.9"), annual_cap=D("100000"), b_prepay_ratio=D("0")
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "20000.00"),),
            social_insurance=True,
            scheme=scheme,
            product=None,
            fund_paid_this_year=D("95000.50"),
        )
    )
    # uncapped (20,000 − 1,000) × 0.9 = 17,100.00; room 100,000 − 95,000.50 = 4,999.50
    assert split.si_computed == D("4999.50")
    assert split.si_paid == D("4999.50")
    assert split.patient_pays == D("15000.50")
    assert "annual_cap_reached" in split.reasons


def test_exhausted_annual_cap_leaves_social_insurance_paying_nothing() -> None:
    scheme = SchemeTerms(
        deductible=D("0"), fund_ratio=D("0.8"), annual_cap=D("100000"), b_prepay_ratio=D("0")
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "5000.00"),),
            social_insurance=True,
            scheme=scheme,
            product=None,
            fund_paid_this_year=D("120000.00"),  # already above the cap: room is 0, not negative
        )
    )
    assert split.si_paid == D("0.00")
    assert split.patient_pays == D("5000.00")
    assert "annual_cap_reached" in split.reasons


def test_cap_not_reached_records_no_cap_reason() -> None:
    scheme = SchemeTerms(
        deductible=D("0"), fund_ratio=D("0.5"), annual_cap=D("10000"), b_prepay_ratio=D("0")
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "2000.00"),),
            social_insurance=True,
            scheme=scheme,
            product=None,
            fund_paid_this_year=D("9000.00"),  # room exactly 1,000 = the uncapped amount
        )
    )
    assert split.si_paid == D("1000.00")
    assert "annual_cap_reached" not in split.reasons


def test_in_scope_below_the_social_insurance_deductible_gets_no_fund_payment() -> None:
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "500.00"),),
            social_insurance=True,
            scheme=WORKED_SCHEME,
            product=None,
        )
    )
    assert split.in_scope == D("500.00")
    assert split.si_deductible == D("500.00")  # min(500, 800)
    assert split.si_paid == D("0.00")
    assert split.patient_pays == D("500.00")


def test_over_limit_of_a_and_b_lines_is_out_of_scope() -> None:
    scheme = SchemeTerms(
        deductible=D("0"), fund_ratio=D("1"), annual_cap=D("1000000"), b_prepay_ratio=D("0.10")
    )
    split = calculate(
        SettlementInputs(
            lines=(
                line("a", "A", "1000.00", over_limit="100.00"),
                line("b", "B", "2000.00", over_limit="300.00"),
                line("c", "C", "400.00"),
            ),
            social_insurance=True,
            scheme=scheme,
            product=None,
        )
    )
    assert split.medfee == D("3400.00")
    assert split.over_limit == D("400.00")
    assert split.b_prepay == D("170.00")  # (2,000 − 300) × 0.10
    assert split.in_scope == D("2430.00")  # 900 + 1,700 − 170
    assert split.si_paid == D("2430.00")
    assert split.patient_pays == D("970.00")  # 400 over limit + 170 pre-pay + 400 C


def test_over_limit_counts_a_and_b_lines_only() -> None:
    # validate_line refuses over_limit on a C line; the rule itself ignores one if given.
    split = calculate(
        SettlementInputs(
            lines=(
                line("a", "A", "100.00", over_limit="10.00"),
                line("c", "C", "100.00", over_limit="40.00"),
            ),
            social_insurance=True,
            scheme=PLAIN_SCHEME,
            product=None,
        )
    )
    assert split.over_limit == D("10.00")
    assert split.in_scope == D("90.00")
    assert split.patient_pays == D("110.00")


def test_b_line_prepay_ratio_overrides_the_scheme_default() -> None:
    split = calculate(
        SettlementInputs(
            lines=(
                line("b1", "B", "1000.00", prepay_ratio="0.30"),
                line("b2", "B", "1000.00"),
                line("b3", "B", "1000.00", over_limit="200.00", prepay_ratio="0.25"),
            ),
            social_insurance=True,
            scheme=WORKED_SCHEME,
            product=None,
        )
    )
    # 1,000 × 0.30 + 1,000 × 0.10 (default) + 800 × 0.25 = 300 + 100 + 200
    assert split.b_prepay == D("600.00")
    assert split.in_scope == D("2200.00")  # 2,800 − 600
    assert split.si_paid == D("1176.00")  # (2,200 − 800) × 0.84


def test_b_prepay_sums_exact_line_products_and_rounds_once() -> None:
    scheme = SchemeTerms(
        deductible=D("0"), fund_ratio=D("1"), annual_cap=D("1000000"), b_prepay_ratio=D("0.1")
    )
    split = calculate(
        SettlementInputs(
            lines=(
                line("b1", "B", "10.05"),
                line("b2", "B", "10.05"),
                line("b3", "B", "10.05"),
            ),
            social_insurance=True,
            scheme=scheme,
            product=None,
        )
    )
    # each line 1.005 (rounded per line it would be 1.01, 3.03 in all); exact sum 3.015 → 3.02
    assert split.b_prepay == D("3.02")
    assert split.in_scope == D("27.13")  # 30.15 − 3.02
    assert split.si_paid == D("27.13")
    assert split.patient_pays == D("3.02")


def test_b_prepay_rounds_up_a_sum_whose_lines_would_each_round_to_nothing() -> None:
    split = calculate(
        SettlementInputs(
            lines=(
                line("b1", "B", "0.03", prepay_ratio="0.15"),
                line("b2", "B", "0.03", prepay_ratio="0.15"),
            ),
            social_insurance=True,
            scheme=PLAIN_SCHEME,
            product=None,
        )
    )
    # each line 0.0045 (0.00 if rounded per line); exact sum 0.009 → 0.01
    assert split.b_prepay == D("0.01")
    assert split.in_scope == D("0.05")


def test_fund_payment_rounds_half_up_to_the_cent() -> None:
    scheme = SchemeTerms(
        deductible=D("0"), fund_ratio=D("0.85"), annual_cap=D("1000000"), b_prepay_ratio=D("0")
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "100.10"),),
            social_insurance=True,
            scheme=scheme,
            product=None,
        )
    )
    # 100.10 × 0.85 = 85.085 → 85.09 half-up (banker's rounding would give 85.08)
    assert split.si_paid == D("85.09")
    assert split.patient_pays == D("15.01")


def test_commercial_payment_rounds_half_up_to_the_cent() -> None:
    product = ProductTerms(
        annual_deductible=D("0"),
        ratio_with_si=D("1"),
        ratio_without_si=D("0.5"),
        annual_limit=D("1000000"),
        covers_out_of_scope=True,
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "100.01"),),
            social_insurance=False,
            scheme=None,
            product=product,
        )
    )
    # 100.01 × 0.5 = 50.005 → 50.01 half-up (banker's rounding would give 50.00)
    assert split.commercial == D("50.01")
    assert split.patient_pays == D("50.00")


# -- platform result ------------------------------------------------------------------------------


def test_platform_fund_paid_is_used_as_si_paid_and_the_difference_flagged() -> None:
    split = worked(platform_fund_paid=D("64000.00"))
    assert split.si_computed == D("64008.00")
    assert split.si_paid == D("64000.00")
    assert split.si_difference == D("-8.00")
    assert split.base == D("35000.00")  # 99,000 − 64,000
    assert split.commercial == D("25000.00")  # 35,000 − 10,000
    assert split.patient_pays == D("11000.00")
    assert "platform_result_used" in split.reasons
    assert "platform_result_differs" in split.reasons


def test_platform_fund_paid_equal_to_the_ledger_computation_is_not_flagged() -> None:
    split = worked(platform_fund_paid=D("64008.00"))
    assert split.si_paid == D("64008.00")
    assert split.si_difference == D("0.00")
    assert "platform_result_used" in split.reasons
    assert "platform_result_differs" not in split.reasons


# -- commercial cover -------------------------------------------------------------------------


def test_second_discharge_in_policy_year_with_deductible_partly_used_takes_the_rest() -> None:
    split = worked(deductible_used=D("6000.00"))
    assert split.c_deduct == D("4000.00")  # 10,000 − 6,000
    assert split.commercial == D("30992.00")  # 34,992 − 4,000
    assert split.patient_pays == D("5000.00")  # 100,000 − 64,008 − 30,992


def test_second_discharge_in_policy_year_skips_deductible() -> None:
    split = worked(deductible_used=D("10000.00"))
    assert split.c_deduct == D("0.00")
    assert split.commercial == D("34992.00")
    assert split.patient_pays == D("1000.00")


def test_deductible_used_beyond_the_annual_deductible_deducts_nothing() -> None:
    split = worked(deductible_used=D("12000.00"))
    assert split.c_deduct == D("0.00")
    assert split.commercial == D("34992.00")


def test_remaining_deductible_larger_than_the_base_consumes_only_the_base() -> None:
    product = ProductTerms(
        annual_deductible=D("10000"),
        ratio_with_si=D("1"),
        ratio_without_si=D("0.6"),
        annual_limit=D("1000000"),
        covers_out_of_scope=True,
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "3000.00"),),
            social_insurance=False,
            scheme=None,
            product=product,
            deductible_used=D("2500.00"),
        )
    )
    # remaining deductible 7,500 > base 3,000: c_deduct = 3,000
    assert split.c_deduct == D("3000.00")
    assert split.commercial == D("0.00")
    assert split.patient_pays == D("3000.00")


def test_commercial_payment_stops_at_the_remaining_annual_limit() -> None:
    product = ProductTerms(
        annual_deductible=D("0"),
        ratio_with_si=D("1"),
        ratio_without_si=D("0.8"),
        annual_limit=D("50000"),
        covers_out_of_scope=True,
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "10000.00"),),
            social_insurance=False,
            scheme=None,
            product=product,
            limit_used=D("45000.00"),
        )
    )
    # uncapped 10,000 × 0.8 = 8,000; remaining limit 5,000
    assert split.commercial == D("5000.00")
    assert split.patient_pays == D("5000.00")
    assert "annual_limit_reached" in split.reasons


def test_limit_used_beyond_the_annual_limit_pays_nothing_rather_than_a_negative() -> None:
    product = ProductTerms(
        annual_deductible=D("0"),
        ratio_with_si=D("1"),
        ratio_without_si=D("1"),
        annual_limit=D("50000"),
        covers_out_of_scope=True,
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "10000.00"),),
            social_insurance=False,
            scheme=None,
            product=product,
            limit_used=D("52000.00"),
        )
    )
    assert split.commercial == D("0.00")
    assert split.patient_pays == D("10000.00")
    assert "annual_limit_reached" in split.reasons


def test_product_without_out_of_scope_cover_excludes_c_lines_and_over_limit() -> None:
    product = ProductTerms(
        annual_deductible=D("10000"),
        ratio_with_si=D("1.00"),
        ratio_without_si=D("0.60"),
        annual_limit=D("4000000"),
        covers_out_of_scope=False,
    )
    split = worked(product=product)
    assert split.covered == D("80000.00")  # (55,000 − 5,000) + 30,000; C lines 0
    assert split.base == D("15992.00")  # 80,000 − 64,008
    assert split.commercial == D("5992.00")  # 15,992 − 10,000
    assert split.patient_pays == D("30000.00")  # 100,000 − 64,008 − 5,992


def test_unnecessary_line_is_not_covered_commercially() -> None:
    split = calculate(
        SettlementInputs(
            lines=(
                line("a1", "A", "1000.00"),
                line("a2", "A", "500.00", necessary=False),
            ),
            social_insurance=False,
            scheme=None,
            product=PLAIN_PRODUCT,
        )
    )
    assert split.covered == D("1000.00")
    assert split.commercial == D("1000.00")
    assert split.patient_pays == D("500.00")
    assert "unnecessary_lines_excluded" in split.reasons


def test_all_necessary_lines_record_no_exclusion_reason() -> None:
    split = calculate(
        SettlementInputs(
            lines=(line("a1", "A", "1000.00"),),
            social_insurance=False,
            scheme=None,
            product=PLAIN_PRODUCT,
        )
    )
    assert split.covered == D("1000.00")
    assert "unnecessary_lines_excluded" not in split.reasons


def test_ratio_with_social_insurance_applies_when_the_admission_used_it() -> None:
    product = ProductTerms(
        annual_deductible=D("0"),
        ratio_with_si=D("0.9"),
        ratio_without_si=D("0.5"),
        annual_limit=D("1000000"),
        covers_out_of_scope=True,
    )
    scheme = SchemeTerms(
        deductible=D("0"), fund_ratio=D("0.5"), annual_cap=D("1000000"), b_prepay_ratio=D("0")
    )
    split = calculate(
        SettlementInputs(
            lines=(line("a", "A", "1000.00"),),
            social_insurance=True,
            scheme=scheme,
            product=product,
        )
    )
    assert split.si_paid == D("500.00")
    assert split.ratio == D("0.9")
    assert split.commercial == D("450.00")  # (1,000 − 500) × 0.9
    assert split.patient_pays == D("50.00")


def test_base_is_floored_at_zero_when_social_insurance_pays_more_than_is_covered() -> None:
    split = calculate(
        SettlementInputs(
            lines=(
                line("a1", "A", "10000.00", necessary=False),
                line("a2", "A", "1000.00"),
            ),
            social_insurance=True,
            scheme=SchemeTerms(
                deductible=D("0"),
                fund_ratio=D("0.9"),
                annual_cap=D("1000000"),
                b_prepay_ratio=D("0"),
            ),
            product=PLAIN_PRODUCT,
        )
    )
    assert split.si_paid == D("9900.00")  # 11,000 × 0.9
    assert split.covered == D("1000.00")
    assert split.base == D("0.00")  # max(0, 1,000 − 9,900)
    assert split.c_deduct == D("0.00")
    assert split.commercial == D("0.00")
    assert split.patient_pays == D("1100.00")


# -- no policy, no social insurance ---------------------------------------------------------------


def test_no_policy_means_no_commercial_payment() -> None:
    split = worked(product=None)
    assert split.si_paid == D("64008.00")
    assert split.covered == D("0.00")
    assert split.base == D("0.00")
    assert split.c_deduct == D("0.00")
    assert split.ratio is None
    assert split.commercial == D("0.00")
    assert split.patient_pays == D("35992.00")  # 100,000 − 64,008
    assert split.reasons == ("no_policy",)


def test_ambiguous_policy_reason_replaces_the_generic_no_policy_reason() -> None:
    split = worked(product=None, no_policy_reason="ambiguous_policy")
    assert split.commercial == D("0.00")
    assert "ambiguous_policy" in split.reasons
    assert "no_policy" not in split.reasons


def test_neither_policy_nor_social_insurance_leaves_everything_to_the_patient() -> None:
    split = calculate(
        SettlementInputs(
            lines=WORKED_LINES,
            social_insurance=False,
            scheme=None,
            product=None,
        )
    )
    assert split.medfee == D("100000.00")
    assert split.si_paid == D("0.00")
    assert split.commercial == D("0.00")
    assert split.patient_pays == D("100000.00")
    assert split.reasons == ("no_social_insurance", "no_policy")


def test_only_the_lines_given_are_settled() -> None:
    # Reversed lines are removed by the claim (active_lines); the rule sums what it is given.
    split = worked(lines=WORKED_LINES[:2])
    assert split.medfee == D("85000.00")
    assert split.in_scope == D("77000.00")
    assert split.covered == D("85000.00")
    assert split.base == D("20992.00")  # 85,000 − 64,008
    assert split.commercial == D("10992.00")
    assert split.patient_pays == D("10000.00")
    assert split.reasons == ()


def test_empty_bill_settles_to_zero_everywhere() -> None:
    split = worked(lines=())
    assert split.medfee == D("0.00")
    assert split.si_paid == D("0.00")
    assert split.commercial == D("0.00")
    assert split.patient_pays == D("0.00")


def test_every_hand_computed_case_balances() -> None:
    for split in (
        worked(),
        worked(social_insurance=False, scheme=None),
        worked(platform_fund_paid=D("64000.00")),
        worked(product=None),
        worked(deductible_used=D("6000.00")),
    ):
        assert_balanced(split)
