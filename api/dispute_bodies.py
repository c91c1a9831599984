"""Request bodies of dispute commands and the `data` of mediator, arbitrator and court events."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from api.complaint_bodies import Command
from api.fields import Day, Identifier, Instant, LongText, Money, PositiveMoney, Text, WireModel


def _uuid(value: object) -> object:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError as exc:
            raise ValueError("must be a UUID") from exc
    return value


class Party(WireModel):
    id: Identifier
    name: Text


class OpenBody(Command):
    """A dispute, opened from a complaint, a claim, or directly."""

    party: Party
    amount: Money
    matter: LongText
    complaint_id: UUID | None = None
    claim_id: UUID | None = None

    @field_validator("complaint_id", "claim_id", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _uuid(value)


class MediationBody(Command):
    mediator: Text


class ExtensionBody(Command):
    until: Day
    consent: Literal[True] = Field(description="the parties' consent, recorded")


class ArbitrationBody(Command):
    arbitrator: Text
    consent: Literal[True] = Field(description="the consumer's consent or an arbitration agreement")


class CourtBody(Command):
    court: Text


class PerformedBody(Command):
    amount: PositiveMoney
    remittance_ref: Text | None = None


class ReasonBody(Command):
    reason: LongText


class DisputeRef(WireModel):
    dispute_id: UUID

    @field_validator("dispute_id", mode="before")
    @classmethod
    def _id(cls, value: object) -> object:
        return _uuid(value)


class SessionHeld(DisputeRef):
    held_at: Instant
    recording_ref: Text


class AgreementSigned(DisputeRef):
    signed_at: Instant
    amount: Money
    terms: LongText
    performance_due: Day | None = None


class Failed(DisputeRef):
    reason: LongText


class CaseAccepted(DisputeRef):
    case_no: Identifier


class AwardIssued(DisputeRef):
    issued_at: Instant
    amount: Money
    decision: LongText
    performance_due: Day | None = None


class ConfirmationAccepted(DisputeRef):
    case_no: Identifier
    applied_at: Instant


class Ruled(DisputeRef):
    ruled_at: Instant


class Rejected(Ruled):
    reason: LongText


class Applied(DisputeRef):
    applied_at: Instant


class Enforced(DisputeRef):
    amount: Money
