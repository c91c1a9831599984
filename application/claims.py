"""Hospital and insurer events about claims: admission to closing (一站式结算)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.gateway import Meta, Outcome
from application.ledger import Ledger, Reads
from application.personal import Vault
from application.settling import SettlementPlanner
from application.views import settlement_view
from domain.claims import Claim, ClaimError, claim_id
from domain.common import UnknownRecord, cst_date
from domain.personal import Subject, subject_stream_id
from domain.policies import Policy, policy_stream_id
from domain.reference import scheme_index_id
from domain.settlement import ChargeLine


class DuplicateEncounter(ClaimError):
    """An encounter id is unique per hospital."""

    rule = "duplicate_encounter"


class SocialInsuranceResultWithoutSocialInsurance(ClaimError):
    """The national platform's result only applies to a social-insurance admission."""

    rule = "social_insurance_not_claimed"


@dataclass(frozen=True)
class RegisterAdmission:
    hospital: str
    encounter_id: str
    patient_id: str
    patient_name: str
    region: str
    person_type: str
    hospital_level: int
    social_insurance: bool
    admitted_at: datetime
    policy_id: str | None = None
    diagnoses: tuple[str, ...] = ()


@dataclass(frozen=True)
class PostCharges:
    hospital: str
    encounter_id: str
    lines: tuple[ChargeLine, ...]


@dataclass(frozen=True)
class ReverseCharges:
    hospital: str
    encounter_id: str
    line_ids: tuple[str, ...]


@dataclass(frozen=True)
class NamePolicy:
    hospital: str
    encounter_id: str
    policy_id: str


@dataclass(frozen=True)
class Discharge:
    hospital: str
    encounter_id: str
    discharged_at: datetime
    platform_result: dict[str, Any] | None = None


@dataclass(frozen=True)
class CancelSettlement:
    hospital: str
    encounter_id: str
    reason: str


@dataclass(frozen=True)
class CollectCopay:
    hospital: str
    encounter_id: str
    amount: Decimal


@dataclass(frozen=True)
class PayRemittance:
    claim_id: UUID
    amount: Decimal


KIND = "claims"


def insured_by(ledger: Ledger, claim: Claim, insurer: str | None) -> bool:
    """A claim is an insurer's when its settlement used (or, unsettled, its admission named)
    a policy that insurer issued; a claim without a policy is no insurer's."""
    settled = claim.settlement.versions.policy_id if claim.settlement else None
    policy_id = settled or claim.policy_id
    if policy_id is None:
        return False
    policy = ledger.find(Policy, policy_stream_id(policy_id))
    return policy is not None and policy.issued_by(insurer)


class ClaimCommands:
    """Handlers of the claim events; each returns what changed for the gateway to save."""

    def __init__(self, ledger: Ledger, planner: SettlementPlanner, vault: Vault) -> None:
        self.ledger = ledger
        self.planner = planner
        self.vault = vault

    def _claim(self, hospital: str, encounter_id: str) -> Claim:
        # Another hospital's encounter has another stream id: it is simply unknown here.
        return self.ledger.require(
            Claim, claim_id(hospital, encounter_id), f"encounter {encounter_id!r}"
        )

    def admit(self, cmd: RegisterAdmission, meta: Meta) -> Outcome:
        reads = Reads(self.ledger)
        existing = claim_id(cmd.hospital, cmd.encounter_id)
        ref = self.vault.ref(cmd.patient_id)
        self.vault.expect([ref])
        reads.prefetch(
            existing,
            subject_stream_id(ref),
            *self.planner.with_schemes(scheme_index_id(cmd.region, cmd.person_type)),
        )
        if reads.get(Claim, existing) is not None:
            raise DuplicateEncounter(f"encounter {cmd.encounter_id!r} is already registered")
        if cmd.social_insurance:
            self.planner.scheme_terms(
                cmd.region, cmd.person_type, cmd.hospital_level, cst_date(cmd.admitted_at), reads
            )
        personal = {"id": cmd.patient_id, "name": cmd.patient_name}
        if cmd.diagnoses:
            personal["diagnoses"] = json.dumps(cmd.diagnoses, ensure_ascii=False)
        sealed = self.vault.seal_many(ref, personal)
        claim = Claim(
            hospital=cmd.hospital,
            encounter_id=cmd.encounter_id,
            patient_ref=ref,
            patient_id=sealed["id"],
            patient_name=sealed["name"],
            region=cmd.region,
            person_type=cmd.person_type,
            hospital_level=cmd.hospital_level,
            social_insurance=cmd.social_insurance,
            admitted_at=cmd.admitted_at,
            policy_id=cmd.policy_id,
            diagnoses=sealed.get("diagnoses"),
            occurred_at=meta.occurred_at,
            actor=meta.actor,
        )
        subject = reads.get(Subject, subject_stream_id(ref)) or Subject(ref=ref)
        subject.list_record(KIND, claim.id)
        return Outcome(KIND, claim, [claim, subject])

    def post_charges(self, cmd: PostCharges, meta: Meta) -> Outcome:
        claim = self._claim(cmd.hospital, cmd.encounter_id)
        claim.post_charges(list(cmd.lines), meta.occurred_at, meta.actor)
        return self._readjusted(claim, meta)

    def reverse_charges(self, cmd: ReverseCharges, meta: Meta) -> Outcome:
        claim = self._claim(cmd.hospital, cmd.encounter_id)
        claim.reverse_charges(list(cmd.line_ids), meta.occurred_at, meta.actor)
        return self._readjusted(claim, meta)

    def name_policy(self, cmd: NamePolicy, meta: Meta) -> Outcome:
        claim = self._claim(cmd.hospital, cmd.encounter_id)
        claim.name_policy(cmd.policy_id, meta.occurred_at, meta.actor)
        return self._readjusted(claim, meta)

    def _readjusted(self, claim: Claim, meta: Meta) -> Outcome:
        """A correction after settlement records SettlementAdjusted with the delta."""
        if claim.settlement is None:
            return Outcome(KIND, claim, [claim])
        old = claim.settlement
        plan = self.planner.plan(claim, exclude_own=True)
        delta = claim.adjust_settlement(plan.settlement, meta.occurred_at, meta.actor)
        moved = self.planner.move_accumulators(
            claim, old.shares, plan.settlement.shares, plan.accumulators, "adjustment", meta
        )
        claim.close_when_settled_in_full(meta.occurred_at, meta.actor)
        extra = {
            "settlement": settlement_view(plan.settlement),
            "adjustment": {k: str(v) for k, v in delta.items()},
        }
        return Outcome(KIND, claim, [claim, *moved], extra)

    def discharge(self, cmd: Discharge, meta: Meta) -> Outcome:
        claim = self._claim(cmd.hospital, cmd.encounter_id)
        if cmd.platform_result is not None and not claim.social_insurance:
            raise SocialInsuranceResultWithoutSocialInsurance(
                "social_insurance_result given for an admission without social insurance"
            )
        claim.discharge(cmd.discharged_at, cmd.platform_result, meta.occurred_at, meta.actor)
        plan = self.planner.plan(claim, exclude_own=False)
        claim.record_settlement(plan.settlement, meta.occurred_at, meta.actor)
        moved = self.planner.move_accumulators(
            claim, (), plan.settlement.shares, plan.accumulators, "settlement", meta
        )
        claim.close_when_settled_in_full(meta.occurred_at, meta.actor)
        return Outcome(
            KIND, claim, [claim, *moved], {"settlement": settlement_view(plan.settlement)}
        )

    def cancel_settlement(self, cmd: CancelSettlement, meta: Meta) -> Outcome:
        claim = self._claim(cmd.hospital, cmd.encounter_id)
        old = claim.settlement
        claim.cancel_settlement(cmd.reason, meta.occurred_at, meta.actor)
        assert old is not None
        moved = self.planner.move_accumulators(claim, old.shares, (), {}, "cancellation", meta)
        return Outcome(KIND, claim, [claim, *moved])

    def collect_copay(self, cmd: CollectCopay, meta: Meta) -> Outcome:
        claim = self._claim(cmd.hospital, cmd.encounter_id)
        claim.collect_copay(cmd.amount, meta.occurred_at, meta.actor)
        return Outcome(KIND, claim, [claim])

    def pay_remittance(self, cmd: PayRemittance, meta: Meta) -> Outcome:
        claim = self.ledger.find(Claim, cmd.claim_id)
        if claim is None or not insured_by(self.ledger, claim, meta.actor.partner_id):
            raise UnknownRecord(f"unknown claim {cmd.claim_id}")
        claim.pay_remittance(cmd.amount, meta.occurred_at, meta.actor)
        return Outcome(KIND, claim, [claim])
