"""Dispute commands and reads; partners (mediator, arbitrator, court) read only theirs.

Each staff command route builds its typed command from the body and hands it to one method
of the dispute desk, with the caller's Idempotency-Key and If-Match."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api import case_read_models as c
from api import dispute_bodies as b
from api import read_models as m
from api.complaint_bodies import Command
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
from api.errors import Problem
from api.fields import AsOf
from api.read_models import documented
from api.responses import JSONBody, ReadBody
from application.commands import CommandKey, CommandResult
from application.disputes import (
    ApplyConfirmation,
    CloseDispute,
    DisputeDesk,
    ExtendMediation,
    OpenDispute,
    RecordPerformance,
    RequestArbitration,
    RequestEnforcement,
    RequestMediation,
    WithdrawDispute,
)
from application.gateway import Meta
from application.ledger import utc_now
from infrastructure.principals import Principal

router = APIRouter(tags=["disputes"])
PARTNERS = ("mediator", "arbitrator", "court")
Staff = Annotated[Principal, Depends(allow("disputes.command"))]
Reader = Annotated[Principal, Depends(allow("disputes.read"))]
C = TypeVar("C")


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


@dataclass(frozen=True)
class StaffCall:
    """A staff command's caller with its Idempotency-Key and If-Match headers."""

    caller: Principal
    desk: DisputeDesk
    idempotency_key: str | None
    if_match: str | None

    async def run(
        self,
        handle: Callable[[C, Meta, CommandKey | None, int | None], CommandResult],
        command: C,
        dispute_id: UUID,
        action: str,
        body: Command,
    ) -> JSONBody:
        """Hand the command to the application, keyed by the request's digest."""
        args = body.model_dump(exclude={"occurred_at", "evidence"})
        key = command_key(
            self.caller, self.idempotency_key, f"disputes/{dispute_id}/{action}", args
        )
        meta = _meta(self.caller, body)
        result = await run_in_threadpool(
            handle, command, meta, key, if_match_version(self.if_match)
        )
        return command_response(result)


def _staff_call(
    caller: Staff,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> StaffCall:
    return StaffCall(caller, services.disputes, idempotency_key, if_match)


Call = Annotated[StaffCall, Depends(_staff_call)]
DONE: dict[int | str, dict[str, Any]] = {200: {"description": "the dispute as it now stands"}}


@router.post("/v1/disputes/{dispute_id}/mediation", responses=DONE)
async def dispute_mediation(dispute_id: UUID, body: b.MediationBody, call: Call) -> JSONBody:
    """`mediation` on a dispute."""
    command = RequestMediation(dispute_id, body.mediator)
    return await call.run(call.desk.request_mediation, command, dispute_id, "mediation", body)


@router.post("/v1/disputes/{dispute_id}/mediation-extension", responses=DONE)
async def dispute_mediation_extension(
    dispute_id: UUID, body: b.ExtensionBody, call: Call
) -> JSONBody:
    """`mediation-extension` on a dispute."""
    command = ExtendMediation(dispute_id, body.until, body.consent)
    return await call.run(
        call.desk.extend_mediation, command, dispute_id, "mediation-extension", body
    )


@router.post("/v1/disputes/{dispute_id}/arbitration", responses=DONE)
async def dispute_arbitration(dispute_id: UUID, body: b.ArbitrationBody, call: Call) -> JSONBody:
    """`arbitration` on a dispute."""
    command = RequestArbitration(dispute_id, body.arbitrator, body.consent)
    return await call.run(call.desk.request_arbitration, command, dispute_id, "arbitration", body)


@router.post("/v1/disputes/{dispute_id}/confirmation", responses=DONE)
async def dispute_confirmation(dispute_id: UUID, body: b.CourtBody, call: Call) -> JSONBody:
    """`confirmation` on a dispute."""
    command = ApplyConfirmation(dispute_id, body.court)
    return await call.run(call.desk.apply_confirmation, command, dispute_id, "confirmation", body)


@router.post("/v1/disputes/{dispute_id}/enforcement", responses=DONE)
async def dispute_enforcement(dispute_id: UUID, body: b.CourtBody, call: Call) -> JSONBody:
    """`enforcement` on a dispute."""
    command = RequestEnforcement(dispute_id, body.court)
    return await call.run(call.desk.request_enforcement, command, dispute_id, "enforcement", body)


@router.post("/v1/disputes/{dispute_id}/performed", responses=DONE)
async def dispute_performed(dispute_id: UUID, body: b.PerformedBody, call: Call) -> JSONBody:
    """`performed` on a dispute."""
    command = RecordPerformance(dispute_id, body.amount, body.remittance_ref)
    return await call.run(call.desk.record_performance, command, dispute_id, "performed", body)


@router.post("/v1/disputes/{dispute_id}/withdraw", responses=DONE)
async def dispute_withdraw(dispute_id: UUID, body: b.ReasonBody, call: Call) -> JSONBody:
    """`withdraw` on a dispute."""
    command = WithdrawDispute(dispute_id, body.reason)
    return await call.run(call.desk.withdraw, command, dispute_id, "withdraw", body)


@router.post("/v1/disputes/{dispute_id}/close", responses=DONE)
async def dispute_close(dispute_id: UUID, body: b.ReasonBody, call: Call) -> JSONBody:
    """`close` on a dispute."""
    command = CloseDispute(dispute_id, body.reason)
    return await call.run(call.desk.close, command, dispute_id, "close", body)


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
    as_of: Annotated[AsOf | None, Query(description="RFC 3339")] = None,
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
