"""The FastAPI application: built by create_app(), services made in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import create_model
from pydantic.json_schema import models_json_schema

from application.services import build_services
from infrastructure.principals import Principals
from infrastructure.settings import Settings
from infrastructure.store import build_ledger, migrate

from api import errors
from api.deps import Runtime
from api.event_types import EVENT_TYPES
from api.routes import claims, events, health, reference

DESCRIPTION = """Xiaobao Ledger (消保账本): the event-sourced record of an insurer's
consumer-protection work. Partner systems post CloudEvents to `/v1/events`; staff, auditors
and regulators read state, history and proofs. Errors are RFC 9457 problem+json."""


def create_app(settings: Settings | None = None, run_migrations: bool = True) -> FastAPI:
    """Build the app; nothing touches the database until the lifespan starts."""
    config = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            migrate(config)
        ledger = build_ledger(config)
        app.state.runtime = Runtime(
            settings=config,
            services=build_services(ledger, max_attempts=config.save_attempts),
            principals=Principals(config.principals_file),
        )
        try:
            yield
        finally:
            ledger.close()

    app = FastAPI(title="Xiaobao Ledger", version="1.0", description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    for module in (health, events, claims, reference):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus one schema per partner event type."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    envelopes = [_envelope_model(name) for name in EVENT_TYPES]
    _, definitions = models_json_schema(
        [(model, "validation") for model in envelopes],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(definitions.get("$defs", {}))
    components["PartnerEvent"] = {
        "oneOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in envelopes],
        "discriminator": {"propertyName": "type"},
    }
    app.openapi_schema = schema
    return schema


def _envelope_model(type_name: str) -> Any:
    """A CloudEvents envelope whose `type` is fixed and whose `data` is that type's schema."""
    from typing import Literal

    kind = EVENT_TYPES[type_name]
    title = "".join(part.title() for part in type_name.replace("-", ".").split(".")[1:-1])
    return create_model(
        f"{title}Event",
        __doc__=f"`{type_name}`, posted by the {kind.role} role.",
        specversion=(Literal["1.0"], ...),
        id=(str, ...),
        source=(str, ...),
        type=(Literal[type_name], ...),  # type: ignore[valid-type]
        time=(str | None, None),
        subject=(str | None, None),
        data=(kind.model, ...),
    )
