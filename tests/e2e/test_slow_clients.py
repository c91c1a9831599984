"""Slow clients against a real `xiaobao serve`: a connection that sends half a request head,
nothing at all, or half a body is closed after its deadline, while normal requests are
answered meanwhile."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.demo import DEMO_PRINCIPALS, demo_token, write_principals
from infrastructure.settings import Settings
from tests.e2e.test_server import Server

DEADLINE = 1.0  # the head and body deadlines of the server under test


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    write_principals(settings.principals_file)
    running = Server(settings, tmp_path)
    running.env["XIAOBAO_HEADER_TIMEOUT_SECONDS"] = str(DEADLINE)
    running.env["XIAOBAO_BODY_TIMEOUT_SECONDS"] = str(DEADLINE)
    running.env["XIAOBAO_MAX_HEADER_BYTES"] = "4096"
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.kill()


def opened(server: Server, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE + 5)
    if sent:
        sock.sendall(sent)
    return sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    with sock:
        while chunk := sock.recv(4096):
            received += chunk
    return received


def test_half_open_connections_are_closed_after_their_deadline_and_others_are_served(
    server: Server,
) -> None:
    hospital = next(e for e in DEMO_PRINCIPALS if e["role"] == "hospital")
    half_body = (
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\n"
        + f"Authorization: Bearer {demo_token(hospital)}\r\n".encode()
        + b'Content-Length: 200\r\n\r\n{"specversion": "1.0",'
    )
    started = time.monotonic()
    slow = [
        opened(server, b""),  # connects and sends nothing
        opened(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),  # half a head
        opened(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1"),
        opened(server, half_body),
        opened(server, half_body),
    ]
    # Meanwhile the single worker answers normal requests at once.
    for _ in range(3):
        assert httpx.get(f"{server.url}/readyz", timeout=DEADLINE / 2).status_code == 200
    received = [until_closed(sock) for sock in slow]
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + 4, elapsed  # closed after the deadline, not held open
    assert received[:3] == [b"", b"", b""]  # a head that never came: closed, nothing sent
    for answer in received[3:]:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"application/problem+json" in answer
    assert httpx.get(f"{server.url}/healthz", timeout=DEADLINE).status_code == 200
    huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n"
    assert until_closed(opened(server, huge)).startswith(b"HTTP/1.1 400")  # a head over 4096 bytes
