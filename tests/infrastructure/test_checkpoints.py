"""Checkpoints are C2SP tlog-checkpoints in C2SP signed notes that verify with the verifier
key and with nothing else; the signing key lives in a private PEM file."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infrastructure.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    SigningKeyError,
    VerifierKeyError,
    checkpoint_body,
    key_id,
    load_or_create_signing_key,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
    verify_note,
)

NAME = "ledger.xiaobao.example/log"
ROOT = hashlib.sha256(b"a root").digest()
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VKEY = verifier_key(NAME, KEY.public_key())

# The example of golang.org/x/mod/sumdb/note (its package documentation and note_test.go),
# signed by another implementation: a private key, its verifier key and a signed note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed(size: int = 5, root: bytes = ROOT) -> str:
    return sign_checkpoint(KEY, NAME, NAME, size, root)


def test_a_signed_checkpoint_verifies_and_gives_back_origin_size_and_root() -> None:
    note = signed()
    assert verify_note(note, VKEY) == Checkpoint(NAME, 5, ROOT)
    body, signature_line = note.split("\n\n")
    assert body + "\n" == f"{NAME}\n5\n{base64.b64encode(ROOT).decode()}\n"
    assert signature_line.startswith(f"\u2014 {NAME} ")
    assert note.endswith("\n")


def test_the_empty_tree_has_a_checkpoint_of_size_zero() -> None:
    empty_root = hashlib.sha256(b"").digest()
    assert verify_note(signed(0, empty_root), VKEY) == Checkpoint(NAME, 0, empty_root)


def test_key_id_is_the_first_four_bytes_of_sha256_of_name_newline_0x01_and_key() -> None:
    by_hand = hashlib.sha256(NAME.encode() + b"\x0a" + b"\x01" + raw_public(KEY)).digest()[:4]
    assert key_id(NAME, KEY.public_key()) == by_hand
    typed_key = base64.b64encode(b"\x01" + raw_public(KEY)).decode()
    assert f"{NAME}+{by_hand.hex()}+{typed_key}" == VKEY
    # This key's base64 holds a '+', the separator of the verifier key's fields.
    assert "+" in typed_key
    name, parsed_id, public_key = parse_verifier_key(VKEY)
    assert (name, parsed_id, raw_public(KEY)) == (
        NAME,
        by_hand,
        public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    )
    signature = base64.b64decode(signed().rsplit(" ", 1)[1])
    assert signature[:4] == by_hand
    assert len(signature) == 4 + 64


def test_keys_and_signatures_match_the_go_sumdb_note_example() -> None:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    go_key = Ed25519PrivateKey.from_private_bytes(seed)
    assert verifier_key("PeterNeumann", go_key.public_key()) == GO_VKEY
    assert parse_verifier_key(GO_VKEY)[1] == bytes.fromhex("c74f20a3")
    # Ed25519 is deterministic: the same key signs the same text with the same bytes.
    assert sign_note(go_key, "PeterNeumann", GO_TEXT) == GO_NOTE
    assert open_note(GO_NOTE, GO_VKEY) == GO_TEXT
    assert open_note(GO_NOTE.replace("cryptography", "cryptographY"), GO_VKEY) is None
    # Signed, but not a checkpoint.
    assert verify_note(GO_NOTE, GO_VKEY) is None


@pytest.mark.parametrize(
    ("original", "replacement"),
    [
        (f"{NAME}\n", f"{NAME}x\n"),
        ("\n5\n", "\n6\n"),
        (base64.b64encode(ROOT).decode(), base64.b64encode(bytes(32)).decode()),
    ],
    ids=["origin", "size", "root"],
)
def test_an_altered_checkpoint_does_not_verify(original: str, replacement: str) -> None:
    note = signed()
    altered = note.replace(original, replacement, 1)
    assert altered != note
    assert verify_note(altered, VKEY) is None


def test_a_note_signed_by_another_key_does_not_verify() -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    assert verify_note(sign_checkpoint(other, NAME, NAME, 5, ROOT), VKEY) is None
    # Same name and key id as ours, but another key's signature bytes.
    forged = (
        signed().rsplit(" ", 1)[0]
        + " "
        + base64.b64encode(
            key_id(NAME, KEY.public_key()) + other.sign(checkpoint_body(NAME, 5, ROOT).encode())
        ).decode()
        + "\n"
    )
    assert verify_note(forged, VKEY) is None


def test_a_signature_with_a_wrong_key_id_or_name_is_ignored_so_the_note_does_not_verify() -> None:
    note = signed()
    body, line = note.split("\n\n")
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    wrong_id = base64.b64encode(bytes([blob[0] ^ 1]) + blob[1:]).decode()
    assert verify_note(f"{body}\n\n\u2014 {NAME} {wrong_id}\n", VKEY) is None
    assert verify_note(note.replace(f"\u2014 {NAME} ", "\u2014 another.name ", 1), VKEY) is None


def test_a_note_whose_signature_is_missing_or_truncated_does_not_verify() -> None:
    note = signed()
    body = note.split("\n\n")[0] + "\n"
    assert verify_note(body, VKEY) is None
    assert verify_note(body + "\n", VKEY) is None
    line = note.split("\n\n")[1]
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    truncated = base64.b64encode(blob[:-1]).decode()
    assert verify_note(f"{body}\n\u2014 {NAME} {truncated}\n", VKEY) is None
    assert verify_note(note[:-1], VKEY) is None
    assert verify_note(note[:-10] + "\n", VKEY) is None


def test_other_signatures_beside_ours_are_ignored() -> None:
    witness = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
    body = checkpoint_body(NAME, 5, ROOT)
    theirs = sign_note(witness, "witness.example", body).split("\n\n")[1]
    assert verify_note(signed() + theirs, VKEY) == Checkpoint(NAME, 5, ROOT)


def test_a_note_with_control_characters_does_not_verify() -> None:
    assert verify_note(signed().replace("\n", "\r\n", 1), VKEY) is None


@pytest.mark.parametrize(
    "vkey",
    [
        VKEY.replace("+", " ", 1),
        VKEY.split("+", 1)[1],
        VKEY + "+x",
        VKEY.replace(VKEY.split("+")[1], VKEY.split("+")[1].upper()),
        VKEY.replace(VKEY.split("+")[1], "00000000"),
        VKEY[:-4],
        "+".join([*VKEY.split("+")[:2], base64.b64encode(b"\x02" + bytes(32)).decode()]),
    ],
    ids=["space", "no-name", "extra", "upper-hex", "wrong-id", "short-key", "key-type"],
)
def test_a_malformed_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(VerifierKeyError):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), ("with space", 1, ROOT), (NAME, -1, ROOT), (NAME, 1, b"short")],
    ids=["empty-origin", "space", "negative", "short-root"],
)
def test_a_checkpoint_that_cannot_be_written_is_refused(
    origin: str, size: int, root: bytes
) -> None:
    with pytest.raises(CheckpointFormatError):
        checkpoint_body(origin, size, root)


@pytest.mark.parametrize(
    "body",
    [
        f"{NAME}\n05\n{base64.b64encode(ROOT).decode()}\n",
        f"{NAME}\n+5\n{base64.b64encode(ROOT).decode()}\n",
        f"{NAME}\n18446744073709551616\n{base64.b64encode(ROOT).decode()}\n",
        f"{NAME}\n5\n{base64.b64encode(ROOT).decode()}",
        f"{NAME}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{NAME}\n5\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",
        f"{NAME}\n5\n",
        f"\n5\n{base64.b64encode(ROOT).decode()}\n",
        f"{NAME}\n5\n{base64.b64encode(ROOT).decode()}\n\n",
    ],
    ids=[
        "leading-zero",
        "sign",
        "over-64-bits",
        "no-final-newline",
        "short-root",
        "unpadded",
        "two-lines",
        "empty-origin",
        "empty-extension",
    ],
)
def test_a_malformed_checkpoint_body_is_not_a_checkpoint(body: str) -> None:
    assert parse_checkpoint(body) is None


def test_extension_lines_are_kept() -> None:
    body = checkpoint_body(NAME, 7, ROOT) + "extension one\n"
    assert parse_checkpoint(body) == Checkpoint(NAME, 7, ROOT, ("extension one",))


def test_signing_key_file_is_created_private_and_reloaded_as_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "signing.pem"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    reloaded = load_or_create_signing_key(path)
    assert raw_public(reloaded) == raw_public(created)
    assert [p.name for p in path.parent.iterdir()] == ["signing.pem"]
    note = sign_checkpoint(reloaded, NAME, NAME, 1, ROOT)
    assert verify_note(note, verifier_key(NAME, created.public_key())) is not None


def test_a_key_file_that_is_not_an_ed25519_pem_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError):
        load_or_create_signing_key(path)


def test_when_another_process_creates_the_key_file_first_its_key_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signing.pem"
    theirs = Ed25519PrivateKey.from_private_bytes(bytes(range(3, 35)))
    real_link = os.link

    def link_after_the_other_process(source: str, target: Path) -> None:
        target.write_bytes(
            theirs.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        real_link(source, target)

    monkeypatch.setattr(os, "link", link_after_the_other_process)
    assert raw_public(load_or_create_signing_key(path)) == raw_public(theirs)
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]
