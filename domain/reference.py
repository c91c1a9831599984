"""Reference data: social-insurance schemes and commercial products, versioned and effective-dated.

Each change records a new version, never overwrites one; a settlement names the versions it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, DomainError, stream_id
from domain.settlement import ProductTerms, SchemeTerms


class ReferenceDataError(DomainError):
    """Base of reference-data refusals."""


class NoSchemeInForce(ReferenceDataError):
    """No social-insurance scheme covers a region and person type on a date."""

    rule = "no_scheme"


class UnknownVersion(ReferenceDataError):
    """A recorded version number that this record never had."""

    rule = "unknown_version"


@dataclass(frozen=True)
class LevelTerms:
    """Inpatient deductible (起付线) and fund ratio for one hospital level."""

    deductible: Decimal
    ratio: Decimal


@dataclass(frozen=True)
class SchemeVersion:
    """One version of a social-insurance scheme."""

    version: int
    effective_from: date
    region: str
    person_type: str
    annual_cap: Decimal
    b_prepay_ratio: Decimal
    levels: dict[str, LevelTerms]

    def terms(self, hospital_level: int) -> SchemeTerms | None:
        level = self.levels.get(str(hospital_level))
        if level is None:
            return None
        return SchemeTerms(
            deductible=level.deductible,
            fund_ratio=level.ratio,
            annual_cap=self.annual_cap,
            b_prepay_ratio=self.b_prepay_ratio,
        )


@dataclass(frozen=True)
class ProductVersion:
    """One version of a commercial product."""

    version: int
    effective_from: date
    terms: ProductTerms


V = TypeVar("V", SchemeVersion, ProductVersion)


def in_force(versions: list[V], on: date) -> V | None:
    """The version in force on a date: the latest effective_from not after it, last PUT wins."""
    candidates = [v for v in versions if v.effective_from <= on]
    return max(candidates, key=lambda v: (v.effective_from, v.version), default=None)


def find_version(versions: list[V], number: int) -> V:
    for version in versions:
        if version.version == number:
            return version
    raise UnknownVersion(f"version {number} does not exist")


def scheme_stream_id(scheme_id: str) -> UUID:
    return stream_id("scheme", scheme_id)


def scheme_index_id(region: str, person_type: str) -> UUID:
    return stream_id("scheme-index", region, person_type)


def product_stream_id(product_code: str) -> UUID:
    return stream_id("product", product_code)


class Scheme(Aggregate):
    """A social-insurance scheme (医保) for a region and person type."""

    @staticmethod
    def create_id(scheme_id: str) -> UUID:
        return scheme_stream_id(scheme_id)

    @event("Registered")
    def __init__(self, scheme_id: str, occurred_at: datetime, actor: Actor) -> None:
        self.scheme_id = scheme_id
        self.versions: list[SchemeVersion] = []

    def add_version(
        self,
        effective_from: date,
        region: str,
        person_type: str,
        annual_cap: Decimal,
        b_prepay_ratio: Decimal,
        levels: dict[str, LevelTerms],
        occurred_at: datetime,
        actor: Actor,
    ) -> SchemeVersion:
        """Record a new version; earlier ones stay as they were."""
        version = SchemeVersion(
            version=len(self.versions) + 1,
            effective_from=effective_from,
            region=region,
            person_type=person_type,
            annual_cap=annual_cap,
            b_prepay_ratio=b_prepay_ratio,
            levels=levels,
        )
        self._version_recorded(version=version, occurred_at=occurred_at, actor=actor)
        return version

    @event("VersionRecorded")
    def _version_recorded(
        self, version: SchemeVersion, occurred_at: datetime, actor: Actor
    ) -> None:
        self.versions.append(version)

    def in_force(self, on: date) -> SchemeVersion | None:
        return in_force(self.versions, on)


class SchemeIndex(Aggregate):
    """Which schemes were ever recorded for a region and person type."""

    # Its events may be replayed again (`application.ledger`, within a batch): `scheme_ids`
    # is its own list of strings.
    events_reusable = True

    @staticmethod
    def create_id(region: str, person_type: str) -> UUID:
        return scheme_index_id(region, person_type)

    @event("Opened")
    def __init__(self, region: str, person_type: str) -> None:
        self.region = region
        self.person_type = person_type
        self.scheme_ids: list[str] = []

    @event("SchemeListed")
    def list_scheme(self, scheme_id: str) -> None:
        self.scheme_ids.append(scheme_id)


class Product(Aggregate):
    """A commercial health-insurance product (商保)."""

    @staticmethod
    def create_id(product_code: str) -> UUID:
        return product_stream_id(product_code)

    @event("Registered")
    def __init__(self, product_code: str, occurred_at: datetime, actor: Actor) -> None:
        self.product_code = product_code
        self.versions: list[ProductVersion] = []

    def add_version(
        self, effective_from: date, terms: ProductTerms, occurred_at: datetime, actor: Actor
    ) -> ProductVersion:
        """Record a new version; earlier ones stay as they were."""
        version = ProductVersion(
            version=len(self.versions) + 1, effective_from=effective_from, terms=terms
        )
        self._version_recorded(version=version, occurred_at=occurred_at, actor=actor)
        return version

    @event("VersionRecorded")
    def _version_recorded(
        self, version: ProductVersion, occurred_at: datetime, actor: Actor
    ) -> None:
        self.versions.append(version)

    def in_force(self, on: date) -> ProductVersion | None:
        return in_force(self.versions, on)
