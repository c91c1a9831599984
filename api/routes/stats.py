"""Regulatory statistics, attested by the ledger position (and checkpoint) they reflect."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import ProofsDep, Runtime, roles, runtime
from api.errors import Problem
from application.ledger import utc_now
from application.views import rfc3339
from infrastructure.complaint_stats import ComplaintStatistics, parse_dimensions, parse_period
from infrastructure.principals import Principal

router = APIRouter(tags=["statistics"])
Reader = Annotated[Principal, Depends(roles("regulator", "supervisor", "auditor", "admin"))]


def statistics(rt: Annotated[Runtime, Depends(runtime)]) -> ComplaintStatistics:
    if rt.statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.statistics


def current_position(proofs: Any) -> int:
    return int(proofs.recorder.max_notification_id() or 0)


@router.get("/v1/stats/complaints")
async def complaint_statistics(
    caller: Reader,
    stats: Annotated[ComplaintStatistics, Depends(statistics)],
    proofs: ProofsDep,
    period: Annotated[str, Query(description="2026-07, 2026Q3 or 2026")],
    by: Annotated[
        str | None, Query(description="up to two of cause, line, region, channel, company_type")
    ] = None,
    position: Annotated[
        int | None, Query(ge=0, description="wait until the views reach it")
    ] = None,
    wait: Annotated[float, Query(ge=0, le=10)] = 2,
) -> dict[str, Any]:
    """Complaint figures of domain.md section 4 for a period, grouped by up to two dimensions."""
    now = utc_now()
    asked = parse_period(period, now)
    dimensions = parse_dimensions(by)
    target = position if position is not None else await run_in_threadpool(current_position, proofs)
    deadline = time.monotonic() + (wait if position is not None else 0)
    tracked = await run_in_threadpool(stats.tracked)
    while tracked < target and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        tracked = await run_in_threadpool(stats.tracked)
    figures = await run_in_threadpool(stats.figures, asked, dimensions, now)
    latest = await run_in_threadpool(proofs.store.latest_checkpoint)
    return {
        "period": period,
        "position": tracked,
        "caught_up": tracked >= target,
        "checkpoint": {"size": latest.size, "root": latest.root.hex()} if latest else None,
        "evaluated_at": rfc3339(figures["evaluated_at"]),
        "totals": figures["totals"],
        "groups": figures["groups"],
    }
