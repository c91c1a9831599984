"""Read models: JSON-ready views of aggregates and events (money as decimal strings)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from domain.claims import Settlement
from domain.common import CENT

META_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "occurred_at", "actor", "originator_topic"}
)
MONEY_PLACES = CENT


def rfc3339(instant: datetime) -> str:
    """Aware instant as RFC 3339 in UTC with a Z suffix."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money(amount: Decimal) -> str:
    """Money as a decimal string with two places."""
    return str(amount.quantize(MONEY_PLACES))


def json_ready(value: Any) -> Any:
    """Convert stored values to JSON: decimals and ids as strings, instants as RFC 3339."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return json_ready(value.value)
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def event_type(event: Any) -> str:
    """The event's short name as shown in histories (`SettlementCalculated`)."""
    return type(event).__qualname__.rsplit(".", 1)[-1]


def event_data(event: Any) -> dict[str, Any]:
    """The business payload of a stored event, without its envelope (sealed values kept
    sealed, for the reader's opener)."""
    return {
        key: value
        for key, value in vars(event).items()
        if key not in META_FIELDS and not key.startswith("_")
    }


def history_entry(event: Any, position: int | None) -> dict[str, Any]:
    """One event of a history, as the contract shows it."""
    occurred_at = getattr(event, "occurred_at", None) or event.timestamp
    return {
        "version": event.originator_version,
        "type": event_type(event),
        "occurred_at": rfc3339(occurred_at),
        "recorded_at": rfc3339(event.timestamp),
        "actor": json_ready(getattr(event, "actor", None)),
        "position": position,
        "data": event_data(event),
    }


def settlement_view(settlement: Settlement) -> dict[str, Any]:
    """The contract's `settlement` object: the four amounts, every intermediate, the reasons,
    the inputs and the reference-data versions used."""
    split, inputs = settlement.split, settlement.inputs
    return {
        "medfee": money(split.medfee),
        "social_insurance_paid": money(split.si_paid),
        "commercial_paid": money(split.commercial),
        "patient_pays": money(split.patient_pays),
        "over_limit": money(split.over_limit),
        "b_prepay": money(split.b_prepay),
        "in_scope": money(split.in_scope),
        "si_deductible": money(split.si_deductible),
        "si_computed": money(split.si_computed),
        "si_difference": None if split.si_difference is None else money(split.si_difference),
        "covered": money(split.covered),
        "commercial_base": money(split.base),
        "commercial_deductible": money(split.c_deduct),
        "commercial_ratio": None if split.ratio is None else str(split.ratio),
        "reasons": list(split.reasons),
        "inputs": {
            "social_insurance": inputs.social_insurance,
            "fund_paid_before": money(inputs.fund_paid_this_year),
            "deductible_used_before": money(inputs.deductible_used),
            "limit_used_before": money(inputs.limit_used),
            "platform_fund_paid": (
                None if inputs.platform_fund_paid is None else money(inputs.platform_fund_paid)
            ),
            "lines": len(inputs.lines),
        },
        "versions": json_ready(settlement.versions),
    }


def with_proofs(entries: list[dict[str, Any]], proofs: Any) -> list[dict[str, Any]]:
    """Each history entry with its inclusion proof against the latest checkpoint (None while
    unsealed, or when the store keeps no Merkle log)."""
    found = proofs.for_positions([e["position"] for e in entries]) if proofs else {}
    return [{**entry, "proof": found.get(entry["position"])} for entry in entries]
