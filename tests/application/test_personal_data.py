"""Personal data sealed per person, found by blind index, erasable without breaking history."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.closure_html import render
from application import claims as c
from application import complaint_commands as cc
from application import disputes as d
from application import reference as r
from application.complaint_commands import Intake
from application.gateway import Meta, PartnerEvent
from application.ledger import NotFound
from application.report_queries import ReportReader
from application.reports import (
    AcceptReport,
    AssignInvestigator,
    CloseReport,
    ConcludeReport,
    Conditions,
    Investigator,
    NotifyReporter,
    RecordFindings,
    ReportIntake,
    StaticInvestigators,
)
from application.routing import Handler, StaticDirectory
from application.services import ReportServices, Services, build_report_services, build_services
from domain.common import CST, Actor, InvalidInput
from domain.complaint_clock import ComplaintRules
from domain.complaints import Complaint
from domain.disputes import Dispute
from domain.personal import ERASED, Subject, subject_stream_id
from domain.reports import Report, ReportSubject
from infrastructure.audit import export_bundle, verify_bundle, verify_ledger
from infrastructure.complaint_stats import parse_period
from infrastructure.merkle import leaf_hash
from infrastructure.merkle_store import merkle_store_for
from infrastructure.notary import Notary
from infrastructure.projections import Projector
from infrastructure.proof_service import LedgerProofs
from infrastructure.proofs import verify_inclusion
from infrastructure.sealer import Sealer
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_ledger,
    build_notary,
    build_projector,
    build_report_statistics,
    build_sealer,
    build_statistics,
    build_vault,
    dispute_rules,
    migrate,
    report_rules,
)
from tests.builders import (
    ADMITTED,
    HOSPITAL,
    INSURER,
    REGION,
    issue_policy,
    post,
    seed_reference,
    settle_worked_example,
)


def admin() -> Meta:
    return Meta(datetime.now(tz=UTC), Actor(name="admin", role="admin"))


@pytest.fixture
def seeded(services: Services) -> Services:
    seed_reference(services)
    issue_policy(services)
    return services


def close(services: Services, result_id: object) -> None:
    """Close the claim and end the policy, so only retention periods can hold the data."""
    post(services, c.CollectCopay(HOSPITAL, "E1", Decimal("11000.00")))
    post(services, c.PayRemittance(result_id, Decimal("24992.00")), INSURER)  # type: ignore[arg-type]
    post(services, r.CancelPolicy("P1", date(2026, 6, 1)), INSURER)


def stored_bytes(services: Services) -> bytes:
    return b"".join(n.state for n in services.ledger.recorder.select_notifications(1, 10_000))


def test_names_and_ids_never_reach_the_log_in_clear(seeded: Services) -> None:
    settle_worked_example(seeded)
    raw = stored_bytes(seeded)
    assert b"Zhang San" not in raw
    assert b"person-1" not in raw
    assert b"Zhang" not in raw


def test_readers_see_the_values_and_lookups_use_the_blind_index(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    body = seeded.claims.view(result.stream_id, None).body
    assert body["patient"] == {"id": "person-1", "name": "Zhang San"}
    # The policy was found through the insured person's blind index.
    assert body["settlement"]["commercial_paid"] == "24992.00"
    history = seeded.claims.history(result.stream_id, None)
    assert history[0]["data"]["patient_name"] == "Zhang San"


def test_a_claims_patient_and_diagnoses_open_with_one_key_look_up_and_erase_together(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    admission = c.RegisterAdmission(
        HOSPITAL, "E9", "person-9", "Li Si", REGION, "employee", 3, True, ADMITTED,
        diagnoses=("J18.9", "I10"),
    )  # fmt: skip
    result = post(seeded, admission)
    vault = seeded.claims.opener.vault
    keys = vault.keys  # type: ignore[attr-defined]
    looked_up: list[list[str]] = []
    get_many = keys.get_many

    def counted(subjects: list[str]) -> dict[str, bytes]:
        looked_up.append(subjects)
        found: dict[str, bytes] = get_many(subjects)
        return found

    monkeypatch.setattr(keys, "get_many", counted)
    body = seeded.claims.view(result.stream_id, None).body
    assert body["patient"] == {"id": "person-9", "name": "Li Si"}
    assert body["diagnoses"] == ["J18.9", "I10"]
    assert len(looked_up) == 1
    vault.destroy(vault.ref("person-9"))
    body = seeded.claims.view(result.stream_id, None).body
    assert body["patient"] == {"id": ERASED, "name": ERASED}
    assert body["diagnoses"] == ERASED
    without = seeded.claims.view(settle_worked_example(seeded).stream_id, None).body
    assert without["diagnoses"] == []


def test_erasure_is_deferred_while_the_claim_is_open(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    outcome = seeded.personal.erase("person-1", "request", admin())
    assert outcome.status == "deferred"
    assert {(h.record, h.reason) for h in outcome.holds} >= {
        (f"claims/{result.stream_id}", "open_record")
    }
    assert seeded.claims.view(result.stream_id, None).body["patient"]["name"] == "Zhang San"
    events = seeded.ledger.stream(subject_stream_id(outcome.subject))
    assert type(events[-1]).__name__ == "ErasureDeferred"


def test_erasure_destroys_the_key_and_keeps_history_and_settlement_valid(
    seeded: Services,
) -> None:
    result = settle_worked_example(seeded)
    close(seeded, result.stream_id)
    before = stored_bytes(seeded)
    outcome = seeded.personal.erase("person-1", "data subject request", admin())
    assert outcome.status == "erased"
    body = seeded.claims.view(result.stream_id, None).body
    assert body["patient"] == {"id": ERASED, "name": ERASED}
    assert body["settlement"]["patient_pays"] == "11000.00"
    assert seeded.claims.verify(result.stream_id, None)["matches"] is True
    history = seeded.claims.history(result.stream_id, None)
    assert history[0]["data"]["patient_name"] == ERASED
    # Every stored byte before the erasure is unchanged: proofs over the log stay valid.
    assert stored_bytes(seeded).startswith(before)
    subject = seeded.ledger.find(Subject, subject_stream_id(outcome.subject))
    assert subject is not None
    assert subject.erased_at is not None
    again = seeded.personal.erase("person-1", "again", admin())
    assert again.status == "erased"  # every request is an event of its own
    assert again.position > outcome.position


def test_a_person_coming_back_after_erasure_is_protected_by_holds(seeded: Services) -> None:
    result = settle_worked_example(seeded)
    close(seeded, result.stream_id)
    assert seeded.personal.erase("person-1", "request", admin()).status == "erased"
    back = settle_worked_example(seeded, "E2")  # the same person is admitted again
    outcome = seeded.personal.erase("person-1", "again", admin())
    assert outcome.status == "deferred"
    assert (f"claims/{back.stream_id}", "open_record") in {
        (h.record, h.reason) for h in outcome.holds
    }
    assert seeded.claims.view(back.stream_id, None).body["patient"]["name"] == "Zhang San"


def test_retention_period_defers_erasure_of_a_closed_claim(services: Services) -> None:
    seed_reference(services)
    issue_policy(services)
    services.personal.retention_days["claims"] = 365
    result = settle_worked_example(services)
    close(services, result.stream_id)
    outcome = services.personal.erase("person-1", "request", admin())
    assert outcome.status == "deferred"
    assert {h.reason for h in outcome.holds} == {"retention_period"}
    assert outcome.holds[0].until is not None


def test_erasing_an_unknown_person_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.personal.erase("nobody", "request", admin())


# -- free text (issue 17 item 8) ---------------------------------------------------------------

PERSON = {"id": "110101198001010011", "name": "Zhao Liu", "phone": "13900000001"}
# Every free text the person's records hold, each unique so that a leak is found anywhere.
TEXTS = {
    "matter": "赵六的理赔被拒-matter",
    "request": "赵六要求赔付-request",
    "intake_facts": "赵六住院三天-intake-facts",
    "note": "赵六来电催办-urge-note",
    "new_facts": "赵六补充病历-new-facts",
    "facts": "核实赵六病历-decided-facts",
    "basis": "条款第七条-赵六-basis",
    "review_reason": "赵六不服-review-reason",
    "review_basis": "维持原决定-赵六-review-basis",
    "dispute_matter": "赵六纠纷事项-dispute-matter",
    "terms": "赔付赵六一千元-terms",
    "award": "裁决赔付赵六-award",
    "withdrawal": "赵六已和解-withdrawal",
    "report_facts": "代理人向赵六承诺保本-report-facts",
    "findings": "录音证实赵六所述-findings",
    "conclusion": "违反销售规定-赵六-conclusion",
}
STAFF = Actor(name="wang", role="handler")
MEDIATOR = "med-1"
ARBITRATOR = "arb-1"
OFFICER = Actor("officer-1", "report_officer")


def at_now(actor: Actor = STAFF) -> Meta:
    return Meta(datetime.now(tz=UTC), actor)


def partner(s: Services, command: object, partner_id: str, role: str) -> None:
    """A step a mediator or arbitrator posts through the partner gateway."""
    event_id = f"evt-{type(command).__name__}-{id(command)}"
    source = f"/partners/{partner_id}"
    actor = Actor(partner_id, role, partner_id=partner_id, source=source, event_id=event_id)
    event = PartnerEvent(source, event_id, type(command).__name__, event_id, command, at_now(actor))
    s.events.record(event)


@dataclass
class World:
    """Every desk over one real store, with the Merkle log and the fact views."""

    settings: Settings
    services: Services
    reports: ReportServices
    proofs: LedgerProofs
    sealer: Sealer
    notary: Notary
    projector: Projector


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    migrate(settings)
    ledger = build_ledger(settings)
    vault = build_vault(settings, ledger)
    proofs = LedgerProofs(ledger.recorder, merkle_store_for(ledger.recorder))
    services = build_services(
        ledger,
        vault,
        retention_days={"complaints": 0, "disputes": 0, "reports": 0},
        proofs=proofs,
        directory=StaticDirectory([Handler("wang", "east", (), (), ())]),
        dispute_rules=dispute_rules(settings),
    )
    reports = build_report_services(
        services,
        vault,
        report_rules(settings),
        StaticInvestigators((Investigator("inv-audit", "audit"),)),
        proofs=proofs,
    )
    notary = build_notary(settings)
    yield World(
        settings,
        services,
        reports,
        proofs,
        build_sealer(settings, ledger, notary),
        notary,
        build_projector(settings, ledger),
    )
    ledger.close()


def complaint_of_the_person(s: Services) -> UUID:
    """A complaint through intake, urging, new facts, decision, notice, closure and review."""
    desk = s.complaints
    intake = Intake(
        channel="hotline",
        complainant=dict(PERSON),
        matter=TEXTS["matter"],
        request=TEXTS["request"],
        cause="claims",
        line="health",
        region="330100",
        facts=TEXTS["intake_facts"],
    )
    cid = UUID(str(desk.receive(intake, at_now(), None).body["id"]))

    def sent() -> cc.Sent:
        return cc.Sent(at_now())

    desk.contact(cc.Contact(complaint_id=cid), sent())
    desk.urge(cc.Urge(complaint_id=cid, note=TEXTS["note"]), sent())
    desk.add_new_facts(cc.AddNewFacts(complaint_id=cid, summary=TEXTS["new_facts"]), sent())
    decide = cc.Decide(
        complaint_id=cid,
        outcome="partly_upheld",
        redress=Decimal("800.00"),
        facts=TEXTS["facts"],
        basis=TEXTS["basis"],
        root_causes=("claims_service",),
    )
    desk.decide(decide, sent())
    desk.notify(cc.Notify(complaint_id=cid), sent())
    desk.close(cc.Close(complaint_id=cid), sent())
    desk.request_review(cc.RequestReview(complaint_id=cid, reason=TEXTS["review_reason"]), sent())
    review = cc.DecideReview(complaint_id=cid, outcome="not_upheld", basis=TEXTS["review_basis"])
    desk.decide_review(review, sent())
    return cid


def disputes_of_the_person(s: Services, complaint_id: UUID) -> list[UUID]:
    """A mediated dispute (agreement terms), an arbitrated one (award), a withdrawn one."""
    desk = s.disputes

    def opened(matter: str) -> UUID:
        party = {"id": PERSON["id"], "name": PERSON["name"]}
        cmd = d.OpenDispute(party, Decimal("1000.00"), matter, complaint_id=complaint_id)
        return UUID(desk.open(cmd, at_now(), None).body["id"])

    mediated = opened(TEXTS["dispute_matter"])
    desk.request_mediation(d.RequestMediation(mediated, MEDIATOR), at_now(), None, None)
    partner(s, d.AcceptMediation(mediated), MEDIATOR, "mediator")
    now = datetime.now(tz=UTC)
    agreement = d.SignAgreement(mediated, now, Decimal("1000.00"), TEXTS["terms"])
    partner(s, agreement, MEDIATOR, "mediator")
    desk.close(d.CloseDispute(mediated, "agreement signed"), at_now(), None, None)
    arbitrated = opened(TEXTS["dispute_matter"])
    arbitration = d.RequestArbitration(arbitrated, ARBITRATOR, True)
    desk.request_arbitration(arbitration, at_now(), None, None)
    partner(s, d.AcceptArbitration(arbitrated, "ARB-1"), ARBITRATOR, "arbitrator")
    award = d.IssueAward(arbitrated, datetime.now(tz=UTC), Decimal("900.00"), TEXTS["award"])
    partner(s, award, ARBITRATOR, "arbitrator")
    desk.close(d.CloseDispute(arbitrated, "award issued"), at_now(), None, None)
    withdrawn = opened(TEXTS["dispute_matter"])
    desk.withdraw(d.WithdrawDispute(withdrawn, TEXTS["withdrawal"]), at_now(), None, None)
    return [mediated, arbitrated, withdrawn]


def report_of_the_person(reports: ReportServices) -> UUID:
    """A named report (举报) from receipt through findings and conclusion to closing."""
    desk, none = reports.desk, Conditions()
    intake = ReportIntake(
        channel="hotline",
        anonymous=False,
        reporter=dict(PERSON),
        category="sales_misrepresentation",
        subject=ReportSubject("agent", "AG-9", "sales-hz"),
        facts=TEXTS["report_facts"],
    )
    rid = UUID(desk.receive(intake, at_now(OFFICER), None).body["id"])
    desk.accept(AcceptReport(rid), at_now(OFFICER), none)
    desk.assign(AssignInvestigator(rid, "inv-audit"), at_now(OFFICER), none)
    desk.record_findings(RecordFindings(rid, TEXTS["findings"], ()), at_now(OFFICER), none)
    conclude = ConcludeReport(rid, "substantiated", TEXTS["conclusion"], ("rectify",))
    desk.conclude(conclude, at_now(OFFICER), none)
    desk.notify(NotifyReporter(rid, "sms", datetime.now(tz=UTC)), at_now(OFFICER), none)
    desk.close(CloseReport(rid), at_now(OFFICER), none)
    return rid


def everything_read(w: World, cid: UUID, dids: list[UUID], rid: UUID) -> list[Any]:
    """Every read of the person's records: views now and at every version, histories (with
    proofs), the closure report as JSON and HTML, partner lists, report reads of both kinds."""
    s, now = w.services, datetime.now(tz=UTC)
    reads: list[Any] = []
    complaint = s.complaint_queries.view(cid, now)
    reads += [complaint, s.complaint_queries.history(cid, proofs=True)]
    reads += [s.complaint_queries.view(cid, now, v) for v in range(1, complaint["version"] + 1)]
    closure = s.complaint_queries.closure_report(cid, now)
    reads += [closure, render(closure)]
    for did in dids:
        dispute = s.dispute_queries.view(did, None, now)
        reads += [dispute, s.dispute_queries.history(did, None, proofs=True)]
        reads += [s.dispute_queries.view(did, None, now, v) for v in range(1, dispute["version"])]
    reads += [s.dispute_queries.assigned("med-1", now), s.dispute_queries.assigned("arb-1", now)]
    for reader in (ReportReader("officer-1", True), ReportReader("auditor-1", False)):
        report = w.reports.queries.view(rid, reader, now)
        reads += [report, w.reports.queries.history(rid, reader, proofs=True)]
        reads += [w.reports.queries.view(rid, reader, now, v) for v in range(1, report["version"])]
    return reads


def figures(w: World) -> dict[str, Any]:
    """Complaint, dispute and report statistics of this year, in total and by group."""
    now = datetime.now(tz=UTC)
    period = parse_period(f"{now.astimezone(CST).year}", now)
    ledger = w.services.ledger
    answers = {
        "complaints": build_statistics(ledger).figures(period, ("channel", "cause"), now),
        "disputes": build_case_statistics(ledger).disputes_figures(period, ("channel",)),
        "reports": build_report_statistics(ledger).figures(period, ("category",), now),
    }
    # Only the figures: not the log position they were read at, nor when.
    return {
        kind: {k: v for k, v in answer.items() if k in ("totals", "groups")}
        for kind, answer in answers.items()
    }


def test_free_text_is_sealed_and_erasure_covers_it_with_the_figures_unchanged(
    world: World,
) -> None:
    s = world.services
    cid = complaint_of_the_person(s)
    dids = disputes_of_the_person(s, cid)
    rid = report_of_the_person(world.reports)
    # Sealed at intake: no free text (nor name or id) reaches the log in clear, replays included.
    raw = stored_bytes(s)
    for text in (*TEXTS.values(), PERSON["name"], PERSON["id"]):
        assert text.encode() not in raw, text
    # Before erasure every reader sees the words.
    shown = str(everything_read(world, cid, dids, rid))
    for text in TEXTS.values():
        assert text in shown, text
    closure = s.complaint_queries.closure_report(cid, datetime.now(tz=UTC))
    assert (closure["matter"], closure["facts"]) == (TEXTS["matter"], TEXTS["facts"])
    world.projector.catch_up()
    before = figures(world)
    world.sealer.catch_up()
    log_before = stored_bytes(s)

    outcome = s.personal.erase(PERSON["id"], "data subject request", admin())
    assert outcome.status == "erased", outcome.holds

    reads = everything_read(world, cid, dids, rid)
    leaked = [t for t in (*TEXTS.values(), PERSON["name"]) if t in str(reads)]
    assert leaked == []
    complaint = reads[0]
    assert [complaint[k] for k in ("matter", "request", "facts")] == [ERASED] * 3
    assert (complaint["decision"]["facts"], complaint["decision"]["basis"]) == (ERASED, ERASED)
    assert complaint["decision"]["redress"] == "800.00"  # figures are not personal
    assert (complaint["review"]["reason"], complaint["review"]["basis"]) == (ERASED, ERASED)
    closure = s.complaint_queries.closure_report(cid, datetime.now(tz=UTC))
    assert closure["matter"] == closure["request"] == closure["facts"] == ERASED
    assert closure["basis"] == ERASED
    assert closure["outcome"] == "partly_upheld"
    assert ERASED in render(closure)
    details = [step["detail"] for step in closure["timeline"]]
    assert {"note": ERASED} in [{k: v for k, v in x.items() if k == "note"} for x in details]
    mediated = s.dispute_queries.view(dids[0], None, datetime.now(tz=UTC))
    assert (mediated["matter"], mediated["mediations"][0]["terms"]) == (ERASED, ERASED)
    awarded = s.dispute_queries.view(dids[1], None, datetime.now(tz=UTC))
    assert awarded["arbitrations"][0]["decision"] == ERASED
    assert s.dispute_queries.view(dids[2], None, datetime.now(tz=UTC))["end_reason"] == ERASED
    report = world.reports.queries.view(rid, ReportReader("officer-1", True), datetime.now(tz=UTC))
    assert report["facts"] == report["findings"][0]["summary"] == ERASED
    assert report["conclusion"]["basis"] == ERASED
    assert report["conclusion"]["finding"] == "substantiated"

    # The log is unchanged byte for byte, still verifies, and every proof still holds.
    assert stored_bytes(s).startswith(log_before)
    world.sealer.catch_up()
    assert verify_ledger(s.ledger.recorder, world.proofs.store, world.notary.verifier_key).ok
    history = s.complaint_queries.history(cid, proofs=True)
    for entry in history:
        proof = entry["proof"]
        leaf = world.proofs.leaves([entry["position"]])[entry["position"]]
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        root = bytes.fromhex(proof["root"])
        assert verify_inclusion(leaf_hash(leaf), proof["index"], proof["size"], hashes, root)
    # The exported bundle of the person's records holds no free text and verifies offline.
    streams = [cid, *dids, rid]
    positions = [p for x in streams for p in s.ledger.positions.of(x).values()]
    bundle = export_bundle(world.proofs, world.notary.verifier_key, positions)
    assert len(bundle["entries"]) == len(positions)
    exported = b"".join(base64.b64decode(e["leaf"]) for e in bundle["entries"])
    assert [t for t in TEXTS.values() if t.encode() in exported] == []
    assert verify_bundle(bundle, world.notary.verifier_key).ok
    # Statistics are the same, caught up and rebuilt from the log after the erasure.
    world.projector.catch_up()
    assert figures(world) == before
    for view in world.projector.views:
        world.projector.rebuild(view)
    world.projector.catch_up()
    assert figures(world) == before


OLD_PERSON = {"id": "110101197001010022", "name": "Qian Qi"}
# Free text as events stored before issue 17 held it: in clear.
OLD = {
    "matter": "钱七旧投诉事项-old-matter",
    "request": "钱七旧请求-old-request",
    "intake_facts": "钱七旧事实-old-intake-facts",
    "note": "钱七旧催办-old-note",
    "facts": "钱七旧核实-old-facts",
    "basis": "钱七旧依据-old-basis",
    "review_reason": "钱七旧核查理由-old-review-reason",
    "review_basis": "钱七旧核查依据-old-review-basis",
    "dispute_matter": "钱七旧纠纷-old-dispute-matter",
    "terms": "钱七旧协议-old-terms",
    "withdrawal": "钱七旧撤回理由-old-withdrawal",
    "report_facts": "钱七旧举报-old-report-facts",
    "findings": "钱七旧调查-old-findings",
    "conclusion": "钱七旧结论-old-conclusion",
}


def stored_before_sealing(w: World) -> tuple[UUID, list[UUID], UUID]:
    """A complaint, two disputes and a named report recorded as the code before issue 17
    recorded them — the person's fields sealed, the free text plain — and saved through the
    store's recorder: rows in the old format."""
    s, vault, now = w.services, build_vault(w.settings, w.services.ledger), datetime.now(tz=UTC)
    ref = vault.ref(OLD_PERSON["id"])
    complaint = Complaint.receive(
        complaint_id=uuid4(),
        channel="hotline",
        complainant_ref=ref,
        complainant=vault.seal_many(ref, OLD_PERSON),
        matter=OLD["matter"],
        request=OLD["request"],
        facts=OLD["intake_facts"],
        cause="claims",
        line="health",
        region="330100",
        occurred_at=now,
        actor=STAFF,
    )
    complaint.assign("wang", now, STAFF)
    complaint.contact(now, STAFF)
    complaint.urge("complainant", OLD["note"], now, STAFF)
    complaint.decide("upheld", Decimal("100.00"), OLD["facts"], OLD["basis"], now, STAFF)
    complaint.notify("letter", None, now, STAFF)
    complaint.close(now, STAFF)
    complaint.request_review(OLD["review_reason"], now, STAFF, rules=ComplaintRules())
    complaint.decide_review("not_upheld", OLD["review_basis"], now, STAFF)
    party = vault.seal_many(ref, OLD_PERSON)
    rules = dispute_rules(w.settings)

    def opened() -> Dispute:
        return Dispute.open(
            dispute_id=uuid4(),
            party_ref=ref,
            party=party,
            amount=Decimal("500.00"),
            matter=OLD["dispute_matter"],
            occurred_at=now,
            actor=STAFF,
            complaint_id=complaint.id,
        )

    mediated, withdrawn = opened(), opened()
    mediated.request_mediation(MEDIATOR, now, STAFF)
    mediated.mediator_accept(now, STAFF, rules=rules)
    mediated.sign_agreement(now, Decimal("500.00"), OLD["terms"], now, STAFF, rules=rules)
    mediated.close("agreement signed", now, STAFF)
    withdrawn.withdraw(OLD["withdrawal"], now, STAFF)
    report = Report.receive(
        report_id=uuid4(),
        channel="hotline",
        anonymous=False,
        reporter_ref=ref,
        reporter=vault.seal_many(ref, OLD_PERSON),
        category="sales_misrepresentation",
        subject=ReportSubject("agent", "AG-3", "sales-hz"),
        facts=OLD["report_facts"],
        evidence=[],
        transfer_id=None,
        occurred_at=now,
        actor=OFFICER,
        categories=("sales_misrepresentation",),
    )
    report.accept(now, OFFICER)
    report.assign("inv-audit", "audit", now, OFFICER)
    report.record_findings(OLD["findings"], [], now, OFFICER)
    report.conclude("substantiated", OLD["conclusion"], ["rectify"], now, OFFICER)
    report.notify("sms", now, now, OFFICER)
    report.close(now, OFFICER)
    subject = Subject(ref=ref)
    for kind, record in (
        ("complaints", complaint),
        ("disputes", mediated),
        ("disputes", withdrawn),
        ("reports", report),
    ):
        subject.list_record(kind, record.id)
    s.ledger.save(complaint, mediated, withdrawn, report, subject)
    return complaint.id, [mediated.id, withdrawn.id], report.id


def test_free_text_stored_in_clear_before_sealing_reads_and_is_covered_by_erasure(
    world: World,
) -> None:
    s = world.services
    cid, dids, rid = stored_before_sealing(world)
    raw = stored_bytes(s)
    assert all(text.encode() in raw for text in OLD.values())  # the old format: plain text
    shown = str(everything_read(world, cid, dids, rid))
    for text in OLD.values():
        assert text in shown, text  # older rows read as they always did
    complaint = s.complaint_queries.view(cid, datetime.now(tz=UTC))
    assert (complaint["matter"], complaint["review"]["reason"]) == (
        OLD["matter"],
        OLD["review_reason"],
    )
    world.projector.catch_up()
    before = figures(world)
    world.sealer.catch_up()

    assert s.personal.erase(OLD_PERSON["id"], "request", admin()).status == "erased"

    reads = everything_read(world, cid, dids, rid)
    assert [t for t in (*OLD.values(), OLD_PERSON["name"]) if t in str(reads)] == []
    complaint = s.complaint_queries.view(cid, datetime.now(tz=UTC))
    assert [complaint[k] for k in ("matter", "request", "facts")] == [ERASED] * 3
    assert complaint["review"] == {**complaint["review"], "reason": ERASED, "basis": ERASED}
    assert complaint["review"]["outcome"] == "not_upheld"
    assert complaint["status"] == "review_decided"  # what is not free text stays
    closure = s.complaint_queries.closure_report(cid, datetime.now(tz=UTC))
    assert ERASED in render(closure)
    assert closure["redress"] == "100.00"
    history = s.dispute_queries.history(dids[1], None)
    assert history[-1]["type"] == "Withdrawn"
    assert history[-1]["data"]["reason"] == ERASED
    mediated = s.dispute_queries.history(dids[0], None)
    assert mediated[-1]["data"]["reason"] == "agreement signed"  # staff's words stay
    world.sealer.catch_up()
    assert verify_ledger(s.ledger.recorder, world.proofs.store, world.notary.verifier_key).ok
    world.projector.catch_up()
    assert figures(world) == before


def test_a_blank_free_text_is_refused_before_it_is_sealed(services: Services) -> None:
    """The domain sees only the sealed text: the plain one is checked first (422 naming it)."""
    blank = Intake(
        channel="hotline",
        complainant={"id": "c-9", "name": "Sun Ba"},
        matter="   ",
        request="pay",
        cause="claims",
        line="health",
        region="330100",
    )
    with pytest.raises(InvalidInput) as refused:
        services.complaints.receive(blank, at_now(), None)
    assert refused.value.field == "matter"
    assert services.ledger.position() == 0  # nothing recorded
    cmd = d.OpenDispute({"id": "c-9", "name": "Sun Ba"}, Decimal("1.00"), "\n\t")
    with pytest.raises(InvalidInput) as refused:
        services.disputes.open(cmd, at_now(), None)
    assert refused.value.field == "matter"
    assert services.ledger.position() == 0
