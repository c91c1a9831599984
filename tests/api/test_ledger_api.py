"""The verifiable ledger over HTTP: who may read what, proofs that verify, bad ranges."""

from __future__ import annotations

import base64
import re

from infrastructure.checkpoints import verify_note
from infrastructure.merkle import leaf_hash
from infrastructure.proofs import verify_consistency, verify_inclusion
from infrastructure.store import build_projector, build_sealer
from tests.api.conftest import Api
from tests.api.test_partner_events import assert_problem


def seal(api: Api) -> None:
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    build_sealer(runtime.settings, runtime.services.ledger, runtime.notary).catch_up()


def test_checkpoint_and_key_for_every_principal_and_the_note_verifies(api: Api) -> None:
    api.seed()
    claim = api.settle().json()["stream"]["id"]
    seal(api)
    checkpoint = api.get("/v1/ledger/checkpoint", who="hosp-1").json()
    key = api.get("/v1/ledger/public-key", who="regulator").json()["verifier_key"]
    signed = verify_note(checkpoint["note"], key)
    assert signed is not None
    assert (signed.size, signed.root.hex()) == (checkpoint["size"], checkpoint["root"])
    assert checkpoint["timestamp"].endswith("Z")
    history = api.get(f"/v1/claims/{claim}/history", proofs="true").json()["events"]
    for event in history:
        proof = event["proof"]
        assert proof["size"] == checkpoint["size"]
        assert proof["root"] == checkpoint["root"]
    entries = api.get("/v1/ledger/entries", who="auditor", start=0, end=1000).json()["entries"]
    by_position = {e["position"]: e for e in entries}
    for event in history:
        entry = by_position[event["position"]]
        proof = event["proof"]
        assert verify_inclusion(
            leaf_hash(base64.b64decode(entry["leaf"])),
            proof["index"],
            proof["size"],
            [bytes.fromhex(h) for h in proof["hashes"]],
            bytes.fromhex(checkpoint["root"]),
        )


def test_proofs_over_http_verify_with_nothing_but_the_rfc(api: Api) -> None:
    api.seed()
    api.settle()
    seal(api)
    size = api.get("/v1/ledger/checkpoint", who="auditor").json()["size"]
    first = api.get("/v1/ledger/checkpoint", who="auditor").json()
    api.settle("ZY2")
    seal(api)
    second = api.get("/v1/ledger/checkpoint", who="auditor").json()
    entries = api.get("/v1/ledger/entries", who="auditor", start=0, end=second["size"]).json()
    leaf = base64.b64decode(entries["entries"][3]["leaf"])
    inclusion = api.get("/v1/ledger/proof/inclusion", who="regulator", index=3, size=second["size"])
    assert verify_inclusion(
        leaf_hash(leaf),
        3,
        second["size"],
        [bytes.fromhex(h) for h in inclusion.json()["hashes"]],
        bytes.fromhex(second["root"]),
    )
    consistency = api.get(
        "/v1/ledger/proof/consistency", who="auditor", first=size, second=second["size"]
    )
    assert verify_consistency(
        size,
        second["size"],
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(h) for h in consistency.json()["hashes"]],
    )


def test_bad_ranges_are_422_and_roles_are_enforced(api: Api) -> None:
    api.seed()
    seal(api)
    size = api.get("/v1/ledger/checkpoint", who="auditor").json()["size"]
    assert_problem(api.get("/v1/ledger/proof/inclusion", who="auditor", index=size, size=size), 422)
    assert_problem(
        api.get("/v1/ledger/proof/inclusion", who="auditor", index=0, size=size + 1), 422
    )
    assert_problem(api.get("/v1/ledger/proof/consistency", who="auditor", first=3, second=2), 422)
    assert_problem(api.get("/v1/ledger/entries", who="auditor", start=size, end=size + 1), 422)
    assert_problem(api.get("/v1/ledger/entries", who="auditor", start=0, end=1001), 422)
    assert_problem(api.get("/v1/ledger/proof/inclusion", who="auditor", index=-1, size=1), 422)
    assert_problem(api.get("/v1/ledger/entries", who="regulator", start=0, end=1), 403)
    assert_problem(api.get("/v1/ledger/proof/inclusion", who="hosp-1", index=0, size=1), 403)
    assert (
        api.get("/v1/ledger/proof/inclusion", who="regulator", index=0, size=1).status_code == 200
    )


def test_checkpoint_before_any_sealing_is_503(api: Api) -> None:
    assert_problem(api.get("/v1/ledger/checkpoint", who="auditor"), 503)


def test_earlier_checkpoints_can_be_shown_again_and_lag_is_measured(api: Api) -> None:
    api.seed()
    seal(api)
    first = api.get("/v1/ledger/checkpoint", who="auditor").json()
    api.settle()
    metrics = api.get("/metrics", who="admin").text
    lag = re.search(r"^xiaobao_sealer_lag_entries (\S+)$", metrics, re.MULTILINE)
    assert lag is not None
    assert float(lag.group(1)) == api.count() - first["size"]
    seal(api)
    assert api.get("/v1/ledger/checkpoint", who="auditor").json()["size"] > first["size"]
    again = api.get("/v1/ledger/checkpoint", who="auditor", size=first["size"]).json()
    assert again == first
    assert_problem(api.get("/v1/ledger/checkpoint", who="auditor", size=first["size"] + 1), 422)
    runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
    build_projector(runtime.settings, runtime.services.ledger).catch_up()
    metrics = api.get("/metrics", who="admin").text
    assert "xiaobao_sealer_lag_entries 0.0" in metrics
    assert 'xiaobao_projection_lag_entries{view="complaint_facts"}' in metrics
