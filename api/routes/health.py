"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from api.deps import Runtime, runtime
from api.errors import Problem
from api.read_models import Health, Readiness
from infrastructure.projections import ViewStore

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz")
async def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> Readiness:
    """The database answers (projections join this check when they exist)."""
    position = await run_in_threadpool(rt.services.ledger.position)
    lag: dict[str, int] = {}
    if rt.proofs is not None:
        tracked = await run_in_threadpool(ViewStore(rt.services.ledger.recorder).positions)
        lag = {view: max(0, position - at) for view, at in tracked.items()}
        behind = {v: n for v, n in lag.items() if n > rt.settings.projection_max_lag}
        if behind:
            raise Problem(
                503, f"projections behind the log: {behind}", headers={"Retry-After": "1"}
            )
    return Readiness(status="ready", position=position, projection_lag=lag)
