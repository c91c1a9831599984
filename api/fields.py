"""Wire types: money as decimal strings, ratios, RFC 3339 instants, plain dates, identifiers.

Every bound a partner or a staff tool meets is declared here once, and the body models use
these types (so the OpenAPI document states the bounds):
- an `Instant` is when something happened: not before the date floor (the setting
  `XIAOBAO_DATE_FLOOR`, default 2000-01-01, from 00:00 CST) nor more than 5 minutes ahead;
- a `Day` is a planned date (a period, a due date, an effective date): from the floor to
  2100-12-31;
- an `AsOf` (time travel) is any instant, clamped to now: the log holds nothing later;
- a `Position` or a `Count` fits the 64-bit integers of every store and view;
- an `Identifier` is 1 to 128 printable characters (no control, format or bidi characters);
  `Text` and `LongText` carry no control, format or bidi characters either (`LongText` keeps
  line breaks and tabs);
- money and decimals are ASCII digits only (`Decimal` and `\\d` would otherwise read
  full-width '１２３' or Arabic-Indic '١٢٣' as numbers).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from application.ledger import utc_now
from domain.common import CENT, CST, MAX_FUTURE_SKEW

MONEY_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_MONEY = re.compile(MONEY_PATTERN, re.ASCII)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$", re.ASCII)

DEFAULT_DATE_FLOOR = date(2000, 1, 1)
LAST_PLANNED_DAY = date(2100, 12, 31)
MAX_POSITION = 2**63 - 2
"""The highest `after`/`position` a request may name: the stores' integers end at 2^63 - 1,
and a read "after N" starts at N + 1."""
MAX_COUNT = 10**12
"""A count a partner or staff member reports: summed over every period and group it still
fits the 64-bit integers of every view (and is exact as a JSON double)."""
IDENTIFIER_LENGTH = 128


@dataclass
class _DateBounds:
    floor: date = DEFAULT_DATE_FLOOR


_BOUNDS = _DateBounds()


def configure_date_floor(floor: date) -> None:
    """Set the earliest date a body may carry (the app does this from its settings)."""
    _BOUNDS.floor = floor


def date_floor() -> date:
    return _BOUNDS.floor


def _floor_instant() -> datetime:
    return datetime.combine(_BOUNDS.floor, time(), tzinfo=CST)


def parse_money(value: Any) -> Decimal:
    """A JSON string like "64008.00": non-negative, at most 2 decimals; never a JSON number."""
    if not isinstance(value, str):
        raise ValueError('money must be a JSON string such as "64008.00", not a number')
    if value.startswith("-"):
        raise ValueError("money must not be negative")
    if not _MONEY.fullmatch(value):
        raise ValueError(
            "money must be a decimal string of ASCII digits with at most 2 decimal places"
        )
    return Decimal(value).quantize(CENT)


def parse_decimal(value: Any) -> Decimal:
    """A decimal given as a string of ASCII digits ("2.5") or an exact JSON number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('must be a decimal such as "2.5"')
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError('must be a decimal of ASCII digits such as "2.5"')
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("must be a decimal number") from exc
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def parse_ratio(value: Any) -> Decimal:
    """A ratio between 0 and 1, given as a decimal string (or an exact JSON number)."""
    try:
        ratio = parse_decimal(value)
    except ValueError as exc:
        raise ValueError('ratio must be a decimal string such as "0.84"') from exc
    if not Decimal(0) <= ratio <= Decimal(1):
        raise ValueError("ratio must lie between 0 and 1")
    return ratio


def parse_instant(value: Any) -> datetime:
    """An RFC 3339 instant with offset, or a plain date meaning its start in CST (any year:
    the bounds are checked apart, without converting, so year 1 and 9999 never overflow)."""
    if not isinstance(value, str) or not value.isascii():
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


def check_happened(instant: datetime, now: datetime | None = None) -> datetime:
    """When something happened: from the date floor to 5 minutes ahead of now (comparing
    aware instants never converts them, so no year overflows)."""
    if instant < _floor_instant():
        raise ValueError(f"must not lie before {_BOUNDS.floor.isoformat()} (the date floor)")
    if instant - (now or utc_now()) > MAX_FUTURE_SKEW:
        raise ValueError("lies more than 5 minutes in the future")
    return instant


def parse_happened(value: Any) -> datetime:
    return check_happened(parse_instant(value))


def parse_day(value: Any) -> date:
    """A calendar date, YYYY-MM-DD."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("must be a date such as 2026-03-09")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("is not a valid calendar date") from exc


def parse_planned(value: Any) -> date:
    """A planned date: from the date floor to 2100-12-31."""
    day = parse_day(value)
    if not _BOUNDS.floor <= day <= LAST_PLANNED_DAY:
        raise ValueError(
            f"must lie between {_BOUNDS.floor.isoformat()} and {LAST_PLANNED_DAY.isoformat()}"
        )
    return day


def clamp_as_of(instant: datetime) -> datetime:
    """Time travel to any instant: a later one means now (the log holds nothing later)."""
    now = utc_now()
    return now if instant > now else instant


def _visible(value: str, allowed: str = "") -> str:
    """Refuse control, format (bidi marks, zero-width), surrogate and line or paragraph
    separator characters in text, except those `allowed`."""
    for char in value:
        if char not in allowed and unicodedata.category(char) in _HIDDEN:
            raise ValueError(
                f"must not contain control, format or bidi characters (U+{ord(char):04X})"
            )
    return value


# Private-use and unassigned code points stay allowed in text: rare characters of Chinese
# names are still written with them.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def check_identifier(value: str) -> str:
    """An identifier a partner gives: printable (no control, format, bidi or non-ASCII space
    characters), without leading or trailing spaces."""
    if not value.isprintable():
        raise ValueError(
            "must contain only printable characters (no control, format or bidi characters)"
        )
    if value != value.strip():
        raise ValueError("must not begin or end with a space")
    return value


def exact_json(value: Any) -> Any:
    """Partner JSON kept as given, but with every float turned into an exact Decimal."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {str(k): exact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_json(v) for v in value]
    return value


_JSON_SCALARS = frozenset({str, int, bool, type(None)})


def canonical_json(value: Any) -> Any:
    """Parsed JSON with each number in one form: `3`, `3.0` and `3e0` are the same number,
    so an integral float becomes the int it equals (other floats are already one value).
    Parsed JSON's exact types go the short way (no call for a string or an int)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _JSON_SCALARS else canonical_json(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _JSON_SCALARS else canonical_json(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: canonical_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_json(v) for v in value]
    return value


def _positive(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise ValueError("must be greater than zero")
    return amount


@dataclass(frozen=True)
class _DateSchema:
    """The JSON schema of a bounded date or instant, stating the bounds in force when the
    document is made (the floor is a setting)."""

    happened: bool

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        floor = _BOUNDS.floor.isoformat()
        if self.happened:
            return {
                "type": "string",
                "format": "date-time",
                "description": f"when it happened: from {floor}T00:00:00+08:00 to 5 minutes "
                "ahead of the server's clock (RFC 3339 with offset)",
                "examples": ["2026-03-09T10:00:00+08:00"],
            }
        return {
            "type": "string",
            "format": "date",
            "description": f"a planned date from {floor} to {LAST_PLANNED_DAY.isoformat()}",
            "examples": ["2026-12-31"],
        }


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
Instant = Annotated[datetime, PlainValidator(parse_happened), _DateSchema(happened=True)]
Day = Annotated[date, PlainValidator(parse_planned), _DateSchema(happened=False)]
AsOf = Annotated[
    datetime,
    PlainValidator(parse_instant),
    AfterValidator(clamp_as_of),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "any RFC 3339 instant; a later one than now reads as now",
        }
    ),
]
Position = Annotated[
    int, Field(ge=0, le=MAX_POSITION, description="a ledger position (64-bit store bound)")
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT, description=f"a count, at most {MAX_COUNT}")]
# The same refusals as a JSON-schema pattern, for partners' generated clients (validation
# itself is `check_identifier` and `_visible`, whose messages name the character).
_FORMAT_RANGES = r"\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
_HIDDEN_RANGES = r"\u0000-\u001f" + _FORMAT_RANGES
_LINE_RANGES = r"\u0000-\u0008\u000b\u000c\u000e-\u001f" + _FORMAT_RANGES
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=IDENTIFIER_LENGTH,
        description=f"an identifier: 1 to {IDENTIFIER_LENGTH} printable characters",
        json_schema_extra={"pattern": f"^[^\\s{_HIDDEN_RANGES}]([^{_HIDDEN_RANGES}]*[^\\s])?$"},
    ),
    AfterValidator(check_identifier),
]
Text = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": f"^[^{_HIDDEN_RANGES}]*$"}),
    AfterValidator(_visible),
]
LongText = Annotated[
    str,
    Field(min_length=1, max_length=4000, json_schema_extra={"pattern": f"^[^{_LINE_RANGES}]*$"}),
    AfterValidator(lambda value: _visible(value, "\n\r\t")),
]
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|Q[1-4])?$"


def check_period_year(period: str) -> str:
    """A reporting period (`2026`, `2026Q3`, `2026-07`) of a year from the floor to 2100."""
    if not _BOUNDS.floor.year <= int(period[:4]) <= LAST_PLANNED_DAY.year:
        raise ValueError(
            f"the year must lie between {_BOUNDS.floor.year} and {LAST_PLANNED_DAY.year}"
        )
    return period


ReportingPeriod = Annotated[
    str,
    Field(pattern=PERIOD_PATTERN, description="2026, 2026Q3 or 2026-07; year up to 2100"),
    AfterValidator(check_period_year),
]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 region code")]


def identifier_problem(value: Any) -> str | None:
    """Why a CloudEvents attribute is not an acceptable identifier, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not 1 <= len(value) <= IDENTIFIER_LENGTH:
        return f"must be 1 to {IDENTIFIER_LENGTH} characters"
    try:
        check_identifier(value)
    except ValueError as exc:
        return str(exc)
    return None


def instant_problem(value: Any, now: datetime) -> str | None:
    """Why a CloudEvents `time` is not an acceptable instant of something that happened."""
    try:
        check_happened(parse_instant(value), now)
    except ValueError as exc:
        return str(exc)
    return None


class WireModel(BaseModel):
    """Base of request bodies: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")
