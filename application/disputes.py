"""Dispute resolution (纠纷化解): staff open and steer disputes; mediators, arbitrators and
courts post their steps as partner events, each acting only on the disputes that name it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.commands import Answer, CommandKey, CommandResult, CommandRunner
from application.gateway import Meta, Outcome
from application.ledger import Ledger, NotFound, Reads, utc_now
from application.personal import Opener, Vault
from application.views import history_entry, json_ready, money, rfc3339, with_proofs
from domain.claims import Claim
from domain.common import StaleVersion, UnknownRecord
from domain.complaints import Complaint
from domain.dispute_links import DisputeLinks, links_id
from domain.dispute_rules import DisputeRules
from domain.disputes import Dispute
from domain.personal import Subject, subject_stream_id

KIND = "disputes"


@dataclass(frozen=True)
class OpenDispute:
    party: dict[str, str]
    amount: Decimal
    matter: str
    complaint_id: UUID | None = None
    claim_id: UUID | None = None


@dataclass(frozen=True)
class PartnerStep:
    """A mediator's, arbitrator's or court's step on a dispute (a partner event)."""

    dispute_id: UUID
    step: str
    args: dict[str, Any]


PARTNER_STEPS: dict[str, Callable[[Dispute, dict[str, Any], Meta, DisputeRules], None]] = {
    "mediator_accept": lambda d, a, m, r: d.mediator_accept(m.occurred_at, m.actor, rules=r),
    "hold_session": lambda d, a, m, r: d.hold_session(
        a["held_at"], a["recording_ref"], m.occurred_at, m.actor, rules=r
    ),
    "sign_agreement": lambda d, a, m, r: d.sign_agreement(
        a["signed_at"],
        a["amount"],
        a["terms"],
        m.occurred_at,
        m.actor,
        performance_due=a.get("performance_due"),
        rules=r,
    ),
    "fail_mediation": lambda d, a, m, r: d.fail_mediation(a["reason"], m.occurred_at, m.actor),
    "arbitrator_accept": lambda d, a, m, r: d.arbitrator_accept(
        a["case_no"], m.occurred_at, m.actor
    ),
    "hold_hearing": lambda d, a, m, r: d.hold_hearing(
        a["held_at"], a["recording_ref"], m.occurred_at, m.actor
    ),
    "issue_award": lambda d, a, m, r: d.issue_award(
        a["issued_at"],
        a["amount"],
        a["decision"],
        m.occurred_at,
        m.actor,
        performance_due=a.get("performance_due"),
        rules=r,
    ),
    "court_accept_confirmation": lambda d, a, m, r: d.court_accept_confirmation(
        a["case_no"], a["applied_at"], m.occurred_at, m.actor, rules=r
    ),
    "grant_confirmation": lambda d, a, m, r: d.grant_confirmation(
        a["ruled_at"], m.occurred_at, m.actor
    ),
    "reject_confirmation": lambda d, a, m, r: d.reject_confirmation(
        a["ruled_at"], a["reason"], m.occurred_at, m.actor
    ),
    "apply_enforcement": lambda d, a, m, r: d.apply_enforcement(
        a["applied_at"], m.occurred_at, m.actor, rules=r
    ),
    "record_enforced": lambda d, a, m, r: d.record_enforced(a["amount"], m.occurred_at, m.actor),
}

STAFF_ACTIONS: dict[str, Callable[[Dispute, dict[str, Any], Meta, DisputeRules], None]] = {
    "mediation": lambda d, a, m, r: d.request_mediation(a["mediator"], m.occurred_at, m.actor),
    "mediation-extension": lambda d, a, m, r: d.extend_mediation(
        a["until"], a["consent"], m.occurred_at, m.actor, rules=r
    ),
    "arbitration": lambda d, a, m, r: d.request_arbitration(
        a["arbitrator"], a["consent"], m.occurred_at, m.actor
    ),
    "confirmation": lambda d, a, m, r: d.apply_confirmation(
        a["court"], m.occurred_at, m.actor, rules=r
    ),
    "enforcement": lambda d, a, m, r: d.request_enforcement(
        a["court"], m.occurred_at, m.actor, rules=r
    ),
    "performed": lambda d, a, m, r: d.record_performance(
        a["amount"], m.occurred_at, m.actor, remittance_ref=a.get("remittance_ref")
    ),
    "withdraw": lambda d, a, m, r: d.withdraw(a["reason"], m.occurred_at, m.actor),
    "close": lambda d, a, m, r: d.close(a["reason"], m.occurred_at, m.actor),
}
NAMING = {
    "mediation": "mediator",
    "arbitration": "arbitrator",
    "confirmation": "court",
    "enforcement": "court",
}


class DisputeDesk:
    """Commands on disputes."""

    def __init__(
        self, ledger: Ledger, vault: Vault, runner: CommandRunner, rules: DisputeRules
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.runner = runner
        self.rules = rules
        self.opener = Opener(vault)

    def open(self, cmd: OpenDispute, meta: Meta, key: CommandKey | None) -> CommandResult:
        """Open a dispute (from a complaint, a claim, or directly), linked both ways."""

        def attempt() -> Answer:
            reads = Reads(self.ledger)
            ref = self.vault.ref(cmd.party.get("id", ""))
            links = []
            if cmd.complaint_id is not None:
                reads.prefetch(cmd.complaint_id, links_id("complaint", str(cmd.complaint_id)))
                if reads.get(Complaint, cmd.complaint_id) is None:
                    raise UnknownRecord(f"unknown complaint {cmd.complaint_id}")
                links.append(self._links("complaint", str(cmd.complaint_id), reads))
            if cmd.claim_id is not None:
                reads.prefetch(cmd.claim_id, links_id("claim", str(cmd.claim_id)))
                if reads.get(Claim, cmd.claim_id) is None:
                    raise UnknownRecord(f"unknown claim {cmd.claim_id}")
                links.append(self._links("claim", str(cmd.claim_id), reads))
            dispute = Dispute.open(
                dispute_id=uuid.uuid4(),
                party_ref=ref,
                party={k: self.vault.seal(ref, v) for k, v in cmd.party.items()},
                amount=cmd.amount,
                matter=cmd.matter,
                complaint_id=cmd.complaint_id,
                claim_id=cmd.claim_id,
                occurred_at=meta.occurred_at,
                actor=meta.actor,
            )
            for link in links:
                link.link(dispute.id)
            subject = reads.get(Subject, subject_stream_id(ref)) or Subject(ref=ref)
            subject.list_record(KIND, dispute.id)
            view = dispute_view(dispute, utc_now(), self.rules, self.opener)
            return Answer([dispute, *links, subject], True, view, ref)

        return self.runner.run(key, attempt)

    def _links(self, kind: str, key: str, reads: Reads | None = None) -> DisputeLinks:
        found = (
            reads.get(DisputeLinks, links_id(kind, key))
            if reads
            else self.ledger.find(DisputeLinks, links_id(kind, key))
        )
        return found or DisputeLinks(kind=kind, key=key)

    def act(
        self,
        dispute_id: UUID,
        action: str,
        args: dict[str, Any],
        meta: Meta,
        key: CommandKey | None = None,
        if_match: int | None = None,
    ) -> CommandResult:
        """A staff command; naming a partner lists the dispute under that partner."""

        def attempt() -> Answer:
            dispute = self.ledger.require(Dispute, dispute_id, f"dispute {dispute_id}")
            if if_match is not None and dispute.version != if_match:
                raise StaleVersion("the dispute changed since it was read; read it again")
            STAFF_ACTIONS[action](dispute, args, meta, self.rules)
            changed: list[Aggregate] = [dispute]
            if action in NAMING:
                partner = self._links("partner", args[NAMING[action]])
                partner.link(dispute.id)
                changed.append(partner)
            view = dispute_view(dispute, utc_now(), self.rules, self.opener)
            return Answer(changed, False, view, dispute.party_ref)

        return self.runner.run(key, attempt)

    def partner_step(self, cmd: PartnerStep, meta: Meta) -> Outcome:
        """A partner's step: a dispute that does not name the partner is simply unknown."""
        dispute = self.ledger.find(Dispute, cmd.dispute_id)
        partner = meta.actor.partner_id
        if dispute is None or partner is None or not dispute.names_partner(partner):
            raise UnknownRecord(f"unknown dispute {cmd.dispute_id}")
        PARTNER_STEPS[cmd.step](dispute, cmd.args, meta, self.rules)
        return Outcome(KIND, dispute, [dispute])


class DisputeQueries:
    """Reads of disputes; a partner sees only the disputes that name it."""

    def __init__(
        self, ledger: Ledger, vault: Vault, rules: DisputeRules, proofs: Any = None
    ) -> None:
        self.ledger = ledger
        self.rules = rules
        self.opener = Opener(vault)
        self.proofs = proofs

    def _visible(self, dispute_id: UUID, partner: str | None) -> Dispute:
        dispute = self.ledger.find(Dispute, dispute_id)
        if dispute is None or (partner is not None and not dispute.names_partner(partner)):
            raise NotFound("no such dispute")
        return dispute

    def view(
        self,
        dispute_id: UUID,
        partner: str | None,
        now: datetime,
        as_of_version: int | None = None,
        as_of: datetime | None = None,
    ) -> dict[str, Any]:
        dispute = self.ledger.then(
            self._visible(dispute_id, partner), as_of_version, as_of, "dispute"
        )
        return dispute_view(dispute, as_of or now, self.rules, self.opener)

    def history(
        self, dispute_id: UUID, partner: str | None, proofs: bool = False
    ) -> list[dict[str, Any]]:
        self._visible(dispute_id, partner)
        positions = self.ledger.positions.of(dispute_id)
        entries = [
            history_entry(e, positions.get(e.originator_version))
            for e in self.ledger.stream(dispute_id)
        ]
        revealed: list[dict[str, Any]] = list(self.opener.reveal(entries))
        return with_proofs(revealed, self.proofs) if proofs else revealed

    def linked(self, kind: str, key: str) -> list[str]:
        """The disputes of a complaint, a claim or a partner."""
        links = self.ledger.find(DisputeLinks, links_id(kind, key))
        return [str(d) for d in links.disputes] if links else []

    def assigned(self, partner: str, now: datetime) -> list[dict[str, Any]]:
        ids = [UUID(d) for d in self.linked("partner", partner)]
        found = self.ledger.find_many(ids)
        return [
            summary(d, now, self.rules)
            for d in (found.get(i) for i in ids)
            if isinstance(d, Dispute) and d.names_partner(partner)
        ]


def summary(d: Dispute, now: datetime, rules: DisputeRules) -> dict[str, Any]:
    """A list line without personal data."""
    return {
        "id": str(d.id),
        "state": d.state,
        "matter": d.matter,
        "open_windows": [w.name for w in d.windows(now, rules) if w.status == "open"],
    }


def dispute_view(d: Dispute, now: datetime, rules: DisputeRules, opener: Opener) -> dict[str, Any]:
    """The dispute with its state and every window: due date, instant, met or missed."""
    return {
        "id": str(d.id),
        "version": d.version,
        "state": d.state,
        "origin": d.origin,
        "party": opener.reveal(d.party),
        "amount": money(d.amount),
        "matter": d.matter,
        "complaint_id": json_ready(d.complaint_id),
        "claim_id": json_ready(d.claim_id),
        "mediator": d.mediator,
        "arbitrator": d.arbitrator,
        "confirmation_court": d.confirmation_court,
        "enforcement_court": d.enforcement_court,
        "mediations": json_ready(d.mediations),
        "arbitrations": json_ready(d.arbitrations),
        "confirmations": json_ready(d.confirmations),
        "title": json_ready(d.title),
        "paid": money(d.paid),
        "outstanding": None if d.outstanding is None else money(d.outstanding),
        "enforcement": json_ready(d.enforcement),
        "windows": [
            {
                "name": w.name,
                "round": w.round,
                "starts_at": rfc3339(w.starts_at),
                "due_date": w.due_date.isoformat(),
                "due_at": rfc3339(w.due_at),
                "status": w.status,
                "met": {"met": True, "missed": False}.get(w.status),
                "done_at": rfc3339(w.done_at) if w.done_at else None,
            }
            for w in d.windows(now, rules)
        ],
        "ended_at": json_ready(d.ended_at),
        "end_reason": d.end_reason,
        "evaluated_at": rfc3339(now),
        "created_at": rfc3339(d.created_on),
        "updated_at": rfc3339(d.modified_on),
    }
