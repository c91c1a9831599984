"""The scale and ingestion benchmarks run end to end at a tiny size and print their results
in the shape bench/run_all.py reads (no timing is asserted); run_all rewrites only the
summary between its markers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from bench.common import drop_database
from bench.run_all import (
    END,
    START,
    accuracy_rows,
    ingest_rows,
    knowledge_rows,
    rewrite,
    scale_rows,
    split_rows,
)

ROOT = Path(__file__).resolve().parents[2]
DB = "xiaobao_test_bench_" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]


def run(*args: str) -> tuple[str, list[dict[str, Any]]]:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, "XIAOBAO_BENCH_DB": DB},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line[7:] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    return done.stdout, [orjson.loads(line) for line in lines]


def test_scale_bench_measures_every_figure_at_each_size() -> None:
    out, results = run(
        "bench.scale",
        *("--events", "800,1600", "--samples", "5", "--encounters", "1"),
        *("--complaints", "2", "--history", "5", "--saves", "8"),
    )
    sizes = [r for r in results if "events" in r]
    assert len(sizes) == 2
    assert sizes[0]["events"] < sizes[1]["events"]
    for r in sizes:
        for key in ("claim_read_ms", "history_1000_ms", "inclusion_proof_ms", "stats_claims_ms"):
            assert set(r[key]) == {"p50", "p99"}
        assert r["verify_leaves_per_s"] > 0
        assert r["bytes_per_event"]["database"] > 0
    assert {r["save_threads"] for r in results if "save_threads" in r} == {1, 4}
    assert any("verify" in row[0] for row in scale_rows(out))


def test_scale_bench_reads_only_skips_verification_rebuild_and_statistics() -> None:
    out, results = run(
        "bench.scale",
        *("--events", "800,1600", "--samples", "5", "--encounters", "1"),
        *("--complaints", "2", "--history", "5", "--saves", "8", "--reads-only"),
    )
    sizes = [r for r in results if "events" in r]
    assert len(sizes) == 2
    for r in sizes:
        for key in ("baseline_claim_event_read_ms", "claim_read_ms", "consistency_proof_ms"):
            assert set(r[key]) == {"p50", "p99"}
        assert not {"verify_leaves_per_s", "rebuild_s", "stats_claims_ms"} & set(r)
    assert "claim_read_ms p99" in out


def test_scale_stats_bench_grows_a_kept_database_and_times_the_statistics() -> None:
    out, _ = run(
        "bench.scale",
        *("--events", "800", "--samples", "5", "--encounters", "1"),
        *("--complaints", "2", "--history", "5", "--saves", "8", "--keep"),
    )
    template = out.split("template: ", 1)[1].split(" events", 1)[0]
    try:
        out, results = run(
            "bench.scale_stats",
            *("--grow", "2000", "--template", template, "--rebuild", "--analyze"),
            *("--samples", "5", "--warmup", "3"),
        )
    finally:
        drop_database(DB)
    assert "grown to" in out
    (result,) = results
    assert result["events"] >= 1900
    assert set(result["rebuild_s"]) >= {"claim_facts", "complaint_facts", "dispute_facts"}
    for kind in ("baseline_event_read", "stats_complaints", "stats_claims", "stats_disputes"):
        for key in (f"{kind}_ms", f"{kind}_first_ms"):  # the first calls timed apart
            assert set(result[key]) == {"p50", "p99"}


def test_ingest_bench_records_every_batch_event() -> None:
    out, results = run(
        "bench.ingest", "--batch", "6", "--baseline-saves", "10", "--demo-scale", "0.01"
    )
    (result,) = results
    assert result["events"] == 18  # three requests of six, every event answered 201
    assert result["batch_events_per_s"] > 0
    assert "ratio" in result
    assert ingest_rows(out)[0][1].endswith(f"= {result['ratio']}×")
    # every partner event stores its receipt and at least one record of its own
    assert result["stored_events"] >= 2 * result["events"]
    assert ingest_rows(out)[1][1].startswith(f"{result['stored_events_per_s']:,} stored events/s")


def test_run_all_rewrites_only_the_summary(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nintro\n\n{START}\nold table\n{END}\n\nnarrative\n")
    rewrite("| new |", doc)
    assert doc.read_text() == f"# Performance\n\nintro\n\n{START}\n| new |\n{END}\n\nnarrative\n"


KNOWLEDGE_OUT = """\
ask, lexical only, new questions       n  374   p50    3.31 ms   p99    8.81 ms
bare bm25s query (same tokens)         n  500   p50    0.06 ms   p99    0.39 ms
publish → visible in the API process   n   10   p50  796.67 ms   p99  881.59 ms
ask, dense + BM25, new questions       n  374   p50   55.79 ms   p99  108.49 ms
"""


def test_run_all_reads_the_knowledge_benchmarks_against_their_targets() -> None:
    rows = {row[0]: row for row in knowledge_rows(KNOWLEDGE_OUT)}
    assert rows["ask, lexical only, new questions, p99"][1:] == ("8.81 ms", "≤ 20 ms", "met")
    assert rows["ask, dense + BM25, new questions, p99"][2:] == ("≤ 50 ms", "**missed**")
    assert rows["publish → visible in the API process, p99"][2:] == ("≤ 1,000 ms", "met")
    assert rows["bare bm25s query (same tokens), p99"][2:] == ("", "")
    accuracy = accuracy_rows(
        "50 answerable questions over 76 articles: top-1 48.0%, top-3 68.0%, handed off "
        "14.0%; unanswerable handed off 11/12 (91.7%)"
    )
    assert [(r[1], r[3]) for r in accuracy] == [
        ("48.0 %", "**missed**"),
        ("68.0 %", "**missed**"),
        ("14.0 %", "met"),
        ("11/12", "met"),
    ]
    split = split_rows(
        "split 0: threshold 0.415 tuned on 186 questions; on the other 190: top-1 75.5%, "
        "answerable handed off 1.8%, unanswerable handed off 92.6%\n"
        "split 1: threshold 0.400 tuned on 187 questions; on the other 189: top-1 78.4%, "
        "answerable handed off 6.2%, unanswerable handed off 85.2%\n"
    )
    assert [r[1] for r in split] == ["75.5–78.4 %", "1.8–6.2 %", "85.2–92.6 %"]
