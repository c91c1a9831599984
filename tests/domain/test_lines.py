"""Company type is derived from the product line (domain.md §4)."""

from __future__ import annotations

import pytest

from domain.lines import LINES, company_type


@pytest.mark.parametrize("line", ["motor", "property", "guarantee"])
def test_motor_property_and_guarantee_lines_belong_to_property_companies(line: str) -> None:
    assert company_type(line) == "property"


@pytest.mark.parametrize("line", ["health", "life", "accident", "other"])
def test_the_other_lines_belong_to_life_and_health_companies(line: str) -> None:
    assert company_type(line) == "life_health"


def test_every_line_has_a_company_type() -> None:
    assert {company_type(line) for line in LINES} == {"property", "life_health"}
