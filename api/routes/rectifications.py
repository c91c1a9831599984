"""Rectification (消保整改) commands and reads: items, their histories, work queues and the
rectification report of a source.

Roles: compliance and supervisor open; supervisor extends; compliance verifies; compliance
and supervisor cancel; department principals (and compliance) plan, note progress and
submit — a department only on its own department's items, any other reading as unknown;
the auditor reads."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import rectification_bodies as b
from api import rectification_models as r
from api.deps import (
    IdempotencyKey,
    IfMatch,
    ServicesDep,
    allow,
    command_key,
    command_meta,
    command_response,
    if_match_version,
)
from api.fields import AsOf
from api.read_models import History, documented
from api.rectification_html import render
from api.responses import JSONBody, ReadBody
from application.ledger import utc_now
from application.rectification import Conditions
from application.rectification_queries import QueueFilter
from infrastructure.principals import Principal

router = APIRouter(tags=["rectification"])
Opener = Annotated[Principal, Depends(allow("rectifications.open"))]
Owner = Annotated[Principal, Depends(allow("rectifications.department"))]
Verifier = Annotated[Principal, Depends(allow("rectifications.verify"))]
Supervisor = Annotated[Principal, Depends(allow("rectifications.extend"))]
Canceller = Annotated[Principal, Depends(allow("rectifications.cancel"))]
Reader = Annotated[Principal, Depends(allow("rectifications.read"))]
STEP: dict[int | str, dict[str, Any]] = {200: {"description": "the item as it now stands"}}


def scope(caller: Principal) -> str | None:
    """A department sees its own department's items (none when its principal names none)."""
    return (caller.department or "") if caller.role == "department" else None


def _when(caller: Principal, if_match: str | None) -> Conditions:
    return Conditions(scope=scope(caller), if_match=if_match_version(if_match))


def _key(caller: Principal, key: str | None, path: str, body: b.Command) -> Any:
    return command_key(caller, key, path, body.model_dump())


@router.post("/v1/rectifications", status_code=201, responses={201: {"description": "opened"}})
async def open_item(
    body: b.OpenBody,
    caller: Opener,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Open an item from a source (or decided complaints, or a concluded report): 201 with
    its `id` and `due_date`."""
    meta = command_meta(caller, body.occurred_at)
    key = _key(caller, idempotency_key, "rectifications", body)
    result = await run_in_threadpool(services.rectifications.open, body.command(), meta, key)
    return command_response(result)


@router.post("/v1/rectifications/{item_id}/plan", responses=STEP)
async def plan(
    item_id: UUID,
    body: b.PlanBody,
    caller: Owner,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Record the measures (and milestones): the item becomes planned."""
    result = await run_in_threadpool(
        services.rectifications.plan,
        body.command(item_id),
        command_meta(caller, body.occurred_at),
        _when(caller, if_match),
        _key(caller, idempotency_key, f"rectifications/{item_id}/plan", body),
    )
    return command_response(result)


@router.post("/v1/rectifications/{item_id}/progress", responses=STEP)
async def progress(
    item_id: UUID,
    body: b.ProgressBody,
    caller: Owner,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Note progress with evidence (any number of times)."""
    result = await run_in_threadpool(
        services.rectifications.note_progress,
        body.command(item_id),
        command_meta(caller, body.occurred_at),
        _when(caller, if_match),
        _key(caller, idempotency_key, f"rectifications/{item_id}/progress", body),
    )
    return command_response(result)


@router.post("/v1/rectifications/{item_id}/submit", responses=STEP)
async def submit(
    item_id: UUID,
    body: b.SubmitBody,
    caller: Owner,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Submit for verification with the evidence of rectification."""
    result = await run_in_threadpool(
        services.rectifications.submit,
        body.command(item_id),
        command_meta(caller, body.occurred_at),
        _when(caller, if_match),
        _key(caller, idempotency_key, f"rectifications/{item_id}/submit", body),
    )
    return command_response(result)


@router.post("/v1/rectifications/{item_id}/verify", responses=STEP)
async def verify(
    item_id: UUID,
    body: b.VerifyBody,
    caller: Verifier,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Verify (compliance staff other than the owner): accepted closes the item (销号),
    rejected sends it back to in progress."""
    result = await run_in_threadpool(
        services.rectifications.verify,
        body.command(item_id),
        command_meta(caller, body.occurred_at),
        _when(caller, if_match),
        _key(caller, idempotency_key, f"rectifications/{item_id}/verify", body),
    )
    return command_response(result)


@router.post("/v1/rectifications/{item_id}/extend", responses=STEP)
async def extend(
    item_id: UUID,
    body: b.ExtendBody,
    caller: Supervisor,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Move the due date later (supervisor, who approves it), with the reason."""
    result = await run_in_threadpool(
        services.rectifications.extend,
        body.command(item_id),
        command_meta(caller, body.occurred_at),
        _when(caller, if_match),
        _key(caller, idempotency_key, f"rectifications/{item_id}/extend", body),
    )
    return command_response(result)


@router.post("/v1/rectifications/{item_id}/cancel", responses=STEP)
async def cancel(
    item_id: UUID,
    body: b.CancelBody,
    caller: Canceller,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Cancel the item with the reason."""
    result = await run_in_threadpool(
        services.rectifications.cancel,
        body.command(item_id),
        command_meta(caller, body.occurred_at),
        _when(caller, if_match),
        _key(caller, idempotency_key, f"rectifications/{item_id}/cancel", body),
    )
    return command_response(result)


@router.get("/v1/rectifications", responses=documented(r.RectificationQueue, "a page of the queue"))
async def queue(
    caller: Reader,
    services: ServicesDep,
    state: Annotated[str | None, Query(description="open, planned, in_progress, ...")] = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    severity: Annotated[str | None, Query(description="high, medium or low")] = None,
    overdue: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReadBody:
    """A work queue of items by state, department, severity and overdue; soonest due first
    (a department sees its own items)."""
    wanted = QueueFilter(state, department, severity, overdue)
    found = await run_in_threadpool(
        services.rectification_queries.queue, wanted, scope(caller), utc_now(), page, size
    )
    return ReadBody(found)


@router.get(
    "/v1/rectifications/report",
    responses={
        200: {
            "model": r.RectificationReport,
            "content": {"text/html": {}},
            "description": "JSON, or Chinese HTML when asked",
        }
    },
)
async def rectification_report(
    caller: Reader,
    services: ServicesDep,
    request: Request,
    source_kind: Annotated[str, Query(description="inspection, evaluation, internal_audit ...")],
    source_ref: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    """The rectification report of one source from the items' histories (JSON; Chinese
    HTML with `Accept: text/html`); a department's holds its own items."""
    report = await run_in_threadpool(
        services.rectification_queries.report, source_kind, source_ref, utc_now(), scope(caller)
    )
    if "text/html" in request.headers.get("accept", ""):
        return Response(render(report), media_type="text/html; charset=utf-8")
    return ReadBody(report)


@router.get(
    "/v1/rectifications/{item_id}", responses=documented(r.RectificationItemRead, "the item")
)
async def get_item(
    item_id: UUID,
    caller: Reader,
    services: ServicesDep,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AsOf | None, Query(description="RFC 3339; what the ledger knew then")] = None,
) -> ReadBody:
    """The item with `state`, `due_date`, `overdue` and `closed_late` (time travel with
    `as_of_version` or `as_of`)."""
    view = await run_in_threadpool(
        services.rectification_queries.view,
        item_id,
        utc_now(),
        scope(caller),
        as_of_version,
        as_of,
    )
    return ReadBody(view, headers={"ETag": f'"{view["version"]}"'})


@router.get(
    "/v1/rectifications/{item_id}/history", responses=documented(History, "the item's events")
)
async def item_history(
    item_id: UUID,
    caller: Reader,
    services: ServicesDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> ReadBody:
    """Every event of the item in order, with its ledger position."""
    events = await run_in_threadpool(
        services.rectification_queries.history, item_id, scope(caller), proofs
    )
    return ReadBody({"events": events})
