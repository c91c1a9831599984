"""The verifiable ledger: signed checkpoint, public key, entries and RFC 9162 proofs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api import read_models as m
from api.deps import NotaryDep, ProofsDep, allow
from api.responses import ReadBody
from application.views import rfc3339
from infrastructure.principals import Principal

router = APIRouter(tags=["verifiable ledger"])
Auditor = Annotated[Principal, Depends(allow("ledger.entries"))]
ProofReader = Annotated[Principal, Depends(allow("ledger.proofs"))]
Anyone = Annotated[Principal, Depends(allow("ledger.public"))]
Index = Annotated[int, Query(ge=0, le=2**62)]


@router.get("/v1/ledger/checkpoint")
async def checkpoint(
    caller: Anyone,
    proofs: ProofsDep,
    size: Annotated[
        int | None, Query(ge=0, le=2**62, description="show an earlier checkpoint")
    ] = None,
) -> m.Checkpoint:
    """The latest signed checkpoint (or the one at `size`): size, root, time, signed note."""
    latest = await run_in_threadpool(proofs.checkpoint, size)
    return m.Checkpoint(
        size=latest.size,
        root=latest.root.hex(),
        timestamp=rfc3339(latest.signed_at),
        note=latest.note,
    )


@router.get("/v1/ledger/public-key")
def public_key(caller: Anyone, notary: NotaryDep) -> m.PublicKey:
    """The signed-note verifier key of checkpoints and receipts."""
    return m.PublicKey(verifier_key=notary.verifier_key)


@router.get("/v1/ledger/entries", responses=m.documented(m.Entries, "the entries"))
async def entries(caller: Auditor, proofs: ProofsDep, start: Index, end: Index) -> ReadBody:
    """Leaves [start, end) (at most 1000): index, position and the exact bytes hashed."""
    return ReadBody({"entries": await run_in_threadpool(proofs.entries, start, end)})


@router.get("/v1/ledger/proof/inclusion")
async def inclusion(
    caller: ProofReader, proofs: ProofsDep, index: Index, size: Index
) -> m.InclusionProof:
    """RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
    hashes = await run_in_threadpool(proofs.inclusion, index, size)
    return m.InclusionProof(index=index, size=size, hashes=[h.hex() for h in hashes])


@router.get("/v1/ledger/proof/consistency")
async def consistency(
    caller: ProofReader, proofs: ProofsDep, first: Index, second: Index
) -> m.ConsistencyProof:
    """RFC 9162 consistency proof between the trees of `first` and `second` leaves."""
    hashes = await run_in_threadpool(proofs.consistency, first, second)
    return m.ConsistencyProof(first=first, second=second, hashes=[h.hex() for h in hashes])
