"""What the crash tests drive: a private PostgreSQL cluster, the ledger's processes, and
clients that send encounters and complaints until each is acknowledged.

A client sends each event (or complaint, with an Idempotency-Key) again until it is answered
2xx, as a partner would after a 5xx or a lost connection, and keeps every acknowledgement."""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from api.demo import DEMO_PRINCIPALS, demo_token
from tests.e2e.test_server import free_port

HOSPITALS = [e for e in DEMO_PRINCIPALS if e["role"] == "hospital"]
HANDLER = next(e for e in DEMO_PRINCIPALS if e["role"] == "handler")
ADMIN = next(e for e in DEMO_PRINCIPALS if e["role"] == "admin")
INSURER = next(e for e in DEMO_PRINCIPALS if e["role"] == "insurer")
PERSONS = [{"id": f"33010219800101{i:04d}", "name": "张三"} for i in range(3)]
ITEMS = [
    {"line_id": "L1", "code": "A001", "name": "手术", "category": "A", "amount": "5500.00"},
    {"line_id": "L2", "code": "B001", "name": "药品", "category": "B", "amount": "3000.00"},
]


def bearer(entry: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_token(entry)}"}


class Cluster:
    """A PostgreSQL cluster of the test's own (initdb, pg_ctl), on a free port; started as
    user `nobody` when the test runs as root (initdb refuses root).

    With `primary`, a streaming standby of that cluster instead (`pg_basebackup -R`, a
    second port); with `synchronous`, the primary's commits wait until its standby has
    flushed them, so a failover loses no acknowledged commit."""

    def __init__(self, primary: Cluster | None = None, synchronous: bool = False) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise AssertionError("the crash tests need Debian's postgresql server package")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="xiaobao-crash-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            self.dir.chmod(0o755)
            shutil.chown(self.dir, "nobody", "nogroup")
        if primary is not None:
            self._run(
                "pg_basebackup",
                *("-D", str(self.data), "-R", "-X", "stream", "-c", "fast"),
                *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            )
        else:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
            )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                "max_connections = 200\nshared_buffers = 32MB\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
            )
            if synchronous:
                conf.write("synchronous_standby_names = '*'\nsynchronous_commit = on\n")
            elif primary is not None:  # promoted, it waits for no standby of its own
                conf.write("synchronous_standby_names = ''\n")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "nobody", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def promote(self) -> None:
        """A standby becomes a primary (it takes writes once this returns)."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "promote")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Processes:
    """`xiaobao serve` (and, with separate background work, `project` and `seal`)."""

    env: dict[str, str]
    workdir: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    serve: subprocess.Popen[bytes] | None = None
    project: subprocess.Popen[bytes] | None = None
    seal: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        out = (self.workdir / log).open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "api", *args],
            env=self.env,
            cwd=self.workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def start_serve(self) -> None:
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.serve = self._start(*args, log="serve.log")
        self.wait_ready()

    def start_project(self) -> None:
        self.project = self._start("project", log="project.log")

    def start_seal(self) -> None:
        self.seal = self._start("seal", log="seal.log")

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError("the server did not come up")

    def wait_workers_connected(self, db_port: int, seconds: float = 180) -> None:
        """Until serve has all its workers and each holds a connection to the database (a
        worker restarted after a kill has built its ledger), then a moment for the rest of
        its start-up."""
        deadline = time.monotonic() + seconds
        while True:
            pids = self.workers_pids()
            if len(pids) == self.workers and all(connected_to(p, db_port) for p in pids):
                break
            assert time.monotonic() < deadline, "a restarted worker did not start"
            time.sleep(0.2)
        time.sleep(2.0)

    def workers_pids(self) -> list[int]:
        assert self.serve is not None
        children = Path(f"/proc/{self.serve.pid}/task/{self.serve.pid}/children")
        return [int(p) for p in children.read_text().split() if is_worker(int(p))]

    def stop_all(self) -> None:
        for process in (self.serve, self.project, self.seal):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.serve, self.project, self.seal):
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def is_worker(pid: int) -> bool:
    """A uvicorn worker, not multiprocessing's resource tracker (also a child of serve) nor a
    background process serve started itself."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"spawn_main" in command


def connected_to(pid: int, port: int) -> bool:
    """Whether the process holds a TCP connection to a local port (from /proc)."""
    sockets = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    sockets.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[9] in sockets:
            return True
    return False


def kill9(process: subprocess.Popen[bytes] | None) -> None:
    assert process is not None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@dataclass
class Acknowledged:
    """An event answered 2xx: what was sent and the answer's body."""

    request: dict[str, Any]
    who: dict[str, Any]
    status: int
    body: dict[str, Any]
    tries: int


@dataclass
class Load:
    """Clients sending encounters (admission, charges, discharge) and complaints."""

    url: str
    clients: int = 4
    acknowledged: list[Acknowledged] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # answers that are neither 2xx nor 503
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in self.threads), "a client did not finish"

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=self.url, timeout=30) as http:
            i = 0
            while not self.stop.is_set():
                i += 1
                if i % 4 == 0:
                    self._complaint(http, f"c{n}-{i}")
                else:
                    self._encounter(http, f"ZY-{n}-{i}", HOSPITALS[n % 2], rng.choice(PERSONS))

    def _encounter(
        self, http: httpx.Client, encounter: str, hospital: dict[str, Any], person: dict[str, Any]
    ) -> None:
        admission = {
            "encounter_id": encounter,
            "patient": person,
            "region": "330100",
            "person_type": "employee",
            "hospital_level": 3,
            "social_insurance": True,
            "admitted_at": "2026-03-02T09:00:00+08:00",
        }
        charges = {"encounter_id": encounter, "items": ITEMS}
        discharge = {"encounter_id": encounter, "discharged_at": "2026-03-09T10:00:00+08:00"}
        for kind, data in (
            ("hospital.admission.v1", admission),
            ("hospital.charges.v1", charges),
            ("hospital.discharge.v1", discharge),
        ):
            event = {
                "specversion": "1.0",
                "id": f"{encounter}-{kind}",
                "source": f"/partners/{hospital['partner_id']}",
                "type": f"xiaobao.{kind}",
                "data": data,
            }
            if not self._until_acknowledged(http, event, hospital):
                return

    def _until_acknowledged(
        self, http: httpx.Client, event: dict[str, Any], who: dict[str, Any]
    ) -> bool:
        headers = {**bearer(who), "Content-Type": "application/cloudevents+json"}
        for tries in range(1, 200):  # an outage lasts seconds; a retry every 0.2 s
            status, body = self._send(http, "/v1/events", orjson.dumps(event), headers)
            if 200 <= status < 300:
                with self.lock:
                    self.acknowledged.append(Acknowledged(event, who, status, body, tries))
                return True
            if status not in (0, 503):
                self.refused.append(f"{status} {body.get('detail')}")
                return False
            time.sleep(0.2)
        return False

    def _complaint(self, http: httpx.Client, key: str) -> None:
        body = {
            "channel": "hotline",
            "complainant": {"id": f"complainant-{key}", "name": "张三"},
            "matter": "理赔被拒",
            "request": "赔付",
            "cause": "claims",
            "line": "health",
            "region": "330100",
        }
        headers = {**bearer(HANDLER), "Idempotency-Key": key, "Content-Type": "application/json"}
        for _ in range(200):
            status, answer = self._send(http, "/v1/complaints", orjson.dumps(body), headers)
            if 200 <= status < 300:
                with self.lock:
                    self.complaints.append(str(answer["id"]))
                return
            if status not in (0, 503):
                self.refused.append(f"{status} {answer.get('type')} {answer.get('detail')}")
                return
            time.sleep(0.2)

    def _send(
        self, http: httpx.Client, path: str, content: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """The status (0 when the connection broke: a killed worker) and the body."""
        try:
            response = http.post(path, content=content, headers=headers)
        except httpx.TransportError:
            status, body = 0, dict[str, Any]()
        else:
            status = response.status_code
            body = orjson.loads(response.content) if response.content else {}
            problem = response.headers.get("content-type") == "application/problem+json"
            if status == 503 and not (problem and "retry-after" in response.headers):
                self.refused.append("503 without problem+json and Retry-After")
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        return status, body
