"""Wiring: the application services over the one ledger."""

from __future__ import annotations

from dataclasses import dataclass

from application import claims as c
from application import reference as r
from application.claim_queries import ClaimQueries
from application.commands import CommandRunner
from application.complaint_commands import TransferComplaint, UrgeComplaint
from application.complaint_queries import ComplaintQueries
from application.complaints import ComplaintDesk
from application.disputes import DisputeDesk, DisputeQueries, PartnerStep
from application.gateway import PartnerEvents
from application.ledger import Ledger, ProofSource
from application.personal import Opener, PersonalData, Vault
from application.report_queries import ReportQueries
from application.reports import InvestigatorDirectory, ReportDesk, TransferReport
from application.routing import HandlerDirectory, StaticDirectory
from application.saving import Saver
from application.settling import SettlementPlanner
from domain.complaint_clock import ComplaintRules
from domain.dispute_rules import DisputeRules
from domain.report_clock import ReportRules


@dataclass(frozen=True)
class Services:
    """What the interfaces call."""

    ledger: Ledger
    events: PartnerEvents
    claims: ClaimQueries
    reference: r.ReferenceData
    personal: PersonalData
    complaints: ComplaintDesk
    complaint_queries: ComplaintQueries
    disputes: DisputeDesk
    dispute_queries: DisputeQueries


def build_services(
    ledger: Ledger,
    vault: Vault,
    max_attempts: int = 10,
    retention_days: dict[str, int] | None = None,
    proofs: ProofSource | None = None,
    directory: HandlerDirectory | None = None,
    complaint_rules: ComplaintRules = ComplaintRules(),  # frozen: one shared default is safe
    dispute_rules: DisputeRules | None = None,
) -> Services:
    planner = SettlementPlanner(ledger)
    claims = c.ClaimCommands(ledger, planner, vault)
    insurer = r.InsurerCommands(ledger, vault)
    saver = Saver(ledger, max_attempts)
    events = PartnerEvents(ledger, saver)
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
    handlers = directory or StaticDirectory()
    runner = CommandRunner(ledger, vault, saver)
    desk = ComplaintDesk(ledger, vault, handlers, runner, complaint_rules)
    events.register(TransferComplaint, desk.receive_transfer)
    events.register(UrgeComplaint, desk.urge_from_regulator)
    settle_rules = dispute_rules or DisputeRules()
    disputes = DisputeDesk(ledger, vault, runner, settle_rules)
    events.register(PartnerStep, disputes.partner_step)
    return Services(
        ledger=ledger,
        events=events,
        claims=ClaimQueries(ledger, planner, Opener(vault), proofs),
        reference=r.ReferenceData(ledger, runner),
        personal=PersonalData(ledger, vault, retention_days or {}, saver),
        complaints=desk,
        complaint_queries=ComplaintQueries(ledger, vault, handlers, complaint_rules, proofs),
        disputes=disputes,
        dispute_queries=DisputeQueries(ledger, vault, settle_rules, proofs),
    )


@dataclass(frozen=True)
class ReportServices:
    """Reports of misconduct (举报): the officers' desk and the reads."""

    desk: ReportDesk
    queries: ReportQueries


def build_report_services(
    services: Services,
    vault: Vault,
    rules: ReportRules,
    investigators: InvestigatorDirectory,
    max_attempts: int = 10,
    proofs: ProofSource | None = None,
) -> ReportServices:
    """The report services over the same ledger; 12378 transfers go through its gateway."""
    runner = CommandRunner(services.ledger, vault, Saver(services.ledger, max_attempts))
    desk = ReportDesk(services.ledger, vault, investigators, runner, rules)
    services.events.register(TransferReport, desk.receive_transfer)
    return ReportServices(desk, ReportQueries(services.ledger, vault, rules, proofs))
