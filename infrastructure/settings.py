"""Settings from the environment (and `.env`), and their translation into the
eventsourcing library's environment."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.complaint_clock import ComplaintRules

COMPLAINT_DEFAULTS = ComplaintRules()
DEFAULT_DATABASE_URL = "sqlite:///./var/xiaobao.sqlite3"


class SettingsError(ValueError):
    """A setting that cannot work (an unsupported database URL)."""


class Settings(BaseSettings):
    """Every setting of the service; `XIAOBAO_` prefixed environment variables."""

    model_config = SettingsConfigDict(env_prefix="XIAOBAO_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    principals_file: Path = Path("var/principals.json")
    signing_key_file: Path = Path("var/signing-key.pem")
    index_key_file: Path = Path("var/index-key")
    ledger_name: str = Field(
        default="ledger.xiaobao.local",
        pattern=r"^[A-Za-z0-9.\-_/:]+$",
        description="the log's origin and signing key name in checkpoints and receipts",
    )
    verifier_key: str | None = Field(
        default=None,
        description="the ledger's verifier key an auditor pins for `xiaobao verify --bundle`",
    )
    retention_days: dict[str, int] = Field(
        default_factory=lambda: {
            "claims": 3650,
            "policies": 3650,
            "complaints": 3650,
            "reports": 3650,
        },
        description="days a closed record is kept before its subject may be erased",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = Field(default=8, ge=2)
    max_overflow: int = Field(default=8, ge=0)
    lock_timeout_seconds: int = Field(default=5, ge=0)
    save_attempts: int = Field(default=10, ge=1)
    max_body_bytes: int = 5 * 1024 * 1024
    rate_limit_per_second: float = Field(default=200.0, ge=0, description="0 switches it off")
    rate_limit_burst: int = Field(default=400, ge=1)
    # The complaint clocks' periods and limits: their defaults and checks are `ComplaintRules`.
    complaint_decision_days: tuple[int, ...] = Field(
        default=COMPLAINT_DEFAULTS.decision_days, min_length=3, max_length=3
    )
    complaint_review_window_days: int = COMPLAINT_DEFAULTS.review_window_days
    complaint_review_decision_days: int = COMPLAINT_DEFAULTS.review_decision_days
    complaint_due_soon_days: int = COMPLAINT_DEFAULTS.due_soon_days
    complaint_urge_escalation_count: int = COMPLAINT_DEFAULTS.urge_escalation_count
    report_acceptance_days: int = Field(default=15, ge=1, description="举报受理期限")
    report_conclusion_days: int = Field(default=60, ge=1, description="受理后办结期限")
    report_extension_days: int = Field(default=30, ge=1, description="延期（一次）")
    report_due_soon_days: int = Field(default=3, ge=0)
    projection_max_lag: int = Field(default=10_000, ge=0, description="/readyz tolerance")
    dispute_holidays: list[date] = Field(default_factory=list, description="非工作日")
    dispute_workdays: list[date] = Field(default_factory=list, description="调休上班日")
    run_projections: bool = Field(default=True, description="keep views live inside serve")
    projection_gather_seconds: float = Field(
        default=0.3, ge=0, le=1, description="wait after a wake-up so a burst is one batch"
    )
    run_sealer: bool = Field(default=True, description="seal the Merkle log inside serve")
    checkpoint_interval_seconds: float = Field(default=1.0, gt=0)
    seal_batch: int = Field(default=5000, ge=1)
    log_level: str = "info"
    access_log: bool = True

    @model_validator(mode="after")
    def _complaint_rules_hold(self) -> Settings:
        self.complaint_rules()  # refuses periods the rules cannot work with, at start-up
        return self

    def complaint_rules(self) -> ComplaintRules:
        """The complaint clocks' parameters (handed to the domain, which requires them)."""
        return ComplaintRules(
            decision_days=self.complaint_decision_days,
            review_window_days=self.complaint_review_window_days,
            review_decision_days=self.complaint_review_decision_days,
            due_soon_days=self.complaint_due_soon_days,
            urge_escalation_count=self.complaint_urge_escalation_count,
        )

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def postgres_conninfo(self) -> str:
        """The URL for psycopg connections of our own (the query is the ledger's options)."""
        return self.database_url.split("?", 1)[0]

    def sqlite_path(self) -> Path | None:
        if not self.database_url.startswith("sqlite:///"):
            return None
        return Path(self.database_url.removeprefix("sqlite:///"))

    def eventsourcing_env(self, create_table: bool) -> dict[str, str]:
        """The eventsourcing environment for the one ledger application."""
        env = {"CREATE_TABLE": "y" if create_table else "n"}
        url = self.database_url
        if url == "memory://":
            env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
            return env
        path = self.sqlite_path()
        if path is not None:
            env.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=str(path))
            env["SQLITE_LOCK_TIMEOUT"] = str(self.lock_timeout_seconds or 5)
            return env
        if not self.is_postgres:
            raise SettingsError("XIAOBAO_DATABASE_URL must be sqlite:///path or postgresql://...")
        parts = urlsplit(url)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=unquote(parts.path.lstrip("/")) or "postgres",
            POSTGRES_HOST=parts.hostname or "127.0.0.1",
            POSTGRES_PORT=str(parts.port or 5432),
            POSTGRES_USER=unquote(parts.username or "postgres"),
            POSTGRES_PASSWORD=unquote(parts.password or ""),
            POSTGRES_POOL_SIZE=str(self.pool_size),
            POSTGRES_MAX_OVERFLOW=str(self.max_overflow),
            POSTGRES_LOCK_TIMEOUT=str(self.lock_timeout_seconds),
            POSTGRES_CONNECT_TIMEOUT="5",
            APPLICATION_RECORDER_TOPIC="infrastructure.recorder:LedgerRecorder",
        )
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"]
        return env
