"""The `xiaobao` command line: serve, migrate, demo, seal, project, rebuild, projections,
stats, verify, export."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import quote
from uuid import UUID

import orjson
import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from api import demo, demo_loader, demo_rectification, demo_year
from api.exports import to_csv
from api.fields import PERIOD_PATTERN
from api.observability import configure_logging
from api.server import PARENT_ENV, Background, TimedHttpToolsProtocol, follow_parent
from application.ledger import Ledger, utc_now
from application.views import rfc3339
from domain.common import InvalidInput
from infrastructure.audit import (
    export_bundle,
    positions_in_period,
    read_kept_checkpoint,
    verify_bundle,
    verify_ledger,
)
from infrastructure.case_stats import CLAIM_DIMENSIONS, DISPUTE_DIMENSIONS
from infrastructure.checkpoints import VerifierKeyError, parse_verifier_key
from infrastructure.complaint_stats import parse_dimensions, parse_period
from infrastructure.education_stats import DIMENSIONS as EDUCATION_DIMENSIONS
from infrastructure.knowledge_follower import writing_vectors
from infrastructure.merkle_store import merkle_store_for
from infrastructure.principals import Principals, PrincipalsFileError
from infrastructure.projections import discard_broken, riding_out
from infrastructure.rectification_stats import DIMENSIONS as RECTIFICATION_DIMENSIONS
from infrastructure.report_stats import REPORT_DIMENSIONS
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_education_statistics,
    build_ledger,
    build_notary,
    build_projector,
    build_proofs,
    build_rectification_statistics,
    build_report_statistics,
    build_runner,
    build_sealer,
    build_statistics,
    build_vector_writer,
    migrate,
)

REBUILD_PATIENCE_SECONDS = 120.0  # `rebuild` gives up after losing the database this long
T = TypeVar("T")


def again(ledger: Ledger, call: Callable[[], T]) -> T:
    """`call()`, tried again while the database connection is lost (`rebuild`'s steps)."""
    return riding_out(
        call, REBUILD_PATIENCE_SECONDS, on_lost=lambda: discard_broken(ledger.recorder)
    )


cli = typer.Typer(help="Xiaobao Ledger (消保账本) operations.", no_args_is_help=True)
console = Console(soft_wrap=True)


@cli.command("migrate")
def migrate_command() -> None:
    """Create the ledger's tables (run once before workers start; `serve` runs it too)."""
    settings = Settings()
    migrate(settings)
    console.print(f"ledger tables ready ({'PostgreSQL' if settings.is_postgres else 'SQLite'})")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="API worker processes [default: the cores on PostgreSQL, else 1]"),
    ] = None,
    background: Annotated[
        str,
        typer.Option(
            help="sealer and projections (when XIAOBAO_RUN_SEALER / _PROJECTIONS are on): "
            "'processes' of their own at a lower priority (PostgreSQL), or 'inline' threads "
            "of each API worker (always so on SQLite)"
        ),
    ] = "processes",
    background_nice: Annotated[
        int, typer.Option(help="how much lower the background processes' priority is")
    ] = 10,
) -> None:
    """Run the HTTP API."""
    settings = Settings()
    configure_logging(settings.log_level)
    if background not in ("processes", "inline"):
        _fail(f"--background must be 'processes' or 'inline', not {background!r}")
    try:
        Principals(settings.principals_file).check(required=True)
    except PrincipalsFileError as exc:
        _fail(f"{settings.principals_file}: {exc}")
    migrate(settings)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if settings.is_postgres else 1
    commands: list[str] = []
    if background == "processes" and settings.is_postgres:
        # The workers leave the background work to these processes (their settings are
        # read from the environment they inherit).
        for name, on, env in (
            ("seal", settings.run_sealer, "XIAOBAO_RUN_SEALER"),
            ("project", settings.run_projections, "XIAOBAO_RUN_PROJECTIONS"),
        ):
            if on:
                commands.append(name)
                os.environ[env] = "false"
    os.environ[PARENT_ENV] = str(os.getpid())
    with Background(commands, os.environ, background_nice):
        uvicorn.run(
            "api.server:worker_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_level=settings.log_level,
            access_log=False,  # the JSON request log of api.middleware replaces it
            log_config=None,
            http=TimedHttpToolsProtocol,  # a deadline for each request head (api.server)
            timeout_keep_alive=settings.keep_alive_timeout_seconds,
            h11_max_incomplete_event_size=settings.max_header_bytes,
        )


@cli.command("demo")
def demo_command(
    scale: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="share of the full demonstration year")
    ] = 1.0,
) -> None:
    """Load demonstration data (a seeded year, 2026, up to today) and print how to reach
    the service. Running it again records nothing."""
    settings = Settings()
    wrote = demo.write_principals(settings.principals_file)
    with Progress(console=console) as progress:
        task = progress.add_task("demo year 2026", total=None)
        loaded = demo_loader.load_everything(
            settings,
            demo_year.Scale(scale),
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    claims, year, articles, report_ids = (
        loaded.claims,
        loaded.year,
        loaded.articles,
        loaded.reports,
    )
    base = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold]Xiaobao Ledger demo data loaded[/] into {settings.database_url}")
    if not wrote:
        console.print(f"(principals file {settings.principals_file} kept as it was)")
    console.print(
        f"Year 2026 up to {year.cutoff.date()}: {len(year.settled)} stays settled, "
        f"{len(year.complaints)} complaints received, {year.disputes} disputes opened"
    )
    console.print(f"Knowledge base: {len(articles)} articles published (editor → reviewer)")
    console.print(f"API: {base}   docs: {base}/docs   contract: {base}/openapi.json")
    console.print(
        f"Dashboard: {base}/dashboard (log in with the regulator, supervisor, auditor or "
        "admin token)"
    )
    console.print(
        f"Auditor's console: {base}/audit (log in with the auditor token; paste the key from "
        f"{base}/v1/ledger/public-key to verify proofs in the browser)"
    )
    console.print("Demo tokens (public, for this demonstration only):")
    for entry in demo.DEMO_PRINCIPALS:
        console.print(
            f"  {entry['role']:<19} {entry['partner_id'] or '':<15} {demo.demo_token(entry)}"
        )
    claim = claims.get("ZY-2026-0001", "")
    console.print("Try:")
    console.print(
        f"  curl -s -H 'Authorization: Bearer xb-demo-hosp-hz-001' {base}/v1/claims/{claim}"
    )
    console.print(
        f"  curl -s -H 'Authorization: Bearer xb-demo-hosp-hz-001' "
        f"'{base}/v1/hospitals/hosp-hz-001/statement?date=2026-11-06'"
    )
    console.print(
        f"  curl -s -G -H 'Authorization: Bearer xb-demo-consumer_app' "
        f"--data-urlencode 'q=买了后悔了钱能拿回来不' {base}/v1/knowledge/ask"
    )
    console.print(
        f"  curl -s -H 'Authorization: Bearer xb-demo-compliance' "
        f"'{base}/v1/rectifications/report?source_kind=inspection&source_ref="
        f"{quote(demo_rectification.NOTICE)}'"
    )
    console.print(
        f"  curl -s -H 'Authorization: Bearer xb-demo-report_officer' "
        f"{base}/v1/reports/{report_ids['closed']}"
    )
    console.print(
        f"  curl -s -H 'Authorization: Bearer xb-demo-report_officer' "
        f"'{base}/v1/reports?queue=overdue'"
    )


def _work_until_stopped(
    worker: Callable[[Settings, Ledger], Callable[[threading.Event], None]],
) -> None:
    """Run a background worker in the foreground until SIGTERM or Ctrl-C."""
    follow_parent()  # when `serve` started it: its priority, and an end with serve
    settings = Settings()
    configure_logging(settings.log_level)
    # Restarted during a database outage, it waits for the database rather than exiting.
    patience = settings.startup_database_patience_seconds
    riding_out(lambda: migrate(settings), patience)
    ledger = riding_out(lambda: build_ledger(settings), patience)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        worker(settings, ledger)(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        ledger.close()


@cli.command()
def seal() -> None:
    """Run the sealer on its own (one is active across processes; others wait)."""
    _work_until_stopped(lambda s, ledger: build_sealer(s, ledger, build_notary(s)).run)


@cli.command()
def project() -> None:
    """Keep the views live on their own (one active runner per view across processes), and
    write the knowledge passage vectors the API processes read."""

    def work(s: Settings, ledger: Ledger) -> Callable[[threading.Event], None]:
        runner = build_runner(s, ledger, build_projector(s, ledger))
        writer = build_vector_writer(s, ledger)

        def run(stop: threading.Event) -> None:
            with contextlib.ExitStack() as stack:
                if writer is not None:
                    channel = getattr(ledger.recorder, "channel_name", None)
                    conninfo = s.postgres_conninfo if s.is_postgres else None
                    stack.enter_context(
                        writing_vectors(writer, s.knowledge_follow_seconds, conninfo, channel)
                    )
                runner.run(stop)

        return run

    _work_until_stopped(work)


@cli.command()
def rebuild() -> None:
    """Recompute every view from the log, with a progress bar; a lost database connection is
    retried (for up to REBUILD_PATIENCE_SECONDS in a row), never a reason to stop half-way."""
    settings = Settings()
    migrate(settings)
    ledger = build_ledger(settings)
    try:
        projector = build_projector(settings, ledger)
        total = int(ledger.recorder.max_notification_id() or 0)
        with Progress(console=console) as progress:
            for view in projector.views:
                task = progress.add_task(f"rebuilding {view.name}", total=total)
                again(ledger, functools.partial(projector.rebuild, view))
                tracked = 0
                while True:
                    # A batch lost with its connection is applied again (its tracking row
                    # is checked in its own transaction); one whose commit went through
                    # before the connection was lost is seen as moved and not repeated.
                    went = again(ledger, functools.partial(projector.step, view))
                    tracked, before = (
                        again(ledger, projector.store.positions).get(view.name, 0),
                        tracked,
                    )
                    progress.update(task, completed=tracked)
                    if not went and tracked <= before:
                        break
                progress.update(task, completed=total)
        # The tables were refilled: the planner needs their statistics (autovacuum's job,
        # where it is on), or a statistics query plans a full scan.
        analysed = again(ledger, projector.store.analyze)
    finally:
        ledger.close()
    console.print(f"views rebuilt ({len(analysed)} tables analysed)")


@cli.command()
def projections() -> None:
    """Show each view's position and lag, and the event a failing view is stuck on (its
    position, topic, stream id and error). It changes nothing and never skips an event."""
    settings = Settings()
    ledger = build_ledger(settings)
    try:
        projector = build_projector(settings, ledger)
        head = int(ledger.recorder.max_notification_id() or 0)
        states = projector.store.states([view.name for view in projector.views], head)
    finally:
        ledger.close()
    typer.echo(f"log head: {head}")
    for state in states:
        typer.echo(
            f"{state.view}: position {state.position}, lag {state.lag}, "
            f"{state.failures} failed attempt(s) in all"
        )
        failure = state.failing
        if failure is not None:
            typer.echo(
                f"  FAILING on position {failure.position}: topic {failure.topic}, "
                f"stream {failure.stream}, {failure.error}: {failure.message} "
                f"(since {rfc3339(failure.since)}, {failure.attempts} attempt(s); "
                "retried with backoff, never skipped)"
            )
    if any(state.failing is not None for state in states):
        raise typer.Exit(1)


@cli.command()
def stats(
    kind: Annotated[
        str,
        typer.Argument(help="complaints, claims, disputes, education, rectifications or reports"),
    ],
    period: Annotated[str, typer.Option(help="2026-07, 2026Q3 or 2026")],
    by: Annotated[str | None, typer.Option(help="up to two dimensions, e.g. cause,channel")] = None,
    format: Annotated[str, typer.Option(help="json or csv")] = "json",
) -> None:
    """Print statistics after bringing the views up to the log's head (as the API answers)."""
    kinds = ("complaints", "claims", "disputes", "education", "rectifications", "reports")
    if kind not in kinds or format not in ("json", "csv"):
        raise typer.BadParameter(f"kind: {', '.join(kinds)}; format: json or csv")
    settings = Settings()
    ledger = build_ledger(settings)
    try:
        head = int(ledger.recorder.max_notification_id() or 0)
        build_projector(settings, ledger).catch_up()
        latest = merkle_store_for(ledger.recorder).latest_checkpoint()
        now = utc_now()
        try:
            asked = parse_period(period, now)
            if kind == "complaints":
                found = build_statistics(ledger).figures(asked, parse_dimensions(by), now)
            elif kind == "education":
                dims = parse_dimensions(by, EDUCATION_DIMENSIONS, "education figures")
                principals = Principals(settings.principals_file)
                found = build_education_statistics(ledger, principals).figures(asked, dims)
            elif kind == "rectifications":
                dims = parse_dimensions(by, RECTIFICATION_DIMENSIONS, kind)
                found = build_rectification_statistics(ledger).figures(asked, dims, now)
            elif kind == "reports":
                dims = parse_dimensions(by, REPORT_DIMENSIONS, kind)
                found = build_report_statistics(ledger).figures(asked, dims, now)
            else:
                allowed = CLAIM_DIMENSIONS if kind == "claims" else DISPUTE_DIMENSIONS
                dims = parse_dimensions(by, allowed, kind)
                case = build_case_statistics(ledger)
                found = (case.claims_figures if kind == "claims" else case.disputes_figures)(
                    asked, dims
                )
        except InvalidInput as e:
            raise typer.BadParameter(f"{e.field}: {e}") from None
    finally:
        ledger.close()
    body = {
        "period": period,
        "position": found["position"],
        "caught_up": found["position"] >= head,
        "checkpoint": {"size": latest.size, "root": latest.root.hex()} if latest else None,
        "evaluated_at": rfc3339(min(asked.end, now)),
        "totals": found["totals"],
        "groups": found["groups"],
    }
    if format == "csv":
        typer.echo(to_csv(body, kind).decode("utf-8-sig"), nl=False)
    else:
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())


def _fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and an exit code: no traceback for an operator's mistake."""
    Console(stderr=True, soft_wrap=True).print(f"[red]error[/]: {message}")
    raise typer.Exit(code)


def _read_json_file(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        _fail(f"cannot read the {what} {path}: {exc.strerror or exc}")
    except orjson.JSONDecodeError:
        _fail(f"the {what} {path} is not JSON")


@cli.command()
def verify(
    bundle: Annotated[Path | None, typer.Option(help="check an exported bundle offline")] = None,
    verifier_key: Annotated[
        str | None,
        typer.Option(
            help="the ledger's verifier key to trust (default XIAOBAO_VERIFIER_KEY; for the "
            "whole ledger also the server's own key)"
        ),
    ] = None,
    since_checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="a signed checkpoint note you kept earlier: the log must still reproduce it "
            "(detects entries removed from the end together with their seals)"
        ),
    ] = None,
) -> None:
    """Recompute the whole Merkle log and check it against every signed checkpoint."""
    settings = Settings()
    pinned = verifier_key or settings.verifier_key
    if pinned is not None:
        try:
            parse_verifier_key(pinned)
        except VerifierKeyError as exc:
            _fail(f"the verifier key is malformed: {exc}")
    if bundle is not None:
        report = verify_bundle(_read_json_file(bundle, "bundle"), pinned)
    else:
        ledger = build_ledger(settings)
        try:
            key = pinned or build_notary(settings).verifier_key
            kept = None
            if since_checkpoint is not None:
                try:
                    note = since_checkpoint.read_text(encoding="utf-8")
                except OSError as exc:
                    _fail(f"cannot read the checkpoint {since_checkpoint}: {exc.strerror or exc}")
                try:
                    kept = read_kept_checkpoint(note, key)
                except (VerifierKeyError, ValueError) as exc:
                    _fail(f"the kept checkpoint is not usable: {exc}")
            report = verify_ledger(ledger.recorder, merkle_store_for(ledger.recorder), key, kept)
        finally:
            ledger.close()
    if not report.ok:
        console.print(f"[red]FAILED[/]: {report.problem}")
        if report.first_bad_position is not None:
            console.print(f"first bad position: {report.first_bad_position}")
        raise typer.Exit(1)
    if not report.authenticated:
        console.print(
            f"[yellow]NOT AUTHENTICATED[/]: the bundle's {report.leaves} entries are consistent "
            "with the key the bundle carries, but anyone can re-sign a bundle with a key of "
            "their own. Pin the ledger's key: --verifier-key KEY (from GET "
            "/v1/ledger/public-key) or XIAOBAO_VERIFIER_KEY."
        )
        raise typer.Exit(3)
    console.print(f"ok: {report.leaves} entries, {report.checkpoints} signed checkpoint(s)")


@cli.command()
def export(
    stream: Annotated[UUID | None, typer.Option(help="a stream id (claim, policy...)")] = None,
    period: Annotated[
        str | None, typer.Option(help="recorded in a CST period: 2026-07, 2026Q3 or 2026")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="where to write the bundle (default var/bundle-….json)")
    ] = None,
) -> None:
    """Write a self-contained bundle (entries, leaves, proofs, checkpoint, key)."""
    if (stream is None) == (period is None):
        raise typer.BadParameter("give exactly one of --stream or --period")
    if period is not None and not re.fullmatch(PERIOD_PATTERN, period):
        raise typer.BadParameter("a period is 2026-07, 2026Q3 or 2026")
    settings = Settings()
    ledger = build_ledger(settings)
    try:
        proofs = build_proofs(ledger)
        assert proofs is not None
        if stream is not None:
            positions = list(ledger.positions.of(stream).values())
            if not positions:
                _fail(f"no stream {stream} in the ledger")
        else:
            positions = positions_in_period(ledger.recorder, period or "")
        bundle = export_bundle(proofs, build_notary(settings).verifier_key, positions)
    finally:
        ledger.close()
    target = out or Path("var") / f"bundle-{stream or period}.json"
    if not bundle["entries"]:
        what = f"of stream {stream}" if stream else f"recorded in {period}"
        _fail(
            f"nothing to export: no sealed entries {what} "
            "(entries are sealed within seconds while the sealer runs)",
            1,
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
    console.print(f"wrote {len(bundle['entries'])} entries to {target}")


def main() -> None:
    cli()
