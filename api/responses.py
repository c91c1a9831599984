"""JSON responses rendered with orjson (bodies are already JSON-ready dicts and lists)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


class JSONBody(Response):
    """`application/json` rendered by orjson, with a chosen status code."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
