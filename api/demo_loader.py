"""Everything `xiaobao demo` loads, in order, over one ledger: the hand-written examples the
README walks through, the year 2026, the knowledge base and the reports of misconduct."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from api import demo, demo_reports
from api.demo_year import Demo, Scale, load_year
from application.commands import CommandRunner
from application.knowledge import KnowledgeDesk
from application.saving import Saver
from application.services import build_report_services, build_services
from infrastructure.settings import Settings
from infrastructure.store import (
    build_ledger,
    build_notary,
    build_vault,
    dispute_rules,
    migrate,
    report_rules,
)


@dataclass(frozen=True)
class Loaded:
    """What the demo loaded: the example claims by encounter, the year, the articles and
    the example reports by name."""

    claims: dict[str, str]
    year: Demo
    articles: list[str]
    reports: dict[str, str]


def load_everything(
    settings: Settings,
    scale: Scale = Scale(),
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> Loaded:
    """Load the demonstration data (tables created first); a second run records nothing."""
    migrate(settings)
    ledger = build_ledger(settings)
    try:
        vault = build_vault(settings, ledger)
        services = build_services(ledger, vault, dispute_rules=dispute_rules(settings))
        notary = build_notary(settings)
        claims = demo.load_demo(services, notary)
        year = load_year(services, notary, scale, now, on_progress)
        articles = demo.load_knowledge(
            KnowledgeDesk(ledger, CommandRunner(ledger, vault, Saver(ledger, 10)))
        )
        reports = build_report_services(
            services, vault, report_rules(settings), demo_reports.DEMO_INVESTIGATORS
        )
        report_ids = demo_reports.load_reports(reports, services.events, notary)
    finally:
        ledger.close()
    return Loaded(claims, year, articles, report_ids)
