"""Building the ledger on SQLite, PostgreSQL or memory, the migration step, and the
position index (where each event of a stream sits in the global log)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row

from application.ledger import Ledger, StreamReader
from domain.accumulators import Accumulator
from domain.claims import Claim, ReferenceVersions, Settlement, Share
from domain.common import Actor
from domain.complaints import Complaint, Evidence
from domain.dispute_calendar import WorkingCalendar
from domain.dispute_rules import DisputeRules
from domain.dispute_windows import Dimensions, origin_dimensions
from domain.disputes import Dispute
from domain.education import EducationActivity, EvidenceFile, Figures
from domain.exposure import Exposure, ExposureReport
from domain.knowledge import ArticleContent, SearchRules
from domain.personal import Hold, Sealed
from domain.rectification import (
    DueExtension,
    Finding,
    ItemEvidence,
    Milestone,
    ProgressNote,
    RectificationItem,
    Source,
    Verification,
)
from domain.reference import LevelTerms, ProductVersion, SchemeVersion
from domain.report_clock import ReportRules
from domain.reports import Report, ReportSubject
from domain.settlement import ChargeLine, ProductTerms, SchemeTerms, SettlementInputs, Split
from domain.training import staff_keys
from infrastructure.case_stats import ClaimAndDisputeStatistics
from infrastructure.checkpoints import load_or_create_signing_key
from infrastructure.claim_dispute_facts import (
    ClaimFacts,
    DisputeFactsView,
    OfflineClaims,
)
from infrastructure.complaint_facts import ComplaintFacts
from infrastructure.complaint_stats import ComplaintStatistics
from infrastructure.dialect import Statement, marks
from infrastructure.education_facts import ActivityFacts, TrainingFacts
from infrastructure.education_stats import EducationStatistics
from infrastructure.exposure_facts import ExposureFacts
from infrastructure.knowledge_follower import KnowledgeFollower, VectorWriter
from infrastructure.knowledge_search import load_synonym_file, shared_analyzer, shared_encoder
from infrastructure.knowledge_stats import KnowledgeFacts, KnowledgeStatistics
from infrastructure.knowledge_vectors import SqlVectors, vector_cache_for
from infrastructure.merkle_store import merkle_store_for
from infrastructure.notary import Notary
from infrastructure.principals import Principals, PrincipalsFileError
from infrastructure.projections import Backoff, Projector, Runner, View, ViewStore, lock_for
from infrastructure.proof_service import LedgerProofs
from infrastructure.recorder import LedgerRecorder, text_array
from infrastructure.rectification_facts import RectificationFacts
from infrastructure.rectification_stats import RectificationStatistics
from infrastructure.report_facts import ReportFacts
from infrastructure.report_stats import ReportStatistics
from infrastructure.sealer import AdvisoryLock, FileLock, Sealer, SingleActive
from infrastructure.settings import Settings, url_query
from infrastructure.transcoder import OrjsonTranscoder
from infrastructure.vault import AesGcmVault, key_store_for, load_or_create_index_key

VALUE_TYPES: tuple[type[Any], ...] = (
    Actor,
    ChargeLine,
    SchemeTerms,
    ProductTerms,
    SettlementInputs,
    Split,
    Share,
    ReferenceVersions,
    Settlement,
    LevelTerms,
    SchemeVersion,
    ProductVersion,
    Exposure,
    Sealed,
    Hold,
    Evidence,
    ArticleContent,
    EvidenceFile,
    Figures,
    Source,
    Finding,
    ItemEvidence,
    Milestone,
    ProgressNote,
    Verification,
    DueExtension,
    ReportSubject,
)
_ = Accumulator  # accumulators store only plain values


# Above this many versions, `RecorderReader.states` reads the whole stream instead.
_FEW_STATES = 32


class RecorderReader:
    """Reads the events table directly: positions of a stream, and several streams at once."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        # The statements as bytes, composed once: psycopg renders a composed statement
        # again on every execute (~5% of a claim read's CPU, before the prepared look-up).
        self._events_query = self._of_query = self._positions_query = b""
        self._positioned_query = self._digested_query = b""
        self._states_query = b""
        if isinstance(recorder, PostgresApplicationRecorder):
            table = sql.Identifier(
                recorder.datastore.schema or "public", recorder.events_table_name
            )
            ids = sql.SQL(recorder.datastore.originator_id_type)
            self._events_query = _composed(
                "SELECT originator_id, originator_version, topic, state FROM {table} "
                "WHERE originator_id = ANY(%s::{ids}[]) ORDER BY originator_id, originator_version",
                table=table,
                ids=ids,
            )
            self._of_query = _composed(
                "SELECT originator_version, notification_id FROM {table} WHERE originator_id = %s",
                table=table,
            )
            self._positions_query = _composed(
                "SELECT originator_id, originator_version, notification_id FROM {table} "
                "WHERE originator_id = ANY(%s::{ids}[])",
                table=table,
                ids=ids,
            )
            # Put in order here, not by the server: its plan for a long stream (a bitmap scan
            # and a sort of every state) spent a millisecond of a 1,000-event history on
            # sorting rows that mostly come in order already (one pass here).
            self._positioned_query = _composed(
                "SELECT originator_version, notification_id, topic, state FROM {table} "
                "WHERE originator_id = %s",
                table=table,
            )
            self._digested_query = _composed(
                "SELECT originator_version, notification_id, topic, sha256(state) FROM {table} "
                "WHERE originator_id = %s",
                table=table,
            )
            self._states_query = _composed(
                "SELECT originator_version, state FROM {table} "
                "WHERE originator_id = %s AND originator_version = ANY(%s::bigint[])",
                table=table,
            )

    def events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The stored events of several streams in one query, in version order per stream."""
        recorder = self.recorder
        if not originator_ids:
            return []
        if isinstance(recorder, PostgresApplicationRecorder):
            with (
                recorder.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as curs,
            ):
                curs.execute(
                    self._events_query, (text_array(originator_ids),), prepare=True, binary=True
                )
                return [
                    StoredEvent(originator_id=i, originator_version=v, topic=t, state=bytes(s))
                    for i, v, t, s in curs.fetchall()
                ]
        if isinstance(recorder, SQLiteApplicationRecorder):
            statement = _sqlite_events_of(recorder.events_table_name, len(originator_ids))
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, [i.hex for i in originator_ids])
                return [
                    StoredEvent(UUID(row[0]), row[1], row[2], bytes(row[3])) for row in c.fetchall()
                ]
        return [e for i in originator_ids for e in recorder.select_events(i)]

    def of(self, originator_id: UUID) -> dict[int, int]:
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            return {row[0]: row[1] for row in self._fetch(self._of_query, (originator_id,))}
        if isinstance(recorder, SQLiteApplicationRecorder):
            statement = Statement(
                "SELECT originator_version, rowid FROM {table} WHERE originator_id = {p}",
                table=recorder.events_table_name,
            ).sqlite
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, (originator_id.hex,))
                return {row[0]: row[1] for row in c.fetchall()}
        if isinstance(recorder, POPOApplicationRecorder):
            found = {}
            for n in recorder.select_notifications(1, 10**9):
                if n.originator_id == originator_id:
                    found[n.originator_version] = n.id
            return found
        raise TypeError(f"unsupported recorder {type(recorder).__name__}")

    def positions_of(self, originator_ids: Sequence[UUID]) -> dict[UUID, dict[int, int]]:
        """`of` for several streams in one query (a stream without events is left out)."""
        recorder = self.recorder
        found: dict[UUID, dict[int, int]] = {}
        if not originator_ids:
            return found
        if isinstance(recorder, PostgresApplicationRecorder):
            with (
                recorder.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as curs,
            ):
                curs.execute(
                    self._positions_query,
                    (text_array(originator_ids),),
                    prepare=True,
                    binary=True,
                )
                for i, v, n in curs.fetchall():
                    found.setdefault(UUID(str(i)), {})[v] = n
            return found
        if isinstance(recorder, SQLiteApplicationRecorder):
            statement = Statement(
                "SELECT originator_id, originator_version, rowid FROM {table} "
                "WHERE originator_id IN ({ids})",
                table=recorder.events_table_name,
                ids=marks(len(originator_ids)),
            ).sqlite
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, [i.hex for i in originator_ids])
                for i, v, n in c.fetchall():
                    found.setdefault(UUID(i), {})[v] = n
            return found
        if isinstance(recorder, POPOApplicationRecorder):
            wanted = set(originator_ids)
            for n in recorder.select_notifications(1, 10**9):
                if n.originator_id in wanted:
                    found.setdefault(UUID(str(n.originator_id)), {})[n.originator_version] = n.id
            return found
        raise TypeError(f"unsupported recorder {type(recorder).__name__}")

    def digested(self, originator_id: UUID) -> list[tuple[int, int, str, bytes]]:
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            # The server hashes each state: 32 bytes a row cross instead of the state (a
            # 1,000-event history's fetch and hashing took 5 ms this way against 3).
            rows = self._fetch(self._digested_query, (originator_id,))
            rows.sort(key=itemgetter(0))
            return [(v, n, t, bytes(d)) for v, n, t, d in rows]
        sha256 = hashlib.sha256
        return [
            (s.originator_version, n, s.topic, sha256(s.state).digest())
            for s, n in self.positioned(originator_id)
        ]

    def states(self, originator_id: UUID, versions: Sequence[int]) -> dict[int, bytes]:
        if not versions:
            return {}
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            if len(versions) > _FEW_STATES:
                # The prepared plan filters the stream's rows by the array, each against
                # every element: 20 ms for 1,000 of 1,000. The whole stream is 2 ms.
                wanted = set(versions)
                rows = self._fetch(self._positioned_query, (originator_id,))
                return {v: bytes(state) for v, _, _, state in rows if v in wanted}
            rows = self._fetch(self._states_query, (originator_id, list(versions)))
            return {v: bytes(state) for v, state in rows}
        wanted = set(versions)
        return {
            s.originator_version: s.state
            for s, _ in self.positioned(originator_id)
            if s.originator_version in wanted
        }

    def _fetch(self, query: bytes, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of one prepared statement in autocommit (the pool's connections are)."""
        assert isinstance(self.recorder, PostgresApplicationRecorder)
        with (
            self.recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            curs.execute(query, params, prepare=True, binary=True)
            return curs.fetchall()

    def positioned(self, originator_id: UUID) -> list[tuple[StoredEvent, int]]:
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            rows = self._fetch(self._positioned_query, (originator_id,))
            rows.sort(key=itemgetter(0))
            return [(StoredEvent(originator_id, v, t, bytes(s)), n) for v, n, t, s in rows]
        if isinstance(recorder, SQLiteApplicationRecorder):
            statement = Statement(
                "SELECT originator_version, rowid, topic, state FROM {table} "
                "WHERE originator_id = {p} ORDER BY originator_version",
                table=recorder.events_table_name,
            ).sqlite
            with recorder.datastore.transaction(commit=False) as c:
                c.execute(statement, (originator_id.hex,))
                return [
                    (StoredEvent(originator_id, v, t, bytes(s)), n) for v, n, t, s in c.fetchall()
                ]
        positions = self.of(originator_id)
        return [(e, positions[e.originator_version]) for e in recorder.select_events(originator_id)]


def _composed(statement: str, **parts: sql.Composable) -> bytes:
    """A statement with its identifiers quoted, as the bytes psycopg sends."""
    return sql.SQL(statement).format(**parts).as_bytes()


@functools.lru_cache(maxsize=256)
def _sqlite_events_of(table: str, count: int) -> str:
    return Statement(
        "SELECT originator_id, originator_version, topic, state FROM {table} "
        "WHERE originator_id IN ({ids}) ORDER BY originator_id, originator_version",
        table=table,
        ids=marks(count),
    ).sqlite


def reader_for(recorder: ApplicationRecorder) -> StreamReader:
    return RecorderReader(recorder)


def build_ledger(settings: Settings, create_table: bool = False) -> Ledger:
    """The ledger application for these settings (tables must exist unless create_table)."""
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(
        env=settings.eventsourcing_env(create_table=create_table),
        transcoder=OrjsonTranscoder(VALUE_TYPES),
        reader=reader_for,
    )
    if isinstance(ledger.recorder, LedgerRecorder):
        ledger.recorder.unavailable_after = settings.database_unavailable_seconds
    if isinstance(ledger.recorder, PostgresApplicationRecorder):
        # libpq's own options of the URL (`target_session_attrs=read-write` with several
        # hosts: the pool follows a promoted standby) go to every pooled connection
        pool = ledger.recorder.datastore.pool
        assert isinstance(pool.kwargs, dict)
        pool.kwargs.update(
            {k: v for k, v in url_query(settings.database_url).items() if k in LIBPQ_OPTIONS}
        )
    return ledger


LIBPQ_OPTIONS = ("target_session_attrs", "load_balance_hosts", "sslmode", "application_name")


def build_read_ledger(settings: Settings) -> Ledger | None:
    """The ledger over `XIAOBAO_READ_DATABASE_URL`, a streaming replica (None without one):
    reads, statistics, proofs and exports; every write stays on the primary."""
    replica = settings.replica()
    return None if replica is None else build_ledger(replica)


def replica_head(replica: Ledger) -> int:
    """The last position the replica has replayed."""
    return int(replica.recorder.max_notification_id() or 0)


def build_vault(settings: Settings, ledger: Ledger) -> AesGcmVault:
    """The personal-data vault beside this ledger (keys in the same database)."""
    return AesGcmVault(
        key_store_for(ledger.recorder), load_or_create_index_key(settings.index_key_file)
    )


def report_rules(settings: Settings) -> ReportRules:
    """The report clocks' periods from the settings."""
    return ReportRules(
        acceptance_days=settings.report_acceptance_days,
        conclusion_days=settings.report_conclusion_days,
        extension_days=settings.report_extension_days,
        due_soon_days=settings.report_due_soon_days,
    )


def dispute_rules(settings: Settings) -> DisputeRules:
    """The dispute windows from the settings, with their holiday calendar."""
    return DisputeRules(
        mediator_acceptance_working_days=settings.dispute_mediator_acceptance_working_days,
        mediation_period_days=settings.dispute_mediation_period_days,
        confirmation_application_days=settings.dispute_confirmation_application_days,
        confirmation_decision_target_days=settings.dispute_confirmation_decision_target_days,
        confirmation_decision_max_days=settings.dispute_confirmation_decision_max_days,
        performance_days=settings.dispute_performance_days,
        set_aside_cutoff=settings.dispute_set_aside_cutoff,
        set_aside_months=settings.dispute_set_aside_months,
        set_aside_months_before_cutoff=settings.dispute_set_aside_months_before_cutoff,
        enforcement_application_months=settings.dispute_enforcement_application_months,
        calendar=WorkingCalendar(
            frozenset(settings.dispute_holidays), frozenset(settings.dispute_workdays)
        ),
    )


def search_rules(settings: Settings) -> SearchRules:
    """How questions are answered, from the settings."""
    return SearchRules(
        handoff_below=settings.knowledge_handoff_below,
        max_question_chars=settings.knowledge_max_question_chars,
        dense=settings.knowledge_dense,
        bm25_k1=settings.knowledge_bm25_k1,
        bm25_b=settings.knowledge_bm25_b,
        rrf_k=settings.knowledge_rrf_k,
        dense_weight=settings.knowledge_dense_weight,
        unknown_token_weight=settings.knowledge_unknown_token_weight,
    )


def build_knowledge_follower(settings: Settings, ledger: Ledger) -> KnowledgeFollower:
    """This process's copy of the published knowledge base, empty until it catches up."""
    rules = search_rules(settings)
    return KnowledgeFollower(
        ledger.recorder,
        ledger.mapper,
        shared_analyzer(settings.knowledge_dictionary_file),
        shared_encoder(settings.knowledge_query_use) if rules.dense else None,
        rules,
        load_synonym_file(settings.knowledge_synonyms_file),
        vector_cache_for(ledger.recorder),
        # The passage vectors come from the one VectorWriter (build_vector_writer); only
        # the in-memory store, with no other process, encodes them in its follower.
        encodes=isinstance(ledger.recorder, POPOApplicationRecorder),
    )


def build_vector_writer(settings: Settings, ledger: Ledger) -> VectorWriter | None:
    """The one writer of the knowledge passage vectors across processes (None when the
    dense retriever is off or the store is in memory)."""
    if not settings.knowledge_dense or isinstance(ledger.recorder, POPOApplicationRecorder):
        return None
    url = settings.postgres_conninfo if settings.is_postgres else ""
    return VectorWriter(
        ledger.recorder,
        ledger.mapper,
        functools.partial(shared_encoder, settings.knowledge_query_use),
        vector_cache_for(ledger.recorder),
        lock_for(ledger.recorder, "knowledge_vectors", url, settings.sqlite_path()),
    )


def build_notary(settings: Settings) -> Notary:
    """The ledger's signer, with the key from XIAOBAO_SIGNING_KEY_FILE."""
    return Notary(load_or_create_signing_key(settings.signing_key_file), settings.ledger_name)


def build_sealer(settings: Settings, ledger: Ledger, notary: Notary) -> Sealer:
    """The sealer over this ledger, with the cross-process lock that fits its store."""
    path = settings.sqlite_path()
    lock: SingleActive = (
        FileLock(path.with_name(path.name + ".sealer.lock"))
        if path is not None
        else AdvisoryLock(settings.postgres_conninfo)
    )
    return Sealer(
        ledger.recorder,
        merkle_store_for(ledger.recorder),
        notary,
        lock,
        batch=settings.seal_batch,
        checkpoint_interval=settings.checkpoint_interval_seconds,
    )


def build_proofs(ledger: Ledger) -> LedgerProofs | None:
    """The read side of the Merkle log (None on the in-memory store)."""
    if isinstance(ledger.recorder, POPOApplicationRecorder):
        return None
    return LedgerProofs(ledger.recorder, merkle_store_for(ledger.recorder))


def build_projector(settings: Settings, ledger: Ledger) -> Projector:
    """The projection engine with every view of the service."""
    return Projector(ledger.recorder, ledger.mapper, fact_views(settings, ledger))


def fact_views(settings: Settings, ledger: Ledger) -> list[View]:
    """Every fact view of the service."""
    return [
        ComplaintFacts(
            settings.complaint_rules(), lambda cid, v: ledger.find(Complaint, cid, version=v)
        ),
        ClaimFacts(lambda cid, v: ledger.find(Claim, cid, version=v)),
        OfflineClaims(),
        ExposureFacts(lambda rid, v: ledger.find(ExposureReport, rid, version=v)),
        DisputeFactsView(
            lambda did, v: ledger.find(Dispute, did, version=v), lambda d: dispute_origin(ledger, d)
        ),
        KnowledgeFacts(),
        ActivityFacts(lambda aid, v: ledger.find(EducationActivity, aid, version=v)),
        TrainingFacts(),
        RectificationFacts(lambda iid, v: ledger.find(RectificationItem, iid, version=v)),
        ReportFacts(report_rules(settings), lambda rid, v: ledger.find(Report, rid, version=v)),
    ]


def dispute_origin(ledger: Ledger, d: Dispute) -> Dimensions:
    """The cause, product line and region of the complaint or claim a dispute came from."""
    return origin_dimensions(
        d,
        lambda complaint_id: ledger.find(Complaint, complaint_id),
        lambda claim_id: ledger.find(Claim, claim_id),
    )


def build_case_statistics(ledger: Ledger) -> ClaimAndDisputeStatistics:
    """Claim and dispute statistics over their fact views."""
    return ClaimAndDisputeStatistics(ViewStore(ledger.recorder))


def build_knowledge_statistics(ledger: Ledger) -> KnowledgeStatistics:
    """Knowledge-base figures over their view."""
    return KnowledgeStatistics(ViewStore(ledger.recorder))


def build_education_statistics(ledger: Ledger, principals: Principals) -> EducationStatistics:
    """Education statistics over their fact views; staff are the principals file's
    consumer-protection roles (none when the file is missing)."""

    def staff() -> frozenset[str]:
        try:
            return staff_keys((p.name, p.role) for p in principals.all())
        except PrincipalsFileError:
            return frozenset()

    return EducationStatistics(ViewStore(ledger.recorder), staff)


def build_rectification_statistics(ledger: Ledger) -> RectificationStatistics:
    """Rectification statistics over their fact view."""
    return RectificationStatistics(ViewStore(ledger.recorder))


def build_report_statistics(ledger: Ledger) -> ReportStatistics:
    """Report statistics over the report fact view."""
    return ReportStatistics(ViewStore(ledger.recorder))


def build_statistics(ledger: Ledger) -> ComplaintStatistics:
    """Complaint statistics over the views (complaint facts and their counts, exposure)."""
    return ComplaintStatistics(ViewStore(ledger.recorder))


def build_runner(settings: Settings, ledger: Ledger, projector: Projector) -> Runner:
    """A runner keeping every view live (one active per view across processes)."""
    url = settings.postgres_conninfo if settings.is_postgres else None
    locks = {
        view.name: lock_for(ledger.recorder, view.name, url or "", settings.sqlite_path())
        for view in projector.views
    }
    channel = getattr(ledger.recorder, "channel_name", None)
    return Runner(
        projector,
        locks,
        url,
        channel if url else None,
        projection_backoff(settings),
        settle=settings.projection_gather_seconds,
    )


def projection_backoff(settings: Settings) -> Backoff:
    """How a runner retries a failing view (the settings)."""
    return Backoff(
        first=settings.projection_retry_first_seconds,
        most=settings.projection_retry_max_seconds,
        remind=settings.projection_failure_reminder_seconds,
    )


MIGRATION_LOCK = 0x78696D67  # "ximg": one migration at a time per database


@contextlib.contextmanager
def _one_migration_at_a_time(settings: Settings) -> Iterator[None]:
    """Serialise migrations on PostgreSQL: `CREATE OR REPLACE FUNCTION` run by two processes
    at once fails with "tuple concurrently updated" (every API worker migrates at start)."""
    if not settings.is_postgres:
        yield
        return
    with psycopg.connect(settings.postgres_conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def migrate(settings: Settings) -> None:
    """Create the ledger's tables and secrets once, before any worker starts."""
    with _one_migration_at_a_time(settings):
        _migrate(settings)


def _migrate(settings: Settings) -> None:
    ledger = build_ledger(settings, create_table=True)
    key_store_for(ledger.recorder).create_table()
    if not isinstance(ledger.recorder, POPOApplicationRecorder):
        merkle_store_for(ledger.recorder).create_tables()
        build_projector(settings, ledger).migrate()
        SqlVectors(ledger.recorder).create_table()
    load_or_create_index_key(settings.index_key_file)
    load_or_create_signing_key(settings.signing_key_file)
    ledger.close()
