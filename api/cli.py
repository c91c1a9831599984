"""The `xiaobao` command line: serve, migrate, demo."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from api import demo
from api.observability import configure_logging
from application.services import build_services
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, build_notary, build_vault, migrate

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
    workers: Annotated[int, typer.Option(help="worker processes (PostgreSQL)")] = 1,
) -> None:
    """Run the HTTP API."""
    settings = Settings()
    configure_logging(settings.log_level)
    migrate(settings)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        access_log=False,  # the JSON request log of api.middleware replaces it
        log_config=None,
    )


@cli.command("demo")
def demo_command() -> None:
    """Load demonstration data and print how to reach the service."""
    settings = Settings()
    wrote = demo.write_principals(settings.principals_file)
    migrate(settings)
    ledger = build_ledger(settings)
    try:
        services = build_services(ledger, build_vault(settings, ledger))
        claims = demo.load_demo(services, build_notary(settings))
    finally:
        ledger.close()
    base = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold]Xiaobao Ledger demo data loaded[/] into {settings.database_url}")
    if not wrote:
        console.print(f"(principals file {settings.principals_file} kept as it was)")
    console.print(f"API: {base}   docs: {base}/docs   contract: {base}/openapi.json")
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


def main() -> None:
    cli()
