"""The complaint periods and limits: settings feeding `ComplaintRules`, one set of defaults."""

from __future__ import annotations

import pydantic
import pytest

from domain.complaint_clock import ComplaintRules
from infrastructure.settings import Settings


def test_the_settings_default_to_the_rules_defaults() -> None:
    assert Settings().complaint_rules() == ComplaintRules()


def test_settings_feed_the_rules() -> None:
    settings = Settings(
        complaint_decision_days=(10, 20, 40),
        complaint_review_window_days=20,
        complaint_review_decision_days=25,
        complaint_due_soon_days=5,
        complaint_urge_escalation_count=3,
    )
    assert settings.complaint_rules() == ComplaintRules((10, 20, 40), 20, 25, 5, 3)


@pytest.mark.parametrize(
    "setting",
    [
        {"complaint_decision_days": (30, 15, 60)},
        {"complaint_decision_days": (15, 30)},
        {"complaint_review_window_days": 0},
        {"complaint_review_decision_days": -1},
        {"complaint_due_soon_days": -1},
        {"complaint_urge_escalation_count": 0},
    ],
)
def test_periods_the_rules_refuse_are_refused_at_start_up(setting: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(**setting)  # type: ignore[arg-type]
