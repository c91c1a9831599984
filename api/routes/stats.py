"""Regulatory statistics, attested by the ledger position (and checkpoint) they reflect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import ProofsDep, Runtime, roles, runtime
from api.errors import Problem
from api.exports import to_csv, to_xlsx
from application.ledger import utc_now
from application.views import rfc3339
from infrastructure.complaint_stats import (
    ClaimAndDisputeStatistics,
    ComplaintStatistics,
    Period,
    parse_dimensions,
    parse_period,
)
from infrastructure.principals import Principal

router = APIRouter(tags=["statistics"])
Reader = Annotated[Principal, Depends(roles("regulator", "supervisor", "auditor", "admin"))]


def statistics(rt: Annotated[Runtime, Depends(runtime)]) -> ComplaintStatistics:
    if rt.statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.statistics


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def current_position(proofs: Any) -> int:
    return int(proofs.recorder.max_notification_id() or 0)


@router.get(
    "/v1/stats/complaints",
    responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}}, "description": "figures"}},
)
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
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
) -> Any:
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
    body = {
        "period": period,
        "position": figures["position"],  # read with the figures, in one snapshot
        "caught_up": figures["position"] >= target,
        "checkpoint": {"size": latest.size, "root": latest.root.hex()} if latest else None,
        "evaluated_at": rfc3339(figures["evaluated_at"]),
        "totals": figures["totals"],
        "groups": figures["groups"],
    }
    if format == "csv":
        return Response(to_csv(body), media_type="text/csv; charset=utf-8", headers=_file("csv"))
    if format == "xlsx":
        return Response(to_xlsx(body), media_type=XLSX, headers=_file("xlsx"))
    return body


XLSX = XLSX_TYPE


def _file(suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="complaint-statistics.{suffix}"'}


def case_statistics(rt: Annotated[Runtime, Depends(runtime)]) -> ClaimAndDisputeStatistics:
    if rt.case_statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.case_statistics


CaseStats = Annotated[ClaimAndDisputeStatistics, Depends(case_statistics)]


async def _attested(
    stats: CaseStats,
    view: str,
    proofs: Any,
    position: int | None,
    wait: float,
) -> tuple[int, bool, dict[str, Any] | None]:
    """Wait (up to `wait` s) for the view to reach `position`; what it reflects then."""
    target = position if position is not None else await run_in_threadpool(current_position, proofs)
    deadline = time.monotonic() + (wait if position is not None else 0)
    tracked = await run_in_threadpool(stats.tracked, view)
    while tracked < target and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        tracked = await run_in_threadpool(stats.tracked, view)
    latest = await run_in_threadpool(proofs.store.latest_checkpoint)
    checkpoint = {"size": latest.size, "root": latest.root.hex()} if latest else None
    return tracked, tracked >= target, checkpoint


async def _case_figures(
    stats: ClaimAndDisputeStatistics,
    view: str,
    figures: Callable[[Period], dict[str, Any]],
    proofs: Any,
    period: str,
    position: int | None,
    wait: float,
) -> dict[str, Any]:
    """A claim or dispute statistics answer, attested like the complaint figures."""
    now = utc_now()
    asked = parse_period(period, now)
    tracked, caught_up, checkpoint = await _attested(stats, view, proofs, position, wait)
    return {
        "period": period,
        "position": tracked,
        "caught_up": caught_up,
        "checkpoint": checkpoint,
        "evaluated_at": rfc3339(min(asked.end, now)),
        "totals": await run_in_threadpool(figures, asked),
        "groups": [],
    }


@router.get("/v1/stats/claims")
async def claim_statistics(
    caller: Reader,
    stats: CaseStats,
    proofs: ProofsDep,
    period: Annotated[str, Query(description="2026-07, 2026Q3 or 2026")],
    position: Annotated[int | None, Query(ge=0)] = None,
    wait: Annotated[float, Query(ge=0, le=10)] = 2,
) -> dict[str, Any]:
    """Settlements, amounts paid by social insurance, commercial insurance and patients, and
    time from discharge to settlement, for settlements in the period (CST)."""
    return await _case_figures(
        stats, "claim_facts", stats.claims_figures, proofs, period, position, wait
    )


@router.get("/v1/stats/disputes")
async def dispute_statistics(
    caller: Reader,
    stats: CaseStats,
    proofs: ProofsDep,
    period: Annotated[str, Query(description="2026-07, 2026Q3 or 2026")],
    position: Annotated[int | None, Query(ge=0)] = None,
    wait: Annotated[float, Query(ge=0, le=10)] = 2,
) -> dict[str, Any]:
    """Disputes opened in the period: mediation success, confirmations granted, awards,
    performance, enforcement and durations."""
    return await _case_figures(
        stats, "dispute_facts", stats.disputes_figures, proofs, period, position, wait
    )
