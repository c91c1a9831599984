"""Regulatory statistics, attested by the ledger position (and checkpoint) they reflect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api import education_models as em
from api import knowledge_models as km
from api import read_models as m
from api import rectification_models as r
from api import report_models as rm
from api.deps import MinPosition, ProofsDep, Runtime, allow, runtime
from api.errors import Problem
from api.exports import metadata_headers, to_csv, to_xlsx
from api.fields import Position
from api.responses import ReadBody
from application.ledger import utc_now
from application.views import rfc3339
from infrastructure.case_stats import (
    CLAIM_DIMENSIONS,
    DISPUTE_DIMENSIONS,
    ClaimAndDisputeStatistics,
)
from infrastructure.complaint_stats import (
    ComplaintStatistics,
    Period,
    parse_dimensions,
    parse_period,
)
from infrastructure.education_stats import DIMENSIONS as EDUCATION_DIMENSIONS
from infrastructure.education_stats import EducationStatistics, with_knowledge
from infrastructure.knowledge_stats import KnowledgeStatistics
from infrastructure.principals import Principal
from infrastructure.proof_service import LedgerProofs
from infrastructure.rectification_stats import DIMENSIONS as RECTIFICATION_DIMENSIONS
from infrastructure.rectification_stats import RectificationStatistics
from infrastructure.report_stats import REPORT_DIMENSIONS, ReportStatistics

router = APIRouter(tags=["statistics"])
Reader = Annotated[Principal, Depends(allow("stats"))]


async def statistics(rt: Annotated[Runtime, Depends(runtime)]) -> ComplaintStatistics:
    if rt.statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.statistics


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def current_position(proofs: Any) -> int:
    return int(proofs.recorder.max_notification_id() or 0)


def _responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """JSON figures of this model, or the same as a CSV or XLSX file."""
    return {
        200: {
            "model": model,
            "content": {"text/csv": {}, XLSX_TYPE: {}},
            "description": "figures (JSON, or a file with ?format=csv|xlsx)",
        }
    }


@router.get("/v1/stats/complaints", responses=_responses(m.ComplaintStatistics))
async def complaint_statistics(
    caller: Reader,
    stats: Annotated[ComplaintStatistics, Depends(statistics)],
    proofs: ProofsDep,
    period: Annotated[str, Query(description="2026-07, 2026Q3 or 2026")],
    by: Annotated[
        str | None, Query(description="up to two of cause, line, region, channel, company_type")
    ] = None,
    position: Annotated[Position | None, Query(description="wait until the views reach it")] = None,
    wait: Annotated[float, Query(ge=0, le=10)] = 2,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    min_position: MinPosition = None,
) -> Response:
    """Complaint figures of domain.md section 4 for a period, grouped by up to two dimensions.
    An `X-Min-Position` header waits like `?position=`."""
    position = position if position is not None else min_position
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
    return _formatted(body, "complaints", format)


XLSX = XLSX_TYPE


def _file(kind: str, suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{kind}-statistics.{suffix}"'}


async def case_statistics(rt: Annotated[Runtime, Depends(runtime)]) -> ClaimAndDisputeStatistics:
    if rt.case_statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.case_statistics


CaseStats = Annotated[ClaimAndDisputeStatistics, Depends(case_statistics)]


async def _case_figures(
    stats: ClaimAndDisputeStatistics,
    kind: str,
    views: tuple[str, ...],
    figures: Callable[[Period, tuple[str, ...]], dict[str, Any]],
    proofs: Any,
    query: CaseQuery,
) -> Response:
    """A claim or dispute statistics answer, attested like the complaint figures."""
    now = utc_now()
    asked = parse_period(query.period, now)
    allowed = CLAIM_DIMENSIONS if kind == "claims" else DISPUTE_DIMENSIONS
    dimensions = parse_dimensions(query.by, allowed, kind)
    position = query.position
    target = position if position is not None else await run_in_threadpool(current_position, proofs)
    deadline = time.monotonic() + (query.wait if position is not None else 0)
    while await run_in_threadpool(stats.tracked, *views) < target:
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    found = await run_in_threadpool(figures, asked, dimensions)
    latest = await run_in_threadpool(proofs.store.latest_checkpoint)
    body = {
        "period": query.period,
        "position": found["position"],  # read with the figures, in one snapshot
        "caught_up": found["position"] >= target,
        "checkpoint": {"size": latest.size, "root": latest.root.hex()} if latest else None,
        "evaluated_at": rfc3339(min(asked.end, now)),
        "totals": found["totals"],
        "groups": found["groups"],
    }
    return _formatted(body, kind, query.format)


def _formatted(body: dict[str, Any], kind: str, format: str) -> Response:
    """The body as JSON, or a CSV or XLSX file with Chinese headings."""
    if format == "csv":
        return Response(
            to_csv(body, kind),
            media_type="text/csv; charset=utf-8",
            headers={**_file(kind, "csv"), **metadata_headers(body)},
        )
    if format == "xlsx":
        return Response(to_xlsx(body, kind), media_type=XLSX, headers=_file(kind, "xlsx"))
    return ReadBody(body)


async def _read_attested(
    tracked: Callable[[], int],
    read: Callable[[], dict[str, Any]],
    proofs: LedgerProofs,
    period: str,
    position: int | None,
    wait: float,
    evaluated_at: datetime,
) -> dict[str, Any]:
    """Wait (up to `wait` s) for a view to reach `position`, read its figures, and attest
    them: the position read with them, whether it caught up, the latest checkpoint."""
    target = position if position is not None else await run_in_threadpool(current_position, proofs)
    deadline = time.monotonic() + (wait if position is not None else 0)
    while await run_in_threadpool(tracked) < target and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    found = await run_in_threadpool(read)
    latest = await run_in_threadpool(proofs.store.latest_checkpoint)
    return {
        "period": period,
        "position": found["position"],  # read with the figures, in one snapshot
        "caught_up": found["position"] >= target,
        "checkpoint": {"size": latest.size, "root": latest.root.hex()} if latest else None,
        "evaluated_at": rfc3339(found.get("evaluated_at", evaluated_at)),
        **{key: found[key] for key in ("totals", "groups", "days", "knowledge") if key in found},
    }


@dataclass(frozen=True)
class CaseQuery:
    """The query of a claim or dispute statistics request."""

    period: str
    by: str | None
    position: int | None
    wait: float
    format: str


async def case_query(
    period: Annotated[str, Query(description="2026-07, 2026Q3 or 2026")],
    by: Annotated[str | None, Query(description="up to two dimensions that apply")] = None,
    position: Annotated[Position | None, Query(description="wait until the views reach it")] = None,
    wait: Annotated[float, Query(ge=0, le=10)] = 2,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    min_position: MinPosition = None,
) -> CaseQuery:
    """The query; an `X-Min-Position` header waits like `?position=`."""
    return CaseQuery(period, by, position if position is not None else min_position, wait, format)


@router.get("/v1/stats/claims", responses=_responses(m.ClaimStatistics))
async def claim_statistics(
    caller: Reader,
    stats: CaseStats,
    proofs: ProofsDep,
    query: Annotated[CaseQuery, Depends(case_query)],
) -> Response:
    """One-stop settlements in the period (CST) and claims paid outside the channel: the
    one-stop share, amounts paid by social insurance, commercial insurance and patients, and
    time from discharge to settlement; by region and channel (one_stop, offline)."""
    views = ("claim_facts", "offline_claims")
    return await _case_figures(stats, "claims", views, stats.claims_figures, proofs, query)


@router.get("/v1/stats/disputes", responses=_responses(m.DisputeStatistics))
async def dispute_statistics(
    caller: Reader,
    stats: CaseStats,
    proofs: ProofsDep,
    query: Annotated[CaseQuery, Depends(case_query)],
) -> Response:
    """Disputes opened in the period: mediation success, confirmations granted, awards,
    performance, enforcement and durations; by channel (complaint, claim, direct)."""
    return await _case_figures(
        stats, "disputes", ("dispute_facts",), stats.disputes_figures, proofs, query
    )


async def knowledge_statistics(rt: Annotated[Runtime, Depends(runtime)]) -> KnowledgeStatistics:
    if rt.knowledge_statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.knowledge_statistics


@router.get("/v1/stats/knowledge", response_model=km.KnowledgeStatistics)
async def knowledge_base_statistics(
    caller: Reader,
    stats: Annotated[KnowledgeStatistics, Depends(knowledge_statistics)],
    proofs: ProofsDep,
    period: Annotated[str, Query(description="2026-07, 2026Q3 or 2026")],
    position: Annotated[
        Position | None, Query(description="wait until the view reaches it")
    ] = None,
    wait: Annotated[float, Query(ge=0, le=10)] = 2,
) -> dict[str, Any]:
    """The knowledge base: published articles per category (now), and questions answered and
    handed off (转人工) per CST day of the period."""
    now = utc_now()
    asked = parse_period(period, now)
    return await _read_attested(
        stats.tracked,
        partial(stats.figures, asked),
        proofs,
        period,
        position,
        wait,
        min(asked.end, now),
    )


async def education_statistics(rt: Annotated[Runtime, Depends(runtime)]) -> EducationStatistics:
    if rt.education_statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.education_statistics


@router.get("/v1/stats/education", responses=_responses(em.EducationStatistics))
async def education_figures(
    caller: Reader,
    stats: Annotated[EducationStatistics, Depends(education_statistics)],
    knowledge: Annotated[KnowledgeStatistics, Depends(knowledge_statistics)],
    proofs: ProofsDep,
    query: Annotated[CaseQuery, Depends(case_query)],
) -> Any:
    """Education activities that started in the period (CST): activities, participants,
    views and the 一老一小 share, by kind, channel, campaign, region or audience (an activity
    counts once in each of its audiences); training sessions held in the period, hours, hours
    per person and coverage of the consumer-protection staff (the principals of the roles
    handler, supervisor, report_officer, compliance and educator); and the knowledge base:
    published articles per category (now), questions answered and handed off per CST day."""
    now = utc_now()
    asked = parse_period(query.period, now)
    dimensions = parse_dimensions(query.by, EDUCATION_DIMENSIONS, "education figures")

    def read() -> dict[str, Any]:
        return with_knowledge(stats.figures(asked, dimensions), knowledge.figures(asked))

    body = await _read_attested(
        lambda: min(stats.tracked(), knowledge.tracked()),
        read,
        proofs,
        query.period,
        query.position,
        query.wait,
        min(asked.end, now),
    )
    return _formatted(body, "education", query.format)


async def rectification_statistics(
    rt: Annotated[Runtime, Depends(runtime)],
) -> RectificationStatistics:
    if rt.rectification_statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.rectification_statistics


@router.get("/v1/stats/rectifications", responses=_responses(r.RectificationStatistics))
async def rectification_figures(
    caller: Reader,
    stats: Annotated[RectificationStatistics, Depends(rectification_statistics)],
    proofs: ProofsDep,
    query: Annotated[CaseQuery, Depends(case_query)],
) -> Response:
    """Rectification items opened, closed (on time, late) and cancelled in the period; open
    and overdue at `evaluated_at`; by up to two of source, department, severity."""
    now = utc_now()
    asked = parse_period(query.period, now)
    dimensions = parse_dimensions(query.by, RECTIFICATION_DIMENSIONS, "rectification items")
    body = await _read_attested(
        stats.tracked,
        partial(stats.figures, asked, dimensions, now),
        proofs,
        query.period,
        query.position,
        query.wait,
        min(asked.end, now),
    )
    return _formatted(body, "rectifications", query.format)


async def report_statistics(rt: Annotated[Runtime, Depends(runtime)]) -> ReportStatistics:
    if rt.report_statistics is None:
        raise Problem(503, "statistics need SQLite or PostgreSQL")
    return rt.report_statistics


@router.get("/v1/stats/reports", responses=_responses(rm.ReportStatistics))
async def report_figures(
    caller: Reader,
    stats: Annotated[ReportStatistics, Depends(report_statistics)],
    proofs: ProofsDep,
    query: Annotated[CaseQuery, Depends(case_query)],
) -> Any:
    """Reports of misconduct (举报) in the period: received, accepted, declined, concluded by
    finding, overdue at `evaluated_at`, and the timeliness of acceptance and conclusion; by
    category and channel. No reporter data."""
    now = utc_now()
    asked = parse_period(query.period, now)
    dimensions = parse_dimensions(query.by, REPORT_DIMENSIONS, "reports")
    body = await _read_attested(
        stats.tracked,
        partial(stats.figures, asked, dimensions, now),
        proofs,
        query.period,
        query.position,
        query.wait,
        min(asked.end, now),
    )
    return _formatted(body, "reports", query.format)
