"""Response models of the read routes, so `/openapi.json` describes every body partners read.

Small answers are returned through their model. The large and hot ones (a claim, its history,
statistics) are built as JSON-ready dicts by the application and sent as they are
(`documented` puts the model in the OpenAPI document only): validating them again per request
would cost time and could reorder keys. `tests/api/test_read_models.py` checks real bodies
against these models, so the document cannot drift from what is sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MONEY = "CNY as a decimal string with two places"
INSTANT = "RFC 3339 instant (UTC)"


class ReadModel(BaseModel):
    """A response body: exactly these fields, in this order."""

    model_config = ConfigDict(extra="forbid")


def documented(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route whose 200 JSON body has this model."""
    return {200: {"model": model, "description": description}}


Money = str
Instant = str


# -- operations -----------------------------------------------------------------------------


class Health(ReadModel):
    status: str = Field(description='always "ok"')


class ViewFailure(ReadModel):
    position: int = Field(description="log position of the event the view fails on")
    topic: str = Field(description="the event's topic")
    stream_id: str = Field(description="the event's stream id")
    error: str = Field(description="the error's type")
    message: str = Field(description="a short message, quoted values and digit runs masked")
    since: str = Field(description="when the view started failing on this event (RFC 3339)")
    attempts: int = Field(description="failed attempts on this event (retried with backoff)")


class ViewReport(ReadModel):
    position: int = Field(description="the view's tracking position")
    lag: int = Field(description="entries the view has still to read")
    failures: int = Field(description="failed attempts of the view in all")
    failing: ViewFailure | None = Field(description="the event it is stuck on, if any")


class Readiness(ReadModel):
    status: str = Field(description='always "ready" (503 otherwise, with the same members)')
    position: int = Field(description="the highest position in the log")
    projection_lag: dict[str, int] = Field(description="entries each view has still to read")
    projections: dict[str, ViewReport] = Field(
        description="each view's position, lag and failing event"
    )


# -- claims ---------------------------------------------------------------------------------


class Patient(ReadModel):
    id: str = Field(description='the patient id, or "[erased]"')
    name: str = Field(description='the patient name, or "[erased]"')


class ClaimLine(ReadModel):
    line_id: str
    code: str
    name: str
    category: str = Field(description="A, B or C")
    amount: Money = Field(description=MONEY)
    over_limit: Money = Field(description=MONEY)
    prepay_ratio: str | None
    necessary: bool
    reversed: bool


class PlatformResult(ReadModel):
    fund_paid: Money = Field(description=MONEY)
    settlement_no: str | None = None
    self_paid: Money | None = None


class SettlementInputs(ReadModel):
    social_insurance: bool
    fund_paid_before: Money
    deductible_used_before: Money
    limit_used_before: Money
    platform_fund_paid: Money | None
    lines: int = Field(description="how many charge lines the settlement took")


class ReferenceVersions(ReadModel):
    scheme_id: str | None
    scheme_version: int | None
    product_code: str | None
    product_version: int | None
    policy_id: str | None
    policy_version: int | None


class Settlement(ReadModel):
    """The four amounts, every intermediate of domain.md's formula, the reasons, the inputs
    and the reference-data versions used (amounts are CNY decimal strings)."""

    medfee: Money
    social_insurance_paid: Money
    commercial_paid: Money
    patient_pays: Money
    over_limit: Money
    b_prepay: Money
    in_scope: Money
    si_deductible: Money
    si_computed: Money
    si_difference: Money | None
    covered: Money
    commercial_base: Money
    commercial_deductible: Money
    commercial_ratio: str | None
    reasons: list[str]
    inputs: SettlementInputs
    versions: ReferenceVersions


class ClaimState(ReadModel):
    """A claim as its reader may see it (amounts are CNY decimal strings)."""

    id: str
    version: int
    hospital: str
    encounter_id: str
    patient: Patient
    region: str
    person_type: str
    hospital_level: int
    social_insurance: bool
    admitted_at: Instant = Field(description=INSTANT)
    policy_id: str | None
    diagnoses: list[str] | str = Field(description='the diagnoses, or "[erased]"')
    status: str
    lines: list[ClaimLine]
    discharged_at: Instant | None
    social_insurance_result: PlatformResult | None
    settlement: Settlement | None
    settled_at: Instant | None
    collected: Money
    remitted: Money
    patient_outstanding: Money
    commercial_outstanding: Money
    closed_at: Instant | None
    created_at: Instant
    updated_at: Instant


class Claim(ClaimState):
    disputes: list[str] = Field(description="ids of the disputes about this claim")


class ClaimsFound(ReadModel):
    items: list[ClaimState]


class Actor(ReadModel):
    name: str
    role: str
    partner_id: str | None = None
    source: str | None = None
    event_id: str | None = None


class InclusionProofOfEntry(ReadModel):
    index: int
    size: int
    root: str = Field(description="hex")
    hashes: list[str] = Field(description="hex, RFC 9162 inclusion proof")


class HistoryEvent(ReadModel):
    version: int
    type: str = Field(description="the event's short name, such as SettlementCalculated")
    occurred_at: Instant
    recorded_at: Instant
    actor: Actor | None
    position: int | None
    data: dict[str, Any] = Field(description="the event's own fields (they differ by type)")
    proof: InclusionProofOfEntry | None = Field(
        default=None, description="with ?proofs=true: null while the entry is unsealed"
    )


class History(ReadModel):
    events: list[HistoryEvent]


class SettlementPreview(Settlement):
    claim_id: str
    preview: bool


class SettlementCheck(ReadModel):
    version: int
    matches: bool
    differences: list[str]
    recorded: Settlement
    recomputed: Settlement


class SettlementVerification(ReadModel):
    claim_id: str
    matches: bool
    settlements: list[SettlementCheck]


class StatementItem(ReadModel):
    """One settlement, adjustment (amounts are its deltas), cancellation or remittance."""

    type: str
    claim_id: str
    encounter_id: str
    version: int
    occurred_at: Instant
    medfee: Money | None = None
    social_insurance_paid: Money | None = None
    commercial_paid: Money | None = None
    patient_pays: Money | None = None
    amount: Money | None = Field(default=None, description="a remittance's amount")


class StatementTotals(ReadModel):
    medfee: Money
    social_insurance_paid: Money
    commercial_paid: Money
    patient_pays: Money
    remitted: Money


class HospitalStatement(ReadModel):
    hospital: str
    date: str
    items: list[StatementItem]
    counts: dict[str, int] = Field(description="items by type")
    totals: StatementTotals


# -- reference data -------------------------------------------------------------------------


class Code(ReadModel):
    code: str
    name: str


class CodeList(ReadModel):
    kind: str
    codes: list[Code]


class LevelTerms(ReadModel):
    deductible: Money
    ratio: str


class SchemeVersion(ReadModel):
    version: int
    effective_from: str
    region: str
    person_type: str
    annual_cap: Money
    b_prepay_ratio: str
    levels: dict[str, LevelTerms] = Field(description="terms by hospital level")


class SchemeVersions(ReadModel):
    scheme_id: str
    version: int
    versions: list[SchemeVersion]


class ProductVersion(ReadModel):
    version: int
    effective_from: str
    annual_deductible: Money
    ratio_with_si: str
    ratio_without_si: str
    annual_limit: Money
    covers_out_of_scope: bool


class ProductVersions(ReadModel):
    product_code: str
    version: int
    versions: list[ProductVersion]


# -- verifiable ledger ----------------------------------------------------------------------


class Checkpoint(ReadModel):
    size: int
    root: str = Field(description="hex")
    timestamp: Instant
    note: str = Field(description="the signed note (C2SP tlog-checkpoint)")


class PublicKey(ReadModel):
    verifier_key: str


class Entry(ReadModel):
    index: int
    position: int
    leaf: str = Field(description="base64 of the exact bytes hashed")


class Entries(ReadModel):
    entries: list[Entry]


class InclusionProof(ReadModel):
    index: int
    size: int
    hashes: list[str] = Field(description="hex")


class ConsistencyProof(ReadModel):
    first: int
    second: int
    hashes: list[str] = Field(description="hex")


# -- statistics -----------------------------------------------------------------------------


class AttestedCheckpoint(ReadModel):
    size: int
    root: str = Field(description="hex")


class Figures(ReadModel):
    """What every statistics answer carries around its figures."""

    period: str
    position: int = Field(description="the log position the figures reflect")
    caught_up: bool
    checkpoint: AttestedCheckpoint | None
    evaluated_at: Instant


class Timeliness(ReadModel):
    within_15: int
    days_16_30: int
    days_31_60: int
    later: int
    open_overdue: int
    extended: int
    average_days_to_notice: str | None


class ComplaintFigures(ReadModel):
    received: int
    duplicates_merged: int
    closed: int
    open_at_start: int
    open_at_end: int
    transfers_12378: int
    timeliness: Timeliness
    extension_rate: str | None
    review_rate: str | None
    upheld_rate: str | None
    redress: Money
    per_100m_premium: str | None = Field(default=None, description="totals, and by line")
    per_10k_policies: str | None = None
    per_10k_insured: str | None = None


class ComplaintGroup(ComplaintFigures):
    key: dict[str, str | None] = Field(description="the group's value of each dimension")


class ComplaintStatistics(Figures):
    totals: ComplaintFigures
    groups: list[ComplaintGroup]


class ClaimFigures(ReadModel):
    settlements: int
    offline_claims: int
    one_stop_share: str | None
    with_social_insurance: int
    medfee: Money
    social_insurance_paid: Money
    commercial_paid: Money
    patient_paid: Money
    offline_paid: Money
    average_hours_discharge_to_settlement: str | None


class ClaimGroup(ClaimFigures):
    key: dict[str, str | None]


class ClaimStatistics(Figures):
    totals: ClaimFigures
    groups: list[ClaimGroup]


class DisputeFigures(ReadModel):
    opened: int
    mediated: int
    mediation_success_rate: str | None
    confirmations_granted: int
    awards: int
    performed: int
    enforced: int
    amount_paid: Money
    average_days_to_resolution: str | None


class DisputeTotals(DisputeFigures):
    by_origin: dict[str, int] = Field(description="disputes opened by channel")


class DisputeGroup(DisputeFigures):
    key: dict[str, str | None]


class DisputeStatistics(Figures):
    totals: DisputeTotals
    groups: list[DisputeGroup]
