"""Fixtures: the same suites run on the in-memory store, SQLite files and PostgreSQL.

PostgreSQL is never skipped: when the server cannot be reached the tests fail loudly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from application.ledger import Ledger
from application.services import Services, build_services
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_vault, dispute_rules, migrate

# One database per checkout, so two suites running side by side never share tables.
_CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()[:8]
POSTGRES_URL = os.environ.get(
    "XIAOBAO_TEST_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:5432/xiaobao_test_{_CHECKOUT}"
)


def ensure_postgres_database(url: str) -> None:
    """Create the test database when missing; fail loudly when the server is unreachable."""
    target = psycopg.conninfo.conninfo_to_dict(url)
    dbname = str(target.pop("dbname"))
    admin = psycopg.conninfo.make_conninfo(**{**target, "dbname": "postgres"})  # type: ignore[arg-type]
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {admin} is required by the test suite: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    ensure_postgres_database(POSTGRES_URL)
    migrate(Settings(database_url=POSTGRES_URL))
    return POSTGRES_URL


@pytest.fixture
def fresh_postgres(postgres_url: str) -> str:
    """The PostgreSQL test ledger, emptied."""
    truncate_postgres(postgres_url)
    return postgres_url


TABLES = (
    "ledger_events",
    "subject_keys",
    "merkle_leaves",
    "merkle_nodes",
    "merkle_checkpoints",
    "projection_tracking",
    "projection_failures",
    "view_complaint_facts",
    "view_complaint_periods",
    "view_complaint_pending",
    "view_claim_facts",
    "view_claim_months",
    "view_offline_claims",
    "view_offline_claim_months",
    "view_exposure_facts",
    "view_dispute_facts",
    "view_dispute_months",
    "view_knowledge_articles",
    "view_knowledge_days",
    "view_education_activities",
    "view_training_sessions",
    "view_training_attendees",
    "view_rectification_facts",
    "view_report_facts",
)


def truncate_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")


def settings_for(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh, empty ledger on the named store."""
    if store == "memory":
        url = "memory://"
    elif store == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        truncate_postgres(url)
    return Settings(
        database_url=url,
        principals_file=tmp_path / "principals.json",
        signing_key_file=tmp_path / "signing-key.pem",
        index_key_file=tmp_path / "index-key",
        run_sealer=False,
        # The route matrix sends a wrong token to every route from one address; the
        # throttle of failed authentications has tests of its own (tests/api/test_hardening).
        auth_failures_per_minute=100_000,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh ledger on each real store."""
    return settings_for(request.param, tmp_path, request)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A fresh ledger on every store, the in-memory one included."""
    return settings_for(request.param, tmp_path, request)


@pytest.fixture
def ledger(any_settings: Settings) -> Iterator[Ledger]:
    migrate(any_settings)
    built = build_ledger(any_settings)
    yield built
    built.close()


@pytest.fixture
def services(ledger: Ledger, any_settings: Settings) -> Services:
    return build_services(
        ledger,
        build_vault(any_settings, ledger),
        retention_days={"claims": 0, "policies": 0},
        dispute_rules=dispute_rules(any_settings),
    )
