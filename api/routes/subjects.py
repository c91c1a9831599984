"""Erasure of a person's personal data (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from api.deps import ServicesDep, allow
from api.fields import WireModel
from api.responses import JSONBody
from application.gateway import Meta
from application.ledger import utc_now
from domain.common import Actor
from infrastructure.principals import Principal

router = APIRouter(tags=["personal data"])
Admin = Annotated[Principal, Depends(allow("erase"))]


class ErasureBody(WireModel):
    """Why the data is erased (recorded with the erasure event)."""

    reason: str = Field(default="data subject request", min_length=1, max_length=500)


@router.post(
    "/v1/subjects/{subject_id}/erase",
    responses={
        200: {"description": "the person's key was destroyed; their fields read as erased"},
        202: {"description": "deferred: retention holds apply (listed)"},
    },
)
async def erase_subject(
    subject_id: Annotated[str, Path(min_length=1, max_length=100, description="the person's id")],
    caller: Admin,
    services: ServicesDep,
    body: ErasureBody | None = None,
) -> JSONBody:
    """Erase a person's personal data by destroying their key, unless retention holds apply."""
    outcome = await run_in_threadpool(
        services.personal.erase,
        subject_id,
        (body or ErasureBody()).reason,
        Meta(utc_now(), Actor(name=caller.name, role=caller.role)),
    )
    result: dict[str, Any] = {
        "status": outcome.status,
        "subject": outcome.subject,
        "position": outcome.position,
        "holds": [
            {"record": h.record, "reason": h.reason, "until": h.until} for h in outcome.holds
        ],
    }
    return JSONBody(result, status_code=200 if outcome.status == "erased" else 202)
