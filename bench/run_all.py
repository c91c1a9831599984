"""Every benchmark in one run, and docs/performance.md's summary table rewritten from it.

Runs each `bench/*.py` benchmark as its own process (its command line as documented, or a
smaller one with `--quick`), next to the same-run baselines measured here first: raw psycopg
single-row INSERTs in autocommit (1 connection), the bare eventsourcing library's save (1
event a save, 1 thread) and its 10-events-a-save rate; the library's `ProjectionRunner` is
bench/projections.py's own baseline. Then replaces ONLY the text between
`<!-- summary:start -->` and `<!-- summary:end -->` in docs/performance.md (the narrative
around it is left as it is).

    .venv/bin/python -m bench.run_all [--quick] [--only scale,ingest] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.common import database_url, drop_database, fresh_database
from bench.ingest import Tally

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"
DB = "xiaobao_bench_run_all"

Row = tuple[str, str, str, str]  # measure, figure, target, met


@dataclass(frozen=True)
class Bench:
    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    rows: Callable[[str], list[Row]]


def _f(pattern: str, text: str) -> list[str]:
    found = re.search(pattern, text, re.MULTILINE)
    return list(found.groups()) if found else []


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def results(text: str) -> list[dict[str, Any]]:
    """The `RESULT {json}` lines a benchmark printed."""
    return [orjson.loads(line[7:]) for line in text.splitlines() if line.startswith("RESULT ")]


def ledger_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    if seal := _f(r"sealer catch-up: ([\d,]+) leaves/s", text):
        rows.append(
            ("sealer catch-up", f"{seal[0]} leaves/s", "≥ 10,000/s", _met(_num(seal[0]) >= 10_000))
        )
    for kind in ("inclusion", "consistency"):
        if got := _f(rf"{kind} proof at ([\d,]+) leaves: p50 ([\d.]+) ms, p99 ([\d.]+) ms", text):
            rows.append(
                (
                    f"{kind} proof at {got[0]} leaves, p99",
                    f"{got[2]} ms",
                    "≤ 5 ms",
                    _met(float(got[2]) <= 5),
                )
            )
    if got := _f(r"full verification: ([\d,]+) leaves/s", text):
        rows.append(
            (
                "full verification",
                f"{got[0]} leaves/s",
                "≥ 100,000/s",
                _met(_num(got[0]) >= 100_000),
            )
        )
    return rows


def projection_rows(text: str) -> list[Row]:
    base = _f(r"ProjectionRunner \(one event per transaction\): ([\d,]+) events/s", text)
    got = _f(r"engine, batches of \d+: ([\d,]+) events/s = ([\d.]+)×", text)
    if not (base and got):
        return []
    return [
        (
            f"projection engine vs library ProjectionRunner ({base[0]} events/s)",
            f"{got[0]} events/s = {got[1]}×",
            "≥ 10×",
            _met(float(got[1]) >= 10),
        )
    ]


def stats_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    for label, p99 in re.findall(r"^(20\S+ .*?): p50 [\d.]+ ms, p99 ([\d.]+) ms", text, re.M):
        rows.append((f"statistics {label}, p99", f"{p99} ms", "≤ 10 ms", _met(float(p99) <= 10)))
    if lag := _f(r"live projection lag .*?: p50 (\d+) ms, p99 (\d+) ms", text):
        rows.append(
            ("live projection lag, p99", f"{lag[1]} ms", "≤ 1 s", _met(int(lag[1]) <= 1000))
        )
    return rows


def settlement_rows(text: str) -> list[Row]:
    got = _f(r"= ([\d.]+) \(target ≥ 0.50.*?discharge p99 ([\d.]+) ms", text)
    if not got:
        return []
    return [
        ("settlement, 4 clients ÷ (bare save ÷ 3)", got[0], "≥ 0.50", _met(float(got[0]) >= 0.5)),
        ("discharge p99, 4 clients", f"{got[1]} ms", "≤ 20 ms", _met(float(got[1]) <= 20)),
    ]


def scale_rows(text: str) -> list[Row]:
    found = [r for r in results(text) if "events" in r]
    if not found:
        return []
    first, last = found[0], found[-1]
    sizes = f"{first['events']:,} → {last['events']:,}"
    rows: list[Row] = []
    for key, label in (
        ("claim_read_ms", "claim read"),
        ("inclusion_proof_ms", "inclusion proof"),
        ("consistency_proof_ms", "consistency proof"),
        ("stats_complaints_ms", "complaint statistics (year by cause, channel)"),
        ("stats_claims_ms", "claim statistics (year by region)"),
        ("history_1000_ms", "1,000-event history, remembered"),
        ("history_1000_cold_ms", "1,000-event history, cold"),
    ):
        if key not in first or key not in last:
            continue  # not measured (`--reads-only` leaves the statistics out)
        a, z = first[key]["p99"], last[key]["p99"]
        ok = z <= 10 and z <= 1.5 * a
        rows.append(
            (f"{label} p99 at {sizes} events", f"{a:.1f} → {z:.1f} ms", "≤ 10 ms, ≤ 1.5×", _met(ok))
        )
    for key, label in (
        ("baseline_event_read_ms", "baseline: one stored event by key"),
        ("baseline_claim_event_read_ms", "baseline: one stored event of the claim reads' pool"),
    ):
        if key in first and key in last:
            base = f"{first[key]['p99']:.1f} → {last[key]['p99']:.1f} ms"
            rows.append((f"{label}, p99 at {sizes}", base, "", ""))
    for r in results(text):
        if "save_threads" in r:
            threads = r["save_threads"]
            rows.append(
                (f"log saves, 1 event, {threads} thread(s)", f"{r['saves_per_s']:,}/s", "", "")
            )
    for size in (first, last) if first is not last else (last,):
        if "verify_leaves_per_s" in size:
            rate = size["verify_leaves_per_s"]
            rows.append(
                (
                    f"verify at {size['events']:,} events",
                    f"{rate:,} leaves/s",
                    "≥ 100,000/s",
                    _met(rate >= 100_000),
                )
            )
    if "seal_leaves_per_s" in last:
        rate = last["seal_leaves_per_s"]
        rows.append((f"sealer catch-up to {last['events']:,}", f"{rate:,} leaves/s", "", ""))
    if "rebuild_s" in last:
        rows.append((f"rebuild at {last['events']:,} events", f"{last['rebuild_s']} s", "", ""))
    if "bytes_per_event" in last:
        per_event = last["bytes_per_event"]["database"]
        rows.append((f"bytes on disk per event at {last['events']:,}", f"{per_event:,.0f}", "", ""))
    return rows


def ingest_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    for found in results(text):
        if found.get("mode") == "rate":
            rows.append(
                (
                    f"batch ingestion ({found['batch']} a request) vs library 10/save "
                    f"({found['bare_10_per_save_events_per_s']:,} events/s)",
                    f"{found['batch_events_per_s']:,} events/s = {found['ratio']}×",
                    "≥ 1.5×",
                    _met(found["ratio"] >= 1.5),
                )
            )
            if "stored_events_per_s" in found:
                rows.append(
                    (
                        "the same batches in stored events (receipts, claims, persons' records)",
                        f"{found['stored_events_per_s']:,} stored events/s = "
                        f"{found['stored_ratio']}×",
                        "",
                        "",
                    )
                )
        elif found.get("mode") == "memory":
            rows.append(
                (
                    f"API RSS over {found['seconds']:.0f} s of load",
                    f"{found['rss_mib_start']} → {found['rss_mib_end']} MiB "
                    f"({found['change']:+.1%})",
                    "±10% (600 s)",
                    _met(abs(found["change"]) <= 0.10),
                )
            )
    return rows


# The targets of issue 15 item 7 by the bench's line names (ask p99 with 1,000 articles on
# one API process; a publish visible to `ask` within 1 s); the other lines are baselines.
KNOWLEDGE_TARGETS = (
    ("ask, lexical only", 20.0),
    ("ask, dense", 50.0),
    ("publish → visible", 1000.0),
)


def knowledge_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    line = r"^(\S.*?)\s+n\s+\d+\s+p50\s+[\d.]+ ms\s+p99\s+([\d.]+) ms"
    for name, p99 in re.findall(line, text, re.M):
        limit = next((ms for prefix, ms in KNOWLEDGE_TARGETS if name.startswith(prefix)), None)
        target = "" if limit is None else f"≤ {limit:,.0f} ms"
        met = "" if limit is None else _met(float(p99) <= limit)
        rows.append((f"{name.strip()}, p99", f"{p99} ms", target, met))
    return rows


def accuracy_rows(text: str) -> list[Row]:
    """bench.knowledge_accuracy's line, against the acceptance targets of issue 15 item 3."""
    got = _f(
        r"top-1 ([\d.]+)%, top-3 ([\d.]+)%, handed off ([\d.]+)%; "
        r"unanswerable handed off (\d+)/(\d+)",
        text,
    )
    if not got:
        return []
    top1, top3, handed = (float(g) for g in got[:3])
    off, offs = int(got[3]), int(got[4])
    return [
        ("held-out questions, top-1", f"{top1:.1f} %", "≥ 60 %", _met(top1 >= 60)),
        ("held-out questions, top-3", f"{top3:.1f} %", "≥ 78 %", _met(top3 >= 78)),
        ("held-out answerable handed off", f"{handed:.1f} %", "≤ 25 %", _met(handed <= 25)),
        ("held-out off-topic handed off", f"{off}/{offs}", "≥ 80 %", _met(off >= 0.8 * offs)),
    ]


def split_rows(text: str) -> list[Row]:
    """bench.knowledge_split's splits, as ranges over the unseen halves."""
    splits = re.findall(
        r"top-1 ([\d.]+)%, answerable handed off ([\d.]+)%, unanswerable handed off ([\d.]+)%",
        text,
    )
    if not splits:
        return []
    columns = [[float(s[i]) for s in splits] for i in range(3)]
    label = f"leave-articles-out ({len(splits)} splits), unseen half"
    return [
        (f"{label}: {name}", f"{min(c):.1f}–{max(c):.1f} %", "", "")
        for name, c in zip(
            ("top-1", "answerable handed off", "off-topic handed off"), columns, strict=True
        )
    ]


BENCHES = (
    Bench("ledger", ("--entries", "1000000"), ("--entries", "20000"), ledger_rows),
    Bench("projections", ("--complaints", "3000"), ("--complaints", "300"), projection_rows),
    Bench(
        "stats",
        ("--events", "1000000", "--seconds", "10"),
        ("--events", "20000", "--seconds", "3", "--samples", "100"),
        stats_rows,
    ),
    Bench(
        "settlement",
        ("--encounters", "800", "--workers", "2"),
        ("--encounters", "40", "--workers", "2"),
        settlement_rows,
    ),
    Bench(
        "scale",
        ("--events", "1000000,10000000"),
        (
            "--events",
            "5000,20000",
            "--samples",
            "50",
            "--encounters",
            "3",
            "--complaints",
            "5",
            "--history",
            "100",
        ),
        scale_rows,
    ),
    Bench(
        "ingest",
        ("--batch", "1000"),
        ("--batch", "60", "--baseline-saves", "50", "--demo-scale", "0.01"),
        ingest_rows,
    ),
    Bench(
        "ingest",
        ("--mode", "memory", "--seconds", "600"),
        ("--mode", "memory", "--seconds", "20", "--every", "1", "--demo-scale", "0.01"),
        ingest_rows,
    ),
    Bench(
        "knowledge", (), ("--articles", "50", "--asks", "30", "--publishes", "2"), knowledge_rows
    ),
    Bench("knowledge_accuracy", (), (), accuracy_rows),
    Bench("knowledge_split", (), ("--splits", "2"), split_rows),
)


def baselines(saves: int) -> list[Row]:
    """Raw psycopg INSERT, the bare library's save (1 and 10 events), on a fresh database."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Counter(Aggregate):
        @event("Created")
        def __init__(self) -> None:
            self.n = 0

    fresh_database(DB)
    with psycopg.connect(database_url(DB), autocommit=True) as conn:
        conn.execute("CREATE TABLE raw (id bigserial PRIMARY KEY, body bytea)")
        started = time.perf_counter()
        for _ in range(saves):
            conn.execute("INSERT INTO raw (body) VALUES (%s)", (b"x" * 200,))
        raw = saves / (time.perf_counter() - started)
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
    started = time.perf_counter()
    for _ in range(saves):
        app.save(Counter())
    one = saves / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(saves // 10):
        tally = Tally()
        for _ in range(9):
            tally.count()
        app.save(tally)
    ten = (saves // 10) * 10 / (time.perf_counter() - started)
    app.close()
    drop_database(DB)
    return [
        ("baseline: raw psycopg INSERT, autocommit, 1 connection", f"{raw:,.0f} rows/s", "", ""),
        ("baseline: library save, 1 event, 1 thread", f"{one:,.0f} saves/s", "", ""),
        ("baseline: library save, 10 events, 1 thread", f"{ten:,.0f} events/s", "", ""),
    ]


def table(rows: list[tuple[str, Row]], started: datetime, quick: bool) -> str:
    lines = [
        f"Last `bench/run_all.py{' --quick' if quick else ''}` run: "
        f"{started:%Y-%m-%d %H:%M} UTC ({'reduced sizes' if quick else 'documented sizes'}; "
        "a shared 2-core machine: compare with the same-run baselines).",
        "",
        "| benchmark | measure | figure | target | |",
        "|---|---|---|---|---|",
    ]
    for bench, (measure, figure, target, met) in rows:
        lines.append(f"| {bench} | {measure} | {figure} | {target} | {met} |")
    return "\n".join(lines)


def rewrite(summary: str, doc: Path = DOC) -> None:
    """Replace the text between the markers (adding them after the title when missing)."""
    text = doc.read_text(encoding="utf-8")
    block = f"{START}\n{summary}\n{END}"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{block}\n{rest}"
    doc.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: minutes, not hours")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    started = datetime.now(tz=UTC)
    rows: list[tuple[str, Row]] = [("baselines", r) for r in baselines(300 if args.quick else 2000)]
    for bench in BENCHES:
        if only and bench.name not in only:
            continue
        command = [
            sys.executable,
            "-m",
            f"bench.{bench.name}",
            *(bench.quick if args.quick else bench.full),
        ]
        print("$", " ".join(command[1:]), flush=True)
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=os.environ)
        print(done.stdout, flush=True)  # whole: the rows can be read again from the log
        found = bench.rows(done.stdout) if done.returncode == 0 else []
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["?"])[-1][:100]
            found = [(" ".join(command[2:]), f"failed: {tail}", "", "")]
        rows.extend((bench.name, row) for row in found)
    summary = table(rows, started, args.quick)
    print(summary)
    if not args.no_write:
        rewrite(summary)


if __name__ == "__main__":
    main()
