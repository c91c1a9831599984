"""Reports of misconduct (举报): intake, the officers' commands, reads and work queues.

Report officers act; a supervisor extends; auditors (and supervisors) read. The reporter's
identity is shown to report officers only.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api import read_models as rm
from api import report_bodies as b
from api import report_models as m
from api.deps import (
    IdempotencyKey,
    IfMatch,
    ReportsDep,
    allow,
    command_key,
    command_meta,
    command_response,
    if_match_version,
)
from api.fields import AsOf
from api.responses import JSONBody, ReadBody
from application import reports as r
from application.ledger import utc_now
from application.report_queries import DUE, QUEUES, QueueRequest, ReportReader
from domain.reports import STATES
from infrastructure.principals import Principal

router = APIRouter(tags=["reports"])
OFFICER = "report_officer"
Officer = Annotated[Principal, Depends(allow("reports.command"))]
Supervisor = Annotated[Principal, Depends(allow("reports.extend"))]
Reader = Annotated[Principal, Depends(allow("reports.read"))]
Key = IdempotencyKey
COMMAND: dict[int | str, dict[str, Any]] = {
    200: {"description": "the report as it now stands (without the reporter)"}
}


def _reader(caller: Principal) -> ReportReader:
    return ReportReader(caller.name, sees_reporter=caller.role == OFFICER)


def _conditions(
    caller: Principal, key: str | None, if_match: str | None, path: str, body: b.Command
) -> r.Conditions:
    return r.Conditions(
        command_key(caller, key, path, body.model_dump()), if_match_version(if_match)
    )


@router.post("/v1/reports", status_code=201, responses={201: {"description": "received"}})
async def receive(
    body: b.ReportBody, caller: Officer, reports: ReportsDep, idempotency_key: Key = None
) -> JSONBody:
    """Receive a report: 201 with its id (derived from `transfer_id` for a 12378 report)."""
    key = command_key(caller, idempotency_key, "reports", body.model_dump())
    meta = command_meta(caller, body.occurred_at)
    result = await run_in_threadpool(reports.desk.receive, body.intake(), meta, key)
    return command_response(result)


@router.post("/v1/reports/{report_id}/accept", responses=COMMAND)
async def accept(
    report_id: UUID,
    caller: Officer,
    reports: ReportsDep,
    body: b.Command | None = None,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Accept the report (受理)."""
    given = body or b.Command()
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/accept", given)
    meta = command_meta(caller, given.occurred_at)
    return command_response(
        await run_in_threadpool(reports.desk.accept, r.AcceptReport(report_id), meta, cond)
    )


@router.post("/v1/reports/{report_id}/decline", responses=COMMAND)
async def decline(
    report_id: UUID,
    body: b.ReasonBody,
    caller: Officer,
    reports: ReportsDep,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Decline the report with the reason (不予受理)."""
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/decline", body)
    cmd = r.DeclineReport(report_id, body.reason)
    meta = command_meta(caller, body.occurred_at)
    return command_response(await run_in_threadpool(reports.desk.decline, cmd, meta, cond))


@router.post("/v1/reports/{report_id}/assign", responses=COMMAND)
async def assign(
    report_id: UUID,
    body: b.AssignBody,
    caller: Officer,
    reports: ReportsDep,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Assign an investigator who is not in the reported department."""
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/assign", body)
    cmd = r.AssignInvestigator(report_id, body.investigator)
    meta = command_meta(caller, body.occurred_at)
    return command_response(await run_in_threadpool(reports.desk.assign, cmd, meta, cond))


@router.post("/v1/reports/{report_id}/findings", responses=COMMAND)
async def findings(
    report_id: UUID,
    body: b.FindingsBody,
    caller: Officer,
    reports: ReportsDep,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Record the investigation's findings and evidence."""
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/findings", body)
    cmd = r.RecordFindings(report_id, body.summary, tuple(e.value() for e in body.evidence))
    meta = command_meta(caller, body.occurred_at)
    return command_response(await run_in_threadpool(reports.desk.record_findings, cmd, meta, cond))


@router.post("/v1/reports/{report_id}/extend", responses=COMMAND)
async def extend(
    report_id: UUID,
    body: b.ReasonBody,
    caller: Supervisor,
    reports: ReportsDep,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Extend the conclusion period once (supervisor: the approver)."""
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/extend", body)
    cmd = r.ExtendReport(report_id, body.reason)
    meta = command_meta(caller, body.occurred_at)
    return command_response(await run_in_threadpool(reports.desk.extend, cmd, meta, cond))


@router.post("/v1/reports/{report_id}/conclude", responses=COMMAND)
async def conclude(
    report_id: UUID,
    body: b.ConcludeBody,
    caller: Officer,
    reports: ReportsDep,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Conclude: substantiated, partly substantiated or not substantiated."""
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/conclude", body)
    cmd = r.ConcludeReport(report_id, body.finding, body.basis, tuple(body.actions))
    meta = command_meta(caller, body.occurred_at)
    return command_response(await run_in_threadpool(reports.desk.conclude, cmd, meta, cond))


@router.post("/v1/reports/{report_id}/notify", responses=COMMAND)
async def notify(
    report_id: UUID,
    body: b.NotifyBody,
    caller: Officer,
    reports: ReportsDep,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Record the notice to a named reporter and its delivery."""
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/notify", body)
    cmd = r.NotifyReporter(report_id, body.delivery.method, body.delivery.delivered_at)
    meta = command_meta(caller, body.occurred_at)
    return command_response(await run_in_threadpool(reports.desk.notify, cmd, meta, cond))


@router.post("/v1/reports/{report_id}/close", responses=COMMAND)
async def close(
    report_id: UUID,
    caller: Officer,
    reports: ReportsDep,
    body: b.Command | None = None,
    idempotency_key: Key = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Close the report (anonymous ones straight after the decision)."""
    given = body or b.Command()
    cond = _conditions(caller, idempotency_key, if_match, f"reports/{report_id}/close", given)
    meta = command_meta(caller, given.occurred_at)
    return command_response(
        await run_in_threadpool(reports.desk.close, r.CloseReport(report_id), meta, cond)
    )


@router.get(
    "/v1/reports", responses=rm.documented(m.ReportQueue, "a page of the queue, soonest first")
)
async def queue(
    caller: Reader,
    reports: ReportsDep,
    queue: Annotated[str | None, Query(pattern="^(" + "|".join(QUEUES) + ")$")] = None,
    state: Annotated[str | None, Query(pattern="^(" + "|".join(STATES) + ")$")] = None,
    due: Annotated[str | None, Query(pattern="^(" + "|".join(DUE) + ")$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReadBody:
    """A work queue (open, mine, undecided, investigating, awaiting-notice, overdue,
    due-soon), or reports by `state` and `due` (soon, overdue); soonest deadline first."""
    wanted = QueueRequest(queue if queue or state or due else "open", state, due, page, size)
    return ReadBody(
        await run_in_threadpool(reports.queries.queue, wanted, _reader(caller), utc_now())
    )


@router.get("/v1/reports/{report_id}", responses=rm.documented(m.Report, "the report"))
async def get_report(
    report_id: UUID,
    caller: Reader,
    reports: ReportsDep,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AsOf | None, Query(description="RFC 3339; what the ledger knew then")] = None,
) -> ReadBody:
    """The report with its clocks (`acceptance_due`, `conclusion_due`, `overdue`); the
    reporter only for report officers."""
    view = await run_in_threadpool(
        reports.queries.view, report_id, _reader(caller), utc_now(), as_of_version, as_of
    )
    return ReadBody(view, headers={"ETag": f'"{view["version"]}"'})


@router.get(
    "/v1/reports/{report_id}/history", responses=rm.documented(rm.History, "the report's events")
)
async def report_history(
    report_id: UUID,
    caller: Reader,
    reports: ReportsDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> ReadBody:
    """Every event of the report in order (the reporter masked for all but officers)."""
    events = await run_in_threadpool(reports.queries.history, report_id, _reader(caller), proofs)
    return ReadBody({"events": events})
