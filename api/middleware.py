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
# Routes that read their own media types: CloudEvents, and the login forms of the dashboard
# and the auditor's console.
OWN_MEDIA_TYPES = frozenset({"/v1/events", "/dashboard/login", "/audit/login"})


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
        self.deadlines = BodyDeadlines(body_timeout)
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

        task = asyncio.current_task()
        try:
            refusal = self._refusal(scope, headers)
            if refusal is not None:
                await problem_response(refusal)(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive, task), send_with_id)
        except asyncio.CancelledError:
            if not self.deadlines.overdue(task):
                raise
            if not status["sent"]:  # cancelled between two reads of a late body
                slow = problem_for(BodyTooSlow(self.body_timeout))
                await problem_response(slow)(scope, receive, send_with_id)
        except BodyTooLarge:
            if not status["sent"]:
                await problem_response(problem_for(BodyTooLarge(self.max_body)))(
                    scope, receive, send_with_id
                )
        except BodyTooSlow as slow:
            if not status["sent"]:
                await problem_response(problem_for(slow))(scope, receive, send_with_id)
        finally:
            self.deadlines.forget(task)
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

    def _limited(self, receive: Receive, task: asyncio.Task[Any] | None) -> Receive:
        """The body, counted against the size limit and read against the deadline (only
        while it is incomplete: waiting for a disconnect afterwards has no deadline)."""
        seen = 0
        done = False
        deadline = time.monotonic() + self.body_timeout

        async def receive_counted() -> Message:
            nonlocal seen, done
            if done:
                return await receive()
            self.deadlines.watch(task, deadline)
            try:
                message = await receive()
            except asyncio.CancelledError:
                if self.deadlines.overdue(task):
                    raise BodyTooSlow(self.body_timeout) from None
                raise
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
                done = not message.get("more_body", False)
            else:
                done = True
            if done:
                self.deadlines.forget(task)
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


class BodyDeadlines:
    """Requests still reading their body, and by when they must have it. One sweep every
    quarter of the deadline (at most a second) cancels the late ones' tasks, which then
    answer 408: a timer per read would cost more than the read on the hottest route."""

    def __init__(self, seconds: float) -> None:
        self.interval = min(1.0, seconds / 4)
        self.waiting: dict[asyncio.Task[Any], float] = {}
        self.late: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def watch(self, task: asyncio.Task[Any] | None, deadline: float) -> None:
        if task is None:
            return
        self.waiting[task] = deadline
        sweeper = self._sweeper
        loop = asyncio.get_running_loop()
        if sweeper is None or sweeper.done() or sweeper.get_loop() is not loop:
            self._sweeper = loop.create_task(self._sweep())

    def forget(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            self.waiting.pop(task, None)
            self.late.discard(task)

    def overdue(self, task: asyncio.Task[Any] | None) -> bool:
        """Whether the task was cancelled for its late body (then the cancellation is
        taken back: the request goes on to answer 408)."""
        if task is None or task not in self.late:
            return False
        self.late.discard(task)
        task.uncancel()
        return True

    async def _sweep(self) -> None:
        while self.waiting:  # ends when no body is being read; the next read starts another
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            for task, deadline in list(self.waiting.items()):
                if deadline <= now:
                    del self.waiting[task]
                    if not task.done():
                        self.late.add(task)
                        task.cancel()
