"""Reference data (schemes, products) for admins; policies, offline claims and exposure from
the insurer. Every change is an event; versions are never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta, Outcome
from application.ledger import Ledger
from application.personal import Vault
from application.views import json_ready
from domain.accumulators import (
    DEDUCTIBLE_USED,
    LIMIT_USED,
    POLICY_YEAR,
    Accumulator,
    accumulator_id,
    policy_year_key,
)
from domain.codes import CodeList, all_codes, code_list_id
from domain.common import StaleVersion, UnknownRecord
from domain.exposure import Exposure, ExposureReport, exposure_stream_id
from domain.personal import Subject, subject_stream_id
from domain.policies import (
    InsuredIndex,
    Policy,
    PolicyIdTaken,
    insured_index_id,
    policy_stream_id,
)
from domain.reference import (
    LevelTerms,
    Product,
    Scheme,
    SchemeIndex,
    product_stream_id,
    scheme_index_id,
    scheme_stream_id,
)
from domain.settlement import ProductTerms


@dataclass(frozen=True)
class SchemeDraft:
    region: str
    person_type: str
    effective_from: date
    annual_cap: Decimal
    b_prepay_ratio: Decimal
    levels: dict[str, LevelTerms]


@dataclass(frozen=True)
class ProductDraft:
    effective_from: date
    terms: ProductTerms


@dataclass(frozen=True)
class IssuePolicy:
    policy_id: str
    product_code: str
    insured_id: str
    insured_name: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class CancelPolicy:
    policy_id: str
    effective: date


@dataclass(frozen=True)
class PayOfflineClaim:
    policy_id: str
    paid_at: date
    amount: Decimal
    deductible_applied: Decimal


@dataclass(frozen=True)
class ReportExposure:
    period: str
    line: str
    premium: Decimal
    policies: int
    insured_persons: int


class ReferenceData:
    """Schemes and products, edited by admins through PUT; each PUT records a new version."""

    def __init__(self, ledger: Ledger, runner: CommandRunner) -> None:
        self.ledger = ledger
        self.runner = runner

    def put_scheme(
        self,
        scheme_id: str,
        draft: SchemeDraft,
        meta: Meta,
        key: CommandKey | None = None,
        if_match: int | None = None,
    ) -> CommandResult:
        def attempt() -> Answer:
            scheme = self.ledger.find(Scheme, scheme_stream_id(scheme_id))
            _check_version(scheme, if_match)
            created = scheme is None
            if scheme is None:
                scheme = Scheme(scheme_id=scheme_id, occurred_at=meta.occurred_at, actor=meta.actor)
            version = scheme.add_version(
                draft.effective_from,
                draft.region,
                draft.person_type,
                draft.annual_cap,
                draft.b_prepay_ratio,
                draft.levels,
                meta.occurred_at,
                meta.actor,
            )
            index = self.ledger.find(
                SchemeIndex, scheme_index_id(draft.region, draft.person_type)
            ) or SchemeIndex(region=draft.region, person_type=draft.person_type)
            if scheme_id not in index.scheme_ids:
                index.list_scheme(scheme_id)
            body = {"scheme_id": scheme_id, **json_ready(version)}
            return Answer(
                [scheme, index, *self._catalogued(SCHEMES, scheme_id, meta)], created, body
            )

        return self.runner.run(key, attempt)

    def put_product(
        self,
        code: str,
        draft: ProductDraft,
        meta: Meta,
        key: CommandKey | None = None,
        if_match: int | None = None,
    ) -> CommandResult:
        def attempt() -> Answer:
            product = self.ledger.find(Product, product_stream_id(code))
            _check_version(product, if_match)
            created = product is None
            if product is None:
                product = Product(product_code=code, occurred_at=meta.occurred_at, actor=meta.actor)
            version = product.add_version(
                draft.effective_from, draft.terms, meta.occurred_at, meta.actor
            )
            body = {"product_code": code, **product_version_view(version)}
            return Answer([product, *self._catalogued(PRODUCTS, code, meta)], created, body)

        return self.runner.run(key, attempt)

    def put_code(
        self, kind: str, code: str, name: str, meta: Meta, key: CommandKey | None = None
    ) -> CommandResult:
        """Add a code to a code list, or rename one (created when new)."""

        def attempt() -> Answer:
            codes = self.ledger.find(CodeList, code_list_id(kind)) or CodeList(kind=kind)
            known = all_codes(kind, codes)
            codes.put(code, name, meta.occurred_at, meta.actor)
            return Answer([codes], code not in known, {"code": code, "name": name})

        return self.runner.run(key, attempt)

    def codes(self, kind: str) -> dict[str, Any]:
        recorded = self.ledger.find(CodeList, code_list_id(kind))
        return {
            "kind": kind,
            "codes": [{"code": c, "name": n} for c, n in all_codes(kind, recorded).items()],
        }

    def _catalogued(self, kind: str, code: str, meta: Meta) -> list[CodeList]:
        """The catalogue of scheme ids or product codes, with `code` added if it is new (the
        list reads name every scheme and product without scanning the log)."""
        catalogue = self.ledger.find(CodeList, code_list_id(kind)) or CodeList(kind=kind)
        if code in catalogue.codes:
            return []
        catalogue.put(code, code, meta.occurred_at, meta.actor)
        return [catalogue]

    def scheme(self, scheme_id: str) -> dict[str, Any]:
        scheme = self.ledger.get(Scheme, scheme_stream_id(scheme_id), f"no scheme {scheme_id!r}")
        return {
            "scheme_id": scheme_id,
            "version": latest_version(scheme),
            "versions": [json_ready(v) for v in scheme.versions],
        }

    def product(self, code: str) -> dict[str, Any]:
        product = self.ledger.get(Product, product_stream_id(code), f"no product {code!r}")
        return {
            "product_code": code,
            "version": latest_version(product),
            "versions": [product_version_view(v) for v in product.versions],
        }

    def schemes(self) -> dict[str, Any]:
        """Every scheme id with its latest version's number, region, person type and date."""
        listed = []
        for scheme_id in sorted(self._catalogue(SCHEMES)):
            scheme = self.ledger.find(Scheme, scheme_stream_id(scheme_id))
            if scheme is None or not scheme.versions:
                continue
            last = scheme.versions[-1]
            listed.append(
                {
                    "code": scheme_id,
                    "version": last.version,
                    "region": last.region,
                    "person_type": last.person_type,
                    "effective_from": last.effective_from.isoformat(),
                }
            )
        return {"kind": SCHEMES, "codes": listed}

    def products(self) -> dict[str, Any]:
        """Every product code with its latest version's number and effective date."""
        listed = []
        for code in sorted(self._catalogue(PRODUCTS)):
            product = self.ledger.find(Product, product_stream_id(code))
            if product is None or not product.versions:
                continue
            last = product.versions[-1]
            listed.append(
                {
                    "code": code,
                    "version": last.version,
                    "effective_from": last.effective_from.isoformat(),
                }
            )
        return {"kind": PRODUCTS, "codes": listed}

    def _catalogue(self, kind: str) -> list[str]:
        recorded = self.ledger.find(CodeList, code_list_id(kind))
        return list(recorded.codes) if recorded is not None else []


SCHEMES = "schemes"
PRODUCTS = "products"


def latest_version(record: Scheme | Product) -> int:
    """The number of the latest listed version (what `version` and the ETag name): the
    record's own event count is one more (its creation), which readers never see."""
    return record.versions[-1].version if record.versions else 0


def _check_version(record: Scheme | Product | None, if_match: int | None) -> None:
    """If-Match names the version the writer last read; anything else is stale (412)."""
    if if_match is not None and (record is None or latest_version(record) != if_match):
        raise StaleVersion("the record changed since it was read; read it again")


def product_version_view(version: Any) -> dict[str, Any]:
    terms = json_ready(version.terms)
    return {
        "version": version.version,
        "effective_from": version.effective_from.isoformat(),
        **terms,
    }


class InsurerCommands:
    """Handlers of the insurer's policy, offline-claim and exposure events."""

    def __init__(self, ledger: Ledger, vault: Vault) -> None:
        self.ledger = ledger
        self.vault = vault

    def issue_policy(self, cmd: IssuePolicy, meta: Meta) -> Outcome:
        self.ledger.require(
            Product, product_stream_id(cmd.product_code), f"product {cmd.product_code!r}"
        )
        ref = self.vault.ref(cmd.insured_id)
        policy = self.ledger.find(Policy, policy_stream_id(cmd.policy_id))
        if policy is not None:
            if not policy.issued_by(meta.actor.partner_id):
                raise PolicyIdTaken(
                    f"policy id {cmd.policy_id!r} is not available: policy ids are unique "
                    "across insurers (prefix yours with your partner id)"
                )
            policy.amend(
                cmd.product_code,
                ref,
                self.vault.seal(ref, cmd.insured_name),
                cmd.period_start,
                cmd.period_end,
                meta.occurred_at,
                meta.actor,
            )
            return Outcome("policies", policy, [policy])
        policy = Policy(
            policy_id=cmd.policy_id,
            product_code=cmd.product_code,
            insured_ref=ref,
            insured_id=self.vault.seal(ref, cmd.insured_id),
            insured_name=self.vault.seal(ref, cmd.insured_name),
            period_start=cmd.period_start,
            period_end=cmd.period_end,
            occurred_at=meta.occurred_at,
            actor=meta.actor,
        )
        index = self.ledger.find(InsuredIndex, insured_index_id(ref)) or InsuredIndex(
            person_ref=ref
        )
        index.list_policy(cmd.policy_id)
        subject = self.ledger.find(Subject, subject_stream_id(ref)) or Subject(ref=ref)
        subject.list_record("policies", policy.id)
        return Outcome("policies", policy, [policy, index, subject])

    def _own_policy(self, policy_id: str, meta: Meta) -> Policy:
        """The caller's policy; another insurer's is unknown, exactly like a missing one."""
        return own_policy(self.ledger, policy_id, meta.actor.partner_id)

    def cancel_policy(self, cmd: CancelPolicy, meta: Meta) -> Outcome:
        policy = self._own_policy(cmd.policy_id, meta)
        policy.cancel(cmd.effective, meta.occurred_at, meta.actor)
        return Outcome("policies", policy, [policy])

    def pay_offline_claim(self, cmd: PayOfflineClaim, meta: Meta) -> Outcome:
        policy = self._own_policy(cmd.policy_id, meta)
        policy.record_offline_claim(
            cmd.paid_at, cmd.amount, cmd.deductible_applied, meta.occurred_at, meta.actor
        )
        key = policy_year_key(policy.policy_id, policy.policy_year_start(cmd.paid_at))
        acc = self.ledger.find(Accumulator, accumulator_id(POLICY_YEAR, key)) or Accumulator(
            kind=POLICY_YEAR, key=key
        )
        acc.move(
            {DEDUCTIBLE_USED: cmd.deductible_applied, LIMIT_USED: cmd.amount},
            policy.id,
            "offline_claim",
            meta.occurred_at,
            meta.actor,
        )
        return Outcome("policies", policy, [policy, acc])

    def report_exposure(self, cmd: ReportExposure, meta: Meta) -> Outcome:
        insurer = meta.actor.partner_id  # each insurer states (and restates) its own
        report = self._exposure_record(cmd.period, cmd.line, insurer)
        report.report(
            Exposure(cmd.premium, cmd.policies, cmd.insured_persons), meta.occurred_at, meta.actor
        )
        return Outcome("exposures", report, [report])

    def _exposure_record(self, period: str, line: str, insurer: str | None) -> ExposureReport:
        """The insurer's record for the period and line. A shared record stored before
        exposure belonged to its insurer is restated in place by the insurer that reported it,
        so the statistics never count the old figure beside the new one."""
        for stream in (exposure_stream_id(period, line, insurer), exposure_stream_id(period, line)):
            found = self.ledger.find(ExposureReport, stream)
            if found is not None and found.restated_by(insurer):
                return found
        return ExposureReport(period=period, line=line, insurer=insurer)


def own_policy(ledger: Ledger, policy_id: str, insurer: str | None) -> Policy:
    """The insurer's own policy; another insurer's answers as a missing one does."""
    policy = ledger.find(Policy, policy_stream_id(policy_id))
    if policy is None or not policy.issued_by(insurer):
        raise UnknownRecord(f"unknown policy {policy_id!r}")
    return policy
