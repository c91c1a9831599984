"""Read replicas and failover, on a primary and a streaming standby the test starts itself
(`pg_basebackup -R`, a second port; synchronous, so an acknowledged commit is on both).

Reads, statistics and proofs come from the replica (shown by pausing its replay: a write
the primary acknowledged is not in a plain read, and is in a read carrying its position);
`X-Min-Position` waits like `?position=` and answers `caught_up: false` beyond what the
replica has; a replica lagging past XIAOBAO_REPLICA_MAX_LAG makes /readyz 503 naming it.
With a multi-host URL and `target_session_attrs=read-write`, the service follows the
standby promoted in the middle of a load, and every acknowledged event is in the new
primary's log exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from infrastructure.settings import Settings, SettingsError
from tests.e2e.crash_kit import HOSPITALS, Cluster, Load, Processes, bearer
from tests.e2e.test_crash import (
    REGULATOR,
    assert_each_acknowledged_once,
    environment,
    seed,
    wait_until,
)

HOSPITAL = HOSPITALS[0]


def test_a_multi_host_url_becomes_libpq_hosts_and_keeps_its_session_attributes() -> None:
    url = (
        "postgresql://led:s%40cret@db1.local:6543,[::1]:6544,db3.local/ledger"
        "?schema=x&target_session_attrs=read-write"
    )
    settings = Settings(database_url=url)
    env = settings.eventsourcing_env(create_table=False)
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == (
        "db1.local,::1,db3.local",
        "6543,6544,5432",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("led", "s@cret")
    assert env["POSTGRES_SCHEMA"] == "x"
    # our own connections (locks, LISTEN, migrations) keep libpq's options, not the ledger's
    assert settings.postgres_conninfo == url.replace("schema=x&", "")


def test_the_read_url_must_be_postgresql() -> None:
    assert Settings().replica() is None
    replica = Settings(read_database_url="postgresql://u@replica.local:5433/l").replica()
    assert replica is not None
    assert replica.postgres_conninfo == "postgresql://u@replica.local:5433/l"
    with pytest.raises(SettingsError):
        Settings(read_database_url="sqlite:///x.db").replica()


@pytest.fixture
def pair() -> Iterator[tuple[Cluster, Cluster]]:
    """A primary and its synchronous streaming standby, both running."""
    primary = Cluster(synchronous=True)
    standby: Cluster | None = None
    try:
        primary.start()
        standby = Cluster(primary=primary)
        standby.start()
        yield primary, standby
    finally:
        if standby is not None:
            standby.remove()
        primary.remove()


def admission(encounter: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"{encounter}-admission",
        "source": f"/partners/{HOSPITAL['partner_id']}",
        "type": "xiaobao.hospital.admission.v1",
        "data": {
            "encounter_id": encounter,
            "patient": {"id": "330102198001010001", "name": "张三"},
            "region": "330100",
            "person_type": "employee",
            "hospital_level": 3,
            "social_insurance": True,
            "admitted_at": "2026-03-02T09:00:00+08:00",
        },
    }


def admit(http: httpx.Client, encounter: str) -> int:
    """Record an admission; its ledger position."""
    answer = http.post(
        "/v1/events",
        content=orjson.dumps(admission(encounter)),
        headers={**bearer(HOSPITAL), "Content-Type": "application/cloudevents+json"},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["position"])


def claims_of(http: httpx.Client, encounter: str, headers: dict[str, str] | None = None) -> int:
    answer = http.get(
        "/v1/claims",
        params={"encounter_id": encounter},
        headers={**bearer(HOSPITAL), **(headers or {})},
    )
    assert answer.status_code == 200, answer.text
    return len(answer.json()["items"])


def claim_statistics(http: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    answer = http.get(
        "/v1/stats/claims",
        params={"period": "2026"},
        headers={**bearer(REGULATOR), **headers},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def checkpoint_size(http: httpx.Client, headers: dict[str, str] | None = None) -> int:
    """The latest checkpoint's size, waiting for the sealer to have signed it."""
    answer = http.get("/v1/ledger/checkpoint", headers={**bearer(REGULATOR), **(headers or {})})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["size"])


def replay(standby: Cluster, paused: bool) -> None:
    with psycopg.connect(standby.url, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")


def test_reads_come_from_the_replica_and_wait_for_a_position(
    pair: tuple[Cluster, Cluster], tmp_path: Path
) -> None:
    primary, standby = pair
    env = {
        **environment(primary.url, tmp_path, separate=False),
        "XIAOBAO_READ_DATABASE_URL": standby.url,
        "XIAOBAO_REPLICA_MAX_LAG": "3",
        "XIAOBAO_MIN_POSITION_WAIT_SECONDS": "1",
    }
    processes = Processes(env, tmp_path, workers=1)
    try:
        processes.start_serve()
        seed(processes.url)
        with httpx.Client(base_url=processes.url, timeout=30) as http:
            first = admit(http, "ZY-R0")
            wait_until(lambda: claims_of(http, "ZY-R0") == 1, 20, "the replica replays")
            assert http.get("/readyz").status_code == 200

            replay(standby, paused=True)  # the replica stops applying what it receives
            written = admit(http, "ZY-R1")  # acknowledged by the primary
            assert written > first
            # a plain read is the replica's: it has not replayed the write
            assert claims_of(http, "ZY-R1") == 0
            # with the write's position, the read waits, then the primary answers it
            assert claims_of(http, "ZY-R1", {"X-Min-Position": str(written)}) == 1
            # statistics wait like ?position= and say they have not caught up
            waited = claim_statistics(http, {"X-Min-Position": str(written)})
            assert waited["caught_up"] is False
            assert waited["position"] < written
            for n in range(2, 6):  # the replica falls behind past the setting
                admit(http, f"ZY-R{n}")
            # proofs are the replica's: the sealer signs the new entries on the primary, the
            # replica's checkpoint stays where its replay stopped
            paused_size = checkpoint_size(http)
            assert paused_size < written
            wait_until(
                lambda: checkpoint_size(http, {"X-Min-Position": str(written)}) > paused_size,
                20,
                "the primary's checkpoint, read with the write's position, has it",
            )
            assert checkpoint_size(http) == paused_size
            behind = http.get("/readyz")
            assert behind.status_code == 503
            assert behind.headers["content-type"] == "application/problem+json"
            assert f"127.0.0.1:{standby.port}" in behind.json()["detail"]
            assert behind.json()["replica"]["lag"] > 3

            replay(standby, paused=False)
            wait_until(lambda: http.get("/readyz").status_code == 200, 20, "replica catches up")
            assert claims_of(http, "ZY-R1") == 1  # replayed: the replica has it now
            wait_until(lambda: checkpoint_size(http) > paused_size, 20, "checkpoint replayed")
            wait_until(
                lambda: claim_statistics(http, {"X-Min-Position": str(written)})["caught_up"],
                20,
                "the views, projected on the primary, replayed on the replica",
            )
            # beyond the head: waits like ?position= and is not caught up
            beyond = claim_statistics(http, {"X-Min-Position": str(10**9)})
            assert beyond["caught_up"] is False
            bad = http.get(
                "/v1/claims",
                params={"encounter_id": "ZY-R1"},
                headers={**bearer(HOSPITAL), "X-Min-Position": "soon"},
            )
            assert bad.status_code == 422
            assert "X-Min-Position" in bad.text
    finally:
        processes.stop_all()


def test_the_service_follows_a_standby_promoted_in_the_middle_of_a_load(
    pair: tuple[Cluster, Cluster], tmp_path: Path
) -> None:
    primary, standby = pair
    both = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}"
        "/postgres?target_session_attrs=read-write"
    )
    env = environment(both, tmp_path, separate=False)
    processes = Processes(env, tmp_path, workers=1)
    try:
        processes.start_serve()
        seed(processes.url)
        load = Load(processes.url, clients=3)
        load.start()
        time.sleep(3.0)
        before = len(load.acknowledged)
        primary.stop("immediate")  # the primary dies in the middle of the load
        standby.promote()  # and its standby takes over
        time.sleep(5.0)  # the load goes on against the new primary
        load.finish()
        assert len(load.acknowledged) > before  # writes were acknowledged after the promotion
        assert_each_acknowledged_once(load, processes.url)
        with psycopg.connect(standby.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            assert row == (False,)  # the answers above came from the promoted standby
    finally:
        processes.stop_all()
