"""The FastAPI application: built by create_app(), services made in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from pydantic.json_schema import models_json_schema

from api import errors
from api.deps import Runtime
from api.errors import PROBLEM_RESPONSES
from api.event_types import EVENT_TYPES
from api.fields import configure_date_floor
from api.middleware import Gateway
from api.observability import Metrics
from api.ratelimit import FailureThrottle, RateLimiter
from api.routes import (
    audit,
    claims,
    complaints,
    dashboard,
    disputes,
    docs,
    education,
    events,
    health,
    knowledge,
    operations,
    rectifications,
    reference,
    reports,
    stats,
    subjects,
)
from api.routes import ledger as ledger_routes
from application.services import build_knowledge, build_report_services, build_services
from infrastructure.collector import steady_collector
from infrastructure.knowledge_follower import following, writing_vectors
from infrastructure.knowledge_search import load_synonym_file
from infrastructure.principals import PrincipalHandlers, PrincipalInvestigators, Principals
from infrastructure.projections import riding_out
from infrastructure.projections import running as projecting
from infrastructure.sealer import running as sealing
from infrastructure.settings import Settings
from infrastructure.store import (
    build_case_statistics,
    build_education_statistics,
    build_knowledge_follower,
    build_knowledge_statistics,
    build_ledger,
    build_notary,
    build_projector,
    build_proofs,
    build_read_ledger,
    build_rectification_statistics,
    build_report_statistics,
    build_runner,
    build_sealer,
    build_statistics,
    build_vault,
    build_vector_writer,
    dispute_rules,
    migrate,
    report_rules,
    search_rules,
)

DESCRIPTION = """Xiaobao Ledger (消保账本): the event-sourced record of an insurer's
consumer-protection work. Partner systems post CloudEvents to `/v1/events`; staff, auditors
and regulators read state, history and proofs. Errors are RFC 9457 problem+json."""


def create_app(settings: Settings | None = None, run_migrations: bool = True) -> FastAPI:
    """Build the app; nothing touches the database until the lifespan starts."""
    config = settings or Settings()
    configure_date_floor(config.date_floor)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A worker (re)started while the database is away waits for it: a failed start
        # would make the process manager stop every worker of the server.
        patience = config.startup_database_patience_seconds
        if run_migrations:
            riding_out(lambda: migrate(config), patience)
        ledger = riding_out(lambda: build_ledger(config), patience)
        notary = build_notary(config)
        primary_proofs = build_proofs(ledger)
        replica = build_read_ledger(config)  # reads, statistics, proofs and exports
        reads = replica or ledger
        proofs = build_proofs(reads)
        principals = Principals(config.principals_file)
        principals.check()
        vault = build_vault(config, ledger)
        follower = build_knowledge_follower(config, ledger)
        knowledge_base = build_knowledge(
            ledger,
            vault,
            follower,
            search_rules(config),
            load_synonym_file(config.knowledge_synonyms_file),
            max_attempts=config.save_attempts,
            proofs=primary_proofs,
        )
        services = build_services(
            ledger,
            vault,
            max_attempts=config.save_attempts,
            retention_days=config.retention_days,
            proofs=primary_proofs,
            directory=PrincipalHandlers(principals),
            complaint_rules=config.complaint_rules(),
            dispute_rules=dispute_rules(config),
            rectification_rules=config.rectification_rules(),
        )
        read_services = None
        if replica is not None:
            read_services = build_services(
                replica,
                build_vault(config, replica),
                retention_days=config.retention_days,
                proofs=proofs,
                directory=PrincipalHandlers(principals),
                complaint_rules=config.complaint_rules(),
                dispute_rules=dispute_rules(config),
                rectification_rules=config.rectification_rules(),
            )
        app.state.runtime = Runtime(
            settings=config,
            services=services,
            reports=build_report_services(
                services,
                vault,
                report_rules(config),
                PrincipalInvestigators(principals),
                max_attempts=config.save_attempts,
                proofs=primary_proofs,
            ),
            principals=principals,
            limiter=RateLimiter(config.rate_limit_per_second, config.rate_limit_burst),
            auth_failures=FailureThrottle(config.auth_failures_per_minute),
            metrics=metrics,
            notary=notary,
            proofs=proofs,
            statistics=build_statistics(reads) if proofs is not None else None,
            case_statistics=(build_case_statistics(reads) if proofs is not None else None),
            knowledge=knowledge_base,
            knowledge_statistics=(
                build_knowledge_statistics(reads) if proofs is not None else None
            ),
            education_statistics=(
                build_education_statistics(reads, principals) if proofs is not None else None
            ),
            rectification_statistics=(
                build_rectification_statistics(reads) if proofs is not None else None
            ),
            report_statistics=build_report_statistics(reads) if proofs is not None else None,
            replica=replica,
            read_services=read_services,
            primary_proofs=primary_proofs if replica is not None else None,
        )
        with contextlib.ExitStack() as stack:
            if config.run_sealer and proofs is not None:
                stack.enter_context(sealing(build_sealer(config, ledger, notary)))
            if config.run_projections and proofs is not None:
                projector = build_projector(config, ledger)
                stack.enter_context(projecting(build_runner(config, ledger, projector)))
                writer = build_vector_writer(config, ledger)
                if writer is not None:  # the knowledge passage vectors, beside the views
                    stack.enter_context(
                        writing_vectors(
                            writer,
                            config.knowledge_follow_seconds,
                            config.postgres_conninfo if config.is_postgres else None,
                            getattr(ledger.recorder, "channel_name", None),
                        )
                    )
            stack.enter_context(
                following(
                    follower,
                    ledger,
                    knowledge_base.log,
                    config.knowledge_follow_seconds,
                    config.knowledge_tally_seconds,
                    config.postgres_conninfo if config.is_postgres else None,
                    getattr(ledger.recorder, "channel_name", None),
                )
            )
            # What start-up built lives as long as the app: kept out of the cyclic
            # collector's full passes, which otherwise stop every thread of the worker for
            # up to ~100 ms now and then, and requests' temporaries freed before a young
            # collection promotes them (infrastructure/collector.py).
            stack.enter_context(steady_collector(config.gc_young_threshold))
            try:
                yield
            finally:
                stack.close()
                ledger.close()
                if replica is not None:
                    replica.close()

    metrics = Metrics()
    # Swagger UI and ReDoc from the assets the fastapi-offline package ships, served by the
    # service itself under /static-offline-docs: the pages work with no network.
    app = FastAPIOffline(
        favicon_url="/static-offline-docs/favicon.png",
        redoc_url=None,  # api.routes.docs serves ReDoc without its one remote reference
        swagger_ui_parameters={"validatorUrl": None},  # no calls to validator.swagger.io
        title="Xiaobao Ledger",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        # No OpenTelemetry here (metrics are Prometheus, logs are JSON lines): FastAPI's
        # native telemetry would otherwise ask the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    errors.install(app)
    app.add_middleware(
        Gateway,
        max_body=config.max_body_bytes,
        body_timeout=config.body_timeout_seconds,
        metrics=metrics,
        access_log=config.access_log,
    )
    for module in (
        health,
        docs,
        events,
        claims,
        complaints,
        disputes,
        education,
        rectifications,
        reference,
        knowledge,
        reports,
        subjects,
        ledger_routes,
        stats,
        dashboard,
        audit,
        operations,
    ):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus one CloudEvents schema per partner event type."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    _, definitions = models_json_schema(
        [(kind.model, "validation") for kind in EVENT_TYPES.values()],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(definitions.get("$defs", {}))
    envelopes = []
    for type_name, kind in EVENT_TYPES.items():
        name = "".join(p.title() for p in type_name.replace("-", ".").split(".")[1:-1]) + "Event"
        components[name] = _envelope(type_name, kind.role, kind.model.__name__)
        envelopes.append({"$ref": f"#/components/schemas/{name}"})
    components["PartnerEvent"] = {"oneOf": envelopes, "discriminator": {"propertyName": "type"}}
    app.openapi_schema = schema
    return schema


def _envelope(type_name: str, role: str, data_schema: str) -> dict[str, Any]:
    """A CloudEvents 1.0 envelope whose `type` is fixed and whose `data` is that type's schema."""
    return {
        "type": "object",
        "title": type_name,
        "description": f"`{type_name}`, posted by the {role} role.",
        "required": ["specversion", "id", "source", "type", "data"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "pattern": "^/partners/.+$"},
            "type": {"type": "string", "const": type_name},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string"},
            "data": {"$ref": f"#/components/schemas/{data_schema}"},
        },
    }
