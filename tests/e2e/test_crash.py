"""Crash tests: real processes on loopback under a steady load of encounters and complaints.

On a PostgreSQL cluster the test starts itself: `serve --workers 2` with separate `project`
and `seal` processes; an API worker, the projection process and the sealer are killed (-9)
at random moments over several rounds and restarted, and the database is stopped
(`immediate`) and started again mid-load. Then every event answered 2xx is in the log
exactly once, statistics equal a full recomputation, `xiaobao verify` passes and each
person's accumulators equal a recomputation from their claims. On SQLite: kill -9 of
`serve` during writes loses no acknowledged event."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from api.demo import DEMO_PRINCIPALS, write_principals
from domain.accumulators import Accumulator
from domain.claims import Claim
from infrastructure.merkle_store import merkle_store_for
from infrastructure.settings import Settings
from infrastructure.store import build_ledger
from tests.e2e.crash_kit import (
    ADMIN,
    HANDLER,
    HOSPITALS,
    INSURER,
    PERSONS,
    Cluster,
    Load,
    Processes,
    bearer,
    kill9,
)

REGULATOR = next(e for e in DEMO_PRINCIPALS if e["role"] == "regulator")
UNAVAILABLE_SECONDS = 8  # XIAOBAO_DATABASE_UNAVAILABLE_SECONDS: 2 s of retries, then 503
OUTAGE_EVENT = {
    "specversion": "1.0",
    "id": "sent-during-the-outage",
    "source": f"/partners/{HOSPITALS[0]['partner_id']}",
    "type": "xiaobao.hospital.admission.v1",
    "data": {
        "encounter_id": "ZY-OUTAGE",
        "patient": PERSONS[1],
        "region": "330100",
        "person_type": "employee",
        "hospital_level": 3,
        "social_insurance": True,
        "admitted_at": "2026-03-02T09:00:00+08:00",
    },
}


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    started = Cluster()
    started.start()
    yield started
    started.remove()


def environment(url: str, workdir: Path, separate: bool) -> dict[str, str]:
    write_principals(workdir / "principals.json")
    return {
        **os.environ,
        "XIAOBAO_DATABASE_URL": url,
        "XIAOBAO_PRINCIPALS_FILE": str(workdir / "principals.json"),
        "XIAOBAO_SIGNING_KEY_FILE": str(workdir / "signing-key.pem"),
        "XIAOBAO_INDEX_KEY_FILE": str(workdir / "index-key"),
        "XIAOBAO_RUN_SEALER": "false" if separate else "true",
        "XIAOBAO_RUN_PROJECTIONS": "false" if separate else "true",
        "XIAOBAO_KNOWLEDGE_DENSE": "false",
        "XIAOBAO_RATE_LIMIT_PER_SECOND": "0",
        "XIAOBAO_DATABASE_UNAVAILABLE_SECONDS": str(UNAVAILABLE_SECONDS),
        "XIAOBAO_LOG_LEVEL": "warning",
    }


def seed(url: str) -> None:
    """The scheme, the product and a policy for the first person."""
    scheme = {
        "region": "330100",
        "person_type": "employee",
        "effective_from": "2026-01-01",
        "annual_cap": "400000.00",
        "b_prepay_ratio": "0.10",
        "levels": {"3": {"deductible": "800.00", "ratio": "0.84"}},
    }
    product = {
        "effective_from": "2026-01-01",
        "annual_deductible": "1000.00",
        "ratio_with_si": "1.00",
        "ratio_without_si": "0.60",
        "annual_limit": "2000000.00",
        "covers_out_of_scope": True,
    }
    for path, body in (("schemes/hz", scheme), ("products/BWYL", product)):
        answer = httpx.put(f"{url}/v1/reference/{path}", json=body, headers=bearer(ADMIN))
        assert answer.status_code == 201, answer.text
    policy = {
        "specversion": "1.0",
        "id": "policy-P1",
        "source": f"/partners/{INSURER['partner_id']}",
        "type": "xiaobao.insurer.policy-issued.v1",
        "data": {
            "policy_id": "P1",
            "product_code": "BWYL",
            "insured": PERSONS[0],
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    }
    headers = {**bearer(INSURER), "Content-Type": "application/cloudevents+json"}
    assert httpx.post(f"{url}/v1/events", content=orjson.dumps(policy), headers=headers).is_success


def wait_until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds} s: {what} (last seen: {SEEN})")


def caught_up(url: str, settings: Settings) -> bool:
    """Every view and the sealer have reached the log's head."""
    try:
        ready = httpx.get(f"{url}/readyz", timeout=5).json()
    except httpx.TransportError:
        return False
    ledger = build_ledger(settings)
    try:
        head = int(ledger.recorder.max_notification_id() or 0)
        sealed = merkle_store_for(ledger.recorder).last_position()
    finally:
        ledger.close()
    lags = ready.get("projection_lag", {})
    SEEN["caught_up"] = {"head": head, "sealed": sealed, "readyz": ready}
    return bool(lags) and not any(lags.values()) and sealed == head == ready["position"]


SEEN: dict[str, Any] = {}  # what the last check saw, for the failure's message


def statistics(url: str) -> dict[str, Any]:
    """The claim and complaint figures as the regulator reads them (volatile members out)."""
    found = {}
    for name in ("claims", "complaints"):
        body = httpx.get(
            f"{url}/v1/stats/{name}", params={"period": "2026"}, headers=bearer(REGULATOR)
        ).json()
        assert body.get("caught_up") is True, body
        found[name] = {
            k: v for k, v in body.items() if k not in ("attestation", "checkpoint", "evaluated_at")
        }
    return found


def assert_each_acknowledged_once(load: Load, url: str) -> None:
    first = sum(a.status == 201 for a in load.acknowledged)
    print(  # shown with -s, and on a failure
        f"acknowledged {len(load.acknowledged)} events ({first} answered 201) and "
        f"{len(load.complaints)} complaints; statuses seen {load.statuses}"
    )
    assert load.acknowledged
    assert not load.refused
    assert 500 not in load.statuses
    # sent once and answered: the first recording's answer, never a duplicate of itself
    assert not [a for a in load.acknowledged if a.tries == 1 and a.body["duplicate"]]
    with httpx.Client(base_url=url, timeout=30) as http:
        for ack in load.acknowledged:
            headers = {**bearer(ack.who), "Content-Type": "application/cloudevents+json"}
            again = http.post("/v1/events", content=orjson.dumps(ack.request), headers=headers)
            assert again.status_code == 200, again.text
            assert again.json()["duplicate"] is True
            assert again.json()["position"] == ack.body["position"]
        for complaint in load.complaints:
            assert http.get(f"/v1/complaints/{complaint}", headers=bearer(HANDLER)).is_success


def assert_accumulators_recomputed(settings: Settings) -> None:
    """Each accumulator equals the sum of the shares the settled claims say they took."""
    ledger = build_ledger(settings)
    try:
        head = int(ledger.recorder.max_notification_id() or 0)
        claims = {
            n.originator_id
            for n in ledger.recorder.select_notifications(1, head + 1)
            if n.topic.startswith("domain.claims:Claim.")
        }
        expected: dict[tuple[UUID, str], Decimal] = defaultdict(Decimal)
        settled = 0
        for claim_id in claims:
            claim = ledger.find(Claim, UUID(str(claim_id)))
            assert claim is not None
            if claim.settlement is not None:
                settled += 1
                for share in claim.settlement.shares:
                    expected[(share.accumulator_id, share.field)] += share.amount
        assert settled
        for (acc_id, field), amount in expected.items():
            accumulator = ledger.find(Accumulator, acc_id)
            assert accumulator is not None
            assert accumulator.total(field) == amount
    finally:
        ledger.close()


def xiaobao_started(env: dict[str, str], workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "api", *args],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_nothing_acknowledged_is_lost_when_processes_and_the_database_crash(
    cluster: Cluster, tmp_path: Path
) -> None:
    env = environment(cluster.url, tmp_path, separate=True)
    settings = Settings(database_url=cluster.url, index_key_file=tmp_path / "index-key")
    processes = Processes(env, tmp_path, workers=2)
    rng = random.Random(18)
    try:
        processes.start_serve()
        processes.start_project()
        processes.start_seal()
        seed(processes.url)
        load = Load(processes.url, clients=4)
        load.start()
        for _ in range(3):  # rounds: each process is killed once, in a random order
            for victim in rng.sample(["worker", "project", "seal"], 3):
                time.sleep(rng.uniform(0.3, 1.2))
                if victim == "worker":
                    os.kill(rng.choice(processes.workers_pids()), signal.SIGKILL)
                elif victim == "project":
                    kill9(processes.project)
                    processes.start_project()
                else:
                    kill9(processes.seal)
                    processes.start_seal()
        # A worker still starting when the database stops waits for it before it serves;
        # the outage is tested against workers that are serving.
        processes.wait_workers_connected(cluster.port)
        time.sleep(1.0)
        cluster.stop("immediate")  # the database stops in the middle of the load
        during = httpx.post(
            f"{processes.url}/v1/events",
            content=orjson.dumps(OUTAGE_EVENT),
            headers={**bearer(HOSPITALS[0]), "Content-Type": "application/cloudevents+json"},
            timeout=UNAVAILABLE_SECONDS + 6,  # answered within the setting (and a margin)
        )
        assert during.status_code == 503
        assert during.headers["content-type"] == "application/problem+json"
        assert "retry-after" in during.headers
        time.sleep(2.0)
        cluster.start()
        time.sleep(3.0)  # the load goes on after the outage
        load.finish()
        # every process recovers without a restart
        assert processes.project is not None
        assert processes.project.poll() is None
        assert processes.seal is not None
        assert processes.seal.poll() is None
        wait_until(lambda: caught_up(processes.url, settings), 60, "views and sealer at head")
        assert 503 in load.statuses  # the outage was seen by the clients

        assert_each_acknowledged_once(load, processes.url)
        assert_accumulators_recomputed(settings)
        before = statistics(processes.url)
        kill9(processes.project)  # the views are recomputed from the log, by `rebuild`
        rebuild = xiaobao_started(env, tmp_path, "rebuild")
        verify = xiaobao_started(env, tmp_path, "verify")
        for finished in (rebuild, verify):
            out, _ = finished.communicate(timeout=180)
            assert finished.returncode == 0, out
        assert statistics(processes.url) == before
    finally:
        processes.stop_all()


def test_a_killed_sqlite_server_loses_no_acknowledged_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    env = environment(url, tmp_path, separate=False)
    processes = Processes(env, tmp_path, workers=1)
    rng = random.Random(18)
    try:
        processes.start_serve()
        seed(processes.url)
        load = Load(processes.url, clients=3)
        load.start()
        for _ in range(2):
            time.sleep(rng.uniform(0.5, 1.5))
            kill9(processes.serve)  # during writes
            processes.start_serve()
        time.sleep(1.0)
        load.finish()
        assert_each_acknowledged_once(load, processes.url)
    finally:
        processes.stop_all()
