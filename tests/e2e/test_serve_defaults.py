"""`xiaobao serve` with its defaults on PostgreSQL: one API worker per core, and the sealer
and projection runner as processes of their own at a lower priority, which end with serve
(even a killed one) and take over the background work from the workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.demo import write_principals
from infrastructure.settings import Settings
from tests.conftest import settings_for
from tests.e2e.test_server import Server


def children(pid: int) -> dict[int, tuple[str, int]]:
    """The processes descending from `pid`: their command line and nice value."""
    found: dict[int, tuple[str, int]] = {}
    parents = {pid}
    grew = True
    while grew:
        grew = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in found:
                continue
            try:
                stat = (entry / "stat").read_text()
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) in parents:
                found[int(entry.name)] = (argv.strip(), int(fields[16]))
                parents.add(int(entry.name))
                grew = True
    return found


def alive(pid: int) -> bool:
    """Whether the process still runs (an ended one may stay a zombie until reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    settings: Settings = settings_for("postgres", tmp_path, request)
    write_principals(settings.principals_file)
    running = Server(settings, tmp_path)
    yield running
    if running.process and running.process.poll() is None:
        running.kill()


def test_serve_runs_a_worker_per_core_and_background_processes_that_end_with_it(
    server: Server,
) -> None:
    server.process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(server.port)],
        env=server.env,
        cwd=server.workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Each worker loads the dictionary and the encoder; the views catch up in another
    # process: on a busy shared machine that can take longer than the other tests allow.
    deadline = time.monotonic() + 120
    while not ready(server.url):
        assert time.monotonic() < deadline, "the server did not become ready"
        assert server.process.poll() is None, "serve ended"
        time.sleep(0.2)
    processes = children(server.process.pid)
    background = {
        argv.rsplit(" ", 1)[-1]: nice
        for argv, nice in processes.values()
        if argv.endswith((" api seal", " api project"))
    }
    workers = [argv for argv, _ in processes.values() if "spawn_main" in argv]
    lower = min(os.nice(0) + 10, 19)  # ten below serve's own priority (the test's)
    assert background == {"seal": lower, "project": lower}
    assert len(workers) == len(os.sched_getaffinity(0))

    server.kill()  # kill -9: no chance to stop its children itself
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(p) for p in processes):
        time.sleep(0.1)
    left = [argv for p, (argv, _) in processes.items() if alive(p)]
    assert left == []
