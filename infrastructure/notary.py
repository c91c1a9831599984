"""The ledger's Ed25519 signer: signed checkpoints and signed receipts, both C2SP signed notes.

A receipt proves to a partner that the ledger accepted its event: the note text names the
event's source, id and body digest, the ledger position and the time it was recorded, and
verifies against the verifier key served at `/v1/ledger/public-key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infrastructure.checkpoints import sign_checkpoint, sign_note, verifier_key

RECEIPT_HEADER = "xiaobao.receipt/v1"


@dataclass(frozen=True)
class Notary:
    """Signs as the ledger (key name = the log's origin)."""

    private_key: Ed25519PrivateKey
    name: str

    @cached_property
    def verifier_key(self) -> str:
        """Derived once: every receipt of a batch names it."""
        return verifier_key(self.name, self.private_key.public_key())

    def checkpoint(self, size: int, root: bytes) -> str:
        return sign_checkpoint(self.private_key, self.name, self.name, size, root)

    def receipt(
        self, source: str, event_id: str, digest: str, position: int, recorded_at: datetime
    ) -> str:
        """A signed note stating that the ledger recorded this event at this position."""
        return sign_note(
            self.private_key,
            self.name,
            receipt_text(source, event_id, digest, position, recorded_at),
        )


def receipt_text(
    source: str, event_id: str, digest: str, position: int, recorded_at: datetime
) -> str:
    """The receipt statement; ids are percent-free single lines (control characters refused)."""
    return (
        f"{RECEIPT_HEADER}\n"
        f"source {source}\n"
        f"id {_one_line(event_id)}\n"
        f"sha256 {digest}\n"
        f"position {position}\n"
        f"recorded {recorded_at.isoformat()}\n"
    )


def _one_line(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else "?" for c in text)
