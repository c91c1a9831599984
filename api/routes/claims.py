"""Reads of claims and hospital statements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api import read_models as m
from api.deps import ServicesDep, allow, hospital_scope, insurer_scope
from api.errors import Problem
from api.fields import AsOf
from api.responses import ReadBody, RenderedBody
from infrastructure.principals import Principal

router = APIRouter(tags=["claims"])
Reader = Annotated[Principal, Depends(allow("claims.read"))]


@router.get("/v1/claims", responses=m.documented(m.ClaimsFound, "the claims found"))
async def find_claims(
    services: ServicesDep,
    caller: Reader,
    encounter_id: Annotated[str, Query(min_length=1, max_length=200)],
    hospital: Annotated[str | None, Query(description="partner id; implied for hospitals")] = None,
) -> ReadBody:
    """Find a claim by encounter id (a hospital finds only its own, an insurer only those
    under its policies)."""
    owner = hospital_scope(caller) or hospital
    if owner is None:
        raise Problem(
            422,
            "name the hospital",
            [{"field": "hospital", "message": "is required for your role"}],
        )
    found = await run_in_threadpool(
        services.claims.by_encounter, owner, encounter_id, insurer_scope(caller)
    )
    return ReadBody({"items": [view.body for view in found]})


@router.get("/v1/claims/{claim_id}", responses=m.documented(m.Claim, "the claim"))
async def get_claim(
    claim_id: UUID,
    services: ServicesDep,
    caller: Reader,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AsOf | None, Query(description="RFC 3339; what the ledger knew then")] = None,
) -> ReadBody:
    """The claim's state, now or as the ledger knew it then (time travel)."""
    view = await run_in_threadpool(
        services.claims.view,
        claim_id,
        hospital_scope(caller),
        as_of_version,
        as_of,
        insurer_scope(caller),
    )
    return ReadBody(view.body, headers={"ETag": f'"{view.version}"'})


@router.get(
    "/v1/claims/{claim_id}/history", responses=m.documented(m.History, "the claim's events")
)
async def claim_history(
    claim_id: UUID,
    services: ServicesDep,
    caller: Reader,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> RenderedBody:
    """Every event of the claim in order, with its position in the ledger."""
    body = await run_in_threadpool(
        services.claims.history_json,
        claim_id,
        hospital_scope(caller),
        proofs,
        insurer_scope(caller),
    )
    return RenderedBody(body)


@router.get(
    "/v1/claims/{claim_id}/settlement/preview",
    responses=m.documented(m.SettlementPreview, "the split if discharged now"),
)
async def settlement_preview(claim_id: UUID, services: ServicesDep, caller: Reader) -> ReadBody:
    """The split if discharged now; nothing is recorded."""
    scope = hospital_scope(caller)
    return await _read(services.claims.preview, claim_id, scope, insurer_scope(caller))


@router.get(
    "/v1/claims/{claim_id}/settlement/verify",
    responses=m.documented(m.SettlementVerification, "each settlement recomputed"),
)
async def settlement_verify(claim_id: UUID, services: ServicesDep, caller: Reader) -> ReadBody:
    """Recompute every settlement from history with the versions it recorded."""
    scope = hospital_scope(caller)
    return await _read(services.claims.verify, claim_id, scope, insurer_scope(caller))


@router.get(
    "/v1/hospitals/{partner_id}/statement",
    responses=m.documented(m.HospitalStatement, "the day's statement"),
)
async def hospital_statement(
    partner_id: str,
    services: ServicesDep,
    caller: Reader,
    day: Annotated[date, Query(alias="date")],
) -> ReadBody:
    """The day's settlements, adjustments, cancellations and remittances, with totals (for an
    insurer, of the claims under its policies)."""
    scope = hospital_scope(caller)
    if scope is not None and scope != partner_id:
        raise Problem(404, "no such hospital")
    return await _read(services.claims.statement, partner_id, day, insurer_scope(caller))


async def _read(read: Callable[..., dict[str, Any]], *args: Any) -> ReadBody:
    """A read run off the event loop, its JSON sent as the application built it."""
    return ReadBody(await run_in_threadpool(read, *args))
