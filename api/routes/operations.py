"""Operations: Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import MetricsDep, roles
from infrastructure.principals import Principal

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics(
    caller: Annotated[Principal, Depends(roles("admin", "auditor"))], m: MetricsDep
) -> Response:
    """Prometheus text format: requests, latency, events recorded."""
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
