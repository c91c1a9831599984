"""Finding the reference data and accumulators a settlement needs, and moving accumulators.

Pure arithmetic lives in domain.settlement; this module only gathers its inputs and turns
the result into accumulator movements saved atomically with the claim.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from application import batch_scope
from application.gateway import Meta
from application.ledger import Ledger, Reads
from domain.accumulators import (
    DEDUCTIBLE_USED,
    FUND_PAID,
    LIMIT_USED,
    POLICY_YEAR,
    SI_FUND,
    Accumulator,
    accumulator_id,
    fund_key,
    policy_year_key,
)
from domain.claims import Claim, ReferenceVersions, Settlement, Share
from domain.common import ZERO, cst_date
from domain.policies import InsuredIndex, Policy, insured_index_id, policy_stream_id
from domain.reference import (
    NoSchemeInForce,
    Product,
    Scheme,
    SchemeIndex,
    SchemeVersion,
    product_stream_id,
    scheme_index_id,
    scheme_stream_id,
)
from domain.settlement import ProductTerms, SchemeTerms, SettlementInputs, calculate


@dataclass
class Plan:
    """A settlement computed now, with the accumulators it reads (loaded or new)."""

    settlement: Settlement
    accumulators: dict[UUID, Accumulator]


@dataclass(frozen=True)
class CommercialCover:
    """The policy and product version that cover an admission, or why there is none."""

    policy: Policy | None
    product_version: int | None
    terms: ProductTerms | None
    reason: str | None


class SettlementPlanner:
    """Gathers reference data and accumulator totals for the settlement rule."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        # The scheme ids each scheme index named when last read. Only a guess of what to
        # fetch together with the index (one round trip instead of two); the index itself
        # is always read, and a scheme it names that was not guessed is fetched after it.
        self._schemes_named: dict[UUID, tuple[str, ...]] = {}

    def with_schemes(self, index_id: UUID) -> list[UUID]:
        """The index and the scheme streams it named last time, to prefetch together."""
        return [index_id, *(scheme_stream_id(s) for s in self._schemes_named.get(index_id, ()))]

    def scheme_for(
        self, region: str, person_type: str, on: date, reads: Reads | None = None
    ) -> tuple[str, SchemeVersion]:
        """The scheme version in force for a region and person type on a date."""
        # Within a batch every event of a region looks the same scheme up: once is enough.
        scope = batch_scope.current()
        memo = ("scheme in force", region, person_type, on)
        if scope is not None and (known := scope.recall(memo)) is not None:
            found: tuple[str, SchemeVersion] = known
            return found
        reads = reads or Reads(self.ledger)
        index_id = scheme_index_id(region, person_type)
        reads.prefetch(*self.with_schemes(index_id))
        index = reads.get(SchemeIndex, index_id)
        scheme_ids = index.scheme_ids if index else []
        if index is not None:  # the keys come from partners: only remember real indexes
            self._schemes_named[index_id] = tuple(scheme_ids)
        reads.prefetch(*(scheme_stream_id(s) for s in scheme_ids))
        best: tuple[str, SchemeVersion] | None = None
        for scheme_id in scheme_ids:
            scheme = reads.get(Scheme, scheme_stream_id(scheme_id))
            version = scheme.in_force(on) if scheme else None
            if version is None or (version.region, version.person_type) != (region, person_type):
                continue
            if best is None or (version.effective_from, version.version) > (
                best[1].effective_from,
                best[1].version,
            ):
                best = (scheme_id, version)
        if scope is not None and best is not None:
            scope.remember(memo, best, [index_id, *(scheme_stream_id(s) for s in scheme_ids)])
        if best is None:
            raise NoSchemeInForce(
                f"no social-insurance scheme for region {region} and person type "
                f"{person_type} on {on.isoformat()}"
            )
        return best

    def scheme_terms(
        self,
        region: str,
        person_type: str,
        hospital_level: int,
        on: date,
        reads: Reads | None = None,
    ) -> tuple[str, SchemeVersion, SchemeTerms]:
        """The scheme in force and its terms for the hospital level; NoSchemeInForce if none."""
        scheme_id, version = self.scheme_for(region, person_type, on, reads)
        terms = version.terms(hospital_level)
        if terms is None:
            raise NoSchemeInForce(
                f"scheme {scheme_id} has no terms for hospital level {hospital_level}"
            )
        return scheme_id, version, terms

    def cover_for(self, claim: Claim, reads: Reads) -> CommercialCover:
        """The active policy for the admission date: named, or found by the insured person."""
        day = cst_date(claim.admitted_at)
        if claim.policy_id is not None:
            policy = reads.get(Policy, policy_stream_id(claim.policy_id))
            if policy is None or not policy.covers(day):
                return CommercialCover(None, None, None, "policy_not_in_force")
            if policy.insured_ref != claim.patient_ref:
                return CommercialCover(None, None, None, "policy_insured_mismatch")
            return self._with_product(policy, day, reads)
        index = reads.get(InsuredIndex, insured_index_id(claim.patient_ref))
        policy_ids = [policy_stream_id(pid) for pid in (index.policy_ids if index else [])]
        reads.prefetch(*policy_ids)
        active = [
            policy
            for pid in policy_ids
            if (policy := reads.get(Policy, pid)) is not None and policy.covers(day)
        ]
        if not active:
            return CommercialCover(None, None, None, "no_policy")
        if len(active) > 1:
            return CommercialCover(None, None, None, "ambiguous_policy")
        return self._with_product(active[0], day, reads)

    def _with_product(self, policy: Policy, day: date, reads: Reads) -> CommercialCover:
        year = policy_year_key(policy.policy_id, policy.policy_year_start(day))
        reads.prefetch(product_stream_id(policy.product_code), accumulator_id(POLICY_YEAR, year))
        product = reads.get(Product, product_stream_id(policy.product_code))
        version = product.in_force(day) if product else None
        if version is None:
            return CommercialCover(None, None, None, "no_product_terms")
        return CommercialCover(policy, version.version, version.terms, None)

    def plan(self, claim: Claim, exclude_own: bool) -> Plan:
        """Compute the settlement as if settled now; `exclude_own` removes the claim's share."""
        day = cst_date(claim.admitted_at)
        own = _grouped(claim.settlement.shares) if exclude_own and claim.settlement else {}
        accumulators: dict[UUID, Accumulator] = {}
        fund_id = accumulator_id(SI_FUND, fund_key(claim.patient_ref, day.year))
        reads = Reads(self.ledger)
        scheme_index = scheme_index_id(claim.region, claim.person_type)
        insured_index = insured_index_id(claim.patient_ref)
        reads.prefetch(
            *self.with_schemes(scheme_index),
            fund_id,
            policy_stream_id(claim.policy_id) if claim.policy_id else insured_index,
        )
        # Second round trip: the schemes the index names that were not guessed, and the
        # policies the insured index names (none when this person has no policy).
        schemes = reads.get(SchemeIndex, scheme_index)
        insured = None if claim.policy_id else reads.get(InsuredIndex, insured_index)
        reads.prefetch(
            *(scheme_stream_id(s) for s in (schemes.scheme_ids if schemes else [])),
            *(policy_stream_id(p) for p in (insured.policy_ids if insured else [])),
        )

        def baseline(kind: str, key: str, field: str) -> tuple[UUID, Decimal]:
            acc_id = accumulator_id(kind, key)
            acc = accumulators.get(acc_id) or reads.get(Accumulator, acc_id)
            accumulators[acc_id] = acc or Accumulator(kind=kind, key=key)
            return acc_id, accumulators[acc_id].total(field) - own.get((acc_id, field), ZERO)

        scheme_terms: SchemeTerms | None = None
        versions = ReferenceVersions()
        fund_paid = ZERO
        if claim.social_insurance:
            scheme_id, scheme_version, scheme_terms = self.scheme_terms(
                claim.region, claim.person_type, claim.hospital_level, day, reads
            )
            versions = ReferenceVersions(scheme_id=scheme_id, scheme_version=scheme_version.version)
            _, fund_paid = baseline(SI_FUND, fund_key(claim.patient_ref, day.year), FUND_PAID)

        cover = self.cover_for(claim, reads)
        deductible_used = limit_used = ZERO
        year_id: UUID | None = None
        if cover.policy is not None:
            policy = cover.policy
            key = policy_year_key(policy.policy_id, policy.policy_year_start(day))
            year_id, deductible_used = baseline(POLICY_YEAR, key, DEDUCTIBLE_USED)
            _, limit_used = baseline(POLICY_YEAR, key, LIMIT_USED)
            versions = ReferenceVersions(
                scheme_id=versions.scheme_id,
                scheme_version=versions.scheme_version,
                product_code=policy.product_code,
                product_version=cover.product_version,
                policy_id=policy.policy_id,
                policy_version=policy.version,
            )

        inputs = SettlementInputs(
            lines=claim.active_lines,
            social_insurance=claim.social_insurance,
            scheme=scheme_terms,
            product=cover.terms,
            fund_paid_this_year=fund_paid,
            deductible_used=deductible_used,
            limit_used=limit_used,
            platform_fund_paid=claim.platform_fund_paid,
            no_policy_reason=cover.reason,
        )
        split = calculate(inputs)
        shares: list[Share] = []
        if claim.social_insurance:
            shares.append(Share(fund_id, FUND_PAID, split.si_paid))
        if year_id is not None:
            shares.append(Share(year_id, DEDUCTIBLE_USED, split.c_deduct))
            shares.append(Share(year_id, LIMIT_USED, split.commercial))
        return Plan(Settlement(split, inputs, versions, tuple(shares)), accumulators)

    def move_accumulators(
        self,
        claim: Claim,
        old: tuple[Share, ...],
        new: tuple[Share, ...],
        loaded: dict[UUID, Accumulator],
        reason: str,
        meta: Meta,
    ) -> list[Accumulator]:
        """Apply `new − old` to each accumulator; returns those that moved."""
        deltas: dict[UUID, dict[str, Decimal]] = defaultdict(dict)
        before, after = _grouped(old), _grouped(new)
        for acc_id, field in before.keys() | after.keys():
            delta = after.get((acc_id, field), ZERO) - before.get((acc_id, field), ZERO)
            if delta != ZERO:
                deltas[acc_id][field] = delta
        moved = []
        for acc_id, fields in sorted(deltas.items()):
            acc = loaded.get(acc_id) or self.ledger.require(Accumulator, acc_id, "accumulator")
            acc.move(dict(sorted(fields.items())), claim.id, reason, meta.occurred_at, meta.actor)
            moved.append(acc)
        return moved


def _grouped(shares: tuple[Share, ...]) -> dict[tuple[UUID, str], Decimal]:
    totals: dict[tuple[UUID, str], Decimal] = defaultdict(lambda: ZERO)
    for share in shares:
        totals[(share.accumulator_id, share.field)] += share.amount
    return dict(totals)
