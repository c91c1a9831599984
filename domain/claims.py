"""The Claim aggregate: one hospital encounter from admission to closing (一站式结算)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import ZERO, Actor, DomainError, InvalidInput, stream_id
from domain.personal import Sealed
from domain.settlement import Category, ChargeLine, SettlementInputs, Split


class ClaimError(DomainError):
    """Base of the claim's business-rule refusals."""


class ClaimClosed(ClaimError):
    """Nothing can change a closed claim."""

    rule = "claim_closed"


class ClaimNotSettled(ClaimError):
    """The step needs a settled claim."""

    rule = "claim_not_settled"


class AlreadyDischarged(ClaimError):
    """A settled claim must be cancelled before it can be discharged again."""

    rule = "already_discharged"


class NotDischarged(ClaimError):
    """A settlement belongs to a discharge."""

    rule = "not_discharged"


class SettlementExceedsBill(ClaimError):
    """Payments larger than the bill (e.g. a platform result above it) leave the patient a
    negative share: refused."""

    rule = "settlement_exceeds_bill"


class DischargeBeforeAdmission(ClaimError):
    """A patient leaves hospital after being admitted: a discharge timed before the
    admission is refused (it would settle a stay of no length)."""

    rule = "discharge_before_admission"


class RemittedBeyondAdjustment(ClaimError):
    """A correction may not bring the commercial share below what was already remitted."""

    rule = "remitted_beyond_adjustment"


class DuplicateChargeLine(ClaimError):
    """A line id can be posted once per claim."""

    rule = "duplicate_line_id"


class UnknownChargeLine(ClaimError):
    """A reversal names a line that was never posted or is already reversed."""

    rule = "unknown_line_id"


class RemittanceAlreadyPaid(ClaimError):
    """A settlement cannot be cancelled once the insurer remitted its share."""

    rule = "remittance_already_paid"


class AmountExceedsOutstanding(ClaimError):
    """A payment larger than what is still owed."""

    rule = "amount_exceeds_outstanding"


@dataclass(frozen=True)
class Share:
    """What one settlement consumed of one accumulator field."""

    accumulator_id: UUID
    field: str
    amount: Decimal


@dataclass(frozen=True)
class ReferenceVersions:
    """The reference-data versions a settlement used (for re-adjudication)."""

    scheme_id: str | None = None
    scheme_version: int | None = None
    product_code: str | None = None
    product_version: int | None = None
    policy_id: str | None = None
    policy_version: int | None = None


@dataclass(frozen=True)
class Settlement:
    """A recorded settlement: the split, its inputs, the versions used and the shares taken."""

    split: Split
    inputs: SettlementInputs
    versions: ReferenceVersions
    shares: tuple[Share, ...] = field(default=())


def claim_id(hospital: str, encounter_id: str) -> UUID:
    """Encounter ids are unique per hospital; the claim's stream id derives from both."""
    return stream_id("claim", hospital, encounter_id)


class Claim(Aggregate):
    """A hospital encounter and its one-stop settlement."""

    # Its events may be replayed again (`application.ledger`, within a batch): it never
    # changes in place a container taken from an event (`lines` and `reversed` are its own;
    # charge lines and settlements are frozen values, `platform_result` is only replaced).
    events_reusable = True

    # Declared explicitly because statements and re-adjudication read them by type.
    class SettlementCalculated(Aggregate.Event):
        hospital: str
        settlement: Settlement
        occurred_at: datetime
        actor: Actor

    class SettlementAdjusted(Aggregate.Event):
        hospital: str
        settlement: Settlement
        delta: dict[str, Decimal]
        occurred_at: datetime
        actor: Actor

    class SettlementCancelled(Aggregate.Event):
        hospital: str
        reason: str
        returned: Split
        occurred_at: datetime
        actor: Actor

    class RemittancePaid(Aggregate.Event):
        hospital: str
        amount: Decimal
        occurred_at: datetime
        actor: Actor

    @staticmethod
    def create_id(hospital: str, encounter_id: str) -> UUID:
        return claim_id(hospital, encounter_id)

    @event("AdmissionRegistered")
    def __init__(
        self,
        *,
        hospital: str,
        encounter_id: str,
        patient_ref: str,
        patient_id: Sealed,
        patient_name: Sealed,
        region: str,
        person_type: str,
        hospital_level: int,
        social_insurance: bool,
        admitted_at: datetime,
        policy_id: str | None,
        diagnoses: Sealed | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.hospital = hospital
        self.encounter_id = encounter_id
        self.patient_ref = patient_ref
        self.patient_id = patient_id
        self.patient_name = patient_name
        self.region = region
        self.person_type = person_type
        self.hospital_level = hospital_level
        self.social_insurance = social_insurance
        self.admitted_at = admitted_at
        self.policy_id = policy_id
        self.diagnoses = diagnoses
        self.lines: dict[str, ChargeLine] = {}
        self.reversed: set[str] = set()
        self.status = "admitted"
        self.discharged_at: datetime | None = None
        self.platform_result: dict[str, Any] | None = None
        self.settlement: Settlement | None = None
        self.settled_at: datetime | None = None
        self.collected = ZERO
        self.remitted = ZERO
        self.closed_at: datetime | None = None

    # -- queries -----------------------------------------------------------------------------

    @property
    def active_lines(self) -> tuple[ChargeLine, ...]:
        """Posted lines net of reversals, in posting order."""
        return tuple(line for lid, line in self.lines.items() if lid not in self.reversed)

    @property
    def is_settled(self) -> bool:
        return self.settlement is not None

    @property
    def patient_outstanding(self) -> Decimal:
        return self.settlement.split.patient_pays - self.collected if self.settlement else ZERO

    @property
    def commercial_outstanding(self) -> Decimal:
        return self.settlement.split.commercial - self.remitted if self.settlement else ZERO

    @property
    def platform_fund_paid(self) -> Decimal | None:
        if self.platform_result is None:
            return None
        paid = self.platform_result["fund_paid"]
        assert isinstance(paid, Decimal)
        return paid

    # -- commands ----------------------------------------------------------------------------

    def post_charges(self, lines: list[ChargeLine], occurred_at: datetime, actor: Actor) -> None:
        """Add itemised charges (before discharge, or as a correction before closing)."""
        validate_lines(lines)
        self._check_open()
        seen: set[str] = set()
        for line in lines:
            if line.line_id in self.lines or line.line_id in seen:
                raise DuplicateChargeLine(f"charge line {line.line_id!r} was already posted")
            seen.add(line.line_id)
        self._charges_posted(lines=lines, occurred_at=occurred_at, actor=actor)

    @event("ChargesPosted")
    def _charges_posted(self, lines: list[ChargeLine], occurred_at: datetime, actor: Actor) -> None:
        for line in lines:
            self.lines[line.line_id] = line

    def reverse_charges(self, line_ids: list[str], occurred_at: datetime, actor: Actor) -> None:
        """Reverse (冲正) posted lines by line id."""
        self._check_open()
        for line_id in line_ids:
            if line_id not in self.lines or line_id in self.reversed:
                raise UnknownChargeLine(f"charge line {line_id!r} is not an active line")
        if len(set(line_ids)) != len(line_ids):
            raise UnknownChargeLine("a line id is named twice in one reversal")
        self._charges_reversed(line_ids=line_ids, occurred_at=occurred_at, actor=actor)

    @event("ChargesReversed")
    def _charges_reversed(self, line_ids: list[str], occurred_at: datetime, actor: Actor) -> None:
        self.reversed.update(line_ids)

    def name_policy(self, policy_id: str, occurred_at: datetime, actor: Actor) -> None:
        """The hospital names the policy (e.g. after `ambiguous_policy`); an adjustment follows."""
        self._check_open()
        self._policy_named(policy_id=policy_id, occurred_at=occurred_at, actor=actor)

    @event("PolicyNamed")
    def _policy_named(self, policy_id: str, occurred_at: datetime, actor: Actor) -> None:
        self.policy_id = policy_id

    def discharge(
        self,
        discharged_at: datetime,
        platform_result: dict[str, Any] | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        """Record the discharge; the settlement follows in the same save."""
        self._check_open()
        if self.is_settled:
            raise AlreadyDischarged("the claim is already settled; cancel the settlement first")
        if discharged_at < self.admitted_at:
            raise DischargeBeforeAdmission(
                f"discharged_at {discharged_at.isoformat()} lies before admitted_at "
                f"{self.admitted_at.isoformat()}"
            )
        self._discharged(
            discharged_at=discharged_at,
            platform_result=platform_result,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event("Discharged")
    def _discharged(
        self,
        discharged_at: datetime,
        platform_result: dict[str, Any] | None,
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.status = "discharged"
        self.discharged_at = discharged_at
        self.platform_result = platform_result

    def record_settlement(
        self, settlement: Settlement, occurred_at: datetime, actor: Actor
    ) -> None:
        """Record the split computed at discharge (only right after the discharge)."""
        self._check_open()
        if self.status != "discharged":
            raise NotDischarged("a settlement is recorded only for a discharged claim")
        _check_split(settlement.split)
        self._settlement_calculated(
            hospital=self.hospital, settlement=settlement, occurred_at=occurred_at, actor=actor
        )

    @event(SettlementCalculated)
    def _settlement_calculated(
        self, hospital: str, settlement: Settlement, occurred_at: datetime, actor: Actor
    ) -> None:
        self.settlement = settlement
        self.settled_at = occurred_at
        self.status = "settled"

    def adjust_settlement(
        self, settlement: Settlement, occurred_at: datetime, actor: Actor
    ) -> dict[str, Decimal]:
        """Record a post-settlement correction as the delta against the current settlement."""
        self._check_open()
        if self.settlement is None:
            raise ClaimNotSettled("only a settled claim can be adjusted")
        _check_split(settlement.split)
        if settlement.split.commercial < self.remitted:
            raise RemittedBeyondAdjustment(
                f"the commercial share would fall to {settlement.split.commercial}, below the "
                f"{self.remitted} already remitted"
            )
        old, new = self.settlement.split, settlement.split
        delta = {
            "medfee": new.medfee - old.medfee,
            "social_insurance_paid": new.si_paid - old.si_paid,
            "commercial_paid": new.commercial - old.commercial,
            "patient_pays": new.patient_pays - old.patient_pays,
        }
        self._settlement_adjusted(
            hospital=self.hospital,
            settlement=settlement,
            delta=delta,
            occurred_at=occurred_at,
            actor=actor,
        )
        return delta

    @event(SettlementAdjusted)
    def _settlement_adjusted(
        self,
        hospital: str,
        settlement: Settlement,
        delta: dict[str, Decimal],
        occurred_at: datetime,
        actor: Actor,
    ) -> None:
        self.settlement = settlement

    def cancel_settlement(self, reason: str, occurred_at: datetime, actor: Actor) -> None:
        """Cancel (撤销结算) before remittance; the accumulators get the claim's share back."""
        self._check_open()
        if self.settlement is None:
            raise ClaimNotSettled("there is no settlement to cancel")
        if self.remitted > ZERO:
            raise RemittanceAlreadyPaid("the commercial share was already remitted")
        self._settlement_cancelled(
            hospital=self.hospital,
            reason=reason,
            returned=self.settlement.split,
            occurred_at=occurred_at,
            actor=actor,
        )

    @event(SettlementCancelled)
    def _settlement_cancelled(
        self, hospital: str, reason: str, returned: Split, occurred_at: datetime, actor: Actor
    ) -> None:
        self.settlement = None
        self.settled_at = None
        self.discharged_at = None
        self.platform_result = None
        self.collected = ZERO
        self.status = "admitted"

    def collect_copay(self, amount: Decimal, occurred_at: datetime, actor: Actor) -> None:
        """The hospital collected the patient's part (SettlementConfirmed)."""
        self._check_open()
        if self.settlement is None:
            raise ClaimNotSettled("the claim has no settlement to collect against")
        if amount > self.patient_outstanding:
            raise AmountExceedsOutstanding(
                f"amount {amount} exceeds the patient's outstanding {self.patient_outstanding}"
            )
        self._settlement_confirmed(amount=amount, occurred_at=occurred_at, actor=actor)
        self._close_when_paid(occurred_at, actor)

    @event("SettlementConfirmed")
    def _settlement_confirmed(self, amount: Decimal, occurred_at: datetime, actor: Actor) -> None:
        self.collected += amount

    def pay_remittance(self, amount: Decimal, occurred_at: datetime, actor: Actor) -> None:
        """The insurer remitted its commercial share to the hospital."""
        self._check_open()
        if self.settlement is None:
            raise ClaimNotSettled("the claim has no settlement to remit")
        if amount > self.commercial_outstanding:
            raise AmountExceedsOutstanding(
                f"amount {amount} exceeds the commercial outstanding {self.commercial_outstanding}"
            )
        self._remittance_paid(
            hospital=self.hospital, amount=amount, occurred_at=occurred_at, actor=actor
        )
        self._close_when_paid(occurred_at, actor)

    @event(RemittancePaid)
    def _remittance_paid(
        self, hospital: str, amount: Decimal, occurred_at: datetime, actor: Actor
    ) -> None:
        self.remitted += amount

    def close_when_settled_in_full(self, occurred_at: datetime, actor: Actor) -> None:
        """Close by itself once nothing is owed (used after settlement and adjustments)."""
        self._close_when_paid(occurred_at, actor)

    def _close_when_paid(self, occurred_at: datetime, actor: Actor) -> None:
        if (
            self.settlement is not None
            and self.patient_outstanding == ZERO
            and self.commercial_outstanding == ZERO
        ):
            self._closed(occurred_at=occurred_at, actor=actor)

    @event("Closed")
    def _closed(self, occurred_at: datetime, actor: Actor) -> None:
        self.status = "closed"
        self.closed_at = occurred_at

    def _check_open(self) -> None:
        if self.status == "closed":
            raise ClaimClosed("the claim is closed")


def _check_split(split: Split) -> None:
    if split.patient_pays < ZERO:
        raise SettlementExceedsBill(
            f"social insurance {split.si_paid} and commercial {split.commercial} exceed the "
            f"bill of {split.medfee}"
        )


class InvalidChargeLine(InvalidInput):
    """A charge line the settlement rule cannot take (422 naming the line's field)."""


def validate_line(line: ChargeLine) -> None:
    """Refuse over_limit on a C line or above the amount, and prepay_ratio off a B line."""
    if line.over_limit > line.amount:
        raise InvalidChargeLine("over_limit", "over_limit must not exceed amount")
    if line.category == Category.C and line.over_limit > ZERO:
        raise InvalidChargeLine("over_limit", "over_limit applies to A and B lines only")
    if line.prepay_ratio is not None and line.category != Category.B:
        raise InvalidChargeLine("prepay_ratio", "prepay_ratio applies to B lines only")


def validate_lines(lines: Sequence[ChargeLine], field: str = "items") -> None:
    """Every line valid; the error names the line's field, as `items[2].over_limit`."""
    for index, line in enumerate(lines):
        try:
            validate_line(line)
        except InvalidChargeLine as invalid:
            raise InvalidChargeLine(f"{field}[{index}].{invalid.field}", invalid.message) from None
