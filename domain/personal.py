"""Personal data: sealed values and the subject they belong to.

Names, national ids, phones and diagnoses, and the free text of a person's records (a
complaint's matter, request and facts, a dispute's matter, terms and award, a named report's
facts and findings), are stored only sealed (encrypted with a key of
the person's own, kept outside the log). Streams refer to a person by a keyed blind index
(`ref`), never by the id itself. Erasing a person destroys the key: every sealed value of
theirs becomes unreadable while the log, its proofs and the statistics stay intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidInput, stream_id

ERASED = "[erased]"


@dataclass(frozen=True)
class Sealed:
    """A personal value encrypted under its subject's key (base64 of nonce and ciphertext)."""

    subject: str
    box: str


# Free text that may hold a person's words: sealed under the subject of its record when the
# record has one; plain in events stored before free text was sealed (issue 17) and where no
# person is the record's subject (an anonymous report). A sealed text was checked (not blank)
# as plain text before it was sealed, so the domain's text checks pass it.
Text = str | Sealed


def check_free_text(field: str, value: Text | None) -> Text:
    """Refuse a missing or blank free text; a sealed one was checked before it was sealed."""
    if isinstance(value, Sealed):
        return value
    if value is None or not value.strip():
        raise InvalidInput(field, "must not be empty")
    return value


@dataclass(frozen=True)
class Hold:
    """Why a subject's data must be kept for now."""

    record: str
    reason: str
    until: str | None = None


def subject_stream_id(ref: str) -> UUID:
    return stream_id("subject", ref)


class Subject(Aggregate):
    """A data subject (a patient, an insured person, a complainant): their records, erasure."""

    @staticmethod
    def create_id(ref: str) -> UUID:
        return subject_stream_id(ref)

    @event("Opened")
    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.records: list[tuple[str, UUID]] = []
        self.erased_at: datetime | None = None

    def list_record(self, kind: str, record_id: UUID) -> None:
        """Note a record that holds this subject's data (for retention holds)."""
        if (kind, record_id) not in self.records:
            self._record_listed(kind=kind, record_id=record_id)

    @event("RecordListed")
    def _record_listed(self, kind: str, record_id: UUID) -> None:
        self.records.append((kind, record_id))

    def defer_erasure(self, holds: list[Hold], occurred_at: datetime, actor: Actor) -> None:
        """An erasure asked for while holds apply: recorded with the reasons, nothing erased
        (also after an earlier erasure, when the person has new records)."""
        self._erasure_deferred(holds=holds, occurred_at=occurred_at, actor=actor)

    @event("ErasureDeferred")
    def _erasure_deferred(self, holds: list[Hold], occurred_at: datetime, actor: Actor) -> None:
        pass

    def erase(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """The subject's key is destroyed; this event is the erasure's record. Asked again,
        holds are checked anew and the key (with any new data) destroyed again."""
        self._erased(reason=reason, occurred_at=occurred_at, actor=actor)

    @event("Erased")
    def _erased(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        self.erased_at = occurred_at
