"""Wire types: money as decimal strings, ratios, RFC 3339 instants and plain dates."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from domain.common import CENT, CST

MONEY_PATTERN = r"^\d{1,15}(\.\d{1,2})?$"
_MONEY = re.compile(MONEY_PATTERN)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_money(value: Any) -> Decimal:
    """A JSON string like "64008.00": non-negative, at most 2 decimals; never a JSON number."""
    if not isinstance(value, str):
        raise ValueError('money must be a JSON string such as "64008.00", not a number')
    if value.startswith("-"):
        raise ValueError("money must not be negative")
    if not _MONEY.fullmatch(value):
        raise ValueError("money must be a decimal string with at most 2 decimal places")
    return Decimal(value).quantize(CENT)


def parse_ratio(value: Any) -> Decimal:
    """A ratio between 0 and 1, given as a decimal string (or an exact JSON number)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('ratio must be a decimal string such as "0.84"')
    try:
        ratio = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("ratio must be a decimal number") from exc
    if not ratio.is_finite() or not Decimal(0) <= ratio <= Decimal(1):
        raise ValueError("ratio must lie between 0 and 1")
    return ratio


def parse_instant(value: Any) -> datetime:
    """An RFC 3339 instant with offset, or a plain date meaning its start in CST."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 date-time string")
    if _DATE.fullmatch(value):
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=CST)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be an RFC 3339 date-time such as 2026-03-09T10:00:00+08:00") from exc
    if instant.tzinfo is None:
        raise ValueError("must carry a UTC offset (RFC 3339)")
    return instant


def parse_day(value: Any) -> date:
    """A calendar date, YYYY-MM-DD."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("must be a date such as 2026-03-09")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("is not a valid calendar date") from exc


def exact_json(value: Any) -> Any:
    """Partner JSON kept as given, but with every float turned into an exact Decimal."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {str(k): exact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_json(v) for v in value]
    return value


def _positive(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise ValueError("must be greater than zero")
    return amount


Money = Annotated[
    Decimal,
    PlainValidator(parse_money),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["64008.00"]}),
]
PositiveMoney = Annotated[Money, AfterValidator(_positive)]
Ratio = Annotated[
    Decimal,
    PlainValidator(parse_ratio),
    WithJsonSchema({"type": "string", "pattern": r"^(0(\.\d+)?|1(\.0+)?)$", "examples": ["0.84"]}),
]
Instant = Annotated[
    datetime,
    PlainValidator(parse_instant),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Day = Annotated[
    date, PlainValidator(parse_day), WithJsonSchema({"type": "string", "format": "date"})
]
Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=4000)]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 region code")]


class WireModel(BaseModel):
    """Base of request bodies: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")
