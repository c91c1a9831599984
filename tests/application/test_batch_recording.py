"""A partner's batch is recorded in few saves, with every event answered as if posted alone."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from application import claims as c
from application.gateway import PREFETCH_ROUNDS, EventResult, Meta, PartnerEvent
from application.services import Services
from domain.claims import Claim, claim_id
from domain.common import Actor, UnknownRecord
from domain.receipts import IdempotencyConflict, PartnerEventReceipt, receipt_id
from domain.settlement import ChargeLine
from infrastructure.vault import MemoryKeyStore, PostgresKeyStore, SQLiteKeyStore
from tests.builders import (
    ADMITTED,
    HOSPITAL,
    REGION,
    WORKED_EXAMPLE_LINES,
    issue_policy,
    money,
    seed_reference,
)

HOSPITAL_SOURCE = f"/partners/{HOSPITAL}"


def partner_event(event_id: str, command: object) -> PartnerEvent:
    actor = Actor(
        name=HOSPITAL,
        role="hospital",
        partner_id=HOSPITAL,
        source=f"/partners/{HOSPITAL}",
        event_id=event_id,
    )
    return PartnerEvent(
        source=f"/partners/{HOSPITAL}",
        event_id=event_id,
        event_type=type(command).__name__,
        digest=f"digest-{event_id}",
        command=command,
        meta=Meta(datetime.now(tz=UTC), actor),
    )


def admission(event_id: str, encounter: str) -> PartnerEvent:
    command = c.RegisterAdmission(
        HOSPITAL, encounter, f"p-{encounter}", "Zhang San", REGION, "employee", 3, True, ADMITTED
    )
    return partner_event(event_id, command)


def charges(event_id: str, encounter: str) -> PartnerEvent:
    return partner_event(event_id, c.PostCharges(HOSPITAL, encounter, WORKED_EXAMPLE_LINES))


def discharge(event_id: str, encounter: str) -> PartnerEvent:
    when = datetime(2026, 3, 9, 2, tzinfo=UTC)
    return partner_event(event_id, c.Discharge(HOSPITAL, encounter, when, None))


def test_batch_saves_independent_events_together_and_answers_each(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference(services)
    saves: list[int] = []
    save = services.ledger.save

    def counting(*aggregates: Any, **kwargs: Any) -> Any:
        saves.append(len(aggregates))
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(services.ledger, "save", counting)
    batch = [
        *(admission(f"a{n}", f"E{n}") for n in range(5)),
        *(charges(f"c{n}", f"E{n}") for n in range(5)),
        *(discharge(f"d{n}", f"E{n}") for n in range(5)),
        charges("c-first", "E9"),  # refused: E9 is admitted only later in the batch
        admission("a9", "E9"),
        charges("c9", "E9"),  # depends on the event just before it
        admission("a0", "E0"),  # a repeated id: a duplicate of the first
    ]
    results = services.events.record_many(batch)

    assert len(saves) < len(batch) // 2  # grouped, not one save per event
    recorded = [r for r in results if isinstance(r, EventResult)]
    assert isinstance(results[15], UnknownRecord)
    assert len(recorded) == len(batch) - 1
    first = [r for r in recorded if not r.duplicate]
    assert [r.event_id for r in first] == [e.event_id for e in batch[:15]] + ["a9", "c9"]
    positions = [r.position for r in first]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert all("settlement" in r.extra for r in first[10:15])
    replay = results[-1]
    assert isinstance(replay, EventResult)
    assert replay.duplicate
    assert replay.position == first[0].position

    # A re-post of the whole batch answers with the first results, recording nothing.
    head = services.ledger.position()
    again = services.events.record_many(batch[:15])
    assert services.ledger.position() == head
    assert all(isinstance(r, EventResult) and r.duplicate for r in again)
    assert [r.position for r in again if isinstance(r, EventResult)] == positions[:15]


def test_batch_answers_match_events_posted_one_by_one(services: Services) -> None:
    seed_reference(services)
    grouped = services.events.record_many(
        [admission("g1", "G1"), charges("g2", "G1"), discharge("g3", "G1")]
    )
    alone = [
        services.events.record(e)
        for e in (admission("s1", "S1"), charges("s2", "S1"), discharge("s3", "S1"))
    ]
    for a, b in zip(grouped, alone, strict=True):
        assert isinstance(a, EventResult)
        assert (a.kind, a.version, a.extra) == (b.kind, b.version, b.extra)


def test_a_failed_group_save_answers_each_of_its_events_and_records_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_reference(services)
    head = services.ledger.position()

    def down(*aggregates: Any, **kwargs: Any) -> Any:
        raise OSError("the database is down")

    monkeypatch.setattr(services.ledger, "save", down)
    results = services.events.record_many([admission("x1", "X1"), admission("x2", "X2")])
    assert [type(r) for r in results] == [OSError, OSError]
    monkeypatch.undo()
    assert services.ledger.position() == head


def admission_of(event_id: str, encounter: str, patient: str) -> PartnerEvent:
    command = c.RegisterAdmission(
        HOSPITAL, encounter, patient, "Zhang San", REGION, "employee", 3, True, ADMITTED
    )
    return partner_event(event_id, command)


def day_of(prefix: str, patient: str) -> list[PartnerEvent]:
    """Two stays of one insured person, admitted, charged and discharged."""
    first, second = f"{prefix}1", f"{prefix}2"
    return [
        admission_of(f"{prefix}-a1", first, patient),
        admission_of(f"{prefix}-a2", second, patient),
        charges(f"{prefix}-c1", first),
        charges(f"{prefix}-c2", second),
        discharge(f"{prefix}-d1", first),
        discharge(f"{prefix}-d2", second),
    ]


def test_an_event_reading_what_an_earlier_event_of_the_batch_changed_sees_that_change(
    services: Services,
) -> None:
    """The second stay's settlement reads the accumulators (fund, policy year) the first
    stay's settlement moved in the same batch: it is settled exactly as if posted alone
    after it, although neither discharge changes the other's claim."""
    seed_reference(services)
    issue_policy(services, "P-batch", insured="batch-person")
    issue_policy(services, "P-alone", insured="alone-person")
    batched = services.events.record_many(day_of("B", "batch-person"))
    alone = [services.events.record(e) for e in day_of("S", "alone-person")]

    assert all(isinstance(r, EventResult) and not r.duplicate for r in batched)
    fields = ("medfee", "social_insurance_paid", "commercial_paid", "patient_pays")
    for grouped, single in zip(batched[4:], alone[4:], strict=True):
        assert isinstance(grouped, EventResult)
        assert [money(grouped, f) for f in fields] == [money(single, f) for f in fields]
        assert grouped.version == single.version
    first, second = batched[4:]
    assert isinstance(first, EventResult)
    assert isinstance(second, EventResult)
    # The deductible the first stay used is not available to the second one.
    assert money(second, "commercial_paid") != money(first, "commercial_paid")


def test_a_batch_mixing_replays_conflicts_refusals_and_new_events_answers_each_as_alone(
    services: Services,
) -> None:
    seed_reference(services)
    earlier = services.events.record(admission("m-a1", "M1"))
    head = services.ledger.position()
    batch = [
        admission("m-a1", "M1"),  # recorded before the batch: its first result
        replace(admission("m-a1", "M1"), digest="another event"),  # same key, other event
        charges("m-lost", "NOWHERE"),  # refused: nothing is recorded for it
        admission("m-a2", "M2"),
        charges("m-c1", "M1"),  # on the stay admitted before the batch
        charges("m-c2", "M2"),  # on the stay admitted just before, in the batch
        admission("m-a2", "M2"),  # a repeat inside the batch: a duplicate of the first
    ]
    results = services.events.record_many(batch)

    replay, conflict, refused, a2, c1, c2, repeat = results
    assert isinstance(replay, EventResult)
    assert replay.duplicate
    assert replay.position == earlier.position
    assert replay.stream_id == earlier.stream_id
    assert isinstance(conflict, IdempotencyConflict)
    assert isinstance(refused, UnknownRecord)
    new = [a2, c1, c2]
    assert all(isinstance(r, EventResult) and not r.duplicate for r in new)
    positions = [r.position for r in new if isinstance(r, EventResult)]
    assert positions == sorted(positions)
    assert positions[0] > head
    assert isinstance(repeat, EventResult)
    assert repeat.duplicate
    assert isinstance(a2, EventResult)
    assert repeat.position == a2.position
    # The refused event left no trace, not even its receipt: posted again it is refused again.
    assert services.ledger.find(PartnerEventReceipt, receipt_id(HOSPITAL_SOURCE, "m-lost")) is None
    assert isinstance(services.events.record_many([charges("m-lost", "NOWHERE")])[0], UnknownRecord)
    assert services.ledger.position() == max(positions)


def test_a_concurrent_writer_between_the_batch_reads_and_its_save_is_met_on_fresh_state(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer moves a claim the batch changes after the batch has read it: the
    batch's save conflicts, nothing of it is written, and its events are run again together
    on the new state: both writers' charges are on the claim."""
    seed_reference(services)
    services.events.record_many([admission("k-a1", "K1"), admission("k-a2", "K2")])
    rival_lines = (ChargeLine("R1", "C009", "rival", "A", Decimal("10.00")),)
    prefetch = services.events._prefetch
    rival: list[EventResult] = []

    def then_a_rival_writes(*args: Any) -> Any:
        ran = prefetch(*args)
        if not rival:  # once, from another thread: outside the batch's scope
            event = partner_event("k-rival", c.PostCharges(HOSPITAL, "K1", rival_lines))
            worker = threading.Thread(target=lambda: rival.append(services.events.record(event)))
            worker.start()
            worker.join()
        return ran

    monkeypatch.setattr(services.events, "_prefetch", then_a_rival_writes)
    saves: list[tuple[int, str]] = []
    save = services.ledger.save

    def counting(*aggregates: Any, **kwargs: Any) -> Any:
        try:
            recordings = save(*aggregates, **kwargs)
        except Exception as exc:
            saves.append((len(aggregates), type(exc).__name__))
            raise
        saves.append((len(aggregates), "saved"))
        return recordings

    monkeypatch.setattr(services.ledger, "save", counting)
    k1, k2 = services.events.record_many([charges("k-c1", "K1"), charges("k-c2", "K2")])

    assert isinstance(k1, EventResult)
    assert isinstance(k2, EventResult)
    assert not k1.duplicate
    assert not k2.duplicate
    assert k1.version > rival[0].version
    claim = services.ledger.find(Claim, claim_id(HOSPITAL, "K1"))
    assert claim is not None
    assert claim.version == k1.version
    assert {"R1", *(line.line_id for line in WORKED_EXAMPLE_LINES)} <= set(claim.lines)
    # The rival's save, the batch's conflicting one, then the batch again, together.
    assert saves == [(2, "saved"), (4, "IntegrityError"), (4, "saved")]


def test_a_batch_reads_in_a_few_round_trips_whatever_its_size(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every stream the batch's events read is fetched with the others of its wave, and the
    persons' keys together: a round trip per wave, not per event."""
    seed_reference(services)
    services.events.record_many(day_of("W", "warm-person"))  # the planner learns the index
    reads: list[int] = []
    events_of = services.ledger.positions.events_of

    def counted(ids: Any) -> Any:
        reads.append(len(ids))
        return events_of(ids)

    def one_at_a_time(self: Any, subject: str) -> bytes:
        raise AssertionError("a batch fetches its persons' keys together")

    monkeypatch.setattr(services.ledger.positions, "events_of", counted)
    for store in (MemoryKeyStore, SQLiteKeyStore, PostgresKeyStore):
        monkeypatch.setattr(store, "get_or_create", one_at_a_time)
    stays = [f"R{n}" for n in range(30)]
    batch = [
        *(admission(f"r-a-{e}", e) for e in stays),
        *(charges(f"r-c-{e}", e) for e in stays),
        *(discharge(f"r-d-{e}", e) for e in stays),
    ]
    results = services.events.record_many(batch)

    assert [r for r in results if not isinstance(r, EventResult) or r.duplicate] == []
    assert len(reads) <= 12  # admissions, then charges, then discharges: a few waves each
    assert max(reads) >= 30


def test_a_chain_of_events_on_one_stream_is_recorded_in_order_without_rerunning_the_rest_each_time(
    services: Services,
) -> None:
    """Each charge depends on the one before (the same claim): after a few rounds of running
    the rest of the batch again, the chain is recorded event by event, not re-run per link."""
    seed_reference(services)
    services.events.record(admission("chain-a", "CH"))
    runs: list[int] = []
    post_charges = services.events._handlers[c.PostCharges]

    def counted(command: Any, meta: Meta) -> Any:
        runs.append(1)
        return post_charges(command, meta)

    services.events.register(c.PostCharges, counted)
    links = 100
    line = WORKED_EXAMPLE_LINES[0]
    batch = [
        partner_event(
            f"chain-{n}", c.PostCharges(HOSPITAL, "CH", (replace(line, line_id=f"L{n}"),))
        )
        for n in range(links)
    ]
    results = services.events.record_many(batch)

    versions = [r.version for r in results if isinstance(r, EventResult) and not r.duplicate]
    assert versions == list(range(2, links + 2))
    claim = services.ledger.find(Claim, claim_id(HOSPITAL, "CH"))
    assert claim is not None
    assert len(claim.lines) == links
    assert len(runs) <= (PREFETCH_ROUNDS + 2) * 2 * links + links  # 1,819 runs here
    assert len(runs) < links * links / 4  # re-running the rest after each link: 10,100


def test_a_claim_read_again_in_a_later_wave_is_replayed_from_the_events_decoded_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A discharge reads its claim, then (in a later wave) the accumulators its settlement
    moves, and replays the claim again: from the events decoded in the first wave, which the
    replays leave as they were (the settlements equal those of discharges posted alone)."""
    seed_reference(services)
    stays = [f"D{n}" for n in range(6)]
    services.events.record_many(
        [
            *(admission(f"d-a-{e}", e) for e in stays),
            *(charges(f"d-c-{e}", e) for e in stays),
        ]
    )
    decoded: list[tuple[Any, int]] = []
    to_domain_event = services.ledger.mapper.to_domain_event

    def counted(stored: Any) -> Any:
        event = to_domain_event(stored)
        decoded.append((event.originator_id, event.originator_version))
        return event

    monkeypatch.setattr(services.ledger.mapper, "to_domain_event", counted)
    results = services.events.record_many([discharge(f"d-d-{e}", e) for e in stays[:3]])
    claims = {claim_id(HOSPITAL, e) for e in stays}
    claim_reads = [d for d in decoded if d[0] in claims]
    monkeypatch.setattr(services.ledger.mapper, "to_domain_event", to_domain_event)
    alone = [services.events.record(discharge(f"d-d-{e}", e)) for e in stays[3:]]

    assert all(isinstance(r, EventResult) and not r.duplicate for r in [*results, *alone])
    assert len(claim_reads) == 3 * 2  # each stay's admission and charges, decoded once
    assert len(set(claim_reads)) == len(claim_reads)
    settled = [services.ledger.find(Claim, claim_id(HOSPITAL, e)) for e in stays]
    splits = [s.settlement.split for s in settled if s is not None and s.settlement is not None]
    assert len(splits) == len(stays)
    assert len(set(splits)) == 1  # the same stay settles alike, in a batch or alone


def test_a_batch_posted_again_looks_up_its_receipts_positions_together(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events recorded before the batch answer with their first results, the positions of
    their receipts read in one query for the whole batch, not one each."""
    seed_reference(services)
    stays = [f"P{n}" for n in range(5)]
    first = services.events.record_many([admission(f"p-a-{e}", e) for e in stays])
    lookups: list[int] = []
    positions_of = services.ledger.positions.positions_of

    def one_each(self: Any, originator_id: Any) -> Any:
        raise AssertionError("a batch looks its receipts' positions up together")

    def counted(ids: Any) -> Any:
        lookups.append(len(ids))
        return positions_of(ids)

    monkeypatch.setattr(services.ledger.positions, "positions_of", counted)
    monkeypatch.setattr(type(services.ledger.positions), "of", one_each)
    again = services.events.record_many(
        [
            *(admission(f"p-a-{e}", e) for e in stays),
            replace(admission(f"p-a-{stays[0]}", stays[0]), digest="another event"),
        ]
    )

    assert lookups == [len(stays)]
    *replays, conflict = again
    assert isinstance(conflict, IdempotencyConflict)
    for before, replay in zip(first, replays, strict=True):
        assert isinstance(before, EventResult)
        assert isinstance(replay, EventResult)
        assert replay.duplicate
        assert (replay.position, replay.stream_id, replay.version, replay.recorded_at) == (
            before.position,
            before.stream_id,
            before.version,
            before.recorded_at,
        )
