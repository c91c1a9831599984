"""The one log on real stores: settings, migration, positions and concurrent writers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.services import build_services
from application.settling import SettlementPlanner
from domain.accumulators import (
    DEDUCTIBLE_USED,
    LIMIT_USED,
    POLICY_YEAR,
    Accumulator,
    accumulator_id,
    policy_year_key,
)
from domain.dispute_rules import DisputeRules
from infrastructure.settings import Settings, SettingsError
from infrastructure.store import build_ledger, build_vault, dispute_rules, migrate
from tests.builders import admit, charge, discharge, issue_policy, seed_reference

D = Decimal


def test_sqlite_url_becomes_the_sqlite_environment(tmp_path: Path) -> None:
    env = Settings(database_url=f"sqlite:///{tmp_path}/l.db").eventsourcing_env(create_table=False)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == f"{tmp_path}/l.db"
    assert env["CREATE_TABLE"] == "n"


def test_postgres_url_becomes_the_postgres_environment() -> None:
    env = Settings(
        database_url="postgresql://led:s%40cret@db.local:6543/ledger?schema=x", pool_size=4
    ).eventsourcing_env(create_table=True)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.local",
        "6543",
        "ledger",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("led", "s@cret")
    assert env["POSTGRES_SCHEMA"] == "x"
    assert env["POSTGRES_POOL_SIZE"] == "4"
    assert env["CREATE_TABLE"] == "y"


def test_unsupported_database_url_is_refused() -> None:
    with pytest.raises(SettingsError):
        Settings(database_url="mysql://x").eventsourcing_env(create_table=False)


def test_every_aggregate_shares_one_position_sequence(settings: Settings) -> None:
    migrate(settings)
    migrate(settings)  # idempotent
    ledger = build_ledger(settings)
    services = build_services(
        ledger, build_vault(settings, ledger), dispute_rules=dispute_rules(settings)
    )
    seed_reference(services)
    issue_policy(services)
    result = admit(services)
    charge(services)
    discharge(services)
    claim_positions = ledger.positions.of(result.stream_id)
    assert sorted(claim_positions) == [1, 2, 3, 4]
    notifications = ledger.recorder.select_notifications(1, 1000)
    positions = [n.id for n in notifications]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    kinds = {n.topic.split(":")[1].split(".")[0] for n in notifications}
    assert {"Claim", "Accumulator", "Policy", "Scheme", "Product", "PartnerEventReceipt"} <= kinds
    assert set(claim_positions.values()) <= set(positions)
    ledger.close()


def test_postgres_ledger_is_one_table_named_after_the_application(
    fresh_postgres: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=fresh_postgres, index_key_file=tmp_path / "k")
    ledger = build_ledger(settings)
    services = build_services(
        ledger, build_vault(settings, ledger), dispute_rules=dispute_rules(settings)
    )
    seed_reference(services)
    admit(services)
    with psycopg.connect(fresh_postgres) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename LIKE '%events'"
            )
        }
        rows = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
    assert "ledger_events" in tables
    assert rows is not None
    assert rows[0] == len(ledger.recorder.select_notifications(1, 1000))
    ledger.close()


def test_racing_discharges_never_consume_the_same_deductible_twice(
    fresh_postgres: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two processes' worth of ledgers discharge the same insured person at once."""
    settings = Settings(database_url=fresh_postgres, index_key_file=tmp_path / "k")
    ledgers = [build_ledger(settings) for _ in range(2)]
    writers = [
        build_services(ledger, build_vault(settings, ledger), dispute_rules=dispute_rules(settings))
        for ledger in ledgers
    ]
    seed_reference(writers[0])
    issue_policy(writers[0])
    encounters = [f"E{i}" for i in range(6)]
    for index, encounter in enumerate(encounters):
        admit(writers[index % 2], encounter)
        charge(writers[index % 2], encounter)

    barrier = threading.Barrier(2, timeout=10)
    calls = {"n": 0}
    original = SettlementPlanner.plan

    def plan_then_wait(self: SettlementPlanner, claim: Any, exclude_own: bool) -> Any:
        planned = original(self, claim, exclude_own)
        calls["n"] += 1
        if calls["n"] <= 2:
            barrier.wait()  # both writers have read the same accumulator before either saves
        return planned

    monkeypatch.setattr(SettlementPlanner, "plan", plan_then_wait)
    with ThreadPoolExecutor(max_workers=len(encounters)) as pool:
        results = list(
            pool.map(lambda i: discharge(writers[i % 2], encounters[i]), range(len(encounters)))
        )

    assert calls["n"] > len(encounters), "no writer had to retry: the race was not exercised"
    deductibles = [D(r.extra["settlement"]["commercial_deductible"]) for r in results]
    paid = [D(r.extra["settlement"]["commercial_paid"]) for r in results]
    assert sum(deductibles) == D("10000.00")
    assert sorted(deductibles, reverse=True)[1:] == [D("0.00")] * (len(encounters) - 1)
    acc = writers[0].ledger.find(
        Accumulator, accumulator_id(POLICY_YEAR, policy_year_key("P1", date(2026, 1, 1)))
    )
    assert acc is not None
    assert acc.total(DEDUCTIBLE_USED) == D("10000.00")
    assert acc.total(LIMIT_USED) == sum(paid)
    for services in writers:
        services.ledger.close()


def test_the_dispute_rules_are_the_settings_with_the_legal_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert dispute_rules(Settings()) == DisputeRules()
    monkeypatch.setenv("XIAOBAO_DISPUTE_MEDIATION_PERIOD_DAYS", "20")
    monkeypatch.setenv("XIAOBAO_DISPUTE_SET_ASIDE_CUTOFF", "2026-06-01")
    monkeypatch.setenv("XIAOBAO_DISPUTE_HOLIDAYS", '["2026-05-01"]')
    rules = dispute_rules(Settings())
    assert rules.mediation_period_days == 20
    assert rules.set_aside_cutoff == date(2026, 6, 1)
    assert rules.calendar.is_working_day(date(2026, 5, 1)) is False
    assert rules.performance_days == DisputeRules().performance_days


def test_a_dispute_period_that_cannot_work_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XIAOBAO_DISPUTE_PERFORMANCE_DAYS", "0")
    with pytest.raises(ValueError, match="positive"):
        dispute_rules(Settings())
