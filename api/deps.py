"""Dependencies: the services built in the lifespan, and the authenticated principal."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.access import RULES, roles_of
from api.errors import Problem
from api.observability import Metrics
from api.ratelimit import FailureThrottle, RateLimiter, retry_after
from api.responses import JSONBody
from api.sessions import COOKIE, session_principal
from application.commands import CommandKey, CommandResult
from application.gateway import Meta
from application.ledger import Ledger, utc_now
from application.services import Knowledge, ReportServices, Services
from domain.common import Actor, check_occurred_at
from infrastructure.case_stats import ClaimAndDisputeStatistics
from infrastructure.complaint_stats import ComplaintStatistics
from infrastructure.education_stats import EducationStatistics
from infrastructure.knowledge_stats import KnowledgeStatistics
from infrastructure.notary import Notary
from infrastructure.principals import Principal, Principals
from infrastructure.proof_service import LedgerProofs
from infrastructure.rectification_stats import RectificationStatistics
from infrastructure.report_stats import ReportStatistics
from infrastructure.settings import Settings
from infrastructure.store import replica_head

CLAIM_READERS = RULES["claims.read"].roles

bearer = HTTPBearer(auto_error=False, description="Bearer token from the principals file")


@dataclass(frozen=True)
class Runtime:
    """Everything built once in the lifespan and shared by requests."""

    settings: Settings
    services: Services
    reports: ReportServices
    principals: Principals
    limiter: RateLimiter
    auth_failures: FailureThrottle
    metrics: Metrics
    notary: Notary
    proofs: LedgerProofs | None
    statistics: ComplaintStatistics | None = None
    case_statistics: ClaimAndDisputeStatistics | None = None
    knowledge: Knowledge | None = None
    knowledge_statistics: KnowledgeStatistics | None = None
    education_statistics: EducationStatistics | None = None
    rectification_statistics: RectificationStatistics | None = None
    report_statistics: ReportStatistics | None = None
    # With XIAOBAO_READ_DATABASE_URL: the replica, the reads over it, and the primary's
    # proofs (`proofs` above are then the replica's)
    replica: Ledger | None = None
    read_services: Services | None = None
    primary_proofs: LedgerProofs | None = None


async def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


READS = ("GET", "HEAD")
POSITION = re.compile(r"[0-9]{1,18}")


def min_position(request: Request) -> int | None:
    """The `X-Min-Position` header of a read: the ledger position the answer must reflect
    (a partner's own last write); 422 naming the header when it is not a position."""
    value = request.headers.get("x-min-position")
    if value is None:
        return None
    if not POSITION.fullmatch(value.strip()):
        raise Problem(
            422,
            "X-Min-Position must be a ledger position (an integer ≥ 0)",
            [{"field": "X-Min-Position", "message": "an integer ≥ 0"}],
        )
    return int(value)


async def replayed(rt: Runtime, position: int) -> bool:
    """Whether the replica has replayed `position`, waiting up to the setting for it."""
    replica = rt.replica
    if replica is None:
        return True
    deadline = time.monotonic() + rt.settings.min_position_wait_seconds
    while True:
        head = await asyncio.to_thread(replica_head, replica)
        if head >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)


async def on_replica(request: Request, rt: Runtime) -> bool:
    """A read goes to the replica, once it has replayed the read's `X-Min-Position`; when it
    has not within the wait, the primary answers (it has every acknowledged write)."""
    if request.method not in READS:
        return False
    wanted = min_position(request)  # checked with or without a replica
    if rt.replica is None:
        return False
    return wanted is None or await replayed(rt, wanted)


async def services(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Services:
    """The services over the replica for a read (when there is one), else the primary's."""
    if await on_replica(request, rt) and rt.read_services is not None:
        return rt.read_services
    return rt.services


def authenticate(
    rt: Runtime, request: Request, token: str, challenge: dict[str, str] | None = None
) -> Principal:
    """The principal of a token. An unknown token is a failed attempt of the client's address:
    401, or 429 with `Retry-After` once the address failed more than the setting's number a
    minute. A valid token is never refused for the failures of its address."""
    found = rt.principals.authenticate(token)
    if found is not None:
        return found
    address = request.client.host if request.client else "-"
    wait = rt.auth_failures.refused(address)
    if wait > 0:
        raise Problem(
            429,
            "too many failed authentications from this address",
            headers={"Retry-After": retry_after(wait)},
        )
    rt.auth_failures.failed(address)
    raise Problem(401, "unknown token", headers=challenge or {})


async def principal(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller; 401 when the token is missing or unknown (429 after many unknown ones). A
    read (GET) without a token may carry the session cookie of the staff pages instead (the
    auditor's console reads the contract's routes from the browser that way); writes always
    need the token."""
    if credentials is None and request.method in ("GET", "HEAD") and COOKIE in request.cookies:
        session = session_principal(rt, request.cookies[COOKIE])
        if session is None:
            raise Problem(401, "the session has expired or is not valid")
        found = session
    elif credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    else:
        found = authenticate(rt, request, credentials.credentials, {"WWW-Authenticate": "Bearer"})
    wait = rt.limiter.take(found.name)
    if wait > 0:
        raise Problem(
            429, "too many requests for this principal", headers={"Retry-After": retry_after(wait)}
        )
    return found


def roles(*allowed: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the given roles (403 for the others)."""

    async def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if caller.role not in allowed:
            raise Problem(403, f"the {caller.role} role may not use this route")
        return caller

    check.allowed_roles = allowed  # type: ignore[attr-defined]
    return check


def allow(row: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting the roles of one row of the route table (api/access.py)."""
    check = roles(*roles_of(row))
    check.access_row = row  # type: ignore[attr-defined]
    return check


async def metrics(rt: Annotated[Runtime, Depends(runtime)]) -> Metrics:
    return rt.metrics


async def notary(rt: Annotated[Runtime, Depends(runtime)]) -> Notary:
    return rt.notary


async def reports(rt: Annotated[Runtime, Depends(runtime)]) -> ReportServices:
    return rt.reports


ServicesDep = Annotated[Services, Depends(services)]
ReportsDep = Annotated[ReportServices, Depends(reports)]
MetricsDep = Annotated[Metrics, Depends(metrics)]
NotaryDep = Annotated[Notary, Depends(notary)]


async def proofs(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> LedgerProofs:
    if rt.proofs is None:
        raise Problem(503, "this ledger runs on the in-memory store and has no Merkle log")
    if not await on_replica(request, rt) and rt.primary_proofs is not None:
        return rt.primary_proofs
    return rt.proofs


MinPosition = Annotated[int | None, Depends(min_position)]


ProofsDep = Annotated[LedgerProofs, Depends(proofs)]
CallerDep = Annotated[Principal, Depends(principal)]


def hospital_scope(caller: Principal) -> str | None:
    """A hospital sees only its own encounters; other readers are not scoped."""
    return caller.partner_id or "" if caller.role == "hospital" else None


def insurer_scope(caller: Principal) -> str | None:
    """An insurer sees only the claims under its own policies; other readers are not scoped."""
    return caller.partner_id or "" if caller.role == "insurer" else None


def command_key(caller: Principal, key: str | None, path: str, body: Any) -> CommandKey | None:
    """The Idempotency-Key of a staff write, scoped to the caller, with the request's digest."""
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise Problem(
            422,
            "Idempotency-Key must be 1 to 200 characters",
            [{"field": "Idempotency-Key", "message": "1 to 200 characters"}],
        )
    canonical = orjson.dumps({"path": path, "body": body}, option=orjson.OPT_SORT_KEYS, default=str)
    return CommandKey(caller.name, key, hashlib.sha256(canonical).hexdigest())


def if_match_version(value: str | None) -> int | None:
    """`If-Match: "3"` → 3 (the ETag of a read); anything unparsable is a stale precondition."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise Problem(412, 'If-Match must carry an ETag returned by a read, such as "3"')
    return int(tag)


def command_meta(caller: Principal, occurred_at: datetime | None) -> Meta:
    """When a staff command happened (its `occurred_at`, not in the future; default now) and
    who gave it."""
    now = utc_now()
    at = occurred_at or now
    check_occurred_at(at, now)
    return Meta(at.astimezone(UTC), Actor(caller.name, caller.role, caller.partner_id))


def command_response(result: CommandResult) -> JSONBody:
    """The command's response; a replay says so in `Idempotent-Replayed`."""
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONBody(result.body, status_code=201 if result.created else 200, headers=headers)


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="replays answer with the first response"),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description="the ETag of your last read; stale → 412")
]
