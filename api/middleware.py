"""Pure ASGI middleware: request id, body-size limit and deadline, media types, metrics and
request log."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyTooLarge, BodyTooSlow, Problem, problem_for, problem_response
from api.observability import Metrics, request_id

log = logging.getLogger("xiaobao.http")
JSON_TYPES = ("application/json", "application/merge-patch+json")
WRITES = frozenset({"POST", "PUT", "PATCH"})
# Routes that read their own media types: CloudEvents, and the dashboard's login form.
OWN_MEDIA_TYPES = frozenset({"/v1/events", "/dashboard/login"})


class Gateway:
    """Wraps the app: every response carries `X-Request-Id`; oversized or wrongly typed
    bodies are refused before a route runs, a body that does not arrive within `body_timeout`
    seconds of the request's head is answered 408 and its connection closed; each request is
    counted, timed and logged."""

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        body_timeout: float,
        metrics: Metrics,
        access_log: bool,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            refusal = self._refusal(scope, headers)
            if refusal is not None:
                await problem_response(refusal)(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive), send_with_id)
        except BodyTooLarge:
            if not status["sent"]:
                await problem_response(problem_for(BodyTooLarge(self.max_body)))(
                    scope, receive, send_with_id
                )
        except BodyTooSlow as slow:
            if not status["sent"]:
                await problem_response(problem_for(slow))(scope, receive, send_with_id)
        finally:
            self._observe(scope, status["code"], time.perf_counter() - started)
            request_id.reset(token)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> Problem | None:
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return self._too_large()
        if scope["method"] in WRITES and scope["path"] not in OWN_MEDIA_TYPES:
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            has_body = length not in (None, "0") or "transfer-encoding" in headers
            if has_body and media not in JSON_TYPES:
                return Problem(415, "send the body as application/json")
        return None

    def _too_large(self) -> Problem:
        return problem_for(BodyTooLarge(self.max_body))

    def _limited(self, receive: Receive) -> Receive:
        """The body, counted against the size limit and read against the deadline (only
        while it is incomplete: waiting for a disconnect afterwards has no deadline)."""
        seen = 0
        done = False
        deadline = time.monotonic() + self.body_timeout

        async def receive_counted() -> Message:
            nonlocal seen, done
            if done:
                return await receive()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(self.body_timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
                done = not message.get("more_body", False)
            else:
                done = True
            return message

        return receive_counted

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        self.metrics.requests.labels(route, method, str(status)).inc()
        self.metrics.latency.labels(route, method).observe(seconds)
        if self.access_log:
            log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )


def route_template(scope: Scope) -> str:
    """The matched route's path template, so no id or personal value reaches a label."""
    route: Any = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
