"""Education activities and staff training: educators write; supervisors and auditors read
the records (regulators get the figures, under /v1/stats/education, not the records)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api import education_bodies as b
from api import education_models as em
from api import read_models as m
from api.deps import (
    IdempotencyKey,
    IfMatch,
    ServicesDep,
    allow,
    command_key,
    command_meta,
    if_match_version,
)
from api.fields import AsOf
from api.responses import JSONBody, ReadBody
from application.education import (
    PAGE_LIMIT,
    AmendActivity,
    Page,
    RecordActivity,
    Recorded,
    RecordTraining,
)
from domain.education import Figures
from infrastructure.principals import Principal

router = APIRouter(tags=["education"])
Educator = Annotated[Principal, Depends(allow("education.write"))]
Reader = Annotated[Principal, Depends(allow("education.read"))]
# A log position fits in a signed 64-bit integer (and one more is asked for after it).
After = Annotated[
    int, Query(ge=0, le=2**63 - 2, description="the `next_after` of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT)]


def answer(recorded: Recorded, created_status: int = 201) -> JSONBody:
    """201 for a new record, 200 for a change; a replay says so in `Idempotent-Replayed`."""
    headers = {"Idempotent-Replayed": "true"} if recorded.replayed else {}
    if not recorded.replayed:
        headers["ETag"] = f'"{recorded.body["version"]}"'
    status = created_status if recorded.created else 200
    return JSONBody(recorded.body, status_code=status, headers=headers)


def page(found: Page) -> ReadBody:
    return ReadBody({"items": found.items, "next_after": found.next_after})


@router.post(
    "/v1/education/activities", status_code=201, responses={201: {"description": "recorded"}}
)
async def record_activity(
    body: b.ActivityBody,
    caller: Educator,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Record an education activity with its audiences and figures."""
    command = RecordActivity(
        title=body.title,
        kind=body.kind,
        channel=body.channel,
        campaign=body.campaign,
        region=body.region,
        audiences=tuple(body.audiences),
        started_at=body.started_at,
        ended_at=body.ended_at,
        place=body.place,
        participants=body.participants,
        views=body.views,
        article_ids=tuple(body.article_ids),
        evidence=tuple(e.value() for e in body.evidence),
    )
    key = command_key(caller, idempotency_key, "education/activities", body.model_dump())
    meta = command_meta(caller, body.occurred_at)
    recorded = await run_in_threadpool(services.education.record_activity, command, meta, key)
    return answer(recorded)


@router.post(
    "/v1/education/activities/{activity_id}/amend",
    responses={200: {"description": "the activity with its amended figures"}},
)
async def amend_activity(
    activity_id: UUID,
    body: b.AmendBody,
    caller: Educator,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Correct an activity's figures with a reason; its history keeps the first figures."""
    figures = Figures(
        participants=body.participants,
        views=body.views,
        audiences=None if body.audiences is None else tuple(body.audiences),
        evidence=tuple(e.value() for e in body.evidence),
    )
    command = AmendActivity(activity_id, body.reason, figures)
    key = command_key(
        caller, idempotency_key, f"education/activities/{activity_id}/amend", body.model_dump()
    )
    meta = command_meta(caller, body.occurred_at)
    recorded = await run_in_threadpool(
        services.education.amend_activity, command, meta, key, if_match_version(if_match)
    )
    return answer(recorded)


@router.get(
    "/v1/education/activities", responses=m.documented(em.ActivityPage, "a page of activities")
)
async def list_activities(
    caller: Reader, services: ServicesDep, after: After = 0, limit: Limit = 50
) -> ReadBody:
    """Activities in the order they were recorded; `next_after` fetches the next page."""
    return page(await run_in_threadpool(services.education_queries.activities, after, limit))


@router.get(
    "/v1/education/activities/{activity_id}", responses=m.documented(em.Activity, "the activity")
)
async def get_activity(
    activity_id: UUID,
    caller: Reader,
    services: ServicesDep,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AsOf | None, Query(description="RFC 3339")] = None,
) -> ReadBody:
    """The activity with its current figures (or as it stood: `as_of_version`, `as_of`)."""
    view = await run_in_threadpool(
        services.education_queries.activity, activity_id, as_of_version, as_of
    )
    return ReadBody(view, headers={"ETag": f'"{view["version"]}"'})


@router.get(
    "/v1/education/activities/{activity_id}/history",
    responses=m.documented(m.History, "the activity's events"),
)
async def activity_history(
    activity_id: UUID,
    caller: Reader,
    services: ServicesDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> ReadBody:
    """Every event of the activity: the first figures and each amendment with its reason."""
    events = await run_in_threadpool(
        services.education_queries.activity_history, activity_id, proofs
    )
    return ReadBody({"events": events})


@router.post(
    "/v1/education/trainings", status_code=201, responses={201: {"description": "recorded"}}
)
async def record_training(
    body: b.TrainingBody,
    caller: Educator,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Record a staff training session with its attendees, hours and optional scores."""
    command = RecordTraining(
        topic=body.topic,
        trainer=body.trainer,
        hours=body.hours,
        held_at=body.held_at,
        attendees=tuple(body.attendees),
        scores=dict(body.scores),
    )
    key = command_key(caller, idempotency_key, "education/trainings", body.model_dump())
    meta = command_meta(caller, body.occurred_at)
    recorded = await run_in_threadpool(services.education.record_training, command, meta, key)
    return answer(recorded)


@router.get(
    "/v1/education/trainings", responses=m.documented(em.TrainingPage, "a page of sessions")
)
async def list_trainings(
    caller: Reader, services: ServicesDep, after: After = 0, limit: Limit = 50
) -> ReadBody:
    """Training sessions in the order they were recorded; `next_after` fetches the next page."""
    return page(await run_in_threadpool(services.education_queries.trainings, after, limit))


@router.get(
    "/v1/education/trainings/{training_id}",
    responses=m.documented(em.Training, "the training session"),
)
async def get_training(training_id: UUID, caller: Reader, services: ServicesDep) -> ReadBody:
    """The training session with its attendees, hours and scores."""
    view = await run_in_threadpool(services.education_queries.training, training_id)
    return ReadBody(view, headers={"ETag": f'"{view["version"]}"'})


@router.get(
    "/v1/education/trainings/{training_id}/history",
    responses=m.documented(m.History, "the session's events"),
)
async def training_history(
    training_id: UUID,
    caller: Reader,
    services: ServicesDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> ReadBody:
    """Every event of the training session, with its ledger position."""
    events = await run_in_threadpool(
        services.education_queries.training_history, training_id, proofs
    )
    return ReadBody({"events": events})
