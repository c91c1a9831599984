"""An orjson transcoder that round-trips Decimal, UUID, aware datetime, date, tuples and the
domain's value dataclasses exactly.

orjson writes UUIDs, datetimes and dataclasses natively and never hands them to `default=`,
so the object is walked first and every non-JSON type is tagged: `{"#": tag, "v": value}`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Transcoder

TAG = "#"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Leaves stored as they are (bool is checked by exact type: it is not an int here).
_PLAIN = frozenset({str, bool, type(None)})
# What orjson decodes into that may hold tags.
_CONTAINERS = frozenset({dict, list})


# A value `decode_ready` kept as an object: (the container it sits in, its key there, it).
Slot = tuple[Any, Any, Any]


class NotPlain(Exception):
    """Stored state that `decode_ready` leaves to the full decoder (a set, a value dataclass
    with a `__post_init__` or stored with other fields than it has now)."""


class TranscodingError(TypeError):
    """An object the ledger refuses to store (a float, a naive datetime, an unknown type)."""


class OrjsonTranscoder(Transcoder):
    """Encodes event state as compact JSON bytes with tagged exact types."""

    def __init__(self, dataclass_types: Iterable[type[Any]] = ()) -> None:
        self._by_name: dict[str, type[Any]] = {}
        self._names: dict[type[Any], str] = {}
        self._fields: dict[type[Any], tuple[str, ...]] = {}
        for cls in dataclass_types:
            self.register(cls)

    def register(self, cls: type[Any]) -> None:
        """Allow a frozen value dataclass to be stored under its module-qualified name."""
        if not dataclasses.is_dataclass(cls):
            raise TranscodingError(f"{cls!r} is not a dataclass")
        name = f"{cls.__module__}:{cls.__qualname__}"
        self._by_name[name] = cls
        self._names[cls] = name
        self._fields[cls] = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._tag(obj))
        except orjson.JSONEncodeError as exc:  # a mapping key that is not a string
            raise TranscodingError(str(exc)) from exc

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def decode_ready(
        self, data: bytes, leaf: Callable[[Any], Any], keep: type[Any]
    ) -> tuple[dict[str, Any], list[Slot]] | None:
        """The stored state as a read model shows it, without building the domain objects:
        each tagged leaf (decimal, instant, id, date, big integer) decoded and passed through
        `leaf`, tuples as lists, value dataclasses as dicts of their fields in field order —
        except those of type `keep`, which are built and listed with the container and key
        they sit at, for the caller to replace. None when the state needs the full decoder
        (see `NotPlain`)."""
        slots: list[Slot] = []
        try:
            state = self._ready(orjson.loads(data), leaf, keep, slots)
        except NotPlain:
            return None
        if type(state) is not dict:
            return None
        return state, slots

    def _ready(
        self, obj: Any, leaf: Callable[[Any], Any], keep: type[Any], slots: list[Slot]
    ) -> Any:
        kind = type(obj)
        if kind is list:
            return self._ready_list(obj, leaf, keep, slots)
        if kind is not dict:
            return obj
        tag = obj.get(TAG)
        if tag is None:
            return self._ready_dict(obj, leaf, keep, slots)
        value = obj["v"]
        if tag == "dec":
            return leaf(Decimal(value))
        if tag == "dt":
            return leaf(datetime.fromisoformat(value))
        if tag == "dc":
            cls = self._by_name[obj["t"]]
            fields = self._fields[cls]
            if hasattr(cls, "__post_init__") or len(value) != len(fields):
                raise NotPlain(obj["t"])
            if cls is keep:
                return cls(**self._untag_dict(value))
            ready = self._ready
            try:
                parts = {f: ready(value[f], leaf, keep, slots) for f in fields}
            except KeyError as exc:
                raise NotPlain(obj["t"]) from exc
            for f, v in parts.items():
                if type(v) is keep:
                    slots.append((parts, f, v))
            return parts
        if tag == "uuid":
            return leaf(UUID(value))
        if tag == "tuple":
            return self._ready_list(value, leaf, keep, slots)
        if tag == "date":
            return leaf(date.fromisoformat(value))
        if tag == "int":
            return leaf(int(value))
        if tag == "dict":
            return self._ready_dict(value, leaf, keep, slots)
        raise NotPlain(tag)  # a set (shown in its own order), or an unknown tag

    def _ready_dict(
        self, obj: dict[str, Any], leaf: Callable[[Any], Any], keep: type[Any], slots: list[Slot]
    ) -> dict[str, Any]:
        ready = self._ready
        found = {
            k: v if type(v) not in _CONTAINERS else ready(v, leaf, keep, slots)
            for k, v in obj.items()
        }
        for k, v in found.items():
            if type(v) is keep:
                slots.append((found, k, v))
        return found

    def _ready_list(
        self, obj: list[Any], leaf: Callable[[Any], Any], keep: type[Any], slots: list[Slot]
    ) -> list[Any]:
        ready = self._ready
        found = [v if type(v) not in _CONTAINERS else ready(v, leaf, keep, slots) for v in obj]
        for i, v in enumerate(found):
            if type(v) is keep:
                slots.append((found, i, v))
        return found

    def _tag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is dict:
            return self._tag_dict(obj)
        if kind is list:
            return self._tag_list(obj)
        if kind is Decimal:  # the commonest tagged leaf: money
            return {TAG: "dec", "v": str(obj)}
        name = self._names.get(kind)
        if name is not None:
            tag = self._tag
            fields = {
                f: v if type(v := getattr(obj, f)) in _PLAIN else tag(v) for f in self._fields[kind]
            }
            return {TAG: "dc", "t": name, "v": fields}
        return self._tag_other(obj)

    def _tag_dict(self, obj: dict[Any, Any]) -> Any:
        tag = self._tag
        tagged = {
            k: v if type(v) in _PLAIN else tag(v)  # no call for the common leaves
            for k, v in obj.items()  # orjson refuses keys that are not strings
        }
        return {TAG: "dict", "v": tagged} if TAG in tagged else tagged

    def _tag_list(self, obj: Iterable[Any]) -> list[Any]:
        tag = self._tag
        return [item if type(item) in _PLAIN else tag(item) for item in obj]

    def _tag_other(self, obj: Any) -> Any:
        """Everything but strings, containers and value dataclasses (subclasses included)."""
        if isinstance(obj, str):
            return obj
        if isinstance(obj, int):
            return obj if _INT64_MIN <= obj <= _INT64_MAX else {TAG: "int", "v": str(obj)}
        if isinstance(obj, Decimal):
            return {TAG: "dec", "v": str(obj)}
        if isinstance(obj, datetime):
            if obj.tzinfo is None or obj.utcoffset() is None:
                raise TranscodingError("naive datetimes are not stored; use aware UTC")
            return {TAG: "dt", "v": obj.isoformat()}
        if isinstance(obj, date):
            return {TAG: "date", "v": obj.isoformat()}
        if isinstance(obj, UUID):
            return {TAG: "uuid", "v": obj.hex}
        if isinstance(obj, list):
            return self._tag_list(obj)
        if isinstance(obj, tuple):
            return {TAG: "tuple", "v": self._tag_list(obj)}
        if isinstance(obj, set | frozenset):
            return {TAG: "set", "v": sorted(self._tag_list(obj), key=repr)}
        if isinstance(obj, dict):
            return self._tag_dict(obj)
        raise TranscodingError(f"cannot store an object of type {type(obj).__name__}")

    def _untag(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is list:
            return self._untag_list(obj)
        if kind is not dict:
            return obj
        tag = obj.get(TAG)
        if tag is None:
            return self._untag_dict(obj)
        value = obj["v"]
        if tag == "dec":
            return Decimal(value)
        if tag == "dc":
            return self._by_name[obj["t"]](**self._untag_dict(value))
        if tag == "dt":
            return datetime.fromisoformat(value)
        if tag == "uuid":
            return UUID(value)
        if tag == "tuple":
            return tuple(self._untag_list(value))
        if tag == "date":
            return date.fromisoformat(value)
        if tag == "int":
            return int(value)
        if tag == "set":
            return set(self._untag_list(value))
        if tag == "dict":
            return self._untag_dict(value)
        raise TranscodingError(f"unknown tag {tag!r} in stored state")

    def _untag_dict(self, obj: dict[str, Any]) -> dict[str, Any]:
        untag = self._untag
        return {k: v if type(v) not in _CONTAINERS else untag(v) for k, v in obj.items()}

    def _untag_list(self, obj: list[Any]) -> list[Any]:
        untag = self._untag
        return [item if type(item) not in _CONTAINERS else untag(item) for item in obj]
