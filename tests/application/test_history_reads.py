"""A claim's history read in one query and decoded straight into its entries (or from the
decodings remembered) is exactly the history built from its domain events (`history_entry`
of each, revealed for the reader) — on every store, for a long claim, read again, after its
person's key is gone, and for stored states the fast decoding leaves to the domain events."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from application import claims as c
from application.history import DecodedStates, _instant, history_entries
from application.ledger import NotFound
from application.services import Services
from application.views import history_entry, json_ready, rfc3339
from domain.personal import Sealed
from tests.builders import (
    HOSPITAL,
    INSURER,
    OTHER_HOSPITAL,
    WORKED_EXAMPLE_LINES,
    charge,
    issue_policy,
    post,
    seed_reference,
    settle_worked_example,
)


def from_domain_events(services: Services, cid: UUID) -> list[dict[str, Any]]:
    """The history as it was built before: every domain event, then revealed."""
    ledger = services.ledger
    positions = ledger.positions.of(cid)
    entries = [history_entry(e, positions.get(e.originator_version)) for e in ledger.stream(cid)]
    revealed: list[dict[str, Any]] = services.claims.opener.reveal(entries)
    return revealed


def long_claim(services: Services, charges: int) -> UUID:
    seed_reference(services)
    issue_policy(services)
    result = settle_worked_example(services, policy_id="P1")
    line = WORKED_EXAMPLE_LINES[1]
    for n in range(charges):
        charge(services, lines=(dataclasses.replace(line, line_id=f"X{n}"),))
    return result.stream_id


def same(a: object, b: object) -> bool:
    """Equal, with the same key order and JSON types (as the response shows them)."""
    return orjson.dumps(a) == orjson.dumps(b) and a == b


def test_a_long_claims_history_is_the_one_built_from_its_domain_events(
    services: Services,
) -> None:
    cid = long_claim(services, 120)
    post(services, c.CollectCopay(HOSPITAL, "E1", WORKED_EXAMPLE_LINES[1].amount))
    history = services.claims.history(cid, None)
    assert len(history) > 120
    assert history[0]["data"]["patient_name"] == "Zhang San"  # a sealed value, opened
    assert {e["type"] for e in history} >= {
        "AdmissionRegistered",
        "ChargesPosted",
        "Discharged",
        "SettlementCalculated",
    }
    assert [e["position"] for e in history] == sorted(e["position"] for e in history)
    assert same(history, from_domain_events(services, cid))
    # Read again, from the remembered decodings: the same entries, and fresh ones.
    assert len(services.claims.decoded) >= len(history) - 1  # all but the slow ones
    again = services.claims.history(cid, HOSPITAL)
    assert same(again, history)
    assert again[0]["data"] is not history[0]["data"]
    again[0]["data"]["patient_name"] = "changed by a caller"
    assert same(services.claims.history(cid, None, insurer=INSURER), history)


def test_a_small_memory_forgets_the_oldest_and_reads_stay_the_same(services: Services) -> None:
    cid = long_claim(services, 30)
    whole = DecodedStates()
    services.claims.decoded = whole
    first = services.claims.history(cid, None)
    # A budget of a third of the bytes the whole history took: about a third is kept.
    small = DecodedStates(budget=whole.used // 3)
    services.claims.decoded = small
    assert same(services.claims.history(cid, None), first)
    assert 0 < len(small) < len(whole)
    assert small.used <= whole.used // 3
    assert same(services.claims.history(cid, None), first)
    assert same(first, from_domain_events(services, cid))


def test_a_state_rewritten_under_the_same_event_is_decoded_afresh_not_remembered(
    services: Services,
) -> None:
    """Remembered entries are keyed by the state (its SHA-256): a row whose state changed (here an
    altered copy of a charge's, same length) is another key, never the remembered entry."""
    cid = long_claim(services, 6)
    rows = services.ledger.positions.positioned(cid)
    memo = services.claims.decoded
    first = history_entries(services.ledger, rows, services.claims.opener, memo)
    which = next(i for i, (s, _) in enumerate(rows) if b'"X3"' in s.state)
    stored, position = rows[which]
    altered = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        stored.state.replace(b'"X3"', b'"Y3"'),
    )
    changed = [*rows[:which], (altered, position), *rows[which + 1 :]]
    read = history_entries(services.ledger, changed, services.claims.opener, memo)
    assert orjson.dumps(first[which]).count(b'"X3"') == 1
    assert orjson.dumps(read[which]) == orjson.dumps(first[which]).replace(b'"X3"', b'"Y3"')
    assert same(read[:which] + read[which + 1 :], first[:which] + first[which + 1 :])
    again = history_entries(services.ledger, rows, services.claims.opener, memo)
    assert same(again, first)  # the stored row, as before


def test_a_state_larger_than_the_largest_kept_is_decoded_every_time(services: Services) -> None:
    cid = long_claim(services, 5)
    services.claims.decoded = DecodedStates(largest=0)
    first = services.claims.history(cid, None)
    assert len(services.claims.decoded) == 0
    assert services.claims.decoded.used == 0
    assert same(first, from_domain_events(services, cid))


def test_history_after_the_persons_key_is_destroyed_shows_erased_values(
    services: Services,
) -> None:
    cid = long_claim(services, 3)
    assert services.claims.history(cid, None)[0]["data"]["patient_name"] == "Zhang San"
    vault = services.claims.opener.vault
    vault.destroy(vault.ref("person-1"))
    history = services.claims.history(cid, None)
    assert history[0]["data"]["patient_name"] == "[erased]"
    assert same(history, from_domain_events(services, cid))


def test_history_is_refused_to_other_hospitals_and_insurers(services: Services) -> None:
    cid = long_claim(services, 1)
    with pytest.raises(NotFound):
        services.claims.history(cid, OTHER_HOSPITAL)
    with pytest.raises(NotFound):
        services.claims.history(cid, None, insurer="insurer-2")
    with pytest.raises(NotFound):
        services.claims.history(UUID(int=7), None)


def test_states_left_to_the_domain_events_give_the_same_entries(services: Services) -> None:
    """An actor stored before it had its optional fields, a set, and a sealed value in both
    kinds of event: the first two are decoded as domain events, the rest straight."""
    cid = long_claim(services, 1)
    ledger = services.ledger
    last = ledger.stream(cid)[-1]
    stored = ledger.mapper.to_stored_event(last)
    state = orjson.loads(stored.state)
    sealed = orjson.loads(ledger.recorder.select_events(cid, limit=1)[0].state)["patient_name"]
    old_actor = {"#": "dc", "t": "domain.common:Actor", "v": {"name": "h", "role": "hospital"}}
    tagged = {"#": "set", "v": ["b", "a"]}
    version = last.originator_version
    extra = [
        {**state, "actor": old_actor, "note": sealed},
        {**state, "tags": tagged, "note": sealed},
        {**state, "note": sealed, "nested": {"#": "tuple", "v": [sealed, {"k": sealed}]}},
    ]
    ledger.recorder.insert_events(
        [
            StoredEvent(cid, version + n, stored.topic, orjson.dumps(s))
            for n, s in enumerate(extra, start=1)
        ]
    )
    history = services.claims.history(cid, None)
    assert [e["version"] for e in history[-3:]] == [version + 1, version + 2, version + 3]
    assert history[-3]["actor"]["partner_id"] is None  # the field's default, as built
    assert sorted(history[-2]["data"]["tags"]) == ["a", "b"]
    assert history[-1]["data"]["note"] == "Zhang San"
    assert history[-1]["data"]["nested"] == ["Zhang San", {"k": "Zhang San"}]
    assert same(history, from_domain_events(services, cid))
    assert not any(isinstance(v, Sealed) for e in history for v in e["data"].values())
    straight = [
        ledger.decode_ready(s, json_ready, Sealed) is not None
        for s, _ in ledger.positions.positioned(cid)
    ]
    assert straight == [True] * (len(straight) - 3) + [False, False, True]


class Watched:
    """The ledger's stream reader, noting the versions whose states are fetched, and showing
    one altered state when told to (as a row rewritten in the store would read)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.fetched: list[list[int]] = []
        self.altered: dict[int, bytes] = {}

    def digested(self, originator_id: UUID) -> list[tuple[int, int, str, bytes]]:
        return [
            (v, n, t, hashlib.sha256(self.altered[v]).digest() if v in self.altered else d)
            for v, n, t, d in self.reader.digested(originator_id)
        ]

    def states(self, originator_id: UUID, versions: list[int]) -> dict[int, bytes]:
        self.fetched.append(list(versions))
        return {**self.reader.states(originator_id, versions), **self.altered}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)


def test_the_history_as_json_is_the_history_rendered_first_and_when_remembered(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The response's bytes (`history_json`) are the entries rendered, byte for byte: on the
    first read, from the remembered JSON (no state fetched but the first event's, for the
    reader's check), with proofs, and with the sealed values opened on every read (an
    erasure shows at once)."""
    cid = long_claim(services, 40)
    claims = services.claims
    watched = Watched(services.ledger.positions)
    monkeypatch.setattr(services.ledger, "positions", watched)
    first = claims.history_json(cid, None)
    assert first == orjson.dumps({"events": claims.history(cid, None)})
    events = orjson.loads(first)["events"]
    assert events[0]["data"]["patient_name"] == "Zhang San"
    assert watched.fetched == [[e["version"] for e in events]]  # all: nothing remembered
    again = claims.history_json(cid, HOSPITAL)
    assert again == first
    assert watched.fetched[1] == [1]  # the admission, for the hospital's check
    assert orjson.loads(again) == {"events": from_domain_events(services, cid)}
    with_proofs = claims.history_json(cid, None, proofs=True)
    assert with_proofs == orjson.dumps({"events": claims.history(cid, None, proofs=True)})
    vault = claims.opener.vault
    vault.destroy(vault.ref("person-1"))
    erased = orjson.loads(claims.history_json(cid, None))["events"]
    assert erased[0]["data"]["patient_name"] == "[erased]"
    assert erased == from_domain_events(services, cid)


def test_the_history_as_json_decodes_a_rewritten_state_afresh(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = long_claim(services, 6)
    claims = services.claims
    watched = Watched(services.ledger.positions)
    monkeypatch.setattr(services.ledger, "positions", watched)
    first = claims.history_json(cid, None)
    stored = next(s for s, _ in services.ledger.positions.positioned(cid) if b'"X3"' in s.state)
    watched.altered[stored.originator_version] = stored.state.replace(b'"X3"', b'"Y3"')
    read = claims.history_json(cid, None)
    assert watched.fetched[-1] == [1, stored.originator_version]
    expected = orjson.loads(first)["events"]
    at = [e["version"] for e in expected].index(stored.originator_version)
    assert orjson.dumps(expected[at]).count(b'"X3"') == 1
    expected[at] = orjson.loads(orjson.dumps(expected[at]).replace(b'"X3"', b'"Y3"'))
    assert orjson.loads(read)["events"] == expected
    watched.altered.clear()
    assert claims.history_json(cid, None) == first  # the stored row, as before
    with pytest.raises(NotFound):
        claims.history_json(cid, OTHER_HOSPITAL)
    with pytest.raises(NotFound):
        claims.history_json(UUID(int=7), None)


def test_the_history_as_json_renders_an_integer_beyond_64_bits(services: Services) -> None:
    cid = long_claim(services, 1)
    ledger = services.ledger
    last = ledger.stream(cid)[-1]
    stored = ledger.mapper.to_stored_event(last)
    huge = {"#": "int", "v": str(2**70)}
    state = orjson.dumps({**orjson.loads(stored.state), "count": huge})
    version = last.originator_version + 1
    ledger.recorder.insert_events([StoredEvent(cid, version, stored.topic, state)])
    for _ in range(2):  # read, then read with the rest remembered
        rendered = services.claims.history_json(cid, None)
        assert rendered.endswith(b',"count":%d}}]}' % 2**70)
        assert json.loads(rendered)["events"] == from_domain_events(services, cid)


OFFSETS = [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))]


@given(st.datetimes(timezones=st.sampled_from(OFFSETS)))
def test_an_instant_read_from_its_stored_text_is_its_rfc3339_form(instant: datetime) -> None:
    assert _instant(instant.isoformat()) == rfc3339(instant)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T01:00:00.000000+00:00",  # microseconds written out although zero
        "2026-03-02T01:00+00:00",  # no seconds
        "2026-03-02T09:00:00+08:00",
        "2026-03-02T01:00:00Z",
    ],
)
def test_an_instant_stored_otherwise_than_isoformat_writes_it_is_parsed(text: str) -> None:
    assert _instant(text) == rfc3339(datetime.fromisoformat(text))
