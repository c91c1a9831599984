"""Personal data sealed per person, found by blind index, erasable without breaking history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from application import claims as c
from application import reference as r
from application.gateway import Meta
from application.ledger import NotFound
from application.services import Services
from domain.common import Actor
from domain.personal import ERASED, Subject, subject_stream_id
from tests.builders import (
    HOSPITAL,
    INSURER,
    issue_policy,
    post,
    seed_reference,
    settle_worked_example,
)


def admin() -> Meta:
    return Meta(datetime.now(tz=UTC), Actor(name="admin", role="admin"))


@pytest.fixture
def seeded(services: Services) -> Services:
    seed_reference(services)
    issue_policy(services)
    return services


def close(services: Services, result_id: object) -> None:
    """Close the claim and end the policy, so only retention periods can hold the data."""
    post(services, c.CollectCopay(HOSPITAL, "E1", Decimal("11000.00")))
    post(services, c.PayRemittance(result_id, Decimal("24992.00")), INSURER)  # type: ignore[arg-type]
    post(services, r.CancelPolicy("P1", date(2026, 6, 1)), INSURER)


def stored_bytes(services: Services) -> bytes:
    return b"".join(n.state for n in services.ledger.recorder.select_notifications(1, 10_000))


def test_names_and_ids_never_reach_the_log_in_clear(seeded: Services) -> None:
    settle_worked_example(seeded)
    raw = stored_bytes(seeded)
    assert b"Zhang San" not in raw
    assert b"person-1" not in raw
    assert b"Zhang" not in raw


def test_readers_see_the_values_and_lookups_use_the_blind_index(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    body = seeded.claims.view(result.stream_id, None).body
    assert body["patient"] == {"id": "person-1", "name": "Zhang San"}
    # The policy was found through the insured person's blind index.
    assert body["settlement"]["commercial_paid"] == "24992.00"
    history = seeded.claims.history(result.stream_id, None)
    assert history[0]["data"]["patient_name"] == "Zhang San"


def test_erasure_is_deferred_while_the_claim_is_open(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    outcome = seeded.personal.erase("person-1", "request", admin())
    assert outcome.status == "deferred"
    assert {(h.record, h.reason) for h in outcome.holds} >= {
        (f"claims/{result.stream_id}", "open_record")
    }
    assert seeded.claims.view(result.stream_id, None).body["patient"]["name"] == "Zhang San"
    events = seeded.ledger.stream(subject_stream_id(outcome.subject))
    assert type(events[-1]).__name__ == "ErasureDeferred"


def test_erasure_destroys_the_key_and_keeps_history_and_settlement_valid(
    seeded: Services,
) -> None:
    result = settle_worked_example(seeded)
    close(seeded, result.stream_id)
    before = stored_bytes(seeded)
    outcome = seeded.personal.erase("person-1", "data subject request", admin())
    assert outcome.status == "erased"
    body = seeded.claims.view(result.stream_id, None).body
    assert body["patient"] == {"id": ERASED, "name": ERASED}
    assert body["settlement"]["patient_pays"] == "11000.00"
    assert seeded.claims.verify(result.stream_id, None)["matches"] is True
    history = seeded.claims.history(result.stream_id, None)
    assert history[0]["data"]["patient_name"] == ERASED
    # Every stored byte before the erasure is unchanged: proofs over the log stay valid.
    assert stored_bytes(seeded).startswith(before)
    subject = seeded.ledger.find(Subject, subject_stream_id(outcome.subject))
    assert subject is not None
    assert subject.erased_at is not None
    again = seeded.personal.erase("person-1", "again", admin())
    assert again.status == "erased"  # every request is an event of its own
    assert again.position > outcome.position


def test_a_person_coming_back_after_erasure_is_protected_by_holds(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    close(seeded, result.stream_id)
    assert seeded.personal.erase("person-1", "request", admin()).status == "erased"
    back = settle_worked_example(seeded, "E2")  # the same person is admitted again
    outcome = seeded.personal.erase("person-1", "again", admin())
    assert outcome.status == "deferred"
    assert (f"claims/{back.stream_id}", "open_record") in {
        (h.record, h.reason) for h in outcome.holds
    }
    assert seeded.claims.view(back.stream_id, None).body["patient"]["name"] == "Zhang San"


def test_retention_period_defers_erasure_of_a_closed_claim(services: Services) -> None:
    seed_reference(services)
    issue_policy(services)
    services.personal.retention_days["claims"] = 365
    result = settle_worked_example(services)
    close(services, result.stream_id)
    outcome = services.personal.erase("person-1", "request", admin())
    assert outcome.status == "deferred"
    assert {h.reason for h in outcome.holds} == {"retention_period"}
    assert outcome.holds[0].until is not None


def test_erasing_an_unknown_person_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.personal.erase("nobody", "request", admin())
