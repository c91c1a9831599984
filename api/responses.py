"""JSON responses rendered with orjson (bodies are already JSON-ready dicts and lists)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import TypeAdapter


class JSONBody(Response):
    """`application/json` rendered by orjson, with a chosen status code."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_ANY_JSON: TypeAdapter[Any] = TypeAdapter(Any)


class ReadBody(Response):
    """A read's JSON body built by the application, sent as FastAPI sends an undeclared one
    (pydantic's JSON), without validating it again; its route documents the model."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _ANY_JSON.dump_json(content)


class RenderedBody(Response):
    """A read's JSON body as the application rendered it (bytes, sent as they are)."""

    media_type = "application/json"
