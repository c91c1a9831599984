"""What the benchmarks share: a fresh PostgreSQL database per run, and a complaint intake."""

from __future__ import annotations

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
