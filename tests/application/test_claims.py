"""Claim settlement through the application, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application import claims as c
from application import reference as r
from application.services import Services
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
from domain.claims import AmountExceedsOutstanding, Claim, ClaimClosed, RemittanceAlreadyPaid
from domain.common import CST, UnknownRecord
from domain.receipts import IdempotencyConflict
from domain.reference import LevelTerms, NoSchemeInForce
from domain.settlement import ChargeLine, ProductTerms
from tests.builders import (
    HOSPITAL,
    INSURER,
    OTHER_HOSPITAL,
    admin_meta,
    admit,
    charge,
    discharge,
    issue_policy,
    money,
    post,
    seed_reference,
    settle_worked_example,
)

D = Decimal


@pytest.fixture
def seeded(services: Services) -> Services:
    seed_reference(services)
    issue_policy(services)
    return services


def totals(services: Services, kind: str, key: str) -> dict[str, Decimal]:
    acc = services.ledger.find(Accumulator, accumulator_id(kind, key))
    return dict(acc.totals) if acc else {}


def policy_year(services: Services) -> dict[str, Decimal]:
    return totals(services, POLICY_YEAR, policy_year_key("P1", date(2026, 1, 1)))


def fund(services: Services, person: str = "person-1") -> dict[str, Decimal]:
    """The fund accumulator of a person, found by the person's blind index."""
    return totals(services, SI_FUND, fund_key(services.personal.vault.ref(person), 2026))


def test_discharge_returns_the_worked_example_split(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    assert (money(result, "social_insurance_paid"), money(result, "commercial_paid")) == (
        D("64008.00"),
        D("24992.00"),
    )
    assert money(result, "patient_pays") == D("11000.00")
    assert result.extra["settlement"]["versions"]["product_code"] == "BWYL"
    assert result.extra["settlement"]["versions"]["scheme_version"] == 1
    assert fund(seeded) == {FUND_PAID: D("64008.00")}
    assert policy_year(seeded) == {DEDUCTIBLE_USED: D("10000.00"), LIMIT_USED: D("24992.00")}


def test_result_position_is_the_highest_position_the_save_wrote(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    assert result.position == seeded.ledger.recorder.max_notification_id()
    positions = seeded.ledger.positions.of(result.stream_id)
    assert positions[result.version] < result.position


def test_same_bill_without_social_insurance_pays_sixty_percent(seeded: Services) -> None:
    result = settle_worked_example(seeded, social_insurance=False)
    assert money(result, "social_insurance_paid") == D("0.00")
    assert money(result, "commercial_paid") == D("53400.00")
    assert money(result, "patient_pays") == D("46600.00")
    assert fund(seeded) == {}


def test_second_discharge_in_policy_year_skips_deductible(seeded: Services) -> None:
    settle_worked_example(seeded, "E1")
    second = settle_worked_example(seeded, "E2")
    # The fund deductible is per admission; the commercial one was used up by E1.
    assert money(second, "social_insurance_paid") == D("64008.00")
    assert money(second, "commercial_deductible") == D("0.00")
    assert money(second, "commercial_paid") == D("34992.00")
    assert policy_year(seeded)[DEDUCTIBLE_USED] == D("10000.00")


def test_social_insurance_admission_without_scheme_is_refused(services: Services) -> None:
    with pytest.raises(NoSchemeInForce):
        admit(services)
    assert services.ledger.recorder.max_notification_id() in (None, 0)


def test_second_admission_of_an_encounter_is_refused(seeded: Services) -> None:
    admit(seeded)
    before = seeded.ledger.recorder.max_notification_id()
    with pytest.raises(c.DuplicateEncounter):
        admit(seeded)
    assert seeded.ledger.recorder.max_notification_id() == before


def test_another_hospitals_encounter_is_unknown(seeded: Services) -> None:
    admit(seeded)
    with pytest.raises(UnknownRecord, match="unknown encounter"):
        charge(seeded, hospital=OTHER_HOSPITAL)


def test_late_charge_after_settlement_records_adjustment_delta(seeded: Services) -> None:
    settle_worked_example(seeded)
    late = charge(seeded, lines=(ChargeLine("L9", "A9", "late test", "A", D("1000.00")),))
    # in_scope +1000 → si +840.00; covered +1000, base +160 → commercial +160.00.
    assert late.extra["adjustment"] == {
        "medfee": "1000.00",
        "social_insurance_paid": "840.00",
        "commercial_paid": "160.00",
        "patient_pays": "0.00",
    }
    assert fund(seeded)[FUND_PAID] == D("64848.00")
    assert policy_year(seeded)[LIMIT_USED] == D("25152.00")
    claim = seeded.ledger.find(Claim, late.stream_id)
    assert claim is not None
    assert claim.settlement is not None
    assert claim.settlement.split.commercial == D("25152.00")


def test_adjustment_followed_by_its_inverse_restores_every_accumulator(seeded: Services) -> None:
    settle_worked_example(seeded)
    fund_before, year_before = fund(seeded), policy_year(seeded)
    charge(seeded, lines=(ChargeLine("L9", "A9", "late", "A", D("1234.56")),))
    assert fund(seeded) != fund_before
    post(seeded, c.ReverseCharges(HOSPITAL, "E1", ("L9",)))
    assert fund(seeded) == fund_before
    assert policy_year(seeded) == year_before


def test_cancellation_returns_the_share_and_allows_a_new_discharge(seeded: Services) -> None:
    first = settle_worked_example(seeded)
    post(seeded, c.CancelSettlement(HOSPITAL, "E1", "wrong ward"))
    assert fund(seeded)[FUND_PAID] == D("0.00")
    assert policy_year(seeded) == {DEDUCTIBLE_USED: D("0.00"), LIMIT_USED: D("0.00")}
    again = discharge(seeded)
    assert again.extra["settlement"] == first.extra["settlement"]


def test_cancellation_after_remittance_is_refused(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    post(seeded, c.PayRemittance(result.stream_id, D("24992.00")), INSURER)
    with pytest.raises(RemittanceAlreadyPaid):
        post(seeded, c.CancelSettlement(HOSPITAL, "E1", "too late"))


def test_claim_closes_once_copay_collected_and_share_remitted(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    post(seeded, c.CollectCopay(HOSPITAL, "E1", D("11000.00")))
    claim = seeded.ledger.find(Claim, result.stream_id)
    assert claim is not None
    assert claim.status == "settled"
    with pytest.raises(AmountExceedsOutstanding):
        post(seeded, c.PayRemittance(result.stream_id, D("24992.01")), INSURER)
    post(seeded, c.PayRemittance(result.stream_id, D("24992.00")), INSURER)
    claim = seeded.ledger.find(Claim, result.stream_id)
    assert claim is not None
    assert claim.status == "closed"
    with pytest.raises(ClaimClosed):
        charge(seeded, lines=(ChargeLine("L9", "A9", "late", "A", D("1.00")),))


def test_offline_claim_consumes_the_same_deductible_and_limit(seeded: Services) -> None:
    post(seeded, r.PayOfflineClaim("P1", date(2026, 2, 1), D("3000.00"), D("6000.00")), INSURER)
    result = settle_worked_example(seeded)
    # Only 4,000 of the 10,000 deductible is left: base 34,992 − 4,000 = 30,992 at 100%.
    assert money(result, "commercial_deductible") == D("4000.00")
    assert money(result, "commercial_paid") == D("30992.00")
    assert policy_year(seeded) == {DEDUCTIBLE_USED: D("10000.00"), LIMIT_USED: D("33992.00")}


def test_annual_limit_caps_commercial_payment(services: Services) -> None:
    seed_reference(services, limit="20000.00")
    issue_policy(services)
    result = settle_worked_example(services)
    assert money(result, "commercial_paid") == D("20000.00")
    assert "annual_limit_reached" in result.extra["settlement"]["reasons"]


def test_policy_cancelled_before_admission_gives_no_commercial_cover(seeded: Services) -> None:
    post(seeded, r.CancelPolicy("P1", date(2026, 3, 1)), INSURER)
    result = settle_worked_example(seeded)
    assert money(result, "commercial_paid") == D("0.00")
    assert "no_policy" in result.extra["settlement"]["reasons"]


def test_ambiguous_policy_pays_nothing_until_the_hospital_names_one(seeded: Services) -> None:
    issue_policy(seeded, "P2")
    result = settle_worked_example(seeded)
    assert money(result, "commercial_paid") == D("0.00")
    assert "ambiguous_policy" in result.extra["settlement"]["reasons"]
    named = post(seeded, c.NamePolicy(HOSPITAL, "E1", "P1"))
    assert named.extra["adjustment"]["commercial_paid"] == "24992.00"
    assert policy_year(seeded)[LIMIT_USED] == D("24992.00")


def test_platform_result_is_used_and_its_difference_flagged(seeded: Services) -> None:
    admit(seeded)
    charge(seeded)
    result = discharge(seeded, platform={"fund_paid": D("64000.00"), "settlement_no": "N1"})
    settlement = result.extra["settlement"]
    assert settlement["social_insurance_paid"] == "64000.00"
    assert settlement["si_computed"] == "64008.00"
    assert settlement["si_difference"] == "-8.00"
    assert "platform_result_differs" in settlement["reasons"]
    assert fund(seeded)[FUND_PAID] == D("64000.00")


def test_later_reference_version_does_not_change_an_earlier_admission(seeded: Services) -> None:
    seeded.reference.put_product(
        "BWYL",
        r.ProductDraft(date(2026, 6, 1), ProductTerms(D("0.00"), D("1"), D("1"), D("1"), True)),
        admin_meta(),
    )
    result = settle_worked_example(seeded)
    assert result.extra["settlement"]["versions"]["product_version"] == 1
    assert money(result, "commercial_paid") == D("24992.00")


def test_replayed_event_answers_with_the_first_result(seeded: Services) -> None:
    first = admit(seeded, event_id="same-id")
    again = admit(seeded, event_id="same-id")
    assert again.duplicate
    assert not first.duplicate
    assert (again.stream_id, again.version, again.position) == (
        first.stream_id,
        first.version,
        first.position,
    )


def test_same_event_id_with_different_content_conflicts(seeded: Services) -> None:
    admit(seeded, event_id="same-id")
    with pytest.raises(IdempotencyConflict):
        post(seeded, c.CollectCopay(HOSPITAL, "E1", D("1.00")), event_id="same-id", digest="other")


def test_verify_recomputes_every_settlement_from_history(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    charge(seeded, lines=(ChargeLine("L9", "B9", "late", "B", D("99.99")),))
    report = seeded.claims.verify(result.stream_id, None)
    assert report["matches"] is True
    assert [s["version"] for s in report["settlements"]] == [4, 6]


def test_time_travel_shows_the_claim_as_it_was(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    then = seeded.claims.get(result.stream_id, None, as_of_version=2)
    assert then.settlement is None
    assert len(then.lines) == 4
    before_any = datetime.now(tz=UTC) - timedelta(days=1)
    with pytest.raises(Exception, match="did not exist"):
        seeded.claims.get(result.stream_id, None, as_of=before_any)
    now = seeded.claims.get(result.stream_id, None, as_of=datetime.now(tz=UTC))
    assert now.version == result.version


def test_statement_totals_net_of_adjustments_and_cancellations(seeded: Services) -> None:
    settle_worked_example(seeded, "E1")
    settle_worked_example(seeded, "E2", patient="person-2")
    post(seeded, c.CancelSettlement(HOSPITAL, "E2", "duplicate bill"))
    today = datetime.now(tz=UTC).astimezone(CST).date()
    statement = seeded.claims.statement(HOSPITAL, today)
    assert statement["counts"] == {"SettlementCalculated": 2, "SettlementCancelled": 1}
    assert statement["totals"]["commercial_paid"] == "24992.00"
    assert seeded.claims.statement(OTHER_HOSPITAL, today)["items"] == []


def test_the_scheme_is_read_with_its_index_once_the_planner_has_seen_it(
    seeded: Services,
) -> None:
    """Admission and discharge fetch the scheme index and the schemes it named last time in
    one round trip (the patient has no policy here: no policy round trip either)."""
    settle_worked_example(seeded, "E1", patient="person-2")  # the planner learns the index
    reads: list[int] = []
    batched = seeded.ledger.positions.events_of

    def counted(ids: Any) -> Any:
        reads.append(len(ids))
        return batched(ids)

    seeded.ledger.positions.events_of = counted  # type: ignore[method-assign,assignment]
    admit(seeded, "E2", patient="person-3")
    assert len(reads) == 1
    reads.clear()
    charge(seeded, "E2")
    discharge(seeded, "E2")
    assert len(reads) == 3  # charges: the claim; discharge: the claim, then index, scheme, fund


def test_a_scheme_listed_after_the_planner_learned_the_index_is_still_found(
    seeded: Services,
) -> None:
    settle_worked_example(seeded, "E1")
    seeded.reference.put_scheme(
        "hz-employee-2027",
        r.SchemeDraft(
            "330100",
            "employee",
            date(2026, 3, 1),
            D("400000.00"),
            D("0.10"),
            {"3": LevelTerms(D("100.00"), D("0.90"))},
        ),
        admin_meta(),
    )
    result = settle_worked_example(seeded, "E2", patient="person-2")
    assert result.extra["settlement"]["versions"]["scheme_id"] == "hz-employee-2027"
