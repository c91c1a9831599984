"""The sealer, stored proofs, full verification with tamper detection, and bundles — on both
stores."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.cli import cli
from application.ledger import Ledger
from application.services import Services, build_services
from infrastructure import audit, proof_service
from infrastructure.audit import Frontier, export_bundle, verify_bundle, verify_ledger
from infrastructure.checkpoints import verify_note
from infrastructure.merkle import MerkleLog, ProofRangeError, leaf_hash
from infrastructure.merkle_store import merkle_store_for
from infrastructure.notary import Notary
from infrastructure.proof_service import LedgerDamaged, LedgerProofs
from infrastructure.proofs import verify_consistency, verify_inclusion
from infrastructure.sealer import Sealer
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_notary,
    build_sealer,
    build_vault,
    dispute_rules,
    migrate,
)
from tests.builders import issue_policy, seed_reference, settle_worked_example


@dataclass
class World:
    settings: Settings
    ledger: Ledger
    services: Services
    notary: Notary
    sealer: Sealer
    proofs: LedgerProofs

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        """Change the database behind the ledger's back (for tamper tests)."""
        if self.settings.is_postgres:
            with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
                conn.execute(
                    statement.replace("?", "%s")
                    .replace("stored_events", "ledger_events")
                    .replace("rowid", "notification_id"),
                    params,
                )
        else:
            path = self.settings.sqlite_path()
            assert path is not None
            import sqlite3

            with sqlite3.connect(path) as conn:
                conn.execute(statement, params)

    def verify(self) -> Any:
        return verify_ledger(self.ledger.recorder, self.proofs.store, self.notary.verifier_key)


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    migrate(settings)
    ledger = build_ledger(settings)
    services = build_services(
        ledger, build_vault(settings, ledger), dispute_rules=dispute_rules(settings)
    )
    notary = build_notary(settings)
    seed_reference(services)
    issue_policy(services)
    settle_worked_example(services)
    proofs = LedgerProofs(ledger.recorder, merkle_store_for(ledger.recorder))
    yield World(settings, ledger, services, notary, build_sealer(settings, ledger, notary), proofs)
    ledger.close()


def positions(world: World) -> list[int]:
    return [n.id for n in world.ledger.recorder.select_notifications(1, 10_000)]


def test_sealer_seals_every_entry_once_in_position_order(world: World) -> None:
    sealed = world.sealer.catch_up()
    assert sealed == len(positions(world))
    assert world.sealer.catch_up() == 0
    stored = world.proofs.store.leaf_positions(0, 10_000)
    assert [p for _, p in stored] == positions(world)
    assert [i for i, _ in stored] == list(range(sealed))
    checkpoint = world.proofs.checkpoint()
    assert checkpoint.size == sealed
    signed = verify_note(checkpoint.note, world.notary.verifier_key)
    assert signed is not None
    assert (signed.size, signed.root) == (checkpoint.size, checkpoint.root)


def test_a_second_sealer_never_appends_an_entry_twice(world: World) -> None:
    other_ledger = build_ledger(world.settings)
    other = build_sealer(world.settings, other_ledger, world.notary)
    other.load()
    world.sealer.catch_up()
    assert other.seal_once() == 0  # it loses on the primary keys and reloads
    settle_worked_example(world.services, "E2", patient="person-2")
    assert other.catch_up() > 0
    assert world.sealer.seal_once() == 0
    stored = [p for _, p in world.proofs.store.leaf_positions(0, 10_000)]
    assert stored == positions(world)
    other_ledger.close()


def test_a_sealer_taken_up_from_the_stores_edge_stores_every_subtree(world: World) -> None:
    """Batches of 3, a fresh sealer (loading only the tree's right edge) before each: the
    stored levels are those of the whole tree built in memory."""
    settle_worked_example(world.services, "E2", patient="person-2")
    while True:
        sealer = build_sealer(world.settings, world.ledger, world.notary)
        sealer.batch = 3
        if not sealer.seal_once():
            break
    tree = MerkleLog()
    for position in positions(world):
        tree.append(leaf_hash(world.proofs.leaves([position])[position]))
    assert world.proofs.store.levels() == tree.levels
    assert world.proofs.checkpoint().root == tree.root()
    assert world.verify().ok


def test_stored_proofs_equal_the_in_memory_tree_and_verify(world: World) -> None:
    world.sealer.catch_up()
    size = world.proofs.size()
    tree = MerkleLog()
    for index, position in world.proofs.store.leaf_positions(0, size):
        tree.append(leaf_hash(world.proofs.leaves([position])[position]))
        assert index == tree.size - 1
    root = world.proofs.root(size)
    assert root == tree.root()
    for index in range(size):
        proof = world.proofs.inclusion(index, size)
        assert proof == tree.inclusion_proof(index, size)
        assert verify_inclusion(tree.leaf(index), index, size, proof, root)
    for first in range(size + 1):
        proof = world.proofs.consistency(first, size)
        assert proof == tree.consistency_proof(first, size)
        assert verify_consistency(first, size, tree.root(first), root, proof)


def sealed_with_every_subtree_held(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, MerkleLog]:
    """The log sealed, every subtree of two leaves or more held (read in bulk as soon as
    anything is missing), and the tree's size with the same tree built in memory."""
    monkeypatch.setattr(proof_service.UpperNodes, "LOWEST", 1)
    monkeypatch.setattr(proof_service.UpperNodes, "BULK", 0)
    world.sealer.catch_up()
    size = world.proofs.size()
    tree = MerkleLog()
    for _, position in world.proofs.store.leaf_positions(0, size):
        tree.append(leaf_hash(world.proofs.leaves([position])[position]))
    return size, tree


def test_proofs_hold_the_upper_subtrees_read_in_bulk_once_and_still_equal_the_tree(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every subtree of two leaves or more held (read in bulk once the tree's size is
    known), proofs read only leaves from the store, every proof is still the in-memory
    tree's, a size beyond the tree neither reads nor forgets what is held, and what is held
    is bounded by raising its lowest level."""
    size, tree = sealed_with_every_subtree_held(world, monkeypatch)
    asked: list[list[tuple[int, int]]] = []
    bulk: list[list[tuple[int, int, int]]] = []
    store = world.proofs.store
    sized_nodes, node_ranges = store.sized_nodes, store.node_ranges

    def counted(coordinates: Any) -> Any:
        asked.append(list(coordinates))
        return sized_nodes(asked[-1])

    def counted_ranges(ranges: Any) -> Any:
        bulk.append(list(ranges))
        return node_ranges(bulk[-1])

    monkeypatch.setattr(store, "sized_nodes", counted)
    monkeypatch.setattr(store, "node_ranges", counted_ranges)
    for _ in range(2):
        for index in range(size):
            assert world.proofs.inclusion(index, size) == tree.inclusion_proof(index, size)
        for first in range(size + 1):
            assert world.proofs.consistency(first, size) == tree.consistency_proof(first, size)
    assert len(bulk) == 1  # once, at the second proof (the first learnt the tree's size)
    assert bulk[0] == [(level, 0, size >> level) for level in range(1, size.bit_length())]
    assert all(level == 0 for read in asked[1:] for level, _ in read)  # leaves only
    held = {level: bytes(hashes) for level, hashes in world.proofs._upper.levels.items()}
    with pytest.raises(ProofRangeError):  # the size is still read and checked every time
        world.proofs.consistency(0, 2**60)
    assert len(bulk) == 1
    assert {lv: bytes(h) for lv, h in world.proofs._upper.levels.items()} == held
    monkeypatch.setattr(proof_service.UpperNodes, "HELD", size.bit_length() - 3)
    for index in range(size):  # bounded: the lowest levels are let go, and read again
        assert world.proofs.inclusion(index, size) == tree.inclusion_proof(index, size)
    assert world.proofs._upper.lowest == 3
    assert min(world.proofs._upper.levels) == 3


def test_a_bulk_read_that_leaves_gaps_is_not_repeated_and_proofs_stay_right(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored upper node missing or damaged stops its level filling: the bulk read is then
    not repeated on every proof, and proofs read what they miss with their own nodes."""
    size, tree = sealed_with_every_subtree_held(world, monkeypatch)
    bulk: list[Any] = []
    store = world.proofs.store
    node_ranges = store.node_ranges

    def damaged(ranges: Any) -> Any:  # the first node of every level is not a hash
        bulk.append(ranges)
        return [(lv, i, b"x" if i == 0 else h) for lv, i, h in node_ranges(ranges)]

    monkeypatch.setattr(store, "node_ranges", damaged)
    for index in range(size):
        assert world.proofs.inclusion(index, size) == tree.inclusion_proof(index, size)
    assert len(bulk) == 1
    assert world.proofs._upper.stuck


def test_verify_passes_on_an_untouched_ledger(world: World) -> None:
    world.sealer.catch_up()
    settle_worked_example(world.services, "E2", patient="person-2")
    world.sealer.catch_up()
    report = world.verify()
    assert report.ok, report
    assert report.leaves == len(positions(world))
    assert report.checkpoints == 2


def test_a_flipped_bit_in_a_stored_payload_is_found(world: World) -> None:
    world.sealer.catch_up()
    target = positions(world)[7]
    world.sql(
        "UPDATE stored_events SET state = ? WHERE rowid = ?",
        (flip(world.ledger.recorder.select_notifications(target, 1)[0].state), target),
    )
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == target


def test_a_deleted_row_is_found(world: World) -> None:
    world.sealer.catch_up()
    target = positions(world)[5]
    world.sql("DELETE FROM stored_events WHERE rowid = ?", (target,))
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == target


def test_two_swapped_rows_are_found(world: World) -> None:
    world.sealer.catch_up()
    a, b = positions(world)[3], positions(world)[4]
    rows = {n.id: n for n in world.ledger.recorder.select_notifications(a, 2)}
    world.sql("UPDATE stored_events SET state = ? WHERE rowid = ?", (rows[b].state, a))
    world.sql("UPDATE stored_events SET state = ? WHERE rowid = ?", (rows[a].state, b))
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == a


def test_an_inserted_row_is_found(world: World) -> None:
    world.sealer.catch_up()
    first = world.ledger.recorder.select_notifications(1, 1)[0]
    if world.settings.is_postgres:
        world.sql(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state, rowid) "
            "VALUES (?, 99, ?, ?, 0)",
            (first.originator_id, first.topic, first.state),
        )
    else:
        world.sql(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
            "VALUES (0, ?, 99, ?, ?)",
            (first.originator_id.hex, first.topic, first.state),  # type: ignore[union-attr]
        )
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == 0


def test_a_rewritten_subtree_hash_is_found(world: World) -> None:
    """Proofs are served from the stored subtree hashes: verify recomputes every one."""
    world.sealer.catch_up()
    world.sql("UPDATE merkle_nodes SET hash = ? WHERE level = 2 AND idx = 1", (b"\x07" * 32,))
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == positions(world)[7]  # leaf 7 completes node (2, 1)
    assert "level 2, node 1" in (report.problem or "")
    assert "differs" in (report.problem or "")


def test_a_deleted_subtree_hash_is_found(world: World) -> None:
    world.sealer.catch_up()
    world.sql("DELETE FROM merkle_nodes WHERE level = 3 AND idx = 0")
    world.sql("UPDATE merkle_nodes SET hash = ? WHERE level = 1 AND idx = 5", (b"\x07" * 32,))
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == positions(world)[7]  # before leaf 11's node (1, 5)
    assert "level 3, node 0) is missing" in (report.problem or "")


@pytest.mark.parametrize("batch", [3, 4])
def test_verify_reads_in_batches_across_subtrees_and_checkpoints(
    world: World, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Batches smaller than the subtrees and the checkpoints' sizes: the same outcomes."""
    monkeypatch.setattr(audit, "BATCH", batch)
    world.sealer.catch_up()
    settle_worked_example(world.services, "E2", patient="person-2")
    world.sealer.catch_up()
    assert world.verify().ok
    world.sql("UPDATE merkle_nodes SET hash = ? WHERE level = 3 AND idx = 1", (b"\x07" * 32,))
    report = world.verify()
    assert report.first_bad_position == positions(world)[15]
    assert "level 3, node 1" in (report.problem or "")
    target = positions(world)[9]
    world.sql(
        "UPDATE stored_events SET state = ? WHERE rowid = ?",
        (flip(world.ledger.recorder.select_notifications(target, 1)[0].state), target),
    )
    assert world.verify().first_bad_position == target


def test_checkpoints_are_read_page_by_page_and_each_checked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One checkpoint a page and batches of 3 leaves: the same outcomes as all at once."""
    monkeypatch.setattr(audit._Checkpoints, "PAGE", 1)
    monkeypatch.setattr(audit, "BATCH", 3)
    world.sealer.catch_up()
    first = world.proofs.checkpoint().size
    settle_worked_example(world.services, "E2", patient="person-2")
    world.sealer.catch_up()
    report = world.verify()
    assert report.ok, report
    assert report.checkpoints == 2
    world.sql("UPDATE merkle_checkpoints SET root = ? WHERE size > ?", (b"\x00" * 32, first))
    report = world.verify()
    assert not report.ok
    assert "rewritten" in (report.problem or "")
    assert report.first_bad_position == positions(world)[first]  # after the last good one
    assert report.checkpoints == 2


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # TEXT holds anything
def test_an_unreadable_checkpoint_row_is_reported_not_raised(world: World) -> None:
    world.sealer.catch_up()
    world.sql("UPDATE merkle_checkpoints SET signed_at = 'not a time'")
    report = world.verify()
    assert not report.ok
    assert "unreadable" in (report.problem or "")


def test_the_reader_thread_hands_over_errors_and_closes_its_source() -> None:
    closed: list[bool] = []

    def source() -> Iterator[int]:
        try:
            yield 1
            yield 2
            raise RuntimeError("the database went away")
        finally:
            closed.append(True)

    read = audit._ahead(source())
    assert [next(read), next(read)] == [1, 2]
    with pytest.raises(RuntimeError, match="went away"):
        next(read)
    assert closed == [True]

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.append(True)

    read = audit._ahead(endless())
    assert next(read) == 1
    read.close()  # the consumer stops early: the thread ends and closes its source
    assert closed == [True, True]


def test_a_rewritten_checkpoint_is_found(world: World) -> None:
    world.sealer.catch_up()
    world.sql("UPDATE merkle_checkpoints SET root = ?", (b"\x00" * 32,))
    report = world.verify()
    assert not report.ok
    assert "rewritten" in (report.problem or "")


def test_cli_verify_exits_1_naming_the_first_bad_position(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sealer.catch_up()
    for name, value in (
        ("XIAOBAO_DATABASE_URL", world.settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(world.settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(world.settings.index_key_file)),
    ):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    assert runner.invoke(cli, ["verify"]).exit_code == 0
    target = positions(world)[2]
    world.sql("DELETE FROM stored_events WHERE rowid = ?", (target,))
    result = runner.invoke(cli, ["verify"])
    assert result.exit_code == 1
    assert f"first bad position: {target}" in result.output


def test_an_exported_bundle_verifies_offline_and_tampering_fails(world: World) -> None:
    world.sealer.catch_up()
    stream = world.ledger.recorder.select_notifications(1, 10_000)[-3].originator_id
    stream_positions = world.ledger.positions.of(stream)  # type: ignore[arg-type]
    bundle = export_bundle(world.proofs, world.notary.verifier_key, stream_positions.values())
    assert len(bundle["entries"]) == len(stream_positions)
    unpinned = verify_bundle(bundle, None)
    assert unpinned.ok
    assert not unpinned.authenticated
    pinned = verify_bundle(bundle, world.notary.verifier_key)
    assert pinned.ok
    assert pinned.authenticated
    forged = dict(bundle, entries=[dict(e) for e in bundle["entries"]])
    leaf = bytearray(base64.b64decode(forged["entries"][0]["leaf"]))
    leaf[-2] ^= 1
    forged["entries"][0]["leaf"] = base64.b64encode(bytes(leaf)).decode()
    report = verify_bundle(forged, None)
    assert not report.ok
    assert report.first_bad_position == bundle["entries"][0]["position"]
    other_key = Notary(
        __import__(
            "cryptography.hazmat.primitives.asymmetric.ed25519", fromlist=["x"]
        ).Ed25519PrivateKey.generate(),
        world.notary.name,
    )
    assert not verify_bundle(bundle, other_key.verifier_key).ok


def flip(state: bytes) -> bytes:
    data = bytearray(state)
    data[len(data) // 2] ^= 0x01
    return bytes(data)


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_the_verifiers_frontier_gives_the_same_roots_as_the_full_tree(
    digests: list[bytes],
) -> None:
    frontier, tree = Frontier(), MerkleLog()
    assert frontier.root() == tree.root()
    for digest in digests:
        frontier.append(digest)
        tree.append(digest)
        assert frontier.root() == tree.root()


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70), st.integers(0, 70))
def test_the_frontier_completes_the_subtree_hashes_the_sealer_stores(
    digests: list[bytes], cut: int
) -> None:
    """`extend` hands out every complete subtree hash, level by level in index order, as
    the sealer's tree stores them (in two batches, cut anywhere)."""
    frontier, tree = Frontier(), MerkleLog()
    completed: list[list[bytes]] = [[] for _ in range(64)]
    frontier.extend(digests[:cut], completed)
    frontier.extend(digests[cut:], completed)
    for digest in digests:
        tree.append(digest)
    assert frontier.size == tree.size
    assert frontier.root() == tree.root()
    assert completed[1 : len(tree.levels)] == tree.levels[1:]
    assert not any(completed[len(tree.levels) :])


def cli_env(world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name, value in (
        ("XIAOBAO_DATABASE_URL", world.settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(world.settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(world.settings.index_key_file)),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("XIAOBAO_VERIFIER_KEY", raising=False)
    return CliRunner()


def resigned(bundle: dict[str, Any], world: World) -> dict[str, Any]:
    """The bundle with its checkpoint re-signed by a stranger's key (and that key inside)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from infrastructure.checkpoints import open_note, sign_note

    key = Ed25519PrivateKey.generate()
    stranger = Notary(key, world.notary.name)
    text = open_note(bundle["checkpoint"]["note"], world.notary.verifier_key)
    assert text is not None
    return dict(
        bundle,
        verifier_key=stranger.verifier_key,
        checkpoint=dict(bundle["checkpoint"], note=sign_note(key, world.notary.name, text)),
    )


def test_a_bundle_is_authenticated_only_by_a_pinned_key(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    world.sealer.catch_up()
    runner = cli_env(world, monkeypatch)
    stream = world.ledger.recorder.select_notifications(1, 10_000)[-1].originator_id
    out = tmp_path / "bundle.json"
    exported = runner.invoke(cli, ["export", "--stream", str(stream), "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    bundle = orjson.loads(out.read_bytes())
    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps(resigned(bundle, world)))

    unpinned = runner.invoke(cli, ["verify", "--bundle", str(forged)])
    assert unpinned.exit_code != 0
    assert "NOT AUTHENTICATED" in unpinned.output
    key = world.notary.verifier_key
    assert (
        runner.invoke(cli, ["verify", "--bundle", str(out), "--verifier-key", key]).exit_code == 0
    )
    refused = runner.invoke(cli, ["verify", "--bundle", str(forged), "--verifier-key", key])
    assert refused.exit_code == 1
    assert "not signed by the given key" in refused.output
    monkeypatch.setenv("XIAOBAO_VERIFIER_KEY", key)  # the setting pins it too
    assert runner.invoke(cli, ["verify", "--bundle", str(out)]).exit_code == 0
    assert runner.invoke(cli, ["verify", "--bundle", str(forged)]).exit_code == 1


def test_cli_mistakes_are_one_line_without_a_traceback(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    world.sealer.catch_up()
    runner = cli_env(world, monkeypatch)
    missing = runner.invoke(cli, ["verify", "--bundle", str(tmp_path / "nowhere.json")])
    assert missing.exit_code == 2
    assert "cannot read the bundle" in missing.output
    assert "Traceback" not in missing.output
    bad_key = runner.invoke(cli, ["verify", "--verifier-key", "not-a-key"])
    assert bad_key.exit_code == 2
    assert "the verifier key is malformed" in bad_key.output
    unknown = runner.invoke(cli, ["export", "--stream", "00000000-0000-4000-8000-000000000000"])
    assert unknown.exit_code != 0
    assert "no stream" in unknown.output
    monkeypatch.chdir(tmp_path)
    stream = world.ledger.recorder.select_notifications(1, 10_000)[-1].originator_id
    default = runner.invoke(cli, ["export", "--stream", str(stream)])
    assert default.exit_code == 0, default.output
    assert (tmp_path / "var" / f"bundle-{stream}.json").exists()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # bytea holds only bytes
def test_a_hash_column_of_the_wrong_type_is_reported_not_raised(world: World) -> None:
    world.sealer.catch_up()
    target = positions(world)[2]
    world.sql("UPDATE merkle_nodes SET hash = 'not a hash' WHERE level = 0 AND idx = 2")
    report = world.verify()
    assert not report.ok
    assert report.first_bad_position == target
    world.sql("UPDATE merkle_nodes SET hash = 12 WHERE level = 0 AND idx = 2")
    assert world.verify().first_bad_position == target


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # bytea holds only bytes
def test_a_checkpoint_root_of_the_wrong_type_is_reported_not_raised(world: World) -> None:
    world.sealer.catch_up()
    world.sql("UPDATE merkle_checkpoints SET root = 'text'")
    report = world.verify()
    assert not report.ok
    assert "rewritten" in (report.problem or "")
    assert report.first_bad_position == positions(world)[0]


def truncate(world: World, size: int) -> None:
    """Delete the newest entries together with their seals and checkpoints (an insider's
    truncation that leaves a self-consistent shorter ledger)."""
    last_kept = positions(world)[size - 1]
    world.sql("DELETE FROM stored_events WHERE rowid > ?", (last_kept,))
    world.sql("DELETE FROM merkle_leaves WHERE idx >= ?", (size,))
    world.sql("DELETE FROM merkle_nodes WHERE (idx + 1) * (1 << level) > ?", (size,))
    world.sql("DELETE FROM merkle_checkpoints WHERE size > ?", (size,))


def test_a_truncation_is_caught_against_a_checkpoint_the_auditor_kept(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    world.sealer.catch_up()
    first_size = len(positions(world))
    settle_worked_example(world.services, "E2", patient="person-2")
    world.sealer.catch_up()
    kept = world.proofs.store.latest_checkpoint()
    assert kept is not None
    assert kept.size > first_size
    removed = positions(world)[first_size]
    truncate(world, first_size)

    assert world.verify().ok  # alone, the shorter ledger is self-consistent
    signed = verify_note(kept.note, world.notary.verifier_key)
    assert signed is not None
    report = verify_ledger(
        world.ledger.recorder, world.proofs.store, world.notary.verifier_key, signed
    )
    assert not report.ok
    assert "fewer than" in (report.problem or "")
    assert report.first_bad_position == positions(world)[-1]
    note = tmp_path / "kept-checkpoint.txt"
    note.write_text(kept.note, encoding="utf-8")
    runner = cli_env(world, monkeypatch)
    result = runner.invoke(cli, ["verify", "--since-checkpoint", str(note)])
    assert result.exit_code == 1
    assert "entries were removed" in result.output
    assert removed > positions(world)[-1]


def test_a_kept_checkpoint_of_an_intact_ledger_passes(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    world.sealer.catch_up()
    kept = world.proofs.store.latest_checkpoint()
    assert kept is not None
    settle_worked_example(world.services, "E2", patient="person-2")
    world.sealer.catch_up()
    note = tmp_path / "kept.txt"
    note.write_text(kept.note, encoding="utf-8")
    runner = cli_env(world, monkeypatch)
    result = runner.invoke(cli, ["verify", "--since-checkpoint", str(note)])
    assert result.exit_code == 0, result.output


def test_a_deleted_sealed_row_is_named_by_the_entries_read(world: World) -> None:
    world.sealer.catch_up()
    target = positions(world)[4]
    world.sql("DELETE FROM stored_events WHERE rowid = ?", (target,))
    with pytest.raises(LedgerDamaged) as raised:
        world.proofs.entries(0, 10)
    assert raised.value.position == target
    assert f"position {target}" in str(raised.value)
