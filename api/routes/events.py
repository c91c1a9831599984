"""POST /v1/events: partner events, single or batch, structured or binary mode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api import cloudevents as ce
from api.deps import bearer, principal, runtime
from api.errors import Problem
from api.responses import JSONBody

router = APIRouter(tags=["partner events"])

EVENT_BODY_SCHEMA: dict[str, Any] = {
    "required": True,
    "content": {
        "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/PartnerEvent"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/PartnerEvent"}},
        "application/cloudevents-batch+json": {
            "schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": ce.MAX_BATCH,
                "items": {"$ref": "#/components/schemas/PartnerEvent"},
            }
        },
    },
}


@router.post(
    "/v1/events",
    status_code=201,
    # The caller is resolved in the body, not by FastAPI's dependency solver (~0.1 ms of a
    # worker's CPU per request on this, the hottest route), so its bearer scheme is declared.
    openapi_extra={"requestBody": EVENT_BODY_SCHEMA, "security": [{"HTTPBearer": []}]},
    responses={
        200: {"description": "a duplicate of an event already recorded, or a batch's results"},
        201: {"description": "the event was recorded"},
    },
)
async def post_events(request: Request) -> JSONBody:
    """Record one partner event (201; a duplicate 200) or a batch of up to 1000 (200)."""
    rt = await runtime(request)
    caller = await principal(request, rt, await bearer(request))
    services, metrics, notary = rt.services, rt.metrics, rt.notary
    content_type = ce.media_type(request.headers.get("content-type"))
    body = await request.body()
    if "ce-specversion" in request.headers:
        raw = ce.binary_event(request.headers, body)
        status, result = await run_in_threadpool(
            ce.record_one, services.events, notary, raw, caller
        )
        ce.count(metrics, [{**result, "status": status}])
        return JSONBody(result, status_code=status)
    if content_type == ce.BATCH:
        batch = ce.parse_json(body)
        if not isinstance(batch, list) or not 1 <= len(batch) <= ce.MAX_BATCH:
            raise Problem(
                422,
                f"a batch is a JSON array of 1 to {ce.MAX_BATCH} events",
                [{"field": "body", "message": "not an array of 1 to 1000 events"}],
            )
        results = await run_in_threadpool(ce.record_batch, services.events, notary, batch, caller)
        ce.count(metrics, results)
        return JSONBody(results, status_code=200)
    if content_type not in ce.STRUCTURED:
        raise Problem(415, "use application/cloudevents+json, application/json or a batch")
    raw = ce.parse_json(body)
    status, result = await run_in_threadpool(ce.record_one, services.events, notary, raw, caller)
    ce.count(metrics, [{**result, "status": status}])
    return JSONBody(result, status_code=status)
