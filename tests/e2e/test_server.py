"""A real `xiaobao serve` process on a real database: what was acknowledged survives a kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from api.demo import DEMO_PRINCIPALS, demo_token
from infrastructure.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def alive(pid: str) -> bool:
    """Whether the process runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Server:
    """One `xiaobao serve` process."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "XIAOBAO_DATABASE_URL": settings.database_url,
            "XIAOBAO_PRINCIPALS_FILE": str(settings.principals_file),
            "XIAOBAO_SIGNING_KEY_FILE": str(settings.signing_key_file),
        }
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # serve starts a worker per core and two background processes (slow on a busy host)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the server did not become ready")

    def kill(self) -> None:
        """kill -9 of serve; its workers and background processes end with it (a
        parent-death signal), and the next start waits until they are gone, so no request
        of the test reaches a dying worker of the killed server."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 60
        while any(alive(child) for child in children):
            assert time.monotonic() < deadline, "serve's children outlived it"
            time.sleep(0.1)


def test_acknowledged_events_survive_a_killed_server(server: Server) -> None:
    hospital = next(e for e in DEMO_PRINCIPALS if e["role"] == "hospital")
    headers = {
        "Authorization": f"Bearer {demo_token(hospital)}",
        "Content-Type": "application/cloudevents+json",
    }
    server.start()
    admission = {
        "specversion": "1.0",
        "id": "e2e-1",
        "source": f"/partners/{hospital['partner_id']}",
        "type": "xiaobao.hospital.admission.v1",
        "data": {
            "encounter_id": "E2E-1",
            "patient": {"id": "p-e2e", "name": "测试"},
            "region": "330100",
            "person_type": "employee",
            "hospital_level": 3,
            "social_insurance": False,
            "admitted_at": "2026-03-02T09:00:00+08:00",
        },
    }
    acknowledged = httpx.post(
        f"{server.url}/v1/events", content=orjson.dumps(admission), headers=headers, timeout=10
    )
    assert acknowledged.status_code == 201
    server.kill()
    server.start()
    claim_id = acknowledged.json()["stream"]["id"]
    read = httpx.get(f"{server.url}/v1/claims/{claim_id}", headers=headers, timeout=10)
    assert read.status_code == 200
    assert read.json()["encounter_id"] == "E2E-1"
    replay = httpx.post(
        f"{server.url}/v1/events", content=orjson.dumps(admission), headers=headers, timeout=10
    )
    assert replay.status_code == 200
    assert replay.json()["position"] == acknowledged.json()["position"]
