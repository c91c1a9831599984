"""Wiring: the application services over the one ledger."""

from __future__ import annotations

from dataclasses import dataclass

from application import claims as c
from application import disputes as d
from application import reference as r
from application.claim_queries import ClaimQueries
from application.commands import CommandRunner
from application.complaint_commands import TransferComplaint, UrgeComplaint
from application.complaint_queries import ComplaintQueries
from application.complaints import ComplaintDesk
from application.education import EducationDesk, EducationQueries
from application.gateway import PartnerEvents
from application.knowledge import (
    AskLog,
    KnowledgeDesk,
    KnowledgeQueries,
    KnowledgeReference,
    PublishedSet,
)
from application.ledger import Ledger, ProofSource
from application.personal import Opener, PersonalData, Vault
from application.rectification import RectificationDesk
from application.rectification_queries import RectificationQueries
from application.report_queries import ReportQueries
from application.reports import InvestigatorDirectory, ReportDesk, TransferReport
from application.routing import HandlerDirectory, StaticDirectory
from application.saving import Saver
from application.settling import SettlementPlanner
from domain.complaint_clock import ComplaintRules
from domain.dispute_rules import DisputeRules
from domain.knowledge import SearchRules
from domain.rectification import RectificationRules
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
    disputes: d.DisputeDesk
    dispute_queries: d.DisputeQueries
    education: EducationDesk
    education_queries: EducationQueries
    rectifications: RectificationDesk
    rectification_queries: RectificationQueries


def build_services(
    ledger: Ledger,
    vault: Vault,
    max_attempts: int = 10,
    retention_days: dict[str, int] | None = None,
    proofs: ProofSource | None = None,
    directory: HandlerDirectory | None = None,
    complaint_rules: ComplaintRules = ComplaintRules(),  # frozen: one shared default is safe
    *,
    dispute_rules: DisputeRules,
    rectification_rules: RectificationRules = RectificationRules(),  # frozen: safe to share
) -> Services:
    planner = SettlementPlanner(ledger)
    claims = c.ClaimCommands(ledger, planner, vault)
    insurer = r.InsurerCommands(ledger, vault)
    saver = Saver(ledger, max_attempts)
    events = PartnerEvents(ledger, saver, vault.load_keys)
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
    disputes = d.DisputeDesk(ledger, vault, runner, dispute_rules, handlers)
    events.register(d.AcceptMediation, disputes.accept_mediation)
    events.register(d.HoldSession, disputes.hold_session)
    events.register(d.SignAgreement, disputes.sign_agreement)
    events.register(d.FailMediation, disputes.fail_mediation)
    events.register(d.AcceptArbitration, disputes.accept_arbitration)
    events.register(d.HoldHearing, disputes.hold_hearing)
    events.register(d.IssueAward, disputes.issue_award)
    events.register(d.AcceptConfirmation, disputes.accept_confirmation)
    events.register(d.GrantConfirmation, disputes.grant_confirmation)
    events.register(d.RejectConfirmation, disputes.reject_confirmation)
    events.register(d.ApplyEnforcement, disputes.apply_enforcement)
    events.register(d.RecordEnforced, disputes.record_enforced)
    return Services(
        ledger=ledger,
        events=events,
        claims=ClaimQueries(ledger, planner, Opener(vault), proofs),
        reference=r.ReferenceData(ledger, runner),
        personal=PersonalData(ledger, vault, retention_days or {}, saver),
        complaints=desk,
        complaint_queries=ComplaintQueries(ledger, vault, handlers, complaint_rules, proofs),
        disputes=disputes,
        dispute_queries=d.DisputeQueries(ledger, vault, dispute_rules, proofs),
        education=EducationDesk(ledger, runner),
        education_queries=EducationQueries(ledger, proofs),
        rectifications=RectificationDesk(ledger, runner, rectification_rules),
        rectification_queries=RectificationQueries(ledger, proofs),
    )


@dataclass(frozen=True)
class Knowledge:
    """The knowledge base's services (built beside `Services`: they need this process's
    copy of the published set)."""

    desk: KnowledgeDesk
    queries: KnowledgeQueries
    reference: KnowledgeReference
    log: AskLog


def build_knowledge(
    ledger: Ledger,
    vault: Vault,
    published: PublishedSet,
    rules: SearchRules,
    default_synonyms: dict[str, tuple[str, ...]],
    max_attempts: int = 10,
    proofs: ProofSource | None = None,
) -> Knowledge:
    runner = CommandRunner(ledger, vault, Saver(ledger, max_attempts))
    log = AskLog()
    return Knowledge(
        desk=KnowledgeDesk(ledger, runner),
        queries=KnowledgeQueries(ledger, published, rules, log, proofs),
        reference=KnowledgeReference(ledger, runner, default_synonyms),
        log=log,
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
