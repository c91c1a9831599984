"""Complaint commands and reads, the 12378 feed and the early-warning list.

(No `from __future__ import annotations` here: the command routes are made by a factory whose
body models FastAPI must see as real types.)"""

from collections.abc import Callable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import case_read_models as cases
from api import complaint_bodies as b
from api import read_models as m
from api.closure_html import render
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
from api.fields import AsOf, Position
from api.read_models import documented
from api.responses import JSONBody, ReadBody
from application import complaint_commands as c
from application.commands import CommandResult
from application.complaint_commands import BulkReassign, Intake
from application.complaint_queries import QUEUES, Viewer
from application.complaints import ComplaintDesk
from application.gateway import Meta
from application.ledger import utc_now
from domain.complaints import Evidence
from infrastructure.principals import Principal

router = APIRouter(tags=["complaints"])
Staff = Annotated[Principal, Depends(allow("complaints.command"))]
Supervisor = Annotated[Principal, Depends(allow("complaints.supervisor"))]
Reader = Annotated[Principal, Depends(allow("complaints.read"))]


def _meta(caller: Principal, body: b.Command) -> Meta:
    return command_meta(caller, body.occurred_at)


@router.post("/v1/complaints", status_code=201, responses={201: {"description": "received"}})
async def receive(
    body: b.ComplaintBody,
    caller: Staff,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Receive a complaint: 201 with its id, or the master case's id and `merged` for a
    duplicate of an open case."""
    intake = Intake(
        channel=body.channel,
        complainant=body.complainant.clear(),
        agent=body.agent.clear() if body.agent else None,
        matter=body.matter,
        request=body.request,
        facts=body.facts,
        cause=body.cause,
        line=body.line,
        region=body.region,
        policy_id=body.policy_id,
        claim_id=body.claim_id,
        transfer_id=body.transfer_id,
        new_facts=body.new_facts,
        evidence=body.evidence_values(),
    )
    key = command_key(caller, idempotency_key, "complaints", body.model_dump())
    result = await run_in_threadpool(services.complaints.receive, intake, _meta(caller, body), key)
    return command_response(result)


@router.post("/v1/complaints/reassign")
async def bulk_reassign(
    body: b.BulkReassignBody,
    caller: Supervisor,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Reassign several cases to one handler (supervisor), all or none."""
    key = command_key(caller, idempotency_key, "complaints/reassign", body.model_dump())
    cmd = BulkReassign(tuple(body.ids), body.handler)
    result = await run_in_threadpool(
        services.complaints.bulk_reassign, cmd, _meta(caller, body), key
    )
    return command_response(result)


Body = TypeVar("Body", bound=b.Command)
Cmd = TypeVar("Cmd", bound=c.CaseCommand)
Reasoned = TypeVar("Reasoned", bound=c.ReasonCommand)
Evidences = tuple[Evidence, ...]
Build = Callable[[Body, UUID, Evidences], Cmd]


def _command_route(
    action: str,
    model: type[Body],
    build: Build[Body, Cmd],
    handle: Callable[[ComplaintDesk, Cmd, c.Sent], CommandResult],
    supervisor_only: bool = False,
) -> None:
    """`POST /v1/complaints/{id}/<action>`: the body (optional: a command may have no fields)
    builds the typed command; `handle` is the desk's method for it."""
    row = "complaints.supervisor" if supervisor_only else "complaints.command"
    Caller = Annotated[Principal, Depends(allow(row))]

    async def command(
        complaint_id: UUID,
        caller: Caller,
        services: ServicesDep,
        body: model | None = None,  # type: ignore[valid-type]
        idempotency_key: IdempotencyKey = None,
        if_match: IfMatch = None,
    ) -> JSONBody:
        given: Body = body or model()
        path = f"complaints/{complaint_id}/{action}"
        key = command_key(caller, idempotency_key, path, given.model_dump())
        sent = c.Sent(_meta(caller, given), key, if_match_version(if_match))
        cmd = build(given, complaint_id, given.evidence_values())
        result = await run_in_threadpool(handle, services.complaints, cmd, sent)
        return command_response(result)

    command.__doc__ = f"`{action}` on a complaint" + (
        " (supervisor only)." if supervisor_only else "."
    )
    router.add_api_route(
        f"/v1/complaints/{{complaint_id}}/{action}",
        command,
        methods=["POST"],
        name=f"complaint_{action.replace('-', '_')}",
        responses={200: {"description": "the case as it now stands"}},
    )


def _bare(kind: type[Cmd]) -> Build[b.Command, Cmd]:
    """A command with no fields of its own."""
    return lambda body, cid, ev: kind(complaint_id=cid, evidence=ev)


def _reasoned(kind: type[Reasoned]) -> Build[b.ReasonBody, Reasoned]:
    """A command that states its reason."""
    return lambda body, cid, ev: kind(complaint_id=cid, evidence=ev, reason=body.reason)


def _decision(body: b.DecideBody, cid: UUID, ev: Evidences) -> c.Decide:
    return c.Decide(
        complaint_id=cid,
        evidence=ev,
        outcome=body.outcome,
        redress=body.redress,
        facts=body.facts,
        basis=body.basis,
        root_causes=tuple(body.root_causes),
        responsible_department=body.responsible_department,
    )


def _notice(body: b.NotifyBody, cid: UUID, ev: Evidences) -> c.Notify:
    return c.Notify(
        complaint_id=cid, evidence=ev, method=body.method, delivered_at=body.delivered_at
    )


Desk = ComplaintDesk
_command_route(
    "assign",
    b.HandlerBody,
    lambda body, cid, ev: c.Assign(complaint_id=cid, evidence=ev, handler=body.handler),
    Desk.assign,
)
_command_route(
    "reassign",
    b.ReassignBody,
    lambda body, cid, ev: c.Reassign(
        complaint_id=cid, evidence=ev, handler=body.handler, reason=body.reason
    ),
    Desk.reassign,
    supervisor_only=True,
)
_command_route("recuse", b.ReasonBody, _reasoned(c.Recuse), Desk.recuse)
_command_route("contact", b.Command, _bare(c.Contact), Desk.contact)
_command_route(
    "urge",
    b.UrgeBody,
    lambda body, cid, ev: c.Urge(complaint_id=cid, evidence=ev, by=body.by, note=body.note),
    Desk.urge,
)
_command_route("escalate", b.ReasonBody, _reasoned(c.Escalate), Desk.escalate, True)
_command_route("extend", b.ReasonBody, _reasoned(c.Extend), Desk.extend, True)
_command_route("pause", b.ReasonBody, _reasoned(c.Pause), Desk.pause)
_command_route("resume", b.Command, _bare(c.Resume), Desk.resume)
_command_route(
    "new-facts",
    b.SummaryBody,
    lambda body, cid, ev: c.AddNewFacts(complaint_id=cid, evidence=ev, summary=body.summary),
    Desk.add_new_facts,
)
_command_route("decide", b.DecideBody, _decision, Desk.decide)
_command_route("notify", b.NotifyBody, _notice, Desk.notify)
_command_route("withdraw", b.Command, _bare(c.Withdraw), Desk.withdraw)
_command_route("decline", b.ReasonBody, _reasoned(c.Decline), Desk.decline)
_command_route("close", b.Command, _bare(c.Close), Desk.close)
_command_route("review", b.ReasonBody, _reasoned(c.RequestReview), Desk.request_review)
_command_route(
    "review-decision",
    b.ReviewDecisionBody,
    lambda body, cid, ev: c.DecideReview(
        complaint_id=cid, evidence=ev, outcome=body.outcome, basis=body.basis
    ),
    Desk.decide_review,
)


@router.get("/v1/complaints", responses=documented(cases.Queue, "a page of the queue"))
async def queue(
    caller: Reader,
    services: ServicesDep,
    queue: Annotated[str, Query(pattern="^(" + "|".join(QUEUES) + ")$")] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReadBody:
    """A work queue: mine, team, escalated, overdue, due-soon or open; soonest due first."""
    viewer = Viewer(caller.name, caller.role, caller.team)
    return ReadBody(
        await run_in_threadpool(
            services.complaint_queries.queue, queue, viewer, utc_now(), page, size
        )
    )


@router.get("/v1/complaints/{complaint_id}", responses=documented(cases.Complaint, "the case"))
async def get_complaint(
    complaint_id: UUID,
    caller: Reader,
    services: ServicesDep,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AsOf | None, Query(description="RFC 3339; what the ledger knew then")] = None,
) -> ReadBody:
    """The case with its clocks (`due_at`, `overdue`, `extension_level`, escalation...)."""
    view = await run_in_threadpool(
        services.complaint_queries.view, complaint_id, utc_now(), as_of_version, as_of
    )
    return ReadBody(view, headers={"ETag": f'"{view["version"]}"'})


@router.get("/v1/complaints/{complaint_id}/history", responses=documented(m.History, "its events"))
async def complaint_history(
    complaint_id: UUID,
    caller: Reader,
    services: ServicesDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> ReadBody:
    """Every event of the case in order, with its ledger position."""
    events = await run_in_threadpool(services.complaint_queries.history, complaint_id, proofs)
    return ReadBody({"events": events})


@router.get(
    "/v1/complaints/{complaint_id}/closure-report",
    responses={
        200: {
            "model": cases.ClosureReport,
            "content": {"text/html": {}},
            "description": "JSON, or HTML when asked",
        }
    },
)
async def closure_report(
    complaint_id: UUID, caller: Reader, services: ServicesDep, request: Request
) -> Response:
    """The closure report from the history (JSON; Chinese HTML with `Accept: text/html`)."""
    report = await run_in_threadpool(
        services.complaint_queries.closure_report, complaint_id, utc_now()
    )
    if "text/html" in request.headers.get("accept", ""):
        return Response(render(report), media_type="text/html; charset=utf-8")
    return JSONBody(report)


@router.get("/v1/regulator/feed", responses=documented(cases.Feed, "state changes"))
async def regulator_feed(
    caller: Annotated[Principal, Depends(allow("feed"))],
    services: ServicesDep,
    after: Annotated[Position, Query()] = 0,
) -> ReadBody:
    """The state changes of the 12378 transfers the caller posted, after a position, oldest
    first (≤ 500); another platform partner's transfers are not in it."""
    feed = services.complaint_queries.feed
    return ReadBody(await run_in_threadpool(feed, after, caller.partner_id))


@router.get("/v1/risk/customers", responses=documented(cases.RiskCustomers, "the warning"))
async def risk_customers(
    caller: Annotated[Principal, Depends(allow("risk"))],
    services: ServicesDep,
    level: Annotated[str | None, Query(pattern="^(high|medium|low)$")] = None,
) -> ReadBody:
    """The high-complaint-risk early warning; regulators see keyed pseudonyms only."""
    items = await run_in_threadpool(
        services.complaint_queries.risk, utc_now(), level, caller.role == "regulator"
    )
    return ReadBody({"items": items})
