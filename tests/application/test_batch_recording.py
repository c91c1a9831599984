"""A partner's batch is recorded in few saves, with every event answered as if posted alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from application import claims as c
from application.gateway import EventResult, Meta, PartnerEvent
from application.services import Services
from domain.common import Actor, UnknownRecord
from tests.builders import ADMITTED, HOSPITAL, REGION, WORKED_EXAMPLE_LINES, seed_reference


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
