"""Days to rectify by severity come from the settings into the one rules dataclass."""

from __future__ import annotations

import pytest

from domain.rectification import RectificationRules
from infrastructure.settings import Settings


def test_the_settings_default_to_the_rules_and_can_change_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().rectification_rules() == RectificationRules()
    monkeypatch.setenv("XIAOBAO_RECTIFICATION_HIGH_DAYS", "15")
    monkeypatch.setenv("XIAOBAO_RECTIFICATION_LOW_DAYS", "120")
    assert Settings().rectification_rules() == RectificationRules(15, 60, 120)


def test_a_period_the_rules_cannot_work_with_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Settings(rectification_medium_days=0).rectification_rules()
