"""The one place where exceptions become RFC 9457 problem+json responses.

Routes never catch: domain refusals are 409 (422 for input only the domain can judge),
reads of records the caller may not see are 404, validation is 422 naming the fields.
Nothing internal (stack traces, SQL, secrets) is ever put in a response.

The exceptions, and the status each is answered with:

* DomainError (domain/common.py) ······· 409, type urn:xiaobao:rule:<its rule>
  x InvalidInput ······················· 422 naming the field
    + InvalidChargeLine (claims)
  x StaleVersion ······················· 412 (If-Match names an older version)
  x UnknownRecord ······················ 409 (a command names a record that is not there)
  x IdempotencyConflict (receipts) ····· 409 (a key or event id re-used for other content)
  x ConcurrencyExhausted (saving) ······ 409 (other writers kept moving the same streams)
  x ClaimError, PolicyError, ReferenceDataError, AccumulatorUnderflow, ComplaintError,
    DisputeError ······················· 409, one base per aggregate module and a subclass
                                          per rule (ClaimClosed, NoSchemeInForce...)
* NotFound (application/ledger.py) ····· 404 (absent, or not the caller's to see)
* Problem (below) ······················ its own status: raised by the API layer itself
* BodyTooLarge (below) ················· 413
* RequestValidationError (FastAPI) ····· 422 naming each field
* ProofRangeError (infrastructure) ····· 422 (a proof range outside the tree)
* NoCheckpoint (infrastructure) ········ 503 with Retry-After (nothing signed yet)
* OperationalError, InterfaceError ····· 503 with Retry-After (the database is unreachable)
* HTTPException (Starlette) ············ its status (an unknown route, a wrong method)
* anything else ························ 500, logged by kind only
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.ledger import NotFound
from domain.common import DomainError, InvalidInput, StaleVersion
from infrastructure.merkle import ProofRangeError
from infrastructure.proof_service import LedgerDamaged, NoCheckpoint

PROBLEM_JSON = "application/problem+json"
# The database cannot be reached: the library's wrappers and psycopg's own errors (queries
# of our own, the pool's timeout), answered 503 with Retry-After.
UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
log = logging.getLogger("xiaobao.api")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": TITLES[status], "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
    for status in (400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503)
}


@dataclass
class Problem(Exception):
    """An error response; raise it anywhere below a route to answer with it."""

    status: int
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)
    type: str = "about:blank"
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)  # RFC 9457 extension members

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return {**self.extensions, **body}


class BodyTooSlow(Exception):
    """The request body did not arrive within the configured time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class BodyTooLarge(Exception):
    """The request body passed the configured limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def problem_response(problem: Problem) -> Response:
    return Response(
        orjson.dumps(problem.body()),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers or None,
    )


def field_path(loc: tuple[Any, ...] | list[Any], drop: int = 0) -> str:
    """`("body", "data", "items", 0, "amount")` → `data.items[0].amount`."""
    path = ""
    for part in list(loc)[drop:]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def validation_errors(errors: list[Any], drop: int = 0, prefix: str = "") -> list[dict[str, str]]:
    found = []
    for error in errors:
        path = field_path(tuple(error.get("loc", ())), drop)
        if prefix:
            path = prefix if path == "body" else f"{prefix}.{path}"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        found.append({"field": path, "message": message})
    return found


def problem_for(exc: Exception) -> Problem:
    """Map any exception to the problem it answers with."""
    if isinstance(exc, Problem):
        return exc
    too_large = exc if isinstance(exc, BodyTooLarge) else exc.__cause__
    if isinstance(too_large, BodyTooLarge):
        return Problem(413, f"the body exceeds the limit of {too_large.limit} bytes")
    too_slow = exc if isinstance(exc, BodyTooSlow) else exc.__cause__
    if isinstance(too_slow, BodyTooSlow):
        return Problem(
            408,
            f"the body did not arrive within {too_slow.seconds:g} seconds",
            headers={"Connection": "close"},
        )
    if isinstance(exc, ProofRangeError):
        return Problem(422, str(exc), [{"field": "query", "message": str(exc)}])
    if isinstance(exc, NoCheckpoint):
        return Problem(503, str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, LedgerDamaged):
        log.error("ledger damaged at position %s", exc.position)
        return Problem(409, str(exc), type="urn:xiaobao:rule:ledger_integrity")
    if isinstance(exc, StaleVersion):
        return Problem(412, str(exc), type=f"urn:xiaobao:rule:{exc.rule}")
    if isinstance(exc, InvalidInput):
        return Problem(422, exc.message, [{"field": exc.field, "message": exc.message}])
    if isinstance(exc, DomainError):
        return Problem(409, str(exc), type=f"urn:xiaobao:rule:{exc.rule}")
    if isinstance(exc, NotFound):
        return Problem(404, str(exc) or "no such record")
    if isinstance(exc, RequestValidationError):
        errors = validation_errors(list(exc.errors()), drop=1)
        return Problem(422, "the request does not match its schema", errors)
    if isinstance(exc, UNAVAILABLE):
        # One line (the request id is in the log record), never a traceback: an outage
        # answers every request with this, and the database's own log says why.
        log.error("database unavailable: %s", type(exc).__name__)
        return Problem(503, "the ledger database is not reachable", headers={"Retry-After": "1"})
    if isinstance(exc, StarletteHTTPException):
        return Problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))
    log.error("unhandled error %s", type(exc).__name__, exc_info=exc)
    return Problem(500, "the request could not be completed")


async def _handle(request: Request, exc: Exception) -> Response:
    return problem_response(problem_for(exc))


def install(app: FastAPI) -> None:
    """Register the problem+json mapping for every exception kind."""
    for kind in (
        Problem,
        DomainError,
        NotFound,
        RequestValidationError,
        StarletteHTTPException,
        ProofRangeError,
        NoCheckpoint,
        LedgerDamaged,
        *UNAVAILABLE,  # handled here, not by the server-error middleware that re-raises
    ):
        app.add_exception_handler(kind, _handle)
    app.add_exception_handler(Exception, _handle)
