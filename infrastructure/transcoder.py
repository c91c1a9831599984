"""An orjson transcoder that round-trips Decimal, UUID, aware datetime, date, tuples and the
domain's value dataclasses exactly.

orjson writes UUIDs, datetimes and dataclasses natively and never hands them to `default=`,
so the object is walked first and every non-JSON type is tagged: `{"#": tag, "v": value}`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
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
        self._unplain: set[str] = set()  # dataclasses `decode_ready` must build (a check)
        # Value dataclasses whose `__init__` only stores its arguments: decoded by filling
        # the instance's `__dict__` (a frozen dataclass's `__init__` sets each field
        # through `object.__setattr__`, most of a charge line's decoding).
        self._plain_names: dict[str, tuple[type[Any], tuple[str, ...]]] = {}
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
        if hasattr(cls, "__post_init__"):
            self._unplain.add(name)
        elif _fills_dict(cls):
            self._plain_names[name] = (cls, self._fields[cls])

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._tag(obj))
        except orjson.JSONEncodeError as exc:  # a mapping key that is not a string
            raise TranscodingError(str(exc)) from exc

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def decode_ready(
        self,
        data: bytes,
        leaf: Callable[[Any], Any],
        keep: type[Any],
        texts: Mapping[str, Callable[[str], Any]] | None = None,
    ) -> tuple[dict[str, Any], list[Slot]] | None:
        """The stored state as a read model shows it, without building the domain objects:
        each tagged leaf (decimal, instant, id, date, big integer) decoded and passed through
        `leaf`, tuples as lists, value dataclasses as dicts of their fields in field order —
        except those of type `keep`, which are built and listed with the container and key
        they sit at, for the caller to replace. A leaf whose tag is in `texts` is given by
        that function of its stored text instead (no object built for `leaf`). None when the
        state needs the full decoder (see `NotPlain`)."""
        walk = _ReadyWalk(self, leaf, keep, texts or {})
        try:
            state = walk.value(orjson.loads(data))
        except NotPlain:
            return None
        if type(state) is not dict:
            return None
        return state, walk.slots

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
            plain = self._plain_names.get(obj["t"])
            if plain is not None and tuple(value) == plain[1]:  # stored as `encode` writes
                instance = object.__new__(plain[0])
                instance.__dict__.update(self._untag_dict(value))
                return instance
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


def _fills_dict(cls: type[Any]) -> bool:
    """Whether the dataclass's instances are built by its generated `__init__` storing each
    field in `__dict__` as given: the generated `__init__` (dataclasses compiles it from a
    string) taking every field, no slots, no own `__new__`."""
    params = getattr(cls, "__dataclass_params__", None)
    init = getattr(cls.__init__, "__code__", None)
    return (
        params is not None
        and params.init
        and init is not None
        and init.co_filename == "<string>"
        and all(f.init for f in dataclasses.fields(cls))
        and not any("__slots__" in vars(c) or "__new__" in vars(c) for c in cls.__mro__[:-1])
    )


class _ReadyWalk:
    """One `decode_ready`: the walk of a loaded state, and the kept values it found.

    A kept value is built where its tag is; the container holding it then lists it in
    `slots`. `pending` counts kept values built and not yet listed, so only a container
    with a kept value among its own items looks through them."""

    __slots__ = (
        "by_name",
        "fields",
        "keep",
        "leaf",
        "pending",
        "slots",
        "texts",
        "unplain",
        "untag",
    )

    def __init__(
        self,
        transcoder: OrjsonTranscoder,
        leaf: Callable[[Any], Any],
        keep: type[Any],
        texts: Mapping[str, Callable[[str], Any]],
    ):
        self.texts = texts
        self.by_name = transcoder._by_name
        self.fields = transcoder._fields
        self.unplain = transcoder._unplain
        self.untag = transcoder._untag_dict
        self.leaf = leaf
        self.keep = keep
        self.slots: list[Slot] = []
        self.pending = 0

    def value(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is list:
            return self.items(obj)
        if kind is not dict:
            return obj
        tag = obj.get(TAG)
        if tag is None:
            return self.mapping(obj)
        value = obj["v"]
        text = self.texts.get(tag)
        if text is not None:
            return text(value)
        if tag == "dec":
            return self.leaf(Decimal(value))
        if tag == "dt":
            return self.leaf(datetime.fromisoformat(value))
        if tag == "dc":
            name = obj["t"]
            cls = self.by_name[name]
            fields = self.fields[cls]
            if name in self.unplain or len(value) != len(fields):
                raise NotPlain(name)
            if cls is self.keep:
                self.pending += 1
                return cls(**self.untag(value))
            if tuple(value) == fields:  # stored in field order, as `encode` writes them
                return self.mapping(value)
            try:
                return self.mapping({f: value[f] for f in fields})
            except KeyError as exc:
                raise NotPlain(name) from exc
        if tag == "uuid":
            return self.leaf(UUID(value))
        if tag == "tuple":
            return self.items(value)
        if tag == "date":
            return self.leaf(date.fromisoformat(value))
        if tag == "int":
            return self.leaf(int(value))
        if tag == "dict":
            return self.mapping(value)
        raise NotPlain(tag)  # a set (shown in its own order), or an unknown tag

    def mapping(self, obj: dict[str, Any]) -> dict[str, Any]:
        pending = self.pending
        value = self.value
        found = {k: v if type(v) not in _CONTAINERS else value(v) for k, v in obj.items()}
        if self.pending != pending:
            keep = self.keep
            self.slots.extend((found, k, v) for k, v in found.items() if type(v) is keep)
            self.pending = pending
        return found

    def items(self, obj: list[Any]) -> list[Any]:
        pending = self.pending
        value = self.value
        found = [v if type(v) not in _CONTAINERS else value(v) for v in obj]
        if self.pending != pending:
            keep = self.keep
            self.slots.extend((found, i, v) for i, v in enumerate(found) if type(v) is keep)
            self.pending = pending
        return found
