"""Staff command receipts: those stored before `created` replaced the HTTP status still
replay with the status they were first answered with."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import StoredEvent

from application.commands import Answer, CommandKey
from application.services import Services
from domain.receipts import CommandReceipt


def store_first_form_receipt(services: Services, key: CommandKey, status: int) -> None:
    """A receipt as version 1 stored it: `status` (201 or 200) and no class version."""
    ledger = services.ledger
    receipt = CommandReceipt(key.principal, key.key, key.digest, True, {"code": "X1"})
    stored = ledger.mapper.to_stored_event(receipt.collect_events()[0])
    state = ledger.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    state["status"] = status
    del state["created"]
    ledger.recorder.insert_events(
        [
            StoredEvent(
                originator_id=stored.originator_id,
                originator_version=stored.originator_version,
                topic=stored.topic,
                state=ledger.mapper.transcoder.encode(state),
            )
        ]
    )


@pytest.mark.parametrize(("status", "created"), [(201, True), (200, False)])
def test_a_receipt_stored_with_a_status_replays_as_created_or_not(
    services: Services, status: int, created: bool
) -> None:
    key = CommandKey("admin", "k-1", "digest-1")
    store_first_form_receipt(services, key, status)

    def must_not_run() -> Answer:
        raise AssertionError("a replay does not run the command again")

    result = services.reference.runner.run(key, must_not_run)
    assert (result.created, result.body, result.replayed) == (created, {"code": "X1"}, True)


def test_an_answer_refuses_an_http_status_for_created() -> None:
    with pytest.raises(TypeError):
        Answer([], 201, {})  # type: ignore[arg-type]
