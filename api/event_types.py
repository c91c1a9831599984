"""The partner event types of the contract: each type's role, `data` schema and command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from api import dispute_bodies as db
from api.complaint_bodies import TransferData, UrgedData
from api.fields import (
    Count,
    Day,
    Identifier,
    Instant,
    Money,
    PositiveMoney,
    Ratio,
    RegionCode,
    ReportingPeriod,
    Text,
    WireModel,
    exact_json,
)
from api.report_bodies import TransferredReport
from application import claims as c
from application import disputes as ds
from application import reference as r
from application.complaint_commands import Intake, TransferComplaint, UrgeComplaint
from application.reports import TransferReport
from domain.claims import validate_lines
from domain.common import ZERO, cst_date
from domain.settlement import ChargeLine


class Person(WireModel):
    id: Identifier
    name: Text


class Admission(WireModel):
    encounter_id: Identifier
    patient: Person
    region: RegionCode
    person_type: Literal["employee", "retiree", "resident"]
    hospital_level: Literal[1, 2, 3]
    social_insurance: bool
    admitted_at: Instant
    policy_id: Identifier | None = None
    diagnoses: list[Text] = Field(default_factory=list, max_length=50)


class ChargeItem(WireModel):
    line_id: Identifier
    code: Identifier
    name: Text
    category: Literal["A", "B", "C"]
    amount: Money
    over_limit: Money | None = None
    prepay_ratio: Ratio | None = None
    necessary: bool = True


class Charges(WireModel):
    encounter_id: Identifier
    items: list[ChargeItem] = Field(min_length=1, max_length=1000)


class Reversal(WireModel):
    encounter_id: Identifier
    line_ids: list[Identifier] = Field(min_length=1, max_length=1000)


class PlatformResult(WireModel):
    """The national medical-insurance platform's result: what the ledger uses and keeps
    (other fields are dropped: they could carry personal data in clear)."""

    fund_paid: Money
    settlement_no: Identifier | None = None
    self_paid: Money | None = None


class DischargeData(WireModel):
    encounter_id: Identifier
    discharged_at: Instant
    social_insurance_result: PlatformResult | None = None


class PolicyNamed(WireModel):
    encounter_id: Identifier
    policy_id: Identifier


class SettlementCancelled(WireModel):
    encounter_id: Identifier
    reason: Text


class CopayCollected(WireModel):
    encounter_id: Identifier
    amount: PositiveMoney


class PolicyIssued(WireModel):
    policy_id: Identifier
    product_code: Identifier
    insured: Person
    period_start: Day
    period_end: Day

    @model_validator(mode="after")
    def _period_order(self) -> PolicyIssued:
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        return self


class PolicyCancelled(WireModel):
    policy_id: Identifier
    effective: Day


class OfflineClaimPaid(WireModel):
    policy_id: Identifier
    paid_at: Instant
    amount: PositiveMoney
    deductible_applied: Money


class ExposureReported(WireModel):
    period: ReportingPeriod
    line: Literal["health", "life", "accident", "motor", "property", "guarantee", "other"]
    premium: Money = Field(description="at most 999999999999999.99 (15 digits before the point)")
    policies: Count
    insured_persons: Count


class RemittancePaid(WireModel):
    claim_id: UUID = Field(json_schema_extra={"format": "uuid"})
    amount: PositiveMoney

    @field_validator("claim_id", mode="before")
    @classmethod
    def _uuid_from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return UUID(value)
            except ValueError as exc:
                raise ValueError("must be a UUID") from exc
        return value


@dataclass(frozen=True)
class EventType:
    """What one `type` attribute means."""

    role: str
    model: type[WireModel]
    command: Callable[[Any, str], object]


def _lines(data: Charges) -> tuple[ChargeLine, ...]:
    """The charge lines, checked by the domain's rule (its error names `data.items[i].…`)."""
    lines = tuple(
        ChargeLine(
            line_id=i.line_id,
            code=i.code,
            name=i.name,
            category=i.category,
            amount=i.amount,
            over_limit=i.over_limit if i.over_limit is not None else ZERO,
            prepay_ratio=i.prepay_ratio,
            necessary=i.necessary,
        )
        for i in data.items
    )
    validate_lines(lines, "data.items")
    return lines


def _platform_result(data: DischargeData) -> dict[str, Any] | None:
    result = data.social_insurance_result
    return None if result is None else dict(exact_json(result.model_dump()))


def _transfer(d: TransferData, partner: str) -> object:
    return TransferComplaint(
        Intake(
            channel="12378",
            complainant=d.complainant.clear(),
            matter=d.matter,
            request=d.request,
            facts=d.facts,
            cause=d.cause,
            line=d.line,
            region=d.region,
            policy_id=d.policy_id,
            claim_id=d.claim_id,
            transfer_id=d.transfer_id,
            new_facts=d.new_facts,
        )
    )


# The mediator's, arbitrator's and court's events: each `data` model builds its command.


def _accept_mediation(d: db.DisputeRef, partner: str) -> ds.AcceptMediation:
    return ds.AcceptMediation(d.dispute_id)


def _hold_session(d: db.SessionHeld, partner: str) -> ds.HoldSession:
    return ds.HoldSession(d.dispute_id, d.held_at, d.recording_ref)


def _sign_agreement(d: db.AgreementSigned, partner: str) -> ds.SignAgreement:
    return ds.SignAgreement(d.dispute_id, d.signed_at, d.amount, d.terms, d.performance_due)


def _fail_mediation(d: db.Failed, partner: str) -> ds.FailMediation:
    return ds.FailMediation(d.dispute_id, d.reason)


def _accept_arbitration(d: db.CaseAccepted, partner: str) -> ds.AcceptArbitration:
    return ds.AcceptArbitration(d.dispute_id, d.case_no)


def _hold_hearing(d: db.SessionHeld, partner: str) -> ds.HoldHearing:
    return ds.HoldHearing(d.dispute_id, d.held_at, d.recording_ref)


def _issue_award(d: db.AwardIssued, partner: str) -> ds.IssueAward:
    return ds.IssueAward(d.dispute_id, d.issued_at, d.amount, d.decision, d.performance_due)


def _accept_confirmation(d: db.ConfirmationAccepted, partner: str) -> ds.AcceptConfirmation:
    return ds.AcceptConfirmation(d.dispute_id, d.case_no, d.applied_at)


def _grant_confirmation(d: db.Ruled, partner: str) -> ds.GrantConfirmation:
    return ds.GrantConfirmation(d.dispute_id, d.ruled_at)


def _reject_confirmation(d: db.Rejected, partner: str) -> ds.RejectConfirmation:
    return ds.RejectConfirmation(d.dispute_id, d.ruled_at, d.reason)


def _apply_enforcement(d: db.Applied, partner: str) -> ds.ApplyEnforcement:
    return ds.ApplyEnforcement(d.dispute_id, d.applied_at)


def _record_enforced(d: db.Enforced, partner: str) -> ds.RecordEnforced:
    return ds.RecordEnforced(d.dispute_id, d.amount)


EVENT_TYPES: dict[str, EventType] = {
    "xiaobao.mediation.accepted.v1": EventType("mediator", db.DisputeRef, _accept_mediation),
    "xiaobao.mediation.session-held.v1": EventType("mediator", db.SessionHeld, _hold_session),
    "xiaobao.mediation.agreement-signed.v1": EventType(
        "mediator", db.AgreementSigned, _sign_agreement
    ),
    "xiaobao.mediation.failed.v1": EventType("mediator", db.Failed, _fail_mediation),
    "xiaobao.arbitration.accepted.v1": EventType(
        "arbitrator", db.CaseAccepted, _accept_arbitration
    ),
    "xiaobao.arbitration.hearing-held.v1": EventType("arbitrator", db.SessionHeld, _hold_hearing),
    "xiaobao.arbitration.award-issued.v1": EventType("arbitrator", db.AwardIssued, _issue_award),
    "xiaobao.court.confirmation-accepted.v1": EventType(
        "court", db.ConfirmationAccepted, _accept_confirmation
    ),
    "xiaobao.court.confirmation-granted.v1": EventType("court", db.Ruled, _grant_confirmation),
    "xiaobao.court.confirmation-rejected.v1": EventType("court", db.Rejected, _reject_confirmation),
    "xiaobao.court.enforcement-applied.v1": EventType("court", db.Applied, _apply_enforcement),
    "xiaobao.court.enforced.v1": EventType("court", db.Enforced, _record_enforced),
    "xiaobao.regulator.complaint-transferred.v1": EventType(
        "regulator_platform", TransferData, _transfer
    ),
    "xiaobao.regulator.report-transferred.v1": EventType(
        "regulator_platform",
        TransferredReport,
        lambda d, partner: TransferReport(d.intake()),
    ),
    "xiaobao.regulator.urged.v1": EventType(
        "regulator_platform",
        UrgedData,
        lambda d, partner: UrgeComplaint(d.complaint_id, d.transfer_id, d.note),
    ),
    "xiaobao.hospital.admission.v1": EventType(
        "hospital",
        Admission,
        lambda d, partner: c.RegisterAdmission(
            hospital=partner,
            encounter_id=d.encounter_id,
            patient_id=d.patient.id,
            patient_name=d.patient.name,
            region=d.region,
            person_type=d.person_type,
            hospital_level=d.hospital_level,
            social_insurance=d.social_insurance,
            admitted_at=d.admitted_at,
            policy_id=d.policy_id,
            diagnoses=tuple(d.diagnoses),
        ),
    ),
    "xiaobao.hospital.charges.v1": EventType(
        "hospital",
        Charges,
        lambda d, partner: c.PostCharges(partner, d.encounter_id, _lines(d)),
    ),
    "xiaobao.hospital.charges-reversal.v1": EventType(
        "hospital",
        Reversal,
        lambda d, partner: c.ReverseCharges(partner, d.encounter_id, tuple(d.line_ids)),
    ),
    "xiaobao.hospital.policy-named.v1": EventType(
        "hospital",
        PolicyNamed,
        lambda d, partner: c.NamePolicy(partner, d.encounter_id, d.policy_id),
    ),
    "xiaobao.hospital.discharge.v1": EventType(
        "hospital",
        DischargeData,
        lambda d, partner: c.Discharge(
            partner,
            d.encounter_id,
            d.discharged_at,
            exact_json(d.social_insurance_result.model_dump())
            if d.social_insurance_result
            else None,
        ),
    ),
    "xiaobao.hospital.settlement-cancelled.v1": EventType(
        "hospital",
        SettlementCancelled,
        lambda d, partner: c.CancelSettlement(partner, d.encounter_id, d.reason),
    ),
    "xiaobao.hospital.copay-collected.v1": EventType(
        "hospital",
        CopayCollected,
        lambda d, partner: c.CollectCopay(partner, d.encounter_id, d.amount),
    ),
    "xiaobao.insurer.policy-issued.v1": EventType(
        "insurer",
        PolicyIssued,
        lambda d, partner: r.IssuePolicy(
            d.policy_id, d.product_code, d.insured.id, d.insured.name, d.period_start, d.period_end
        ),
    ),
    "xiaobao.insurer.policy-cancelled.v1": EventType(
        "insurer",
        PolicyCancelled,
        lambda d, partner: r.CancelPolicy(d.policy_id, d.effective),
    ),
    "xiaobao.insurer.offline-claim-paid.v1": EventType(
        "insurer",
        OfflineClaimPaid,
        lambda d, partner: r.PayOfflineClaim(
            d.policy_id, cst_date(d.paid_at), d.amount, d.deductible_applied
        ),
    ),
    "xiaobao.insurer.exposure-reported.v1": EventType(
        "insurer",
        ExposureReported,
        lambda d, partner: r.ReportExposure(
            d.period, d.line, d.premium, d.policies, d.insured_persons
        ),
    ),
    "xiaobao.insurer.remittance-paid.v1": EventType(
        "insurer",
        RemittancePaid,
        lambda d, partner: c.PayRemittance(d.claim_id, d.amount),
    ),
}
