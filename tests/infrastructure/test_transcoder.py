"""The orjson transcoder round-trips every exact type with its type intact."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.claims import ReferenceVersions, Settlement, Share
from domain.common import Actor
from domain.personal import Sealed
from domain.settlement import ChargeLine, SettlementInputs, calculate
from infrastructure.store import VALUE_TYPES
from infrastructure.transcoder import OrjsonTranscoder, TranscodingError

transcoder = OrjsonTranscoder(VALUE_TYPES)


def roundtrip(value: object) -> object:
    return transcoder.decode(transcoder.encode(value))


@pytest.mark.parametrize(
    "value",
    [
        Decimal("64008.00"),
        Decimal("0.10"),
        Decimal("-0.005"),
        uuid4(),
        datetime(2026, 3, 9, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 9, 18, 0, tzinfo=timezone(timedelta(hours=8))),
        date(2026, 2, 28),
    ],
)
def test_exact_types_come_back_with_the_same_type_and_value(value: object) -> None:
    back = roundtrip({"x": value})
    assert isinstance(back, dict)
    assert type(back["x"]) is type(value)
    assert back["x"] == value
    assert str(back["x"]) == str(value)


def test_decimal_keeps_its_trailing_zeros() -> None:
    back = roundtrip(Decimal("800.00"))
    assert isinstance(back, Decimal)
    assert str(back) == "800.00"


def test_aware_datetime_keeps_its_offset() -> None:
    cst = datetime(2026, 3, 9, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    back = roundtrip(cst)
    assert isinstance(back, datetime)
    assert back.utcoffset() == timedelta(hours=8)


def test_date_is_not_confused_with_datetime() -> None:
    back = roundtrip([date(2026, 1, 1), datetime(2026, 1, 1, tzinfo=UTC)])
    assert isinstance(back, list)
    assert type(back[0]) is date
    assert type(back[1]) is datetime


def test_tuples_sets_and_dicts_with_the_tag_key_survive() -> None:
    value = {"t": (1, "a"), "s": {"b", "a"}, "nested": {"#": "not a tag", "v": 1}}
    assert roundtrip(value) == value
    back = roundtrip(value)
    assert isinstance(back, dict)
    assert isinstance(back["t"], tuple)
    assert isinstance(back["s"], set)


def test_domain_value_objects_round_trip() -> None:
    line = ChargeLine("L1", "A001", "surgery", "A", Decimal("55000.00"), Decimal("5000.00"))
    inputs = SettlementInputs((line,), True, None, None)
    settlement = Settlement(
        calculate(inputs),
        inputs,
        ReferenceVersions("s", 1, "p", 2, "P1", 3),
        (Share(UUID(int=1), "fund_paid", Decimal("1.00")),),
    )
    actor = Actor("hospital one", "hospital", "h1", "/partners/h1", "e1")
    back = roundtrip({"settlement": settlement, "actor": actor})
    assert back == {"settlement": settlement, "actor": actor}
    assert isinstance(back, dict)
    assert isinstance(back["settlement"].split.medfee, Decimal)


def test_refuses_floats_naive_datetimes_and_unknown_types() -> None:
    with pytest.raises(TranscodingError):
        transcoder.encode({"amount": 1.5})
    with pytest.raises(TranscodingError):
        transcoder.encode(datetime(2026, 1, 1))
    with pytest.raises(TranscodingError):
        transcoder.encode(object())


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.decimals(allow_nan=False, allow_infinity=False)
        | st.uuids()
        | st.dates()
        | st.datetimes(timezones=st.just(UTC)),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )
)
def test_any_nesting_of_supported_values_round_trips(value: object) -> None:
    assert roundtrip(value) == value


def test_decode_ready_gives_json_values_and_the_places_of_kept_values() -> None:
    sealed = Sealed("subject", "box")
    line = ChargeLine("L1", "A001", "surgery", "A", Decimal("55000.00"))
    at = datetime(2026, 3, 9, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    ident = uuid4()
    data = transcoder.encode(
        {
            "at": at,
            "id": ident,
            "day": date(2026, 2, 28),
            "lines": [line],
            "who": sealed,
            "pair": (sealed, 2**70),
            "#": "escaped",
        }
    )
    found = transcoder.decode_ready(data, lambda v: f"<{v}>", Sealed)
    assert found is not None
    state, slots = found
    assert state == {
        "at": f"<{at}>",
        "id": f"<{ident}>",
        "day": "<2026-02-28>",
        "lines": [
            {
                "line_id": "L1",
                "code": "A001",
                "name": "surgery",
                "category": "A",
                "amount": "<55000.00>",
                "over_limit": "<0.00>",
                "prepay_ratio": None,
                "necessary": True,
            }
        ],
        "who": sealed,
        "pair": [sealed, f"<{2**70}>"],
        "#": "escaped",
    }
    assert list(state["lines"][0]) == [f.name for f in fields(ChargeLine)]
    assert [(key, value) for _, key, value in slots] == [(0, sealed), ("who", sealed)]
    assert slots[0][0] is state["pair"]
    assert slots[1][0] is state


def test_decode_ready_gives_a_tag_in_texts_from_its_stored_text() -> None:
    at = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    data = transcoder.encode({"at": at, "amount": Decimal("1.50"), "when": (at,)})
    found = transcoder.decode_ready(data, lambda v: f"<{v}>", Sealed, {"dt": lambda t: f"[{t}]"})
    assert found is not None
    assert found[0] == {
        "at": f"[{at.isoformat()}]",
        "amount": "<1.50>",
        "when": [f"[{at.isoformat()}]"],
    }


@pytest.mark.parametrize(
    "state",
    [
        b'{"x": {"#": "set", "v": [1]}}',
        b'{"x": {"#": "dc", "t": "domain.common:Actor", "v": {"name": "n", "role": "r"}}}',
        b'{"x": {"#": "what", "v": 1}}',
    ],
)
def test_decode_ready_leaves_sets_old_dataclasses_and_unknown_tags_to_decode(
    state: bytes,
) -> None:
    assert transcoder.decode_ready(state, str, Sealed) is None


@dataclass(frozen=True)
class _Doubled:
    """A value whose own `__init__` changes what it is given."""

    x: int

    def __init__(self, x: int) -> None:
        object.__setattr__(self, "x", x * 2)


@dataclass(frozen=True)
class _Checked:
    x: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", self.x + 1)


@dataclass(frozen=True, slots=True)
class _Slotted:
    x: int


def test_plain_value_dataclasses_decode_equal_to_those_built_by_their_init() -> None:
    """A charge line (a plain frozen dataclass) is decoded without its `__init__`; the
    instance equals the one `__init__` builds, its fields in the same order, and it
    encodes to the same bytes. Classes whose building is not storing their fields (their own
    `__init__`, a `__post_init__`, slots) are built by calling them, as before."""
    line = ChargeLine("L1", "A001", "surgery", "A", Decimal("55000.00"), Decimal("5000.00"))
    stored = transcoder.encode({"lines": [line]})
    back = transcoder.decode(stored)["lines"][0]
    assert type(back) is ChargeLine
    assert back == line
    assert list(vars(back)) == [f.name for f in fields(ChargeLine)]
    assert transcoder.encode({"lines": [back]}) == stored
    with pytest.raises(AttributeError):
        back.amount = Decimal("1")  # type: ignore[misc]

    own = OrjsonTranscoder([_Doubled, _Checked, _Slotted])
    assert own.decode(own.encode(_Doubled(1))) == _Doubled(2)  # stored x=2, built again: 4
    assert own.decode(own.encode(_Doubled(1))).x == 4
    assert own.decode(own.encode(_Checked(1))).x == 3
    assert own.decode(own.encode(_Slotted(1))) == _Slotted(1)
