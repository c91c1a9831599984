"""Ingestion benchmark (not a test): batches of CloudEvents over HTTP, and an API process's
memory under a steady load, on PostgreSQL.

`--mode rate` (default): one hospital posts its day's events as
`application/cloudevents-batch+json` requests of `--batch` events each (admissions of
`--batch` encounters, then their charges of 20 lines, then their discharges, each settled)
to `xiaobao serve --workers 1` (background work off: only the request path is measured).
Baseline in the same run, on the same database: the bare eventsourcing library saving
aggregates of 10 events per save from one thread (events/s). Target: partner events/s in
batches ≥ 1.5× the baseline.

`--mode memory`: `xiaobao serve --workers 1` with `xiaobao seal` and `xiaobao project` as
their own processes, under a steady load of single events and batches for `--seconds`
(the issue asks for 600); the resident memory (RSS) of the server's processes is sampled
every `--every` seconds. Target: flat within ±10% from the end of the first tenth of the
run (warm-up) to the end.

    .venv/bin/python -m bench.ingest [--mode rate] [--batch 1000] [--batches 3]
    .venv/bin/python -m bench.ingest --mode memory [--seconds 600]

Prints one JSON object on a line starting with `RESULT ` (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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
from bench.common import database_url, drop_database, fresh_database
from bench.settlement import LINES

DB = os.environ.get("XIAOBAO_BENCH_DB", "xiaobao_bench_ingest")
URL = database_url(DB)
HOSPITAL = "hosp-hz-001"
BATCH = "application/cloudevents-batch+json"


class Tally(Aggregate):
    """The baseline's aggregate: ten events a save."""

    @event("Created")
    def __init__(self) -> None:
        self.n = 0

    @event("Counted")
    def count(self) -> None:
        self.n += 1


def bare_batched_rate(saves: int) -> float:
    """The library alone: aggregates of 10 events (created + 9), one save each, one thread."""
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

    def one() -> None:
        tally = Tally()
        for _ in range(9):
            tally.count()
        app.save(tally)

    for _ in range(20):
        one()
    started = time.perf_counter()
    for _ in range(saves):
        one()
    elapsed = time.perf_counter() - started
    app.close()
    return saves * 10 / elapsed


def stored_events() -> int:
    """How many events the ledger has stored (every kind: receipts, claims, persons...)."""
    with psycopg.connect(URL, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def token() -> str:
    return demo_token(next(e for e in DEMO_PRINCIPALS if e["partner_id"] == HOSPITAL))


def cloud_event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": uuid4().hex,
        "source": f"/partners/{HOSPITAL}",
        "type": f"xiaobao.hospital.{kind}.v1",
        "data": data,
    }


def day_of_events(encounters: int) -> list[list[dict[str, Any]]]:
    """Admissions of `encounters` encounters, then their charges, then their discharges."""
    ids = [f"I-{uuid4().hex[:12]}" for _ in range(encounters)]
    admissions = [
        cloud_event(
            "admission",
            {
                "encounter_id": e,
                "patient": {"id": f"ingest-person-{e}", "name": "测试"},
                "region": "330100",
                "person_type": "employee",
                "hospital_level": 3,
                "social_insurance": True,
                "admitted_at": "2026-03-02T09:00:00+08:00",
            },
        )
        for e in ids
    ]
    charges = [cloud_event("charges", {"encounter_id": e, "items": LINES}) for e in ids]
    discharges = [
        cloud_event("discharge", {"encounter_id": e, "discharged_at": "2026-03-09"}) for e in ids
    ]
    return [admissions, charges, discharges]


def serve(env: dict[str, str], port: int, background: bool) -> list[subprocess.Popen[bytes]]:
    """`xiaobao serve --workers 1` (and, with `background`, `seal` and `project`)."""
    log = tempfile.NamedTemporaryFile(prefix="xiaobao-ingest-", suffix=".log", delete=False)  # noqa: SIM115
    quiet = {"stdout": subprocess.DEVNULL, "stderr": log}
    flag = "false"
    env = {**env, "XIAOBAO_RUN_SEALER": flag, "XIAOBAO_RUN_PROJECTIONS": flag}
    started = [
        subprocess.Popen([sys.executable, "-O", "-m", "api", command], env=env, **quiet)  # type: ignore[call-overload]
        for command in (("seal", "project") if background else ())
    ]
    server = subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-O", "-m", "api", "serve", "--port", str(port), "--workers", "1"],
        env={**env, "XIAOBAO_LOG_LEVEL": "warning", "XIAOBAO_ACCESS_LOG": "false"},
        **quiet,
    )
    deadline = time.monotonic() + 180  # a shared, busy machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return [server, *started]
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop([server, *started])
    tail = Path(log.name).read_text(errors="replace")[-2000:]
    raise SystemExit(f"the server did not become ready within 180 s; its log ends:\n{tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post_batch(client: httpx.Client, events: list[dict[str, Any]]) -> int:
    """Post one batch; every event must be recorded (201). Returns how many."""
    response = client.post(
        "/v1/events", content=orjson.dumps(events), headers={"Content-Type": BATCH}
    )
    response.raise_for_status()
    results = response.json()
    refused = [r for r in results if r.get("status") != 201]
    if refused:
        raise SystemExit(f"{len(refused)} of {len(results)} refused; the first: {refused[0]}")
    return len(results)


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn's worker), in KiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    pids.extend(int(c) for c in children)
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def rate_mode(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    bare = bare_batched_rate(args.baseline_saves)
    port = free_port()
    processes = serve(env, port, background=False)
    headers = {"Authorization": f"Bearer {token()}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as c:
            post_batch(c, day_of_events(20)[0])  # warm up
            stored_before = stored_events()
            recorded, elapsed = 0, 0.0
            per_request = []
            for _ in range(args.batches):
                for batch in day_of_events(args.batch):
                    started = time.perf_counter()
                    recorded += post_batch(c, batch)
                    spent = time.perf_counter() - started
                    per_request.append(spent)
                    elapsed += spent
            stored = stored_events() - stored_before
    finally:
        stop(processes)
    bare = (bare + bare_batched_rate(args.baseline_saves)) / 2
    rate = recorded / elapsed
    stored_rate = stored / elapsed
    print(f"bare library, 10 events per save, 1 thread: {bare:,.0f} events/s")
    print(
        f"batches of {args.batch} CloudEvents over HTTP: {recorded:,} events in "
        f"{len(per_request)} requests, {rate:,.0f} events/s = {rate / bare:.2f}× the bare "
        f"library (target ≥ 1.5×); a request took {statistics.median(per_request):.2f} s "
        "(median)"
    )
    print(
        f"stored events (the ledger's rows: receipts, claims, persons' records): {stored:,}, "
        f"{stored / recorded:.2f} a partner event, {stored_rate:,.0f} stored events/s = "
        f"{stored_rate / bare:.2f}× the bare library's stored events/s (for comparison in one "
        "unit; the target counts partner events)"
    )
    return {
        "bench": "ingest",
        "mode": "rate",
        "batch": args.batch,
        "events": recorded,
        "bare_10_per_save_events_per_s": round(bare),
        "batch_events_per_s": round(rate),
        "ratio": round(rate / bare, 2),
        "stored_events": stored,
        "stored_events_per_s": round(stored_rate),
        "stored_ratio": round(stored_rate / bare, 2),
    }


def memory_mode(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    processes = serve(env, port, background=True)
    headers = {"Authorization": f"Bearer {token()}"}
    samples: list[tuple[float, int]] = []
    done = threading.Event()
    recorded = 0

    def sample() -> None:
        start = time.perf_counter()
        while not done.wait(args.every):
            samples.append((time.perf_counter() - start, rss_kib(processes[0].pid)))

    sampler = threading.Thread(target=sample)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as c:
            sampler.start()
            ends = time.perf_counter() + args.seconds
            while time.perf_counter() < ends:
                for batch in day_of_events(50):  # a batch of 50 of each kind ...
                    recorded += post_batch(c, batch)
                for batch in day_of_events(5):  # ... and single events
                    for one in batch:
                        response = c.post(
                            "/v1/events",
                            content=orjson.dumps(one),
                            headers={"Content-Type": "application/cloudevents+json"},
                        )
                        if response.status_code != 201:
                            raise SystemExit(f"refused: {response.text}")
                        recorded += 1
    finally:
        done.set()
        if sampler.is_alive():
            sampler.join()
        stop(processes)
    warm = [kib for t, kib in samples if t >= args.seconds / 10]
    first, last = warm[0], warm[-1]
    low, high = min(warm), max(warm)
    change = (last - first) / first
    print(
        f"{recorded:,} events over {args.seconds:.0f} s; server RSS after warm-up "
        f"{first / 1024:.1f} MiB, at the end {last / 1024:.1f} MiB ({change:+.1%}; "
        f"range {low / 1024:.1f}–{high / 1024:.1f} MiB; target within ±10%)"
    )
    return {
        "bench": "ingest",
        "mode": "memory",
        "seconds": args.seconds,
        "events": recorded,
        "rss_mib_start": round(first / 1024, 1),
        "rss_mib_end": round(last / 1024, 1),
        "rss_mib_max": round(high / 1024, 1),
        "change": round(change, 3),
        "rss_mib_series": [[round(t), round(kib / 1024, 1)] for t, kib in samples],
    }


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("rate", "memory"), default="rate")
    parser.add_argument("--batch", type=int, default=1000, help="CloudEvents per request")
    parser.add_argument("--batches", type=int, default=1, help="rounds of 3 requests")
    parser.add_argument("--baseline-saves", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=600, help="memory mode's load")
    parser.add_argument("--every", type=float, default=5, help="memory mode's sampling (s)")
    parser.add_argument(
        "--demo-scale",
        default="1.0",
        help="share of the demonstration year loaded first (its reference data and hospital "
        "are what the requests need; 0.01 loads in seconds, for a smoke run)",
    )
    args = parser.parse_args()
    fresh_database(DB)
    work = Path(tempfile.mkdtemp(prefix="xiaobao-ingest-"))
    principals = work / "principals.json"
    write_principals(principals)
    env = {
        **os.environ,
        "XIAOBAO_DATABASE_URL": URL,
        "XIAOBAO_PRINCIPALS_FILE": str(principals),
        "XIAOBAO_SIGNING_KEY_FILE": str(work / "key.pem"),
        "XIAOBAO_INDEX_KEY_FILE": str(work / "index-key"),
        "XIAOBAO_RATE_LIMIT_PER_SECOND": "0",
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "api", "demo", "--scale", args.demo_scale],
            env=env,
            check=True,
            capture_output=True,
        )
        result = rate_mode(args, env) if args.mode == "rate" else memory_mode(args, env)
    finally:
        drop_database(DB)
    print("RESULT " + orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
