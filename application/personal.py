"""Personal data: sealing at intake, opening for readers, and erasure with retention holds."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.gateway import Meta
from application.ledger import Ledger, Slot
from application.saving import Attempt, Saver
from application.views import json_ready
from domain.claims import Claim
from domain.common import InvalidInput, end_of_day
from domain.complaints import Complaint
from domain.disputes import Dispute
from domain.personal import (
    ERASED,
    Hold,
    Sealed,
    Subject,
    Text,
    check_free_text,
    subject_stream_id,
)
from domain.policies import Policy
from domain.reports import Report


class Vault(Protocol):
    """Per-person keys outside the log, and the keyed blind index of person ids."""

    def ref(self, person_id: str) -> str:
        """The blind index of a person id (HMAC with a server secret)."""
        ...

    def seal(self, ref: str, value: str) -> Sealed:
        """Encrypt a value under the person's key (created on first use)."""
        ...

    def seal_many(self, ref: str, values: dict[str, str]) -> dict[str, Sealed]:
        """Encrypt several values of one person with one key look-up."""
        ...

    def expect(self, refs: Iterable[str]) -> None:
        """A batch's handler will seal for these persons: while the batch prefetches, their
        keys are fetched with its other reads (no effect outside a batch)."""
        ...

    def load_keys(self, refs: Iterable[str]) -> None:
        """Within a batch: fetch or create these persons' keys in one round trip, for its
        seals."""
        ...

    def open_many(self, sealed: Iterable[Sealed]) -> dict[Sealed, str | None]:
        """Decrypt values; None for those whose subject was erased."""
        ...

    def pseudonym(self, ref: str) -> str:
        """A keyed pseudonym for regulators: stable per person, unlinkable to the ref."""
        ...

    def destroy(self, ref: str) -> None:
        """Destroy the person's key: their sealed values can never be read again."""
        ...


def seal_texts(vault: Vault, ref: str | None, texts: dict[str, str | None]) -> dict[str, Any]:
    """The free texts of a person's record, each checked (not blank) and then sealed under
    the person's key with one key look-up, so that erasing them covers their words too.
    Absent texts stay None; a record with no person (`ref` None) keeps its texts plain."""
    present = {name: v for name, v in texts.items() if v is not None}
    for name, value in present.items():
        check_free_text(name, value)
    if ref is None or not present:
        return dict(texts)
    sealed: dict[str, Text | None] = dict(vault.seal_many(ref, present))
    return {name: sealed.get(name) for name in texts}


def _parts(value: Any) -> dict[str, Any] | None:
    """The fields of a value dataclass (not a sealed value), shallowly, else None."""
    if isinstance(value, Sealed | type):
        return None
    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def collect_sealed(value: Any) -> list[Sealed]:
    """Every sealed value inside a (nested) structure, value dataclasses included."""
    if isinstance(value, Sealed):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in collect_sealed(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in collect_sealed(v)]
    parts = _parts(value)
    return collect_sealed(parts) if parts is not None else []


class Opener:
    """Opens the sealed values of a read model in one key lookup."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def reveal(self, value: Any) -> Any:
        """The structure, JSON-ready, with sealed values opened (or shown as erased)."""
        opened = self.vault.open_many(collect_sealed(value))
        return _replace(value, opened)

    def reveal_with(self, value: Any, slots: Sequence[Slot]) -> Any:
        """`reveal` of `value`, and the sealed values at `slots` (see `Ledger.decode_ready`)
        replaced in place by their text (or erased), with one key look-up for both."""
        opened = self.vault.open_many([*collect_sealed(value), *(s[2] for s in slots)])
        for container, key, sealed in slots:
            text = opened.get(sealed)
            container[key] = ERASED if text is None else text
        return _replace(value, opened)


def _replace(value: Any, opened: dict[Sealed, str | None]) -> Any:
    if isinstance(value, Sealed):
        text = opened.get(value)
        return ERASED if text is None else text
    if isinstance(value, dict):
        return {k: _replace(v, opened) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace(v, opened) for v in value]
    parts = _parts(value)
    if parts is not None:
        return _replace(parts, opened)
    return json_ready(value)


# Keys of the free texts sealed since issue 17. Events stored before hold them in clear; once
# their person is erased, a plain value under one of these keys (at any depth of a read of
# that person's record) reads as erased too — the stored bytes stay as they are.
FREE_TEXT_KEYS = frozenset(
    {"matter", "request", "facts", "basis", "note", "summary", "terms", "decision"}
)
# `reason` is the person's own words only in these steps (elsewhere it is staff's): a review
# request of a complaint, a dispute's withdrawal.
PERSONAL_REASONS = frozenset({"ReviewRequested", "Withdrawn", "review"})


def erased_since(ledger: Ledger, ref: str | None, created: datetime, plain: object) -> bool:
    """Whether a record stored with plain free text (`plain`, its first: older events) was
    created before its person's erasure. Records sealed from the start need no look-up."""
    if ref is None or not isinstance(plain, str):
        return False
    subject = ledger.find(Subject, subject_stream_id(ref))
    return subject is not None and subject.erased_at is not None and subject.erased_at >= created


def mask_plain_texts(value: Any, reason: bool = False) -> Any:
    """A read (JSON-ready) of an erased person's record with its older plain free texts shown
    as erased, like the sealed ones (`reason` masks a `reason` key at this level)."""
    if isinstance(value, list):
        return [mask_plain_texts(v) for v in value]
    if not isinstance(value, dict):
        return value
    step = value.get("type") or value.get("step")
    personal_step = step in PERSONAL_REASONS
    masked: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str) and (
            key in FREE_TEXT_KEYS
            or (key == "reason" and reason)
            or (key == "end_reason" and value.get("state") == "withdrawn")
        ):
            masked[key] = ERASED
        else:
            nested = personal_step and key in ("data", "detail")
            masked[key] = mask_plain_texts(item, nested or key in PERSONAL_REASONS)
    return masked


@dataclass(frozen=True)
class ErasureOutcome:
    """What an erasure request did: erased, or deferred with the holds that apply."""

    status: str
    subject: str
    holds: list[Hold]
    position: int


class PersonalData:
    """Erasure of a person's data (admin), deferred while retention holds apply."""

    def __init__(
        self,
        ledger: Ledger,
        vault: Vault,
        retention_days: dict[str, int],
        saver: Saver,
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.retention_days = retention_days
        self.saver = saver

    def erase(self, person_id: str, reason: str, meta: Meta) -> ErasureOutcome:
        if not person_id.strip():
            raise InvalidInput("id", "must not be blank")
        ref = self.vault.ref(person_id)

        def run() -> Attempt[ErasureOutcome]:
            subject = self.ledger.get(
                Subject, subject_stream_id(ref), "no personal data is held for this person"
            )
            holds = self.holds(subject, meta.occurred_at)
            if holds:
                subject.defer_erasure(holds, meta.occurred_at, meta.actor)
            else:
                subject.erase(reason, meta.occurred_at, meta.actor)

            def answer(position: int) -> ErasureOutcome:
                if not holds:
                    # The event is recorded first: a crash before this line leaves an erasure
                    # on record, and the next request for it destroys the key.
                    self.vault.destroy(ref)
                return ErasureOutcome("deferred" if holds else "erased", ref, holds, position)

            return Attempt([subject], answer)

        return self.saver.save(run)

    def holds(self, subject: Subject, now: datetime) -> list[Hold]:
        """Records still live, and records younger than their kind's retention period."""
        found: list[Hold] = []
        records = self.ledger.find_many(record_id for _, record_id in subject.records)
        for kind, record_id in subject.records:
            record = records.get(record_id)
            if record is None:
                continue
            ended = _ended_at(record)
            keep = timedelta(days=self.retention_days.get(kind, 0))
            if ended is None or ended > now:
                found.append(Hold(f"{kind}/{record_id}", "open_record"))
            elif ended + keep > now:
                until = (ended + keep).date().isoformat()
                found.append(Hold(f"{kind}/{record_id}", "retention_period", until))
        return found


def _ended_at(record: Any) -> datetime | None:
    """When a record stops being live: a claim or report when closed, a policy when it ends."""
    if isinstance(record, Claim):
        return record.closed_at
    if isinstance(record, Policy):
        end = record.cancelled_from or record.period_end
        return end_of_day(end)
    if isinstance(record, Complaint):
        ended: datetime | None = record.closed_at or record.ended_at
        return ended
    if isinstance(record, Dispute):
        return record.ended_at
    if isinstance(record, Report):
        return record.closed_at
    return None
