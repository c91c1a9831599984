"""Product lines (险种) and the company type each belongs to (domain.md §4: company type is
derived from the product line — property, or life/health)."""

from __future__ import annotations

LINES = ("health", "life", "accident", "motor", "property", "guarantee", "other")
HEALTH = "health"  # one-stop settlement pays medical insurance
PROPERTY_LINES = frozenset({"motor", "property", "guarantee"})


def company_type(line: str) -> str:
    """Property or life/health, from the product line."""
    return "property" if line in PROPERTY_LINES else "life_health"
