"""Every claim and dispute figure of a period, in total and by group, equals a recomputation
from the log (replayed claims and disputes, and the offline-claim events themselves), on
both stores — also after a crash in the middle of a batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from typer.testing import CliRunner

from api.cli import cli
from application import claims as c
from application import reference as r
from application.disputes import (
    AcceptMediation,
    FailMediation,
    OpenDispute,
    RequestMediation,
    SignAgreement,
)
from application.gateway import Meta
from application.ledger import topics_of
from application.services import Services, build_services
from domain.claims import Claim
from domain.common import CST, Actor, InvalidInput
from domain.disputes import Dispute
from infrastructure.case_stats import CLAIM_DIMENSIONS, DISPUTE_DIMENSIONS
from infrastructure.complaint_stats import parse_dimensions, parse_period
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_ledger,
    build_projector,
    build_vault,
    dispute_rules,
    migrate,
)
from tests.builders import (
    HOSPITAL,
    INSURER,
    admit,
    charge,
    issue_policy,
    post,
    seed_reference,
)

D = Decimal
NOW = datetime.now(tz=UTC)
PERIODS = ("2026-02", "2026-03", "2026Q1", "2026", NOW.astimezone(CST).strftime("%Y-%m"))


@pytest.fixture
def services(settings: Settings) -> Iterator[tuple[Services, Settings]]:
    migrate(settings)
    ledger = build_ledger(settings)
    yield (
        build_services(
            ledger,
            build_vault(settings, ledger),
            retention_days={"claims": 0, "policies": 0},
            dispute_rules=dispute_rules(settings),
        ),
        settings,
    )
    ledger.close()


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=CST).astimezone(UTC)


def history(services: Services) -> None:
    """Settlements in March with and without social insurance, one cancelled, one cancelled
    and settled again, claims paid outside the one-stop channel in February and March, and
    disputes (opened now) that mediated, failed, or never mediated."""
    seed_reference(services)
    issue_policy(services)
    issue_policy(services, "P2", "person-2")
    offline = (
        (date(2026, 2, 1), D("3000.00"), at(1) - timedelta(days=20)),
        (date(2026, 3, 3), D("1200.50"), at(3)),
    )
    for policy, (paid, amount, when) in zip(("P1", "P2"), offline, strict=True):
        post(
            services, r.PayOfflineClaim(policy, paid, amount, D("0.00")), INSURER, occurred_at=when
        )
    patients = (("person-1", True), ("person-2", False), ("p-3", False), ("p-9", True))
    for n, (patient, si) in enumerate(patients):
        admit(services, f"E{n}", patient=patient, social_insurance=si)
        charge(services, f"E{n}")
        settle(services, f"E{n}", at(9 + n))
    post(services, c.CancelSettlement(HOSPITAL, "E1", "wrong ward"), occurred_at=at(20))
    post(services, c.CancelSettlement(HOSPITAL, "E3", "recount"), occurred_at=at(21))
    settle(services, "E3", at(22))
    claim = UUID(str(services.claims.by_encounter(HOSPITAL, "E0")[0].body["id"]))
    handler = Meta(NOW, Actor("wang", "handler"))
    desk = services.disputes
    ids = [
        UUID(
            str(
                desk.open(
                    OpenDispute({"id": f"d-{n}", "name": "n"}, D("100.00"), "m", claim_id=link),
                    handler,
                    None,
                ).body["id"]
            )
        )
        for n, link in enumerate((claim, None, None))
    ]
    for dispute, mediator in zip(ids[:2], ("mediator-1", "mediator-2"), strict=True):
        desk.request_mediation(RequestMediation(dispute, mediator), handler, None, None)
        post(services, AcceptMediation(dispute), mediator)
    signed = SignAgreement(ids[0], datetime.now(tz=UTC), D("80.00"), "t")
    post(services, signed, "mediator-1")
    post(services, FailMediation(ids[1], "no agreement"), "mediator-2")


def settle(services: Services, encounter: str, when: datetime) -> None:
    """Discharge (the settlement is recorded at `when`, eight hours after discharge)."""
    discharged = when - timedelta(hours=8)
    post(services, c.Discharge(HOSPITAL, encounter, discharged), occurred_at=when)


def claims_expected(services: Services, label: str) -> dict[str, Any]:
    """The claim figures straight from the log."""
    period = parse_period(label, NOW)
    inside = period.start.astimezone(UTC), period.end.astimezone(UTC)
    claims = [a for a in replayed(services, Claim) if a.settled_at is not None]
    settled = [a for a in claims if inside[0] <= a.settled_at < inside[1]]
    offline = [
        e
        for e in events_of(services, "domain.policies:Policy.OfflineClaimPaid")
        if inside[0] <= e.occurred_at < inside[1]
    ]
    total = len(settled) + len(offline)
    hours = [(a.settled_at - a.discharged_at).total_seconds() / 3600 for a in settled]
    return {
        "settlements": len(settled),
        "offline_claims": len(offline),
        "one_stop_share": None if not total else f"{D(len(settled)) / total:.4f}",
        "with_social_insurance": sum(1 for a in settled if a.social_insurance),
        "medfee": f"{sum((a.settlement.split.medfee for a in settled), D(0)):.2f}",
        "social_insurance_paid": f"{sum((a.settlement.split.si_paid for a in settled), D(0)):.2f}",
        "commercial_paid": f"{sum((a.settlement.split.commercial for a in settled), D(0)):.2f}",
        "patient_paid": f"{sum((a.settlement.split.patient_pays for a in settled), D(0)):.2f}",
        "offline_paid": f"{sum((e.amount for e in offline), D(0)):.2f}",
        "average_hours_discharge_to_settlement": (
            None if not hours else f"{D(sum(hours)) / len(hours):.2f}"
        ),
    }


def disputes_expected(services: Services, label: str) -> dict[str, Any]:
    """The dispute figures straight from the log (each dispute's facts, summed here)."""
    period = parse_period(label, NOW)
    facts = [
        d.facts()
        for d in replayed(services, Dispute)
        if period.start <= d.opened_at.astimezone(CST) < period.end
    ]
    mediated = [f for f in facts if f.mediation_rounds > 0]
    resolved = [f.days_to_resolution for f in facts if f.days_to_resolution is not None]
    origins: dict[str, int] = {}
    for f in facts:
        origins[f.origin] = origins.get(f.origin, 0) + 1
    return {
        "opened": len(facts),
        "mediated": len(mediated),
        "mediation_success_rate": (
            None
            if not mediated
            else f"{D(sum(1 for f in mediated if f.agreements_signed)) / len(mediated):.4f}"
        ),
        "confirmations_granted": sum(f.confirmations_granted for f in facts),
        "awards": sum(1 for f in facts if f.awarded),
        "performed": sum(1 for f in facts if f.performed),
        "enforced": sum(1 for f in facts if f.enforced),
        "amount_paid": f"{sum((f.amount_paid for f in facts), D(0)):.2f}",
        "average_days_to_resolution": (
            None if not resolved else f"{D(sum(resolved)) / len(resolved):.2f}"
        ),
        "by_origin": dict(sorted(origins.items())),
    }


def events_of(services: Services, *topics: str) -> list[Any]:
    ledger = services.ledger
    stored = ledger.recorder.select_notifications(0, 10_000, topics=list(topics))
    return [ledger.mapper.to_domain_event(s) for s in stored]


def replayed(services: Services, cls: type[Any]) -> list[Any]:
    ids = {e.originator_id for e in events_of(services, *topics_of(cls))}
    return [a for a in (services.ledger.find(cls, i) for i in ids) if a is not None]


def test_claim_and_dispute_figures_equal_a_recomputation_from_the_log(
    services: tuple[Services, Settings],
) -> None:
    app, settings = services
    history(app)
    projector = build_projector(settings, app.ledger)
    views = {v.name: v for v in projector.views}
    crashed = {"n": 0}
    for name in ("claim_facts", "dispute_facts"):
        view = views[name]
        original = view.apply

        def crash_once(cursor: Any, prepared: Any, original: Any = original) -> None:
            original(cursor, prepared)
            crashed["n"] += 1
            raise RuntimeError("crash in the middle of a batch")

        projector.batch = 5
        projector.step(view)
        view.apply = crash_once  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            projector.step(view)
        view.apply = original  # type: ignore[method-assign]
    assert crashed["n"] == 2
    projector.catch_up()
    stats = build_case_statistics(app.ledger)
    for label in PERIODS:
        period = parse_period(label, NOW)
        claims = stats.claims_figures(period, ("region", "channel"))
        assert stats.claims_figures(period, ("line",))["totals"] == claims["totals"]
        assert claims["totals"] == claims_expected(app, label), label
        check_groups(claims, ("settlements", "offline_claims"))
        disputes = stats.disputes_figures(period, ("channel", "region"))
        assert disputes["totals"] == disputes_expected(app, label), label
        check_groups(disputes, ("opened", "mediated", "awards"))
    march = stats.claims_figures(parse_period("2026-03", NOW), ("channel",))
    assert march["totals"]["settlements"] == 3  # E1 was cancelled; E3 settled again
    assert march["totals"]["offline_claims"] == 1
    assert march["totals"]["one_stop_share"] == "0.7500"
    assert {g["key"]["channel"]: g["settlements"] for g in march["groups"]} == {
        "offline": 0,
        "one_stop": 3,
    }
    year = stats.disputes_figures(parse_period(f"{NOW.astimezone(CST).year}", NOW), ())
    assert year["totals"]["mediation_success_rate"] == "0.5000"
    assert year["totals"]["by_origin"] == {"claim": 1, "direct": 2}
    by_region = stats.disputes_figures(
        parse_period(f"{NOW.astimezone(CST).year}", NOW), ("region",)
    )
    # The claim's region for the dispute it led to; none for the direct ones.
    assert [(g["key"], g["opened"]) for g in by_region["groups"]] == [
        ({"region": "330100"}, 1),
        ({"region": None}, 2),
    ]
    assert stats.tracked("claim_facts", "offline_claims", "dispute_facts") >= app.ledger.position()


def check_groups(answer: dict[str, Any], additive: tuple[str, ...]) -> None:
    """The groups add up to the totals."""
    for name in additive:
        assert sum(g[name] for g in answer["groups"]) == answer["totals"][name], name


def test_dimensions_that_do_not_apply_are_refused() -> None:
    assert parse_dimensions("channel,region", CLAIM_DIMENSIONS, "claims") == (
        "channel",
        "region",
    )
    for by, allowed in (("cause", CLAIM_DIMENSIONS), ("origin", DISPUTE_DIMENSIONS)):
        with pytest.raises(InvalidInput):
            parse_dimensions(by, allowed, "x")


def test_cli_stats_prints_the_same_figures(
    services: tuple[Services, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = services
    history(app)
    for name, value in (
        ("XIAOBAO_DATABASE_URL", settings.database_url),
        ("XIAOBAO_SIGNING_KEY_FILE", str(settings.signing_key_file)),
        ("XIAOBAO_INDEX_KEY_FILE", str(settings.index_key_file)),
    ):
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    result = runner.invoke(cli, ["stats", "claims", "--period", "2026-03", "--by", "channel"])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.output)
    assert body["totals"] == claims_expected(app, "2026-03")
    assert body["position"] == app.ledger.position()
    csv = runner.invoke(cli, ["stats", "disputes", "--period", "2026", "--format", "csv"])
    assert "受理纠纷量" in csv.output
    refused = runner.invoke(cli, ["stats", "claims", "--period", "2026", "--by", "cause"])
    assert refused.exit_code != 0
    assert "by" in refused.output
