"""Reads of claims: state (with time travel), history, preview, re-adjudication, statements."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.claims import insured_by
from application.history import DecodedStates, events_json, history_entries, history_json
from application.ledger import Ledger, NotFound, ProofSource, Reads
from application.personal import Opener
from application.settling import SettlementPlanner
from application.views import (
    json_ready,
    money,
    rfc3339,
    settlement_view,
    with_proofs,
)
from domain.claims import Claim, Settlement, claim_id
from domain.common import ZERO, cst_date
from domain.dispute_links import DisputeLinks, links_id
from domain.personal import ERASED
from domain.reference import Product, Scheme, find_version, product_stream_id, scheme_stream_id
from domain.settlement import calculate

STATEMENT_TOPICS = tuple(
    get_topic(cls)
    for cls in (
        Claim.SettlementCalculated,
        Claim.SettlementAdjusted,
        Claim.SettlementCancelled,
        Claim.RemittancePaid,
    )
)


@dataclass(frozen=True)
class ClaimView:
    """A claim as a reader sees it, with its version (the ETag)."""

    version: int
    body: dict[str, Any]


def claim_view(claim: Claim, opener: Opener) -> ClaimView:
    """The claim's state as the API shows it, personal values opened for the reader."""
    # The patient and the diagnoses opened together: one key look-up.
    personal = opener.reveal(
        {"id": claim.patient_id, "name": claim.patient_name, "diagnoses": claim.diagnoses}
    )
    diagnoses = personal.pop("diagnoses") or "[]"
    body = {
        "id": str(claim.id),
        "version": claim.version,
        "hospital": claim.hospital,
        "encounter_id": claim.encounter_id,
        "patient": personal,
        "region": claim.region,
        "person_type": claim.person_type,
        "hospital_level": claim.hospital_level,
        "social_insurance": claim.social_insurance,
        "admitted_at": rfc3339(claim.admitted_at),
        "policy_id": claim.policy_id,
        "diagnoses": json.loads(diagnoses) if diagnoses != ERASED else ERASED,
        "status": claim.status,
        "lines": [
            {**json_ready(line), "reversed": line.line_id in claim.reversed}
            for line in claim.lines.values()
        ],
        "discharged_at": json_ready(claim.discharged_at),
        "social_insurance_result": json_ready(claim.platform_result),
        "settlement": settlement_view(claim.settlement) if claim.settlement else None,
        "settled_at": json_ready(claim.settled_at),
        "collected": money(claim.collected),
        "remitted": money(claim.remitted),
        "patient_outstanding": money(claim.patient_outstanding),
        "commercial_outstanding": money(claim.commercial_outstanding),
        "closed_at": json_ready(claim.closed_at),
        "created_at": rfc3339(claim.created_on),
        "updated_at": rfc3339(claim.modified_on),
    }
    return ClaimView(claim.version, body)


class ClaimQueries:
    """Read side of claims; `hospital` scopes a hospital principal to its own encounters,
    `insurer` an insurer to the claims under its policies (`application.claims.insured_by`)."""

    def __init__(
        self,
        ledger: Ledger,
        planner: SettlementPlanner,
        opener: Opener,
        proofs: ProofSource | None = None,
    ) -> None:
        self.ledger = ledger
        self.planner = planner
        self.opener = opener
        self.proofs = proofs
        self.decoded = DecodedStates()  # the history's decodings, remembered

    def view(
        self,
        cid: UUID,
        hospital: str | None,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
        insurer: str | None = None,
    ) -> ClaimView:
        """The claim as the reader may see it (then, with time travel), with its disputes."""
        reads = Reads(self.ledger)
        reads.prefetch(cid, links_id("claim", str(cid)))  # the claim and its links: one read
        current = self._visible(cid, hospital, insurer, reads.get(Claim, cid))
        claim = self.ledger.then(current, as_of_version, as_of, "claim")
        view = claim_view(claim, self.opener)
        links = reads.get(DisputeLinks, links_id("claim", str(cid)))
        view.body["disputes"] = [str(d) for d in links.disputes] if links else []
        return view

    def get(
        self,
        cid: UUID,
        hospital: str | None,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> Claim:
        """The claim (then, with time travel); NotFound when absent or not the caller's."""
        return self.ledger.then(self._visible(cid, hospital), as_of_version, as_of, "claim")

    def by_encounter(
        self, hospital: str, encounter_id: str, insurer: str | None = None
    ) -> list[ClaimView]:
        claim = self.ledger.find(Claim, claim_id(hospital, encounter_id))
        if claim is None or (insurer is not None and not insured_by(self.ledger, claim, insurer)):
            return []
        return [claim_view(claim, self.opener)]

    def history(
        self, cid: UUID, hospital: str | None, proofs: bool = False, insurer: str | None = None
    ) -> list[dict[str, Any]]:
        """Every event in order; with `proofs`, each sealed one's inclusion proof."""
        rows = self.ledger.positions.positioned(cid)
        self._admit(cid, hospital, insurer, rows[0][0] if rows else None)
        entries = history_entries(self.ledger, rows, self.opener, self.decoded)
        return with_proofs(entries, self.proofs) if proofs else entries

    def history_json(
        self, cid: UUID, hospital: str | None, proofs: bool = False, insurer: str | None = None
    ) -> bytes:
        """`{"events": history}` as the response's bytes (remembered entries copied in as
        the JSON they were remembered as, their states not fetched)."""
        if proofs:
            return events_json(self.history(cid, hospital, proofs, insurer))
        admit = partial(self._admit, cid, hospital, insurer)
        return history_json(self.ledger, cid, self.opener, self.decoded, admit)

    def _admit(
        self, cid: UUID, hospital: str | None, insurer: str | None, first: StoredEvent | None
    ) -> None:
        """NotFound unless the reader may see the claim (`first`: its first stored event)."""
        if insurer is None:
            # Whose claim it is (its hospital) is fixed at admission: the first event tells.
            self._theirs(self.ledger.replay([first] if first else []), hospital)
        else:  # the policy, and so the insurer, may change later: the whole claim
            self._visible(cid, hospital, insurer)

    def preview(
        self, cid: UUID, hospital: str | None, insurer: str | None = None
    ) -> dict[str, Any]:
        """The split if discharged now; nothing is recorded."""
        claim = self._visible(cid, hospital, insurer)
        plan = self.planner.plan(claim, exclude_own=claim.settlement is not None)
        return {"claim_id": str(cid), "preview": True, **settlement_view(plan.settlement)}

    def verify(self, cid: UUID, hospital: str | None, insurer: str | None = None) -> dict[str, Any]:
        """Recompute every recorded settlement from history with the versions it recorded."""
        self._visible(cid, hospital, insurer)
        checks = []
        for event in self.ledger.stream(cid):
            if not isinstance(event, Claim.SettlementCalculated | Claim.SettlementAdjusted):
                continue
            before = self.ledger.find(Claim, cid, version=event.originator_version - 1)
            assert before is not None
            checks.append(self._check(before, event.settlement, event.originator_version))
        return {
            "claim_id": str(cid),
            "matches": all(c["matches"] for c in checks) if checks else False,
            "settlements": checks,
        }

    def _check(self, before: Claim, recorded: Settlement, version: int) -> dict[str, Any]:
        inputs = recorded.inputs
        versions = recorded.versions
        scheme_terms = None
        if versions.scheme_id is not None and versions.scheme_version is not None:
            scheme = self.ledger.find(Scheme, scheme_stream_id(versions.scheme_id))
            scheme_version = (
                find_version(scheme.versions, versions.scheme_version) if scheme else None
            )
            scheme_terms = scheme_version.terms(before.hospital_level) if scheme_version else None
        product_terms = None
        if versions.product_code is not None and versions.product_version is not None:
            product = self.ledger.find(Product, product_stream_id(versions.product_code))
            if product is not None:
                product_terms = find_version(product.versions, versions.product_version).terms
        rebuilt = replace(
            inputs,
            lines=before.active_lines,
            social_insurance=before.social_insurance,
            scheme=scheme_terms,
            product=product_terms,
            platform_fund_paid=before.platform_fund_paid,
        )
        recomputed = calculate(rebuilt)
        differences = [
            name
            for name in recorded.split.__dataclass_fields__
            if getattr(recorded.split, name) != getattr(recomputed, name)
        ]
        if rebuilt != inputs:
            differences.append("inputs")
        return {
            "version": version,
            "matches": not differences,
            "differences": differences,
            "recorded": settlement_view(recorded),
            "recomputed": settlement_view(replace(recorded, split=recomputed, inputs=rebuilt)),
        }

    def statement(self, hospital: str, day: date, insurer: str | None = None) -> dict[str, Any]:
        """The day's settlements, adjustments, cancellations and remittances (CST, occurred_at);
        for an insurer, those of the claims under its policies only."""
        items: list[dict[str, Any]] = []
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        counts: dict[str, int] = defaultdict(int)
        encounters: dict[UUID, str | None] = {}  # None: another insurer's claim
        for event in self.ledger.scan(STATEMENT_TOPICS):
            if event.hospital != hospital or cst_date(event.occurred_at) != day:
                continue
            cid = event.originator_id
            if cid not in encounters:
                claim = self.ledger.find(Claim, cid)
                theirs = insurer is None or (
                    claim is not None and insured_by(self.ledger, claim, insurer)
                )
                encounters[cid] = (claim.encounter_id if claim else "") if theirs else None
            if encounters[cid] is None:
                continue
            kind = type(event).__qualname__.rsplit(".", 1)[-1]
            amounts = _statement_amounts(event)
            for name, amount in amounts.items():
                totals[f"{kind}.{name}"] += amount
            counts[kind] += 1
            items.append(
                {
                    "type": kind,
                    "claim_id": str(cid),
                    "encounter_id": encounters[cid],
                    "version": event.originator_version,
                    "occurred_at": rfc3339(event.occurred_at),
                    **{name: money(amount) for name, amount in amounts.items()},
                }
            )
        return {
            "hospital": hospital,
            "date": day.isoformat(),
            "items": items,
            "counts": dict(counts),
            "totals": _statement_totals(totals),
        }

    def _visible(
        self,
        cid: UUID,
        hospital: str | None,
        insurer: str | None = None,
        found: Claim | None = None,
    ) -> Claim:
        """The claim (`found` when the caller has read it), if the reader may see it."""
        claim = self._theirs(found if found is not None else self.ledger.find(Claim, cid), hospital)
        if insurer is not None and not insured_by(self.ledger, claim, insurer):
            raise NotFound("no such claim")
        return claim

    @staticmethod
    def _theirs(claim: Any, hospital: str | None) -> Claim:
        """The claim, when it is one and the hospital's (any hospital's when None)."""
        if not isinstance(claim, Claim) or (hospital is not None and claim.hospital != hospital):
            raise NotFound("no such claim")
        return claim


def _statement_amounts(event: Any) -> dict[str, Decimal]:
    if isinstance(event, Claim.SettlementCalculated):
        split = event.settlement.split
    elif isinstance(event, Claim.SettlementAdjusted):
        return {
            "medfee": event.delta["medfee"],
            "social_insurance_paid": event.delta["social_insurance_paid"],
            "commercial_paid": event.delta["commercial_paid"],
            "patient_pays": event.delta["patient_pays"],
        }
    elif isinstance(event, Claim.SettlementCancelled):
        split = event.returned
    else:
        return {"amount": event.amount}
    return {
        "medfee": split.medfee,
        "social_insurance_paid": split.si_paid,
        "commercial_paid": split.commercial,
        "patient_pays": split.patient_pays,
    }


def _statement_totals(totals: dict[str, Decimal]) -> dict[str, str]:
    """Net figures: settled + adjustments − cancellations, and the remittances received."""
    net = {}
    for name in ("medfee", "social_insurance_paid", "commercial_paid", "patient_pays"):
        net[name] = money(
            totals[f"SettlementCalculated.{name}"]
            + totals[f"SettlementAdjusted.{name}"]
            - totals[f"SettlementCancelled.{name}"]
        )
    net["remitted"] = money(totals["RemittancePaid.amount"])
    return net
