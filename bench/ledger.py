"""Verifiable-ledger benchmark (not a test), on PostgreSQL.

Fills a fresh database with N synthetic ledger entries, then measures in the same run:
- the baseline: reading the entries back with the library's bulk read (select_notifications);
- sealer catch-up (leaves/s) — target ≥ 10,000/s, goal 20,000/s;
- inclusion and consistency proofs from the stored tree at N leaves — target ≤ 5 ms;
- full verification (`xiaobao verify`) — target ≥ 100,000 leaves/s.

    .venv/bin/python -m bench.ledger [--entries 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg

from bench.common import checkpoint, database_url, fresh_database
from infrastructure.audit import all_entries, verify_ledger
from infrastructure.merkle_store import merkle_store_for
from infrastructure.proof_service import LedgerProofs
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_notary, build_sealer, migrate

DB = os.environ.get("XIAOBAO_BENCH_DB", "xiaobao_bench_ledger")
URL = database_url(DB)
TOPIC = "domain.claims:Claim.ChargesPosted"


def fill(count: int) -> None:
    """COPY `count` entries of realistic size (streams of 10 events each)."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with psycopg.connect(URL) as conn, conn.cursor() as cur:
        copy = "COPY ledger_events (originator_id, originator_version, topic, state) FROM STDIN"
        with cur.copy(copy) as cp:
            stream = uuid.uuid4()
            for n in range(count):
                if n % 10 == 0:
                    stream = uuid.uuid4()
                state = orjson.dumps(
                    {
                        "timestamp": {"#": "dt", "v": (start + timedelta(seconds=n)).isoformat()},
                        "occurred_at": {"#": "dt", "v": start.isoformat()},
                        "lines": [{"amount": {"#": "dec", "v": f"{random.randint(1, 99999)}.00"}}],
                        "actor": {"name": "hospital", "role": "hospital"},
                    }
                )
                cp.write_row((stream, n % 10 + 1, TOPIC, state))


def timed(label: str, func: object, repeat: int = 200) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    p50 = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98]
    print(f"{label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target ≤ 5 ms)")
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="xiaobao-ledger-bench-"))
    settings = Settings(
        database_url=URL,
        signing_key_file=workdir / "key.pem",
        index_key_file=workdir / "index-key",
    )
    fresh_database(DB)
    migrate(settings)
    started = time.perf_counter()
    fill(args.entries)
    print(f"filled {args.entries} entries in {time.perf_counter() - started:.1f} s")

    ledger = build_ledger(settings)
    started = time.perf_counter()
    read = sum(1 for _ in all_entries(ledger.recorder))
    baseline = read / (time.perf_counter() - started)
    print(f"baseline, library bulk read: {baseline:,.0f} entries/s")

    sealer = build_sealer(settings, ledger, build_notary(settings))
    started = time.perf_counter()
    sealed = sealer.catch_up()
    rate = sealed / (time.perf_counter() - started)
    print(
        f"sealer catch-up: {rate:,.0f} leaves/s = {rate / baseline:.2f} × the bulk read "
        f"(target ≥ 10,000/s, goal 20,000/s)"
    )

    checkpoint(URL)  # the seal's writes written back before the proofs are timed
    proofs = LedgerProofs(ledger.recorder, merkle_store_for(ledger.recorder))
    size = proofs.size()
    # A process's first proof reads the upper subtrees' hashes once (`UpperNodes`): printed
    # apart, not one of the samples.
    started = time.perf_counter()
    proofs.inclusion(random.randrange(size), size)
    print(f"first proof of the process: {(time.perf_counter() - started) * 1000:.1f} ms")
    timed(
        f"inclusion proof at {size:,} leaves",
        lambda: proofs.inclusion(random.randrange(size), size),
        repeat=1000,
    )
    timed(
        f"consistency proof at {size:,} leaves",
        lambda: proofs.consistency(random.randrange(1, size), size),
        repeat=1000,
    )

    started = time.perf_counter()
    report = verify_ledger(ledger.recorder, proofs.store, build_notary(settings).verifier_key)
    verify_rate = report.leaves / (time.perf_counter() - started)
    print(
        f"full verification: {verify_rate:,.0f} leaves/s = {verify_rate / baseline:.2f} × the "
        f"bulk read (ok={report.ok}; target ≥ 100,000/s)"
    )
    ledger.close()


if __name__ == "__main__":
    main()
