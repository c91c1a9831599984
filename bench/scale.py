"""Scale benchmark (not a test): the ledger at 1,000,000 and 10,000,000 events, on PostgreSQL.

The log is grown in bulk the way the ledger stores it: a template of real events is recorded
through the application itself (policies, encounters — admission, 20 charge lines, discharge
and settlement, with their accumulators and partner receipts — and complaints), then its
streams are copied under fresh stream ids with COPY into the same `ledger_events` table
(same topics, same stored state bytes, positions from the table's own sequence). One claim
with 1,000 events is recorded through the application too. On top of that, at each size
asked, the ledger's own code runs:

- the sealer catching up on the new entries (leaves/s; RFC 9162 leaves and subtree hashes);
- full verification (`xiaobao verify`'s `verify_ledger`: leaves/s);
- a claim read (`ClaimQueries.view` of a random claim) and the 1,000-event history (the
  response's bytes, `ClaimQueries.history_json`: entries and their rendering);
- inclusion and consistency proofs at the full size;
- `xiaobao rebuild` (every view recomputed from the log; its time) and then the statistics
  queries (complaints 2026 by cause and channel; claims 2026 by region);
- bytes on disk per event (events table with its indexes, Merkle tables, whole database).

The sealer and the verifier also print their CPU time per leaf, of the benchmark's process
and of the database's server processes: on a shared host the rates follow the load, the CPU
per leaf much less. Each figure is printed as soon as it is measured, so a run cut short
still shows what it reached.

Baseline in the same run, at each size: the cheapest read of the events table (one stored
event by its primary key, through the same pool), of 64 claims read again and again, and of
any claim of the pool the claim reads draw from (whose pages a large log has not cached).
Targets: reads and proofs p99 ≤ 10 ms at the largest size and ≤ 1.5× their figure at the
first; verification ≥ 100,000 leaves/s.

    .venv/bin/python -m bench.scale [--events 1000000,10000000] [--samples 300] [--reads-only]

Prints one JSON object per size on lines starting with `RESULT ` (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import psycopg
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import PersistenceError
from psycopg import sql

from application.gateway import Meta
from application.history import DecodedStates
from application.routing import Handler, StaticDirectory
from application.services import Services, build_services
from bench.common import (
    ADMIN_URL,
    checkpoint,
    cpu_seconds,
    database_backends,
    database_url,
    fresh_database,
    intake,
)
from domain.common import Actor
from infrastructure.audit import verify_ledger
from infrastructure.collector import steady_collector
from infrastructure.complaint_stats import parse_period
from infrastructure.merkle_store import merkle_store_for
from infrastructure.proof_service import LedgerProofs
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_ledger,
    build_notary,
    build_projector,
    build_sealer,
    build_statistics,
    build_vault,
    dispute_rules,
    migrate,
)
from tests import builders as b

DB = os.environ.get("XIAOBAO_BENCH_DB", "xiaobao_scale")
URL = database_url(DB)
CLAIM_TOPIC = "domain.claims:Claim."
Row = tuple[uuid.UUID, int, str, bytes]


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def timed(call: Callable[[], object], samples: int) -> dict[str, float]:
    """p50 and p99 in milliseconds of `samples` calls."""
    spent = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return {"p50": round(statistics.median(spent), 3), "p99": round(percentile(spent, 99), 3)}


def record_template(services: Services, encounters: int, complaints: int) -> None:
    """Real events through the application: reference data, policies, encounters, complaints."""
    b.seed_reference(services)
    for n in range(encounters):
        person = f"scale-person-{n}"
        b.issue_policy(services, f"SP{n}", insured=person)
        b.admit(services, f"SE{n}", patient=person)
        b.charge(services, f"SE{n}")
        b.discharge(services, f"SE{n}")
    meta = Meta(datetime.now(tz=UTC), Actor("wang", "handler"))
    for n in range(complaints):
        services.complaints.receive(intake(f"scale-complainant-{n}"), meta, None)


def long_claim(services: Services, events: int) -> uuid.UUID:
    """One claim with `events` events (an admission and repeated charges)."""
    result = b.admit(services, "SE-LONG", patient="scale-person-long")
    line = b.WORKED_EXAMPLE_LINES[1]
    for n in range(events - 1):
        b.charge(services, "SE-LONG", lines=(dataclasses.replace(line, line_id=f"X{n}"),))
    return result.stream_id


def template_rows(conn: psycopg.Connection[Any]) -> list[list[Row]]:
    """The stored events so far, grouped by stream, in position order of first event."""
    streams: dict[uuid.UUID, list[Row]] = {}
    with conn.cursor() as cur:
        cur.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events "
            "ORDER BY notification_id"
        )
        for oid, version, topic, state in cur:
            streams.setdefault(oid, []).append((oid, version, topic, bytes(state)))
    return list(streams.values())


def grow(
    conn: psycopg.Connection[Any], template: list[list[Row]], count: int, claims: list[uuid.UUID]
) -> int:
    """COPY about `count` more events: copies of the template's streams under fresh ids,
    interleaved the way they were recorded. Keeps a sample of the new claims' ids."""
    per_copy = sum(len(s) for s in template)
    copies = max(1, count // per_copy)
    written = 0
    with conn.cursor() as cur:
        copy = (
            "COPY ledger_events (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"  # no hex text of every state to make and parse
        )
        with cur.copy(copy) as cp:
            cp.set_types(["uuid", "int8", "text", "bytea"])
            for c in range(copies):
                fresh = {s[0][0]: uuid.uuid4() for s in template}
                for stream in template:
                    new_id = fresh[stream[0][0]]
                    for _, version, topic, state in stream:
                        cp.write_row((new_id, version, topic, state))
                    written += len(stream)
                    if stream[0][2].startswith(CLAIM_TOPIC) and random.random() < 2000 / (
                        copies * 10
                    ):
                        claims.append(new_id)
                del c
    conn.commit()
    return written


def disk(conn: psycopg.Connection[Any], events: int) -> dict[str, float]:
    """Bytes on disk per event: events table (heap, TOAST, indexes), Merkle tables, database."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_total_relation_size('ledger_events'), "
            "pg_indexes_size('ledger_events'), "
            "coalesce((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relname LIKE 'merkle%%' AND c.relkind = 'r'), 0), "
            "pg_database_size(current_database())"
        )
        row = cur.fetchone()
        assert row is not None
        table, indexes, merkle, database = (int(x) for x in row)
    return {
        "events_table": round(table / events, 1),
        "events_indexes": round(indexes / events, 1),
        "merkle": round(merkle / events, 1),
        "database": round(database / events, 1),
    }


def connect(url: str = URL, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection, waiting out a server that is briefly at max_connections (shared)."""
    for _ in range(60):
        try:
            return psycopg.connect(url, autocommit=autocommit)
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc):
                raise
            time.sleep(1)
    return psycopg.connect(url, autocommit=autocommit)


def measured(result: dict[str, Any], key: str, value: Any) -> None:
    """Keep a figure and print it at once (a run cut short still shows what it measured)."""
    result[key] = value
    print(f"{key}: {value}", flush=True)


def cpu_now() -> tuple[float, float]:
    """CPU seconds used so far by this process (with its finished children) and by the
    benchmark database's server processes: a rate's cost that a busy host does not change."""
    times = os.times()
    return (
        times.user + times.system + times.children_user + times.children_system,
        cpu_seconds(database_backends(DB)),
    )


def cpu_per(before: tuple[float, float], items: int) -> dict[str, float]:
    """CPU microseconds an item since `before`: this process, and the database's server
    processes (those still connected; a connection closed meanwhile takes its CPU along)."""
    after = cpu_now()
    return {
        "bench": round((after[0] - before[0]) * 1e6 / max(1, items), 2),
        "database": round((after[1] - before[1]) * 1e6 / max(1, items), 2),
    }


def vacuum() -> None:
    with connect(autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) ledger_events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", default="1000000,10000000", help="sizes to measure at, comma-separated"
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=1000,
        help="calls per read or proof kind (the 1,000-event histories: at most 300)",
    )
    parser.add_argument("--encounters", type=int, default=20, help="encounters in the template")
    parser.add_argument("--complaints", type=int, default=40, help="complaints in the template")
    parser.add_argument("--history", type=int, default=1000, help="events of the long claim")
    parser.add_argument("--saves", type=int, default=1000, help="saves for the log's rate")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reads-only",
        action="store_true",
        help="reads and proofs only: no verification, no views' rebuild and no statistics "
        "(which read the views); a shorter run on a busy host",
    )
    parser.add_argument(
        "--verify", action="store_true", help="with --reads-only: verify at each size as well"
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.events.split(","))
    work = Path(tempfile.mkdtemp(prefix="xiaobao-scale-"))
    settings = Settings(
        database_url=URL, signing_key_file=work / "key.pem", index_key_file=work / "index-key"
    )
    fresh_database(DB)
    try:
        run(settings, sizes, args)
    finally:
        if not args.keep:
            with connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB))
                )


def run(settings: Settings, sizes: list[int], args: argparse.Namespace) -> None:
    migrate(settings)
    ledger = build_ledger(settings)
    vault = build_vault(settings, ledger)
    proofs = LedgerProofs(ledger.recorder, merkle_store_for(ledger.recorder))
    services = build_services(
        ledger,
        vault,
        proofs=proofs,
        directory=StaticDirectory([Handler("wang", None, (), (), ())]),
        dispute_rules=dispute_rules(settings),
    )
    started = time.perf_counter()
    record_template(services, args.encounters, args.complaints)
    with connect() as conn:
        template = template_rows(conn)
    per_copy = sum(len(s) for s in template)
    history_claim = long_claim(services, args.history)
    print(
        f"template: {per_copy} events in {len(template)} streams "
        f"({args.encounters} encounters, {args.complaints} complaints) and a claim of "
        f"{args.history} events, recorded through the application in "
        f"{time.perf_counter() - started:.1f} s"
    )
    for threads in (1, 4):
        rate = save_rate(ledger, threads, args.saves)
        print(f"log save rate (one-event saves, table lock), {threads} thread(s): {rate:,.0f}/s")
        print(
            "RESULT "
            + orjson.dumps(
                {"bench": "scale", "save_threads": threads, "saves_per_s": round(rate)}
            ).decode()
        )
    notary = build_notary(settings)
    sealer = build_sealer(settings, ledger, notary)
    projector = build_projector(settings, ledger)
    complaints, claims_stats = build_statistics(ledger), build_case_statistics(ledger)
    now = datetime.now(tz=UTC)
    claims: list[uuid.UUID] = []
    results: list[dict[str, Any]] = []
    for size in sizes:
        head = int(ledger.recorder.max_notification_id() or 0)
        started = time.perf_counter()
        with connect() as conn:
            grow(conn, template, max(0, size - head), claims)
        filled = time.perf_counter() - started
        vacuum()
        head = int(ledger.recorder.max_notification_id() or 0)
        print(f"--- {head:,} events (COPY of {head - size:+,} vs asked; {filled:.0f} s) ---")
        result: dict[str, Any] = {"events": head}

        started, cpu = time.perf_counter(), cpu_now()
        sealed = sealer.catch_up()
        spent = time.perf_counter() - started
        result["seal_leaves_per_s"] = round(sealed / spent)
        result["seal_cpu_us_per_leaf"] = cpu_per(cpu, sealed)
        print(
            f"sealer catch-up: {sealed:,} leaves at {result['seal_leaves_per_s']:,}/s "
            f"(CPU µs a leaf, bench process / database: {result['seal_cpu_us_per_leaf']})",
            flush=True,
        )

        if not args.reads_only or args.verify:
            verify(result, ledger, proofs, notary)
        checkpoint(URL)
        # The reads run under the collector set up as an API process's lifespan sets it
        with steady_collector(settings.gc_young_threshold):
            reads(result, args, ledger, services, proofs, claims, history_claim)
        if not args.reads_only:
            rebuild_and_statistics(result, args, projector, head, complaints, claims_stats, now)

        with connect() as conn:
            measured(result, "bytes_per_event", disk(conn, head))
        print("RESULT " + orjson.dumps({"bench": "scale", **result}).decode())
        results.append(result)
    ledger.close()
    summary(results)


def verify(result: dict[str, Any], ledger: Any, proofs: LedgerProofs, notary: Any) -> None:
    """Full verification, before the views' rebuild: it reads only the log and the seal."""
    started, cpu = time.perf_counter(), cpu_now()
    try:
        report = verify_ledger(ledger.recorder, proofs.store, notary.verifier_key)
    except PersistenceError as exc:  # seen twice at 1M on a starved host: recorded, retried
        print(f"verify failed ({type(exc).__name__}: {exc}); retried once")
        started, cpu = time.perf_counter(), cpu_now()
        report = verify_ledger(ledger.recorder, proofs.store, notary.verifier_key)
    assert report.ok, report.problem
    measured(result, "verify_leaves_per_s", round(report.leaves / (time.perf_counter() - started)))
    measured(result, "verify_cpu_us_per_leaf", cpu_per(cpu, report.leaves))


def reads(
    result: dict[str, Any],
    args: argparse.Namespace,
    ledger: Any,
    services: Services,
    proofs: LedgerProofs,
    claims: list[uuid.UUID],
    history_claim: uuid.UUID,
) -> None:
    """The baselines, claim reads, histories and proofs at this size."""
    some_ids = [random.choice(claims) for _ in range(64)]
    baseline = timed(partial(read_one, ledger, some_ids), args.samples)
    measured(result, "baseline_event_read_ms", baseline)
    # The same read of a random claim of the claim reads' pool (the 64 ids above are
    # soon all in the cache; at 10M the claim reads' are not): its pages' share
    measured(
        result,
        "baseline_claim_event_read_ms",
        timed(partial(read_one, ledger, claims), args.samples),
    )
    claim_reads = timed(partial(read_claim, services, claims), args.samples)
    measured(result, "claim_read_ms", claim_reads)
    services.claims.history_json(history_claim, None)  # its first read: in the cold figure
    # With 30 samples (as before) the p99 was their maximum; 300 cold reads take ~10 s.
    samples = min(args.samples, 300)
    history = timed(partial(services.claims.history_json, history_claim, None), samples)
    measured(result, "history_1000_ms", history)
    cold = timed(partial(cold_history, services, history_claim), samples)
    measured(result, "history_1000_cold_ms", cold)
    size_now = proofs.size()
    measured(
        result, "inclusion_proof_ms", timed(partial(inclusion, proofs, size_now), args.samples)
    )
    measured(
        result,
        "consistency_proof_ms",
        timed(partial(consistency, proofs, size_now), args.samples),
    )


def rebuild_and_statistics(
    result: dict[str, Any],
    args: argparse.Namespace,
    projector: Any,
    head: int,
    complaints: Any,
    claims_stats: Any,
    now: datetime,
) -> None:
    """`xiaobao rebuild`'s loop, then the statistics over the rebuilt views."""
    year = parse_period(f"{now.year}", now)
    claim_year = parse_period("2026", now)
    started = time.perf_counter()
    for view in projector.views:
        projector.rebuild(view)
        while projector.step(view):
            pass
    projector.store.analyze()  # as `xiaobao rebuild` does: refilled tables need statistics
    rebuilt = time.perf_counter() - started
    result["rebuild_s"] = round(rebuilt, 1)
    result["rebuild_events_per_s"] = round(head / rebuilt)
    print(
        f"rebuild: {rebuilt:.1f} s ({head / rebuilt:,.0f} events/s, {len(projector.views)} views)",
        flush=True,
    )
    measured(
        result,
        "stats_complaints_ms",
        timed(partial(complaints.figures, year, ("cause", "channel"), now), args.samples),
    )
    measured(
        result,
        "stats_claims_ms",
        timed(partial(claims_stats.claims_figures, claim_year, ("region",)), args.samples),
    )


class Ping(Aggregate):
    """The smallest stream: one event, for the log's own save rate."""

    @event("Created")
    def __init__(self) -> None:
        pass


def save_rate(ledger: Any, threads: int, saves: int) -> float:
    """Saves/s of one-event saves through the ledger's recorder (the table lock's rate)."""

    def work() -> None:
        for _ in range(saves // threads):
            ledger.save(Ping())

    pool = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return (saves // threads) * threads / (time.perf_counter() - started)


def read_one(ledger: Any, ids: list[uuid.UUID]) -> object:
    """The baseline: one stored event by its primary key, through the ledger's pool."""
    return ledger.recorder.select_events(random.choice(ids), limit=1)


def read_claim(services: Services, claims: list[uuid.UUID]) -> object:
    return services.claims.view(random.choice(claims), None)


def cold_history(services: Services, claim: uuid.UUID) -> object:
    """The history with nothing remembered of earlier reads (`history_1000_ms` reads the
    same claim again and again: its decodings are remembered from the first read on)."""
    services.claims.decoded = DecodedStates()
    return services.claims.history_json(claim, None)


def inclusion(proofs: LedgerProofs, size: int) -> object:
    return proofs.inclusion(random.randrange(size), size)


def consistency(proofs: LedgerProofs, size: int) -> object:
    return proofs.consistency(random.randrange(1, size), size)


def summary(results: list[dict[str, Any]]) -> None:
    """Growth from the first size to the last, against the targets."""
    first, last = results[0], results[-1]
    print(f"--- growth {first['events']:,} → {last['events']:,} events ---")
    for key in (
        "baseline_event_read_ms",
        "baseline_claim_event_read_ms",
        "claim_read_ms",
        "history_1000_ms",
        "history_1000_cold_ms",
        "inclusion_proof_ms",
        "consistency_proof_ms",
        "stats_complaints_ms",
        "stats_claims_ms",
    ):
        if key not in last:  # not measured (`--reads-only`)
            continue
        a, z = first[key]["p99"], last[key]["p99"]
        target = (
            ""
            if key.startswith("baseline")
            else (
                f" (target ≤ 10 ms and ≤ 1.5×: {'met' if z <= 10 and z <= 1.5 * a else 'MISSED'})"
            )
        )
        print(f"{key} p99: {a:.2f} → {z:.2f} ms = {z / a:.2f}×{target}")
    rate = last.get("verify_leaves_per_s")
    if rate is not None:
        met = "met" if rate >= 100_000 else "MISSED"
        print(f"verify: {rate:,} leaves/s (target ≥ 100,000: {met})")


if __name__ == "__main__":
    main()
