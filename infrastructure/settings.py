"""Settings from the environment (and `.env`), and their translation into the
eventsourcing library's environment."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.complaint_clock import ComplaintRules
from domain.dispute_rules import DisputeRules
from domain.rectification import RectificationRules

COMPLAINT_DEFAULTS = ComplaintRules()
RECTIFICATION_DEFAULTS = RectificationRules()
DEFAULT_DATABASE_URL = "sqlite:///./var/xiaobao.sqlite3"
DEMO_DATA = Path(__file__).resolve().parent.parent / "api" / "demo_data"
# The dispute periods' defaults and legal sources live in `DisputeRules`; each is a setting.
DISPUTE_DEFAULTS = DisputeRules()


class SettingsError(ValueError):
    """A setting that cannot work (an unsupported database URL)."""


class Settings(BaseSettings):
    """Every setting of the service; `XIAOBAO_` prefixed environment variables."""

    model_config = SettingsConfigDict(env_prefix="XIAOBAO_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str | None = Field(
        default=None,
        description="a PostgreSQL streaming replica for reads, statistics, proofs and exports",
    )
    replica_max_lag: int = Field(
        default=10_000, ge=0, description="/readyz answers 503 once the replica is this far behind"
    )
    min_position_wait_seconds: float = Field(
        default=2.0, ge=0, le=10, description="how long X-Min-Position waits for the replica"
    )
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
    database_unavailable_seconds: float = Field(
        default=10.0, gt=0, description="a request the database cannot serve answers 503 by then"
    )
    startup_database_patience_seconds: float = Field(
        default=600.0,
        gt=0,
        description="how long a starting process waits for an unreachable database "
        "(a worker restarted during an outage must not fail its start and stop the server)",
    )
    max_body_bytes: int = 5 * 1024 * 1024
    date_floor: date = Field(
        default=date(2000, 1, 1),
        description="the earliest date a body may carry (what happened, or a planned date)",
    )
    max_header_bytes: int = Field(default=65_536, ge=1024, description="a request's head")
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="a request head must arrive within this, or closed"
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="a request body must arrive within this, else 408"
    )
    keep_alive_timeout_seconds: int = Field(
        default=5, ge=1, description="an idle kept-alive connection is closed after this"
    )
    rate_limit_per_second: float = Field(default=200.0, ge=0, description="0 switches it off")
    rate_limit_burst: int = Field(default=400, ge=1)
    auth_failures_per_minute: int = Field(
        default=50, ge=0, description="failed authentications per client address; 0: off"
    )
    # The complaint clocks' periods and limits: their defaults and checks are `ComplaintRules`.
    complaint_decision_days: tuple[int, ...] = Field(
        default=COMPLAINT_DEFAULTS.decision_days, min_length=3, max_length=3
    )
    complaint_review_window_days: int = COMPLAINT_DEFAULTS.review_window_days
    complaint_review_decision_days: int = COMPLAINT_DEFAULTS.review_decision_days
    complaint_due_soon_days: int = COMPLAINT_DEFAULTS.due_soon_days
    complaint_urge_escalation_count: int = COMPLAINT_DEFAULTS.urge_escalation_count
    # Days to rectify by severity: their defaults and checks are `RectificationRules`.
    rectification_high_days: int = RECTIFICATION_DEFAULTS.high_days
    rectification_medium_days: int = RECTIFICATION_DEFAULTS.medium_days
    rectification_low_days: int = RECTIFICATION_DEFAULTS.low_days
    report_acceptance_days: int = Field(default=15, ge=1, description="举报受理期限")
    report_conclusion_days: int = Field(default=60, ge=1, description="受理后办结期限")
    report_extension_days: int = Field(default=30, ge=1, description="延期（一次）")
    report_due_soon_days: int = Field(default=3, ge=0)
    projection_max_lag: int = Field(default=10_000, ge=0, description="/readyz tolerance")
    projection_retry_first_seconds: float = Field(
        default=1.0, gt=0, description="a failing view is tried again after this, doubling"
    )
    projection_retry_max_seconds: float = Field(
        default=60.0, gt=0, description="the longest wait between two tries of a failing view"
    )
    projection_failing_unready_seconds: float = Field(
        default=60.0, ge=0, description="/readyz answers 503 once a view fails this long"
    )
    projection_failure_reminder_seconds: float = Field(
        default=300.0, gt=0, description="a failing view is logged again at most this often"
    )
    dispute_holidays: list[date] = Field(default_factory=list, description="非工作日")
    dispute_workdays: list[date] = Field(default_factory=list, description="调休上班日")
    dispute_mediator_acceptance_working_days: int = (
        DISPUTE_DEFAULTS.mediator_acceptance_working_days
    )
    dispute_mediation_period_days: int = DISPUTE_DEFAULTS.mediation_period_days
    dispute_confirmation_application_days: int = DISPUTE_DEFAULTS.confirmation_application_days
    dispute_confirmation_decision_target_days: int = (
        DISPUTE_DEFAULTS.confirmation_decision_target_days
    )
    dispute_confirmation_decision_max_days: int = DISPUTE_DEFAULTS.confirmation_decision_max_days
    dispute_performance_days: int = DISPUTE_DEFAULTS.performance_days
    dispute_set_aside_cutoff: date = DISPUTE_DEFAULTS.set_aside_cutoff
    dispute_set_aside_months: int = DISPUTE_DEFAULTS.set_aside_months
    dispute_set_aside_months_before_cutoff: int = DISPUTE_DEFAULTS.set_aside_months_before_cutoff
    dispute_enforcement_application_months: int = DISPUTE_DEFAULTS.enforcement_application_months
    run_projections: bool = Field(default=True, description="keep views live inside serve")
    projection_gather_seconds: float = Field(
        default=0.3, ge=0, le=1, description="wait after a wake-up so a burst is one batch"
    )
    run_sealer: bool = Field(default=True, description="seal the Merkle log inside serve")
    checkpoint_interval_seconds: float = Field(default=1.0, gt=0)
    seal_batch: int = Field(default=5000, ge=1)
    knowledge_handoff_below: float = Field(
        default=0.5, ge=0, le=1, description="转人工 when the best answer's confidence is lower"
    )
    knowledge_max_question_chars: int = Field(default=200, ge=1)
    knowledge_dense: bool = Field(
        default=True,
        description="fuse the dense retrievers (e5 and USE, in their wheels) with BM25 by rank",
    )
    knowledge_bm25_k1: float = Field(default=1.2, gt=0)
    knowledge_bm25_b: float = Field(default=0.75, ge=0, le=1)
    knowledge_rrf_k: int = Field(default=10, ge=1, description="reciprocal-rank fusion constant")
    knowledge_dense_weight: float = Field(
        default=1.0, ge=0, description="multiplies the weights of the dense rankings"
    )
    knowledge_query_use: bool = Field(
        default=True,
        description="encode questions with USE as well as e5 (more accurate, ~2x the time)",
    )
    knowledge_unknown_token_weight: float = Field(
        default=2.0, ge=0, description="weight of a question word no article has"
    )
    knowledge_dictionary_file: Path = DEMO_DATA / "insurance_terms.txt"
    knowledge_synonyms_file: Path = DEMO_DATA / "knowledge_synonyms.json"
    knowledge_follow_seconds: float = Field(
        default=0.25, gt=0, description="how often a process looks for publishes (NOTIFY wakes it)"
    )
    knowledge_tally_seconds: float = Field(
        default=60.0, gt=0, description="how often a process appends its answered-question tally"
    )
    gc_young_threshold: int = Field(
        default=10_000,
        ge=100,
        description="net allocations between young collections in a serving process "
        "(CPython's own is 700; infrastructure/collector.py)",
    )
    log_level: str = "info"
    access_log: bool = True

    @model_validator(mode="after")
    def _rules_hold(self) -> Settings:
        self.complaint_rules()  # refuses periods the rules cannot work with, at start-up
        self.rectification_rules()
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

    def rectification_rules(self) -> RectificationRules:
        """Days to rectify by severity (handed to the domain, which requires them)."""
        return RectificationRules(
            high_days=self.rectification_high_days,
            medium_days=self.rectification_medium_days,
            low_days=self.rectification_low_days,
        )

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def postgres_conninfo(self) -> str:
        """The URL for psycopg connections of our own: the query less the ledger's options
        (libpq's own, such as `target_session_attrs`, stay)."""
        return libpq_url(self.database_url)

    def replica(self) -> Settings | None:
        """These settings with the read URL as the database (None without a replica)."""
        if self.read_database_url is None:
            return None
        replica = self.model_copy(update={"database_url": self.read_database_url})
        if not replica.is_postgres:
            raise SettingsError("XIAOBAO_READ_DATABASE_URL must be postgresql://...")
        return replica

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
        query = url_query(url)
        hosts, ports = url_hosts(url)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=unquote(parts.path.lstrip("/")) or "postgres",
            POSTGRES_HOST=hosts,
            POSTGRES_PORT=ports,
            POSTGRES_USER=unquote(parts.username or "postgres"),
            POSTGRES_PASSWORD=unquote(parts.password or ""),
            POSTGRES_POOL_SIZE=str(self.pool_size),
            POSTGRES_MAX_OVERFLOW=str(self.max_overflow),
            POSTGRES_LOCK_TIMEOUT=str(self.lock_timeout_seconds),
            POSTGRES_CONNECT_TIMEOUT="5",
            # No check of each connection as the pool hands it out (the library's pre-ping):
            # after an outage it waits a second, then two, ... per dead connection, and
            # stalled the sealer behind a restarted database in the crash test. Connections
            # the server ended are replaced by `discard_broken` after a failure instead.
            POSTGRES_PRE_PING="n",
            APPLICATION_RECORDER_TOPIC="infrastructure.recorder:LedgerRecorder",
        )
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"]
        return env


LEDGER_OPTIONS = ("schema",)  # the query members that are the ledger's, not libpq's


def url_query(url: str) -> dict[str, str]:
    """A database URL's query as a dict."""
    query = urlsplit(url).query
    return {k: unquote(v) for k, v in (p.split("=", 1) for p in query.split("&") if "=" in p)}


def url_hosts(url: str) -> tuple[str, str]:
    """The hosts and ports of a (libpq multi-host) URL, comma-separated as libpq takes them:
    `postgresql://u@h1:5432,h2:5433/db` → ("h1,h2", "5432,5433")."""
    netloc = urlsplit(url).netloc.rsplit("@", 1)[-1]
    hosts, ports = [], []
    for member in netloc.split(","):
        if member.startswith("["):  # [::1]:5432
            host, _, rest = member[1:].partition("]")
            port = rest.removeprefix(":")
        else:
            host, _, port = member.partition(":")
        hosts.append(host or "127.0.0.1")
        ports.append(port or "5432")
    return ",".join(hosts), ",".join(ports)


def libpq_url(url: str) -> str:
    """The URL with only libpq's parameters in its query."""
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in LEDGER_OPTIONS]
    return f"{base}?{'&'.join(kept)}" if kept else base
