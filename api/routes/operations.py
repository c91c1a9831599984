"""Operations: Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import MetricsDep, Runtime, allow, runtime
from infrastructure.principals import Principal
from infrastructure.projections import ViewStore

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics(
    caller: Annotated[Principal, Depends(allow("operations"))],
    m: MetricsDep,
    rt: Annotated[Runtime, Depends(runtime)],
) -> Response:
    """Prometheus text format: requests, latency, events recorded, sealer lag, and per view
    its lag, whether it is failing (and on which position) and its failed attempts."""
    if rt.proofs is not None:
        position, sealed = rt.proofs.lag()
        m.saw_position(position)
        m.sealed_position.set(sealed)
        m.sealer_lag.set(max(0, position - sealed))
        m.saw_views(ViewStore(rt.services.ledger.recorder).states((), position))
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
