"""Dependencies: the services built in the lifespan, and the authenticated principal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import Problem
from application.services import Services
from infrastructure.principals import Principal, Principals
from infrastructure.settings import Settings

STAFF_READERS = ("admin", "handler", "supervisor", "auditor", "insurer", "regulator")
CLAIM_READERS = ("hospital", "insurer", "handler", "supervisor", "auditor")

bearer = HTTPBearer(auto_error=False, description="Bearer token from the principals file")


@dataclass(frozen=True)
class Runtime:
    """Everything built once in the lifespan and shared by requests."""

    settings: Settings
    services: Services
    principals: Principals


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def services(rt: Annotated[Runtime, Depends(runtime)]) -> Services:
    return rt.services


def principal(
    rt: Annotated[Runtime, Depends(runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller; 401 when the token is missing or unknown."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    found = rt.principals.authenticate(credentials.credentials)
    if found is None:
        raise Problem(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return found


def roles(*allowed: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (403 for the others)."""

    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if caller.role not in allowed:
            raise Problem(403, f"the {caller.role} role may not use this route")
        return caller

    check.allowed_roles = allowed  # type: ignore[attr-defined]
    return check


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Principal, Depends(principal)]


def hospital_scope(caller: Principal) -> str | None:
    """A hospital sees only its own encounters; other readers are not scoped."""
    return caller.partner_id or "" if caller.role == "hospital" else None
