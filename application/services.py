"""Wiring: the application services over the one ledger."""

from __future__ import annotations

from dataclasses import dataclass

from application import claims as c
from application import reference as r
from application.claim_queries import ClaimQueries
from application.commands import CommandRunner
from application.gateway import PartnerEvents
from application.ledger import Ledger, ProofSource
from application.personal import Opener, PersonalData, Vault
from application.settling import SettlementPlanner


@dataclass(frozen=True)
class Services:
    """What the interfaces call."""

    ledger: Ledger
    events: PartnerEvents
    claims: ClaimQueries
    reference: r.ReferenceData
    personal: PersonalData


def build_services(
    ledger: Ledger,
    vault: Vault,
    max_attempts: int = 10,
    retention_days: dict[str, int] | None = None,
    proofs: ProofSource | None = None,
) -> Services:
    planner = SettlementPlanner(ledger)
    claims = c.ClaimCommands(ledger, planner, vault)
    insurer = r.InsurerCommands(ledger, vault)
    events = PartnerEvents(ledger, max_attempts=max_attempts)
    events.register(c.RegisterAdmission, claims.admit)
    events.register(c.PostCharges, claims.post_charges)
    events.register(c.ReverseCharges, claims.reverse_charges)
    events.register(c.NamePolicy, claims.name_policy)
    events.register(c.Discharge, claims.discharge)
    events.register(c.CancelSettlement, claims.cancel_settlement)
    events.register(c.CollectCopay, claims.collect_copay)
    events.register(c.PayRemittance, claims.pay_remittance)
    events.register(r.IssuePolicy, insurer.issue_policy)
    events.register(r.CancelPolicy, insurer.cancel_policy)
    events.register(r.PayOfflineClaim, insurer.pay_offline_claim)
    events.register(r.ReportExposure, insurer.report_exposure)
    return Services(
        ledger=ledger,
        events=events,
        claims=ClaimQueries(ledger, planner, Opener(vault), proofs),
        reference=r.ReferenceData(ledger, CommandRunner(ledger, max_attempts)),
        personal=PersonalData(ledger, vault, retention_days or {}, max_attempts),
    )
