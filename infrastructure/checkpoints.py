"""Signed checkpoints of the ledger's Merkle tree: a C2SP tlog-checkpoint body signed with
Ed25519 as a C2SP signed note, the note's verifier key, and the signing key's file.

Formats (c2sp.org/tlog-checkpoint, c2sp.org/signed-note):

    <origin>\\n<tree size>\\n<base64 root>\\n          the checkpoint (the note text)
    \\n
    — <key name> <base64(key id || signature)>\\n   one line per signature

The key id is SHA-256(name || 0x0A || 0x01 || public key)[:4]; the verifier key is
``<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>``.

Errors: ``CheckpointError`` is the base; ``CheckpointFormatError`` for a checkpoint or
note that cannot be written, ``VerifierKeyError`` for a malformed verifier key, ``SigningKeyError``
for a key file that is not an Ed25519 private key. A note that does not verify is not an
error: ``open_note`` and ``verify_note`` answer None.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "— "
MAX_SIGNATURES = 100
_HASH_SIZE = 32
_SIGNATURE_SIZE = 64
MAX_SIZE = 1 << 64
_SIZE_LINE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
# Control characters other than newline are not allowed anywhere in a note.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class CheckpointError(Exception):
    """Base of the checkpoint module's errors."""


class CheckpointFormatError(CheckpointError, ValueError):
    """An origin, key name, size, root or note text that cannot be written."""


class VerifierKeyError(CheckpointError, ValueError):
    """A verifier key string that is not ``name+keyid+base64(0x01 || key)``."""


class SigningKeyError(CheckpointError, ValueError):
    """A signing key file that does not hold an Ed25519 private key in PEM (PKCS#8)."""


@dataclass(frozen=True)
class Checkpoint:
    """A tree head as a checkpoint states it: origin, tree size and root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The tlog-checkpoint note text for a tree head."""
    _check_name(origin, "origin")
    if not 0 <= size < MAX_SIZE:
        raise CheckpointFormatError(f"a tree size is a 64-bit unsigned integer, not {size}")
    if len(root) != _HASH_SIZE:
        raise CheckpointFormatError(f"a root hash has {_HASH_SIZE} bytes, not {len(root)}")
    return f"{origin}\n{size}\n{_b64(root)}\n"


def parse_checkpoint(body: str) -> Checkpoint | None:
    """The checkpoint in a note text, or None when the text is not one."""
    if not body.endswith("\n"):
        return None
    lines = body[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        return None
    origin, size_line, root_line, *extensions = lines
    # At most 20 digits before int(): a uint64 has 20, and int() of a huge line is slow.
    if not _SIZE_LINE.fullmatch(size_line) or len(size_line) > 20:
        return None
    size = int(size_line)
    if size >= MAX_SIZE:
        return None
    root = _b64decode(root_line)
    if root is None or len(root) != _HASH_SIZE:
        return None
    return Checkpoint(origin, size, root, tuple(extensions))


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The signed-note key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + _raw(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The signed-note verifier key ``name+keyid+base64(0x01 || key)`` for a public key."""
    _check_name(name, "key name")
    return f"{name}+{key_id(name, public_key).hex()}+{_b64(ED25519_TYPE + _raw(public_key))}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """The key name, key id and Ed25519 public key of a verifier key string."""
    # Names and ids have no '+'; the base64 key may.
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise VerifierKeyError("a verifier key is name+keyid+key")
    name, id_hex, key_b64 = parts
    if not _valid_name(name) or not _KEY_ID_HEX.fullmatch(id_hex):
        raise VerifierKeyError("a verifier key starts with a key name and 8 hex digits")
    encoded = _b64decode(key_b64)
    if encoded is None or len(encoded) != 33 or encoded[:1] != ED25519_TYPE:
        raise VerifierKeyError("a verifier key ends with base64(0x01 || Ed25519 public key)")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(encoded[1:])
    except ValueError:
        raise VerifierKeyError("the verifier key's public key is not an Ed25519 key") from None
    if key_id(name, public_key) != bytes.fromhex(id_hex):
        raise VerifierKeyError("the verifier key's id does not match its name and key")
    return name, bytes.fromhex(id_hex), public_key


def sign_note(private_key: Ed25519PrivateKey, name: str, text: str) -> str:
    """A signed note of ``text`` with one Ed25519 signature by key ``name``."""
    _check_name(name, "key name")
    if not text.endswith("\n") or _CONTROL.search(text):
        raise CheckpointFormatError("a note text ends in a newline and has no control characters")
    signature = private_key.sign(text.encode())
    keyed = key_id(name, private_key.public_key()) + signature
    return f"{text}\n{SIGNATURE_PREFIX}{name} {_b64(keyed)}\n"


def open_note(note: str, vkey: str) -> str | None:
    """The text of ``note`` when the key of ``vkey`` signed it, else None."""
    name, wanted_id, public_key = parse_verifier_key(vkey)
    split = _split_note(note)
    if split is None:
        return None
    text, signatures = split
    verified = False
    for signer, keyed in signatures:
        # Signatures by other keys (another name or id) are ignored, as the spec requires.
        if signer != name or keyed[:4] != wanted_id:
            continue
        if len(keyed) != 4 + _SIGNATURE_SIZE:
            return None
        try:
            public_key.verify(keyed[4:], text.encode())
        except InvalidSignature:
            return None
        verified = True
    return text if verified else None


def sign_checkpoint(
    private_key: Ed25519PrivateKey, name: str, origin: str, size: int, root: bytes
) -> str:
    """A signed note of the checkpoint (origin, size, root), signed as key ``name``."""
    return sign_note(private_key, name, checkpoint_body(origin, size, root))


def verify_note(note: str, vkey: str) -> Checkpoint | None:
    """The checkpoint in ``note`` when the key of ``vkey`` signed it, else None."""
    text = open_note(note, vkey)
    return None if text is None else parse_checkpoint(text)


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path``, created (mode 0o600) if absent."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _create_signing_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{path} does not hold an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a private key that is not Ed25519")
    return key


def _create_signing_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a private temporary file, then linked into place: a reader never sees
    # half a key, and when two processes start at once the first key stays and both use it.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return load_or_create_signing_key(path)
    finally:
        os.unlink(temporary)
    return key


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]] | None:
    """The note text and its (key name, key id || signature) lines, or None if malformed."""
    if _CONTROL.search(note) or not note.endswith("\n"):
        return None
    # The text ends at the last blank line; the signature lines follow it.
    cut = note.rfind("\n\n")
    if cut < 0:
        return None
    body, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        return None
    signatures: list[tuple[str, bytes]] = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            return None
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        keyed = _b64decode(encoded)
        if not _valid_name(name) or keyed is None or len(keyed) < 5:
            return None
        signatures.append((name, keyed))
    return body, signatures


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(map(str.isspace, name))


def _check_name(name: str, what: str) -> None:
    if not _valid_name(name):
        raise CheckpointFormatError(f"a {what} is non-empty, without spaces or '+': {name!r}")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Standard padded base64, canonical only (one encoding per value), else None."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if _b64(data) == text else None
