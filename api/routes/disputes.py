"""Dispute commands and reads; partners (mediator, arbitrator, court) read only theirs.

(No `from __future__ import annotations`: command routes are made by a factory whose body
models FastAPI must see as real types.)"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime

from api import case_read_models as c
from api import dispute_bodies as b
from api import read_models as m
from api.complaint_bodies import Command
from api.deps import (
    IdempotencyKey,
    IfMatch,
    ServicesDep,
    command_key,
    command_meta,
    command_response,
    if_match_version,
    roles,
)
from api.errors import Problem
from api.read_models import documented
from api.responses import JSONBody, ReadBody
from application.disputes import OpenDispute
from application.gateway import Meta
from application.ledger import utc_now
from infrastructure.principals import Principal

router = APIRouter(tags=["disputes"])
STAFF = ("handler", "supervisor")
PARTNERS = ("mediator", "arbitrator", "court")
Staff = Annotated[Principal, Depends(roles(*STAFF))]
Reader = Annotated[Principal, Depends(roles(*STAFF, "auditor", *PARTNERS))]


def _meta(caller: Principal, body: Command) -> Meta:
    return command_meta(caller, body.occurred_at)


def _scope(caller: Principal) -> str | None:
    """A partner sees the disputes naming it; staff and auditors see all."""
    return (caller.partner_id or "") if caller.role in PARTNERS else None


@router.post("/v1/disputes", status_code=201, responses={201: {"description": "opened"}})
async def open_dispute(
    body: b.OpenBody, caller: Staff, services: ServicesDep, idempotency_key: IdempotencyKey = None
) -> JSONBody:
    """Open a dispute (from a complaint, a claim, or directly)."""
    command = OpenDispute(
        party=body.party.model_dump(),
        amount=body.amount,
        matter=body.matter,
        complaint_id=body.complaint_id,
        claim_id=body.claim_id,
    )
    key = command_key(caller, idempotency_key, "disputes", body.model_dump())
    result = await run_in_threadpool(services.disputes.open, command, _meta(caller, body), key)
    return command_response(result)


COMMANDS: dict[str, type[Command]] = {
    "mediation": b.MediationBody,
    "mediation-extension": b.ExtensionBody,
    "arbitration": b.ArbitrationBody,
    "confirmation": b.CourtBody,
    "enforcement": b.CourtBody,
    "performed": b.PerformedBody,
    "withdraw": b.ReasonBody,
    "close": b.ReasonBody,
}


def _command_route(action: str, model: type[Command]) -> None:
    async def command(
        dispute_id: UUID,
        body: model,  # type: ignore[valid-type]
        caller: Staff,
        services: ServicesDep,
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> JSONBody:
        given: Command = body
        args = given.model_dump(exclude={"occurred_at", "evidence"})
        key = command_key(caller, idempotency_key, f"disputes/{dispute_id}/{action}", args)
        result = await run_in_threadpool(
            services.disputes.act,
            dispute_id,
            action,
            args,
            _meta(caller, given),
            key,
            if_match_version(if_match),
        )
        return command_response(result)

    command.__doc__ = f"`{action}` on a dispute."
    router.add_api_route(
        f"/v1/disputes/{{dispute_id}}/{action}",
        command,
        methods=["POST"],
        name=f"dispute_{action.replace('-', '_')}",
        responses={200: {"description": "the dispute as it now stands"}},
    )


for _action, _model in COMMANDS.items():
    _command_route(_action, _model)


@router.get("/v1/disputes", responses=documented(c.DisputesAssigned, "the disputes naming you"))
async def list_disputes(
    caller: Reader,
    services: ServicesDep,
    assigned: Annotated[str, Query(pattern="^me$", description="the disputes naming you")],
) -> ReadBody:
    """A mediator, arbitrator or court lists the disputes that name it."""
    if caller.partner_id is None:
        raise Problem(
            422,
            "only partners have assigned disputes",
            [{"field": "assigned", "message": "for mediators, arbitrators, courts"}],
        )
    items = await run_in_threadpool(services.dispute_queries.assigned, caller.partner_id, utc_now())
    return ReadBody({"items": items})


@router.get("/v1/disputes/{dispute_id}", responses=documented(c.Dispute, "the dispute"))
async def get_dispute(
    dispute_id: UUID,
    caller: Reader,
    services: ServicesDep,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AwareDatetime | None, Query(description="RFC 3339")] = None,
) -> ReadBody:
    """The dispute with its `state` and every window's due date and whether it was met."""
    view = await run_in_threadpool(
        services.dispute_queries.view, dispute_id, _scope(caller), utc_now(), as_of_version, as_of
    )
    return ReadBody(view, headers={"ETag": f'"{view["version"]}"'})


@router.get("/v1/disputes/{dispute_id}/history", responses=documented(m.History, "its events"))
async def dispute_history(
    dispute_id: UUID,
    caller: Reader,
    services: ServicesDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> ReadBody:
    """Every event of the dispute in order, with its ledger position."""
    events = await run_in_threadpool(
        services.dispute_queries.history, dispute_id, _scope(caller), proofs
    )
    return ReadBody({"events": events})
