"""The count tables the statistics read (claims, offline claims and disputes per CST month,
complaints per period) never drift from a recount of their fact rows, batch after batch, on
both stores: through settlement amendments (charges reversed after a settlement),
cancellations, a claim settled again in another month, a late (backdated) settlement, an
offline claim paid in a month already counted, disputes whose outcome changes, merged
complaints, and a person's erasure. After every change the figures equal a recomputation
from the log, and `rebuild` recounts exactly the same cells."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from application import claims as c
from application import reference as r
from application.gateway import Meta
from application.routing import Handler, StaticDirectory
from application.services import Services, build_services
from domain.claims import Claim, claim_id
from domain.common import Actor
from domain.complaint_clock import ComplaintRules
from infrastructure.claim_dispute_facts import OfflineClaims
from infrastructure.complaint_facts import PENDING, PERIODS, recounted
from infrastructure.complaint_stats import parse_period
from infrastructure.count_tables import Cells, CountedFacts
from infrastructure.dialect import Statement
from infrastructure.projections import Projector
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_ledger,
    build_projector,
    build_statistics,
    build_vault,
    dispute_rules,
    migrate,
)
from tests.builders import HOSPITAL, INSURER, admit, charge, post
from tests.infrastructure import test_case_statistics_reconcile as cases
from tests.infrastructure import test_statistics_reconcile as complaints

D = Decimal
NOW = cases.NOW
CLAIM_PERIODS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026Q1", "2026Q2", "2026")


@pytest.fixture
def services(settings: Settings) -> Iterator[tuple[Services, Settings]]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield (
        build_services(
            ledger,
            build_vault(settings, ledger),
            directory=StaticDirectory([Handler("wang", None, (), (), ())]),
            retention_days={"claims": 0, "policies": 0, "complaints": 0},
            dispute_rules=dispute_rules(settings),
        ),
        settings,
    )
    ledger.close()


def kept_and_recounted(projector: Projector) -> dict[str, tuple[Cells, Cells]]:
    """Each count table as kept, and as recounted from its view's fact rows now."""
    found = {}
    with projector.store.transaction() as cur:
        for view in counted(projector):
            found[view.counts.name] = (view.counts.stored(cur), view.recounted(cur))
        fresh = recounted(cur)
        found[PERIODS.name] = (PERIODS.stored(cur), _nonzero(fresh.periods))
        pending = {k: [n] for k, n in fresh.pending.items()}
        found[PENDING.name] = (PENDING.stored(cur), _nonzero(pending))
    return found


def counted(projector: Projector) -> list[CountedFacts | OfflineClaims]:
    """The views with a count table beside their rows (claims, offline claims, disputes)."""
    found = [v for v in projector.views if isinstance(v, CountedFacts | OfflineClaims)]
    assert len(found) == 3
    return found


def _nonzero(cells: Cells) -> Cells:
    return {k: v for k, v in cells.items() if any(v)}


def assert_no_drift(projector: Projector) -> dict[str, Cells]:
    """The kept cells equal the recount; returns them."""
    kept = {}
    for table, (stored, fresh) in kept_and_recounted(projector).items():
        assert stored == fresh, table
        kept[table] = stored
    return kept


def assert_figures_match_the_log(app: Services) -> None:
    stats = build_case_statistics(app.ledger)
    for label in CLAIM_PERIODS:
        period = parse_period(label, NOW)
        claims = stats.claims_figures(period, ("region", "channel"))
        assert claims["totals"] == cases.claims_expected(app, label), label
        cases.check_groups(claims, ("settlements", "offline_claims"))
        disputes = stats.disputes_figures(period, ("cause", "region"))
        assert disputes["totals"] == cases.disputes_expected(app, label), label
        cases.check_groups(disputes, ("opened", "mediated"))
    year = parse_period(f"{NOW.year}", NOW)
    assert stats.disputes_figures(year, ())["totals"] == cases.disputes_expected(app, f"{NOW.year}")
    october = parse_period("2026-10", NOW)
    found = build_statistics(app.ledger).figures(october, (), NOW)["totals"]
    expected = complaints.recompute(app, october, NOW, ComplaintRules())
    assert {k: found[k] for k in expected} == expected


def stepped(projector: Projector) -> None:
    """Catch up a few events per batch, checking the count tables after every batch."""
    projector.batch = 4
    while sum([projector.step(view) for view in projector.views]):
        assert_no_drift(projector)


def later_changes(app: Services) -> None:
    """Changes that move records between cells of already counted months."""
    # An amendment: a charge line reversed after E0's settlement (SettlementAdjusted).
    post(app, c.ReverseCharges(HOSPITAL, "E0", ("L3",)), occurred_at=cases.at(25))
    # E1 (cancelled in March) settled again in April: moves to another month.
    cases.settle(app, "E1", datetime(2026, 4, 2, 10, tzinfo=UTC))
    # A late, backdated settlement: admitted and settled in January, recorded now.
    admit(app, "E7", patient="p-7", admitted_at=datetime(2026, 1, 5, tzinfo=UTC))
    charge(app, "E7")
    cases.settle(app, "E7", datetime(2026, 1, 20, 10, tzinfo=UTC))
    # E2 (no policy: nothing commercial) closes once the patient's part is collected.
    settled = app.ledger.find(Claim, claim_id(HOSPITAL, "E2"))
    assert settled is not None
    owed = settled.patient_outstanding
    post(app, c.CollectCopay(HOSPITAL, "E2", owed), occurred_at=cases.at(28))
    # Another claim paid outside the one-stop channel, in February, recorded late.
    paid = r.PayOfflineClaim("P1", date(2026, 2, 10), D("99.99"), D("0.00"))
    post(app, paid, INSURER, occurred_at=datetime(2026, 2, 10, 3, tzinfo=UTC))


def test_count_tables_never_drift_from_the_fact_rows_and_rebuild_recounts_them(
    services: tuple[Services, Settings],
) -> None:
    app, settings = services
    projector = build_projector(settings, app.ledger)
    cases.history(app)
    complaints.history(app)
    stepped(projector)
    assert_figures_match_the_log(app)
    before = assert_no_drift(projector)
    assert before["view_claim_months"]
    assert before["view_dispute_months"]

    later_changes(app)
    stepped(projector)
    assert_figures_match_the_log(app)
    kept = assert_no_drift(projector)
    april = {k: v for k, v in kept["view_claim_months"].items() if k[0] == "2026-04"}
    assert [v[0] for v in april.values()] == [1]  # E1, settled again
    assert kept["view_claim_months"] != before["view_claim_months"]
    assert kept["view_offline_claim_months"][("2026-02",)] == [2, 309999]

    # Erasure changes no figure; a rebuild replays the erased person's claim to the same cells.
    outcome = app.personal.erase("p-3", "data subject request", cases_meta())
    assert outcome.status == "erased", outcome.holds
    stepped(projector)
    assert assert_no_drift(projector) == kept
    for view in projector.views:
        projector.rebuild(view)
    projector.batch = 1000
    projector.catch_up()
    # As `xiaobao rebuild` ends: the refilled tables get the planner's statistics.
    analysed = projector.store.analyze()
    assert {"view_claim_months", "view_complaint_facts", "view_dispute_months"} <= set(analysed)
    assert all(table.startswith("view_") for table in analysed)
    assert assert_no_drift(projector) == kept
    assert_figures_match_the_log(app)


def cases_meta() -> Meta:
    return Meta(datetime.now(tz=UTC) + timedelta(seconds=1), Actor("admin", "admin"))


def test_a_count_table_new_beside_kept_fact_rows_is_recounted_from_them(
    services: tuple[Services, Settings],
) -> None:
    app, settings = services
    cases.history(app)
    projector = build_projector(settings, app.ledger)
    projector.catch_up()
    kept = assert_no_drift(projector)
    with projector.store.transaction() as cur:
        for view in counted(projector):
            cur.execute(Statement("DROP TABLE {t}", t=view.counts.name))
    again = build_projector(settings, app.ledger)
    again.migrate()  # the count tables are new: counted from the rows, not from the log
    assert assert_no_drift(again) == kept
    assert again.catch_up() == 0
