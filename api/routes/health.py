"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from api.deps import Runtime, runtime
from api.errors import Problem
from api.read_models import Health, Readiness, ViewFailure, ViewReport
from application.views import rfc3339
from infrastructure.projections import ViewState, ViewStore

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz")
async def readyz(rt: Annotated[Runtime, Depends(runtime)]) -> Readiness:
    """The database answers and every view is within its allowed lag and not failing for
    longer than allowed; each view's position, lag and failing event are reported."""
    position = await run_in_threadpool(rt.services.ledger.position)
    if rt.proofs is None:
        return Readiness(status="ready", position=position, projection_lag={}, projections={})
    store = ViewStore(rt.services.ledger.recorder)
    states = await run_in_threadpool(store.states, (), position)
    ready = Readiness(
        status="ready",
        position=position,
        projection_lag={s.view: s.lag for s in states},
        projections={s.view: view_report(s) for s in states},
    )
    settings = rt.settings
    now = datetime.now(tz=UTC)
    behind = {s.view: s.lag for s in states if s.lag > settings.projection_max_lag}
    stuck = [
        s.view
        for s in states
        if s.failing is not None
        and (now - s.failing.since).total_seconds() >= settings.projection_failing_unready_seconds
    ]
    if behind or stuck:
        reasons = [f"projections behind the log: {behind}"] if behind else []
        reasons += [f"projections failing: {', '.join(stuck)}"] if stuck else []
        report = ready.model_dump(exclude={"status"})
        raise Problem(503, "; ".join(reasons), headers={"Retry-After": "1"}, extensions=report)
    return ready


def view_report(state: ViewState) -> ViewReport:
    """A view's position and lag, and the event it fails on (no personal data: positions,
    the event's topic and stream id, the error's type and masked message)."""
    failure = state.failing
    return ViewReport(
        position=state.position,
        lag=state.lag,
        failures=state.failures,
        failing=None
        if failure is None
        else ViewFailure(
            position=failure.position,
            topic=failure.topic,
            stream_id=failure.stream,
            error=failure.error,
            message=failure.message,
            since=rfc3339(failure.since),
            attempts=failure.attempts,
        ),
    )
