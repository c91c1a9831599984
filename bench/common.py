"""What the benchmarks share: a fresh PostgreSQL database per run, a complaint intake, and
the CPU time of processes (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql

from application.complaint_commands import Intake

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def fresh_database(name: str) -> None:
    """Drop and create the benchmark's own database."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    """Drop the benchmark's own database when it is done."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def checkpoint(url: str) -> None:
    """Write back what a bulk load or a seal dirtied before reads are timed: timed during
    the write-back, reads measure the load, not the ledger (their baselines' p99 doubled
    at 10M; 200 proofs at 1M had a p99 of 14-17 ms against a p50 of 0.5 ms)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def intake(person: str) -> Intake:
    """A hotline complaint about a claim (no real personal data)."""
    return Intake(
        channel="hotline",
        complainant={"id": person, "name": "n"},
        matter="m",
        request="r",
        cause="claims",
        line="health",
        region="330100",
    )


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # ended meanwhile
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the fields after the command's name


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def process_tree(root: int) -> list[int]:
    """`root` and every process descending from it (Linux /proc)."""
    parents: dict[int, int] = {}
    for pid in _pids():
        fields = _stat(pid)
        if fields is not None:
            parents[pid] = int(fields[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sorted(tree)


def database_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to `database` (on this host)."""
    found = []
    for pid in _pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            found.append(pid)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
