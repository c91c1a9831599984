"""The HTTP protocols `xiaobao serve` runs: uvicorn's, with a deadline for a request's head.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but waits for ever
for a request head that arrives a byte at a time (or not at all), so a handful of such
connections could hold a worker's sockets. Here the head (request line and headers) must be
complete within `XIAOBAO_HEADER_TIMEOUT_SECONDS` of its first byte, or of the connection
being opened; otherwise the connection is closed. The head's size is bounded too
(`XIAOBAO_MAX_HEADER_BYTES`, counted here). The body's own deadline is kept by the ASGI
middleware (`api.middleware`).
"""

from __future__ import annotations

import asyncio
import functools
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from infrastructure.settings import Settings

log = logging.getLogger("xiaobao.http")


@functools.cache
def _limits() -> tuple[float, int]:
    """The head's deadline and size limit of this process (read once per worker)."""
    settings = Settings()
    return settings.header_timeout_seconds, settings.max_header_bytes


class _HeadDeadline:
    """A timer closing the connection when a request head takes too long."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    _head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(_limits()[0], self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("closed a connection whose request head did not arrive in time")
            self.transport.close()


class TimedHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol (uvicorn[standard]'s choice) with a deadline and a size
    limit for each request head."""

    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > _limits()[1]:
            raise ValueError("request head too large")  # a parser error: 400, then closed
