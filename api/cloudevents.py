"""CloudEvents 1.0 over HTTP: structured, batch and binary content modes, turned into the
application's PartnerEvent (or a Problem for that one event)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from api.errors import Problem, problem_for, validation_errors
from api.event_types import EVENT_TYPES
from api.fields import canonical_json, identifier_problem, instant_problem, parse_instant
from api.observability import Metrics
from application.gateway import EventResult, Meta, PartnerEvent, PartnerEvents
from application.ledger import utc_now
from domain.common import Actor
from infrastructure.notary import Notary
from infrastructure.principals import Principal

STRUCTURED = ("application/cloudevents+json", "application/json")
BATCH = "application/cloudevents-batch+json"
MAX_BATCH = 1000
MAX_DEPTH = 1024  # orjson's nesting limit: deeper JSON is refused before it is parsed
REQUIRED = ("specversion", "id", "source", "type", "data")
CE_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "subject", "datacontenttype")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit"):
            raise Problem(
                400, f"the body nests arrays and objects over {MAX_DEPTH} levels deep, the limit"
            ) from exc
        raise Problem(400, "the body is not valid JSON") from exc


def binary_event(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """Binary content mode: attributes in `ce-` headers, `data` as the body."""
    event: dict[str, Any] = {
        name[3:]: value for name, value in headers.items() if name.lower().startswith("ce-")
    }
    event["data"] = parse_json(body) if body else None
    return event


def digest(event: dict[str, Any]) -> str:
    """Events compare as parsed JSON: keys sorted and each number in one form (`3` and
    `3.0` are the same number), so formatting never matters."""
    canonical = orjson.dumps(canonical_json(event), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def to_partner_event(raw: Any, principal: Principal, now: datetime) -> PartnerEvent:
    """Validate one event's envelope, authority and data; raise the Problem it answers with."""
    if not isinstance(raw, dict):
        raise Problem(
            422, "an event must be a JSON object", [{"field": "body", "message": "not an object"}]
        )
    missing = [
        {"field": name, "message": "is required"}
        for name in REQUIRED
        if raw.get(name) is None or raw.get(name) == ""
    ]
    if missing:
        raise Problem(422, "the event lacks required CloudEvents attributes", missing)
    wrong = [
        {"field": name, "message": "must be a string"}
        for name in ("specversion", "id", "source", "type")
        if not isinstance(raw[name], str)
    ]
    # The event id (and the optional subject) name the event for good: a bounded,
    # printable identifier, so no control or bidi character reaches a receipt or a log.
    wrong.extend(
        {"field": name, "message": problem}
        for name, given in (
            ("id", isinstance(raw["id"], str)),
            ("subject", raw.get("subject") is not None),
        )
        if given and (problem := identifier_problem(raw[name])) is not None
    )
    if raw["specversion"] != "1.0":
        wrong.append({"field": "specversion", "message": 'must be "1.0"'})
    if not isinstance(raw["data"], dict):
        wrong.append({"field": "data", "message": "must be a JSON object"})
    if wrong:
        raise Problem(422, "the event's attributes are malformed", wrong)
    kind = EVENT_TYPES.get(raw["type"])
    if kind is None:
        raise Problem(
            422,
            f"unknown event type {raw['type']!r}",
            [{"field": "type", "message": "is not an event type of the contract"}],
        )
    if principal.partner_id is None or raw["source"] != f"/partners/{principal.partner_id}":
        raise Problem(403, "source must be /partners/<your partner id>")
    if principal.role != kind.role:
        raise Problem(403, f"events of type {raw['type']} are posted by the {kind.role} role")
    occurred_at = now
    if raw.get("time") is not None:
        problem = instant_problem(raw["time"], now)
        if problem is not None:
            raise Problem(422, "time is not acceptable", [{"field": "time", "message": problem}])
        occurred_at = parse_instant(raw["time"])
    try:
        data = kind.model.model_validate(raw["data"])
    except ValidationError as exc:
        errors = validation_errors(list(exc.errors()), prefix="data")
        raise Problem(422, "data does not match the schema of its type", errors) from exc
    actor = Actor(
        name=principal.name,
        role=principal.role,
        partner_id=principal.partner_id,
        source=raw["source"],
        event_id=raw["id"],
    )
    return PartnerEvent(
        source=raw["source"],
        event_id=raw["id"],
        event_type=raw["type"],
        digest=digest(raw),
        command=kind.command(data, principal.partner_id),
        meta=Meta(occurred_at=occurred_at, actor=actor),
    )


def result_body(result: EventResult, notary: Notary) -> dict[str, Any]:
    """The contract's result object, with the ledger's signed receipt."""
    receipt = notary.receipt(
        result.source, result.event_id, result.digest, result.position, result.recorded_at
    )
    return {
        "id": result.event_id,
        "source": result.source,
        "type": result.event_type,
        "duplicate": result.duplicate,
        "stream": {"kind": result.kind, "id": str(result.stream_id)},
        "version": result.version,
        "position": result.position,
        **result.extra,
        "receipt": {"note": receipt, "verifier_key": notary.verifier_key},
    }


def record_one(
    events: PartnerEvents, notary: Notary, raw: Any, principal: Principal
) -> tuple[int, dict[str, Any]]:
    """Record one event; refusals raise their Problem."""
    result = events.record(to_partner_event(raw, principal, utc_now()))
    return (200 if result.duplicate else 201), result_body(result, notary)


def record_batch(
    events: PartnerEvents, notary: Notary, raws: list[Any], principal: Principal
) -> list[dict[str, Any]]:
    """A batch is not atomic: each event is recorded as if posted alone, with its own status
    (the gateway saves runs of independent events together: `PartnerEvents.record_many`)."""
    parsed: list[PartnerEvent | Exception] = []
    for raw in raws:
        try:
            parsed.append(to_partner_event(raw, principal, utc_now()))
        except Exception as exc:  # refused before recording: its own result
            parsed.append(exc)
    valid = [p for p in parsed if isinstance(p, PartnerEvent)]
    recorded = iter(events.record_many(valid))
    results = []
    for raw, item in zip(raws, parsed, strict=True):
        outcome = next(recorded) if isinstance(item, PartnerEvent) else item
        if isinstance(outcome, Exception):
            problem = problem_for(outcome)
            status, body = problem.status, problem.body()
            if isinstance(raw, dict):
                body = {k: raw.get(k) for k in ("id", "source", "type")} | body
        else:
            status, body = (200 if outcome.duplicate else 201), result_body(outcome, notary)
        results.append({**body, "status": status})
    return results


def count(metrics: Metrics, results: list[dict[str, Any]]) -> None:
    """Count first recordings by type, and the highest position written."""
    for result in results:
        if result.get("status") == 201:
            metrics.events.labels(result["type"]).inc()
            metrics.saw_position(result["position"])
