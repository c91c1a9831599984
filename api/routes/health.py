"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from api.deps import Runtime, runtime

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> dict[str, object]:
    """The database answers (projections join this check when they exist)."""
    position = await run_in_threadpool(rt.services.ledger.recorder.max_notification_id)
    return {"status": "ready", "position": position or 0}
