"""The demonstration year: the full plan meets the issue's minimums in every quarter of 2026;
a sample of it, loaded through the application on each store, shows in the statistics
exactly what the plan says, quarter by quarter; and loading it again records nothing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from api.demo_claims import HOSPITALS, claim_plan
from api.demo_complaints import CAUSES, CHANNELS, LINES, complaint_plan
from api.demo_complaints import PATHS as COMPLAINT_PATHS
from api.demo_disputes import PATHS as DISPUTE_PATHS
from api.demo_disputes import dispute_plan
from api.demo_loader import load_everything
from api.demo_year import Scale, cutoff_for
from application.ledger import utc_now
from domain.common import CST
from infrastructure.complaint_stats import parse_period
from infrastructure.principals import Principals
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_education_statistics,
    build_ledger,
    build_projector,
    build_rectification_statistics,
    build_statistics,
)

QUARTERS = ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
TODAY = datetime(2026, 12, 7, tzinfo=CST)  # the day the issue asked for the demo year
SAMPLE = Scale(0.03)


def quarter(at: datetime) -> str:
    local = at.astimezone(CST)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def test_the_full_year_meets_the_minimums_in_every_quarter() -> None:
    claims, complaints = claim_plan(Scale()), complaint_plan(Scale())
    settled = Counter(quarter(e.discharged) for e in claims.encounters if e.discharged < TODAY)
    assert sum(settled.values()) >= 3000
    assert set(settled) == set(QUARTERS)
    assert {e.hospital for e in claims.encounters} == set(HOSPITALS)
    assert {e.patient.region for e in claims.encounters} == {"330100", "110000"}
    insured = {p.patient for p in claims.policies}
    assert sum(e.patient in insured for e in claims.encounters) > 1000
    assert sum(e.reversed_line is not None for e in claims.encounters) > 50
    assert sum(e.cancelled for e in claims.encounters) > 20
    received = Counter(quarter(c.received) for c in complaints if c.received < TODAY)
    assert sum(received.values()) >= 600
    assert set(received) == set(QUARTERS)
    assert {c.channel for c in complaints} == set(CHANNELS)
    assert {c.cause for c in complaints} == set(CAUSES)
    assert {c.line for c in complaints} == set(LINES)
    assert {c.path for c in complaints} == set(COMPLAINT_PATHS)
    assert sum(c.duplicate_via is not None for c in complaints) > 10
    assert sum(c.reviewed for c in complaints) > 10
    disputes = dispute_plan(Scale())
    opened = Counter(quarter(d.opened) for d in disputes if d.opened < TODAY)
    assert sum(opened.values()) >= 60
    assert set(opened) == set(QUARTERS)
    assert {d.path for d in disputes} == set(DISPUTE_PATHS)


def test_a_sample_year_loads_through_the_application_once_and_shows_in_the_statistics(
    settings: Settings,
) -> None:
    now = utc_now()
    loaded = load_everything(settings, SAMPLE, now)
    cutoff = cutoff_for(now)
    ledger = build_ledger(settings)
    try:
        size = ledger.recorder.max_notification_id()
        build_projector(settings, ledger).catch_up()
        complaints, cases = build_statistics(ledger), build_case_statistics(ledger)
        education = build_education_statistics(ledger, Principals(settings.principals_file))
        rectification = build_rectification_statistics(ledger)
        for q in QUARTERS:  # education and rectification in every quarter too
            asked = parse_period(q, now)
            assert education.figures(asked, ())["totals"]["activities"] > 0, q
            assert rectification.figures(asked, (), now)["totals"]["opened"] > 0, q
        figures = {
            q: (
                complaints.figures(parse_period(q, now), (), now)["totals"],
                cases.claims_figures(parse_period(q, now), ())["totals"],
                cases.disputes_figures(parse_period(q, now), ())["totals"],
            )
            for q in (*QUARTERS, "2026")
        }
    finally:
        ledger.close()
    # The hand-written examples add two settlements and one complaint (and its merged
    # repeat) in November.
    plan = complaint_plan(SAMPLE)
    received = Counter(quarter(c.received) for c in plan if c.received < cutoff)
    received["2026Q4"] += 1
    settled = Counter(quarter(at) for _, _, _, at in loaded.year.settled)
    settled["2026Q4"] += 2
    opened = Counter(quarter(d.opened) for d in dispute_plan(SAMPLE) if d.opened < cutoff)
    for q in QUARTERS:
        complaint, claim, dispute = figures[q]
        assert complaint["received"] == received[q] > 0, q
        assert claim["settlements"] == settled[q] > 0, q
        assert dispute["opened"] == opened[q], q
        assert complaint["per_100m_premium"] is not None, q  # exposure for every quarter
    year_complaints, year_claims, year_disputes = figures["2026"]
    assert year_complaints["received"] == sum(received.values()) >= SAMPLE.of(600)
    assert year_claims["settlements"] >= SAMPLE.of(3000)
    assert year_disputes["opened"] >= len(DISPUTE_PATHS)
    assert year_complaints["duplicates_merged"] >= 2  # the example's and the plan's first
    assert year_complaints["transfers_12378"] > 0
    assert year_complaints["timeliness"]["open_overdue"] > 0
    assert year_complaints["timeliness"]["extended"] > 0
    assert year_complaints["timeliness"]["within_15"] > year_complaints["timeliness"]["days_16_30"]
    assert year_complaints["review_rate"] != "0.0000"
    assert year_claims["commercial_paid"] != "0.00"

    again = load_everything(settings, SAMPLE, now)
    ledger = build_ledger(settings)
    try:
        assert ledger.recorder.max_notification_id() == size
    finally:
        ledger.close()
    assert again.claims == loaded.claims
    assert again.year.complaints == loaded.year.complaints
