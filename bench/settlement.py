"""Settlement benchmark (not a test): full encounters over HTTP against PostgreSQL.

Each encounter is an admission, one charges event of 20 lines and a discharge. Runs with 1
and 4 concurrent clients and prints encounters/s and discharge p50/p99, next to the bare
eventsourcing library's one-event save rate from one thread on the same database, measured
in the same run (machines are shared and noisy: only the ratio is meaningful).

    .venv/bin/python -m bench.settlement [--encounters 300] [--workers 2]
        [--background separate|serve|inline|off] [--runs 10]

`--runs N` repeats the measured part (baseline, 1 and 4 clients, baseline) N times against
the same server and ends with the spread: how many runs met both targets, and the range of
the ratio and of the discharge p99.

With each rate it prints the CPU each group of processes used per encounter (from /proc),
which a busy shared machine disturbs much less than the rates.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import orjson
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from api.demo import DEMO_PRINCIPALS, demo_token, write_principals
from bench.common import (
    cpu_seconds,
    database_backends,
    database_url,
    fresh_database,
    process_tree,
)

DB = os.environ.get("XIAOBAO_BENCH_DB", "xiaobao_bench")
URL = database_url(DB)


class Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.n = 0


def bare_save_rate(count: int) -> float:
    """The library alone: one aggregate, one event, one save, one thread."""
    app: Application[Any] = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": DB,
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
        }
    )
    for _ in range(50):
        app.save(Counter())
    started = time.perf_counter()
    for _ in range(count):
        app.save(Counter())
    elapsed = time.perf_counter() - started
    app.close()
    return count / elapsed


def token(role: str) -> str:
    return demo_token(next(e for e in DEMO_PRINCIPALS if (e["partner_id"] or e["role"]) == role))


HOSPITAL = "hosp-hz-001"
HEADERS = {"Authorization": f"Bearer {token(HOSPITAL)}", "Content-Type": "application/json"}


def cloud_event(kind: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": uuid4().hex,
            "source": f"/partners/{HOSPITAL}",
            "type": f"xiaobao.hospital.{kind}.v1",
            "data": data,
        }
    )


LINES = [
    {
        "line_id": f"L{i}",
        "code": f"C{i:03d}",
        "name": "项目",
        "category": "ABC"[i % 3],
        "amount": f"{1000 + 37 * i}.{i:02d}",
    }
    for i in range(20)
]


class Client:
    """A keep-alive HTTP/1.1 client for the load generator: each request is one write (no
    Nagle stall) and a response is read by its Content-Length. The load generator shares the
    machine's two cores with the server, so it is kept lean: http.client's request building
    and header parsing cost about as much CPU per encounter as the projection runner."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
            + "Content-Length: "
        ).encode()
        self.buffer = b""

    def post(self, body: bytes) -> tuple[int, bytes]:
        self.sock.sendall(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            (
                int(line.split(":", 1)[1])
                for line in lines[1:]
                if line[:15].lower() == "content-length:"
            ),
            None,
        )
        if length is None:
            raise ConnectionError(f"a response without Content-Length: {lines[0]!r}")
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def encounter(client: Client, n: int, discharges: list[float]) -> None:
    encounter_id = f"B-{uuid4().hex[:12]}"
    admission = {
        "encounter_id": encounter_id,
        "patient": {"id": f"bench-person-{n}", "name": "测试"},
        "region": "330100",
        "person_type": "employee",
        "hospital_level": 3,
        "social_insurance": True,
        "admitted_at": "2026-03-02T09:00:00+08:00",
    }
    for kind, data in (
        ("admission", admission),
        ("charges", {"encounter_id": encounter_id, "items": LINES}),
    ):
        status, body = client.post(cloud_event(kind, data))
        assert status == 201, body
    started = time.perf_counter()
    status, body = client.post(
        cloud_event("discharge", {"encounter_id": encounter_id, "discharged_at": "2026-03-09"})
    )
    discharges.append(time.perf_counter() - started)
    assert status == 201, body
    assert "settlement" in orjson.loads(body)


def _client(port: int, first: int, count: int, start: Any, results: Any) -> None:
    """One partner system: its own process and keep-alive connection, `count` encounters."""
    discharges: list[float] = []
    try:
        try:
            client = Client(port)
        finally:
            start.wait(timeout=60)  # the others are not held up by a client that failed
        for n in range(first, first + count):
            encounter(client, n, discharges)
        client.close()
        results.put(("ok", discharges))
    except Exception as exc:  # any failure is reported: the parent waits for every client
        results.put(("failed", repr(exc)))


def run_clients(port: int, clients: int, encounters: int) -> tuple[float, list[float]]:
    """Encounters from `clients` concurrent client processes (threads of one process would
    wait for each other's turn on the GIL, and that wait would show as server latency)."""
    start = multiprocessing.Barrier(clients + 1)
    results: Any = multiprocessing.Queue()
    shares = [encounters // clients + (i < encounters % clients) for i in range(clients)]
    firsts = [sum(shares[:i]) for i in range(clients)]
    processes = [
        multiprocessing.Process(target=_client, args=(port, first, share, start, results))
        for first, share in zip(firsts, shares, strict=True)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=60)
    started = time.perf_counter()
    outcomes = [results.get() for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    failures = [detail for status, detail in outcomes if status != "ok"]
    if failures:  # a rate over fewer encounters than asked would mislead
        raise SystemExit(f"{len(failures)} client(s) failed; the first: {failures[0]}")
    return encounters / elapsed, [d for _, detail in outcomes for d in detail]


def wait_for_vectors(timeout: float = 300.0) -> float:
    """Wait until the projection process has written the passage vector of every published
    knowledge article of the demo (its start-up work), so that no run is timed while it
    encodes; then give the API workers' followers a moment to read them back."""
    started = time.perf_counter()
    with psycopg.connect(URL, autocommit=True) as conn:
        published = conn.execute(
            "SELECT count(*) FROM ledger_events WHERE topic LIKE %s",
            ("%KnowledgeArticle.Published",),
        ).fetchone()
        wanted = int(published[0]) if published else 0
        if not wanted:
            return 0.0
        while time.perf_counter() - started < timeout:
            row = conn.execute("SELECT count(*) FROM knowledge_vectors").fetchone()
            if row is not None and int(row[0]) >= wanted:
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"the passage vectors were not written within {timeout:.0f} s")
    time.sleep(2.0)
    return time.perf_counter() - started


def cpu_roles(server: int, separate: list[int]) -> dict[str, list[int]]:
    """The benchmarked processes by role: API workers (serve and its workers), sealer,
    projection runner (started by the bench or by serve) and PostgreSQL's backends."""
    roles: dict[str, list[int]] = {"API": [], "sealer": [], "projections": []}
    for pid in process_tree(server) + [p for s in separate for p in process_tree(s)]:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        role = {b"seal": "sealer", b"project": "projections"}.get(
            argv[-2] if len(argv) > 1 else b""
        )
        roles[role or "API"].append(pid)
    roles["PostgreSQL"] = database_backends(DB)
    return roles


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] * 1000


def measure(
    args: argparse.Namespace, server: subprocess.Popen[bytes], workers: list[Any], bare: float
) -> tuple[float, float]:
    """One measured run: 1 then 4 clients, the baseline after; (ratio, discharge p99 ms)."""
    for clients in (1, 4):
        roles = cpu_roles(server.pid, [w.pid for w in workers])
        used = {role: cpu_seconds(pids) for role, pids in roles.items()}
        loader = _children_cpu()
        rate, discharges = run_clients(args.port, clients, args.encounters)
        used = {r: cpu_seconds(pids) - used[r] for r, pids in roles.items()}
        used["load generator"] = _children_cpu() - loader
        print(
            f"{clients} client(s): {rate:7.1f} encounters/s  "
            f"discharge p50 {percentile(discharges, 50):6.1f} ms  "
            f"p99 {percentile(discharges, 99):6.1f} ms"
        )
        print(
            "  CPU per encounter: "
            + ", ".join(f"{r} {s / args.encounters * 1000:.2f} ms" for r, s in used.items())
        )
    # The baseline is measured before and after the HTTP runs; their mean is used.
    bare = (bare + bare_save_rate(2000)) / 2
    print(f"bare eventsourcing save rate (1 thread, PostgreSQL): {bare:8.1f} saves/s")
    target = bare / 3 * 0.5
    ratio, p99 = rate / (bare / 3), percentile(discharges, 99)
    print(
        f"4-client encounter rate / (bare ÷ 3) = {ratio:.2f} "
        f"(target ≥ 0.50, i.e. ≥ {target:.1f} encounters/s); "
        f"discharge p99 {p99:.1f} ms (target ≤ 20 ms)"
    )
    return ratio, p99


def spread(outcomes: list[tuple[float, float]]) -> None:
    """The runs side by side: how many met both targets, and the ranges."""
    ratios = [ratio for ratio, _ in outcomes]
    p99s = [p99 for _, p99 in outcomes]
    met = sum(1 for ratio, p99 in outcomes if ratio >= 0.5 and p99 <= 20)
    print(
        f"spread over {len(outcomes)} runs: both targets met in {met}; "
        f"ratio {min(ratios):.2f}–{max(ratios):.2f} (median {statistics.median(ratios):.2f}); "
        f"discharge p99 {min(p99s):.1f}–{max(p99s):.1f} ms "
        f"(median {statistics.median(p99s):.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encounters", type=int, default=300)
    parser.add_argument(
        "--workers", type=int, default=None, help="API workers (default: serve's own default)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--background",
        choices=("separate", "serve", "inline", "off"),
        default="separate",
        help="sealer and projections: own processes (`xiaobao seal` and `project` started "
        "by the bench), serve's defaults (the processes serve starts itself), threads of "
        "each API worker, or none",
    )
    parser.add_argument("--runs", type=int, default=1, help="measured runs on one server")
    args = parser.parse_args()

    fresh_database(DB)
    workdir = Path(tempfile.mkdtemp(prefix="xiaobao-bench-"))
    principals = workdir / "principals.json"
    write_principals(principals)
    env = {
        **os.environ,
        "XIAOBAO_DATABASE_URL": URL,
        "XIAOBAO_PRINCIPALS_FILE": str(principals),
        # The load generator is one hospital sending far above a partner's fair share.
        "XIAOBAO_RATE_LIMIT_PER_SECOND": "0",
    }
    subprocess.run([sys.executable, "-m", "api", "demo"], env=env, check=True, capture_output=True)
    bare = bare_save_rate(2000)
    if args.background != "serve":
        inline = "true" if args.background == "inline" else "false"
        env = {**env, "XIAOBAO_RUN_SEALER": inline, "XIAOBAO_RUN_PROJECTIONS": inline}
    workers = [
        subprocess.Popen(
            [sys.executable, "-O", "-m", "api", command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in (("seal", "project") if args.background == "separate" else ())
    ]
    sized = ["--workers", str(args.workers)] if args.workers else []
    server = subprocess.Popen(
        [sys.executable, "-O", "-m", "api", "serve", "--port", str(args.port), *sized],
        env={**env, "XIAOBAO_LOG_LEVEL": "warning", "XIAOBAO_ACCESS_LOG": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 300
        while True:  # every worker started and every view caught up
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not become ready")
            time.sleep(0.2)
        if args.background != "off":
            warmed = wait_for_vectors()
            print(f"warm-up: {warmed:.1f} s until the knowledge passage vectors were written")
        run_clients(args.port, 2, 20)  # warm up
        outcomes = []
        for run in range(1, args.runs + 1):
            if args.runs > 1:
                print(
                    f"--- run {run} of {args.runs} ({time.strftime('%H:%M:%S', time.gmtime())} UTC)"
                )
            if run > 1:
                bare = bare_save_rate(2000)
            outcomes.append(measure(args, server, workers, bare))
        if args.runs > 1:
            spread(outcomes)
    finally:
        for process in (server, *workers):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
