"""Consumer education (消保宣教): educators record activities and staff training sessions and
amend an activity's figures with a reason; supervisors and auditors read them.

Commands are typed, one method each, saved with their Idempotency-Key receipt; each returns
what happened (`created`), and the API picks the status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta
from application.ledger import Ledger, NotFound
from application.views import history_entry, json_ready, rfc3339, with_proofs
from domain.common import StaleVersion
from domain.education import EducationActivity, EvidenceFile, Figures
from domain.training import TrainingSession

PAGE_LIMIT = 200


@dataclass(frozen=True)
class RecordActivity:
    title: str
    kind: str
    channel: str
    campaign: str
    region: str
    audiences: tuple[str, ...]
    started_at: datetime
    ended_at: datetime
    place: str | None = None
    participants: int = 0
    views: int = 0
    article_ids: tuple[str, ...] = ()
    evidence: tuple[EvidenceFile, ...] = ()


@dataclass(frozen=True)
class AmendActivity:
    activity_id: UUID
    reason: str
    figures: Figures


@dataclass(frozen=True)
class RecordTraining:
    topic: str
    trainer: str
    hours: Decimal
    held_at: datetime
    attendees: tuple[str, ...]
    scores: dict[str, Decimal]


@dataclass(frozen=True)
class Recorded:
    """What a command did: the record as it now stands, whether it was created, and whether
    this is the stored answer of an earlier request with the same Idempotency-Key."""

    body: dict[str, Any]
    created: bool
    replayed: bool


@dataclass(frozen=True)
class Page:
    """Records in log order after a position; `next_after` continues the listing."""

    items: list[dict[str, Any]]
    next_after: int | None


def _recorded(result: CommandResult) -> Recorded:
    return Recorded(result.body, result.created, result.replayed)


class EducationDesk:
    """Commands of the educators."""

    def __init__(self, ledger: Ledger, runner: CommandRunner) -> None:
        self.ledger = ledger
        self.runner = runner

    def record_activity(self, cmd: RecordActivity, meta: Meta, key: CommandKey | None) -> Recorded:
        """Record an activity (its figures as first reported)."""

        def attempt() -> Answer:
            activity = EducationActivity(
                title=cmd.title,
                kind=cmd.kind,
                channel=cmd.channel,
                campaign=cmd.campaign,
                region=cmd.region,
                place=cmd.place,
                audiences=cmd.audiences,
                participants=cmd.participants,
                views=cmd.views,
                article_ids=cmd.article_ids,
                evidence=cmd.evidence,
                started_at=cmd.started_at,
                ended_at=cmd.ended_at,
                occurred_at=meta.occurred_at,
                actor=meta.actor,
            )
            return Answer([activity], True, activity_view(activity))

        return _recorded(self.runner.run(key, attempt))

    def amend_activity(
        self,
        cmd: AmendActivity,
        meta: Meta,
        key: CommandKey | None,
        if_match: int | None = None,
    ) -> Recorded:
        """Correct an activity's figures, with the reason (the first figures stay in its
        history)."""

        def attempt() -> Answer:
            activity = self.ledger.require(
                EducationActivity, cmd.activity_id, f"activity {cmd.activity_id}"
            )
            if if_match is not None and activity.version != if_match:
                raise StaleVersion("the activity changed since it was read; read it again")
            activity.amend(
                reason=cmd.reason,
                figures=cmd.figures,
                occurred_at=meta.occurred_at,
                actor=meta.actor,
            )
            return Answer([activity], False, activity_view(activity))

        return _recorded(self.runner.run(key, attempt))

    def record_training(self, cmd: RecordTraining, meta: Meta, key: CommandKey | None) -> Recorded:
        """Record a staff training session."""

        def attempt() -> Answer:
            session = TrainingSession(
                topic=cmd.topic,
                trainer=cmd.trainer,
                hours=cmd.hours,
                held_at=cmd.held_at,
                attendees=cmd.attendees,
                scores=cmd.scores,
                occurred_at=meta.occurred_at,
                actor=meta.actor,
            )
            return Answer([session], True, training_view(session))

        return _recorded(self.runner.run(key, attempt))


class EducationQueries:
    """Reads of activities and training sessions (staff; the regulator gets figures only)."""

    def __init__(self, ledger: Ledger, proofs: Any = None) -> None:
        self.ledger = ledger
        self.proofs = proofs

    def _activity(self, activity_id: UUID) -> EducationActivity:
        found = self.ledger.find(EducationActivity, activity_id)
        if found is None:
            raise NotFound("no such activity")
        return found

    def activity(
        self,
        activity_id: UUID,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        """The activity now, at a version, or as the ledger knew it at an instant."""
        current = self._activity(activity_id)
        return activity_view(self.ledger.then(current, as_of_version, as_of, "activity"))

    def activity_history(self, activity_id: UUID, proofs: bool = False) -> list[dict[str, Any]]:
        """Every event of the activity: the figures first reported and each amendment."""
        self._activity(activity_id)
        return self._history(activity_id, proofs)

    def training(self, training_id: UUID) -> dict[str, Any]:
        found = self.ledger.find(TrainingSession, training_id)
        if found is None:
            raise NotFound("no such training session")
        return training_view(found)

    def training_history(self, training_id: UUID, proofs: bool = False) -> list[dict[str, Any]]:
        if self.ledger.find(TrainingSession, training_id) is None:
            raise NotFound("no such training session")
        return self._history(training_id, proofs)

    def _history(self, stream: UUID, proofs: bool) -> list[dict[str, Any]]:
        positions = self.ledger.positions.of(stream)
        entries = [
            json_ready(history_entry(e, positions.get(e.originator_version)))
            for e in self.ledger.stream(stream)
        ]
        return with_proofs(entries, self.proofs) if proofs else entries

    def activities(self, after: int, limit: int) -> Page:
        """Activities in the order they were recorded, after a log position."""
        return self._page(EducationActivity, activity_view, after, limit)

    def trainings(self, after: int, limit: int) -> Page:
        """Training sessions in the order they were recorded, after a log position."""
        return self._page(TrainingSession, training_view, after, limit)

    def _page(self, cls: type[Any], view: Any, after: int, limit: int) -> Page:
        # The creation events, read by topic from the log's position index: a page costs
        # one indexed query and one batched read of the records, whatever the log's size.
        topic = get_topic(cls.Recorded)
        notifications = self.ledger.recorder.select_notifications(
            after, min(limit, PAGE_LIMIT), topics=[topic], inclusive_of_start=False
        )
        ids = [UUID(str(n.originator_id)) for n in notifications]
        found = self.ledger.find_many(ids)
        items = [view(found[i]) for i in ids if isinstance(found.get(i), cls)]
        full = len(notifications) == min(limit, PAGE_LIMIT)
        return Page(items, notifications[-1].id if full and notifications else None)


def activity_view(a: EducationActivity) -> dict[str, Any]:
    """The activity as the contract shows it (no personal data: figures and files)."""
    return {
        "id": str(a.id),
        "version": a.version,
        "title": a.title,
        "kind": a.kind,
        "channel": a.channel,
        "campaign": a.campaign,
        "region": a.region,
        "place": a.place,
        "audiences": list(a.audiences),
        "one_old_one_young": a.one_old_one_young,
        "participants": a.participants,
        "views": a.views,
        "article_ids": list(a.article_ids),
        "evidence": [{"name": e.name, "sha256": e.sha256, "ref": e.ref} for e in a.evidence],
        "started_at": rfc3339(a.started_at),
        "ended_at": rfc3339(a.ended_at),
        "amendments": a.amendments,
        "recorded_by": a.recorded_by,
        "created_at": rfc3339(a.created_on),
        "updated_at": rfc3339(a.modified_on),
    }


def training_view(t: TrainingSession) -> dict[str, Any]:
    """The training session with its attendees and scores."""
    return {
        "id": str(t.id),
        "version": t.version,
        "topic": t.topic,
        "trainer": t.trainer,
        "hours": str(t.hours),
        "held_at": rfc3339(t.held_at),
        "attendees": list(t.attendees),
        "scores": {k: str(v) for k, v in t.scores.items()},
        "attendee_hours": str(t.attendee_hours),
        "recorded_by": t.recorded_by,
        "created_at": rfc3339(t.created_on),
    }
