"""What `xiaobao serve` runs: uvicorn's HTTP protocol with a deadline for a request's head,
the worker processes' app, and the background processes serve starts itself.

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
import ctypes
import functools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from infrastructure.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

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


# -- the processes of `xiaobao serve` ------------------------------------------------------

PARENT_ENV = "_XIAOBAO_SERVE_PID"  # set by serve for the processes it starts
NICE_ENV = "_XIAOBAO_BACKGROUND_NICE"


def worker_app() -> FastAPI:
    """The app of a `serve` worker process (uvicorn's factory): the worker ends with serve,
    even when serve itself is killed (uvicorn's workers would otherwise keep the port), and
    does not migrate again (the workers' migrations took turns, delaying readiness)."""
    from api.app import create_app

    follow_parent()
    return create_app(run_migrations=False)  # serve migrated before starting its workers


def follow_parent() -> None:
    """In a process that `serve` started: end (SIGTERM) when serve ends, and run at the
    priority serve asked for. Nothing in any other process."""
    parent = os.environ.get(PARENT_ENV)
    if parent is None or int(parent) == os.getpid():
        return
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(parent):  # serve ended before the line above
        os.kill(os.getpid(), signal.SIGTERM)
    nice = int(os.environ.get(NICE_ENV, "0"))
    if nice:
        os.nice(nice)


class Background:
    """`xiaobao seal` and `xiaobao project` as processes of their own that serve starts at a
    lower priority than the API workers (the request path keeps the CPU it needs), and
    starts again when one ends (after 1 s, doubling up to 30 s)."""

    def __init__(self, commands: list[str], env: Mapping[str, str], nice: int) -> None:
        self.commands = commands
        self.env = {**env, PARENT_ENV: str(os.getpid()), NICE_ENV: str(nice)}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="background", daemon=True)

    def __enter__(self) -> Background:
        for command in self.commands:
            self._start(command)
        if self.commands:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def _start(self, command: str) -> None:
        argv = [sys.executable, "-m", "api", command]  # this program's own commands
        self.processes[command] = subprocess.Popen(argv, env=self.env)  # noqa: S603
        self.started[command] = time.monotonic()
        log.info("started a background process", extra={"command": command})

    def _watch(self) -> None:
        delays = dict.fromkeys(self.commands, 0.5)
        while not self.stop.wait(0.5):
            for command, process in list(self.processes.items()):
                code = process.poll()
                if code is None:
                    continue
                # one that keeps failing soon after its start waits longer each time
                ran = time.monotonic() - self.started[command]
                delays[command] = 1.0 if ran > 60 else min(delays[command] * 2, 30.0)
                log.warning(
                    "a background process ended; starting it again",
                    extra={"command": command, "code": code, "delay_s": delays[command]},
                )
                if self.stop.wait(delays[command]):
                    return
                self._start(command)
