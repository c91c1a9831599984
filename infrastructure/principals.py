"""Principals from the JSON file named by XIAOBAO_PRINCIPALS_FILE; tokens stored only as
SHA-256 hex digests, compared in constant time, the file reloaded when it changes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from application.reports import Investigator
from application.routing import Handler

log = logging.getLogger("xiaobao.principals")
_HEX64 = re.compile("[0-9a-fA-F]{64}")
MISSING = (-1.0, -1)  # the stamp of a principals file that does not exist

ROLES = frozenset(
    {
        "hospital",
        "insurer",
        "regulator_platform",
        "mediator",
        "arbitrator",
        "court",
        "handler",
        "supervisor",
        "auditor",
        "regulator",
        "admin",
        "editor",
        "reviewer",
        "consumer_app",
        "educator",
        "report_officer",
        "compliance",
        "department",
    }
)


INVESTIGATOR_ROLES = frozenset({"report_officer", "supervisor", "compliance", "handler"})


class PrincipalsFileError(ValueError):
    """The principals file is missing or malformed."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller with its role, partner id and routing attributes."""

    name: str
    role: str
    partner_id: str | None = None
    team: str | None = None
    regions: tuple[str, ...] = field(default=())
    causes: tuple[str, ...] = field(default=())
    lines: tuple[str, ...] = field(default=())
    department: str | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse(raw: bytes) -> list[tuple[bytes, Principal]]:
    try:
        entries = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PrincipalsFileError("principals file is not JSON") from exc
    if not isinstance(entries, list):
        raise PrincipalsFileError("principals file must hold a JSON list")
    parsed = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(name, str):
            raise PrincipalsFileError(f"principal entry {entry!r:.60} has no name")
        role = entry.get("role")
        digest = entry.get("token_sha256", "")
        if role not in ROLES:
            raise PrincipalsFileError(
                f"principal {name!r} has the role {role!r}, which the service does not know "
                f"(roles: {', '.join(sorted(ROLES))})"
            )
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise PrincipalsFileError(f"principal {name!r} needs token_sha256: 64 hex digits")
        principal = Principal(
            name=str(entry["name"]),
            role=role,
            partner_id=entry.get("partner_id"),
            team=entry.get("team"),
            regions=tuple(entry.get("regions") or ()),
            causes=tuple(entry.get("causes") or ()),
            lines=tuple(entry.get("lines") or ()),
            department=entry.get("department"),
        )
        parsed.append((bytes.fromhex(digest), principal))
    return parsed


class Principals:
    """Authenticates bearer tokens against the principals file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._entries: list[tuple[bytes, Principal]] = []

    def _current(self) -> list[tuple[bytes, Principal]]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            with self._lock:
                if self._stamp != MISSING:
                    # No file, no principals: every token is unknown (401), never a 500.
                    log.error("principals file %s not found: no principals", self.path)
                    self._entries, self._stamp = [], MISSING
                return self._entries
        stamp = (stat.st_mtime, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._entries = _parse(self.path.read_bytes())
                except PrincipalsFileError as exc:
                    if self._stamp in (None, MISSING):
                        raise  # at start-up: the service refuses to start (`check`)
                    # A bad edit of a running service's file: keep the last good principals.
                    log.error("principals file %s not reloaded: %s", self.path, exc)
                self._stamp = stamp
            return self._entries

    def check(self, *, required: bool = False) -> int:
        """Read the file now (at start-up): the number of principals, or PrincipalsFileError
        naming the bad entry (or the missing file, when `required`)."""
        if required and not self.path.exists():
            raise PrincipalsFileError(f"principals file {self.path} not found")
        return len(self._current())

    def authenticate(self, token: str) -> Principal | None:
        """The principal whose token hash matches; every entry is compared (constant time)."""
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for stored, principal in self._current():
            if hmac.compare_digest(stored, digest):
                found = principal
        return found

    def all(self) -> list[Principal]:
        return [p for _, p in self._current()]


class PrincipalHandlers:
    """The handlers of the principals file, with their routing attributes (always current)."""

    def __init__(self, principals: Principals) -> None:
        self.principals = principals

    def handlers(self) -> Sequence[Handler]:
        return [
            Handler(p.name, p.team, p.regions, p.causes, p.lines)
            for p in self.principals.all()
            if p.role == "handler"
        ]

    def team_of(self, name: str) -> str | None:
        return next((p.team for p in self.principals.all() if p.name == name), None)

    def partner_has_role(self, partner_id: str, role: str) -> bool:
        """True when a principal of this role has this partner id."""
        return any(p.partner_id == partner_id and p.role == role for p in self.principals.all())


class PrincipalInvestigators:
    """Staff of the principals file who may investigate reports, with their departments."""

    def __init__(self, principals: Principals) -> None:
        self.principals = principals

    def investigator(self, name: str) -> Investigator | None:
        for p in self.principals.all():
            if p.name == name and p.role in INVESTIGATOR_ROLES:
                return Investigator(p.name, p.department)
        return None
