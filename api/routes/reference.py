"""Reference data: PUT by admin (each PUT a new version), reads by staff and auditors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from api import read_models as m
from api.deps import (
    IdempotencyKey,
    IfMatch,
    ServicesDep,
    allow,
    command_key,
    command_response,
    if_match_version,
)
from api.fields import Day, Money, Ratio, RegionCode, WireModel
from api.read_models import ReadModel
from api.responses import JSONBody
from application.gateway import Meta
from application.ledger import utc_now
from application.reference import ProductDraft, SchemeDraft
from domain.common import Actor
from domain.reference import LevelTerms
from domain.settlement import ProductTerms
from infrastructure.principals import Principal

router = APIRouter(tags=["reference data"])
Admin = Annotated[Principal, Depends(allow("reference.write"))]
Reader = Annotated[Principal, Depends(allow("reference.read"))]
Key = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


class LevelBody(WireModel):
    deductible: Money
    ratio: Ratio


class SchemeBody(WireModel):
    """A social-insurance scheme version."""

    region: RegionCode
    person_type: Literal["employee", "retiree", "resident"]
    effective_from: Day
    annual_cap: Money
    b_prepay_ratio: Ratio
    levels: dict[Literal["1", "2", "3"], LevelBody] = Field(min_length=1)


class ProductBody(WireModel):
    """A commercial product version."""

    effective_from: Day
    annual_deductible: Money
    ratio_with_si: Ratio
    ratio_without_si: Ratio
    annual_limit: Money
    covers_out_of_scope: bool


class SchemeCode(ReadModel):
    code: str = Field(description="the scheme id")
    version: int = Field(description="its latest version")
    region: str
    person_type: str
    effective_from: str = Field(description="of its latest version")


class SchemeCodeList(ReadModel):
    kind: Literal["schemes"]
    codes: list[SchemeCode]


class ProductCode(ReadModel):
    code: str = Field(description="the product code")
    version: int = Field(description="its latest version")
    effective_from: str = Field(description="of its latest version")


class ProductCodeList(ReadModel):
    kind: Literal["products"]
    codes: list[ProductCode]


def _meta(caller: Principal) -> Meta:
    return Meta(occurred_at=utc_now(), actor=Actor(name=caller.name, role=caller.role))


PUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "a further version of an existing record was recorded"},
    201: {"description": "the record was created with its first version"},
}


@router.put("/v1/reference/schemes/{scheme_id}", status_code=201, responses=PUT_RESPONSES)
async def put_scheme(
    scheme_id: Key,
    body: SchemeBody,
    caller: Admin,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Record a new version of a scheme (201 when the scheme is new, else 200)."""
    draft = SchemeDraft(
        region=body.region,
        person_type=body.person_type,
        effective_from=body.effective_from,
        annual_cap=body.annual_cap,
        b_prepay_ratio=body.b_prepay_ratio,
        levels={k: LevelTerms(v.deductible, v.ratio) for k, v in body.levels.items()},
    )
    result = await run_in_threadpool(
        services.reference.put_scheme,
        scheme_id,
        draft,
        _meta(caller),
        command_key(caller, idempotency_key, f"schemes/{scheme_id}", body.model_dump()),
        if_match_version(if_match),
    )
    return command_response(result)


@router.put("/v1/reference/products/{product_code}", status_code=201, responses=PUT_RESPONSES)
async def put_product(
    product_code: Key,
    body: ProductBody,
    caller: Admin,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Record a new version of a product (201 when the product is new, else 200)."""
    draft = ProductDraft(
        effective_from=body.effective_from,
        terms=ProductTerms(
            annual_deductible=body.annual_deductible,
            ratio_with_si=body.ratio_with_si,
            ratio_without_si=body.ratio_without_si,
            annual_limit=body.annual_limit,
            covers_out_of_scope=body.covers_out_of_scope,
        ),
    )
    result = await run_in_threadpool(
        services.reference.put_product,
        product_code,
        draft,
        _meta(caller),
        command_key(caller, idempotency_key, f"products/{product_code}", body.model_dump()),
        if_match_version(if_match),
    )
    return command_response(result)


class CodeBody(WireModel):
    """A code's name (Chinese)."""

    name: str = Field(min_length=1, max_length=100)


CategoryReader = Annotated[Principal, Depends(allow("reference.read"))]
CodeKey = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


@router.put("/v1/reference/causes/{code}", status_code=201, responses=PUT_RESPONSES)
async def put_cause(
    code: CodeKey,
    body: CodeBody,
    caller: Admin,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Add a complaint cause code (or rename one); the defaults follow GB/T 43568-2023."""
    result = await run_in_threadpool(
        services.reference.put_code,
        "causes",
        code,
        body.name,
        _meta(caller),
        command_key(caller, idempotency_key, f"causes/{code}", body.model_dump()),
    )
    return command_response(result)


@router.put("/v1/reference/knowledge-categories/{code}", status_code=201, responses=PUT_RESPONSES)
async def put_knowledge_category(
    code: CodeKey,
    body: CodeBody,
    caller: Admin,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Add a knowledge-base category (or rename one); twelve by default (domain.md §5)."""
    result = await run_in_threadpool(
        services.reference.put_code,
        "knowledge_categories",
        code,
        body.name,
        _meta(caller),
        command_key(caller, idempotency_key, f"knowledge-categories/{code}", body.model_dump()),
    )
    return command_response(result)


@router.put("/v1/reference/audiences/{code}", status_code=201, responses=PUT_RESPONSES)
async def put_audience(
    code: CodeKey,
    body: CodeBody,
    caller: Admin,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Add an audience of articles and activities (or rename one)."""
    result = await run_in_threadpool(
        services.reference.put_code,
        "audiences",
        code,
        body.name,
        _meta(caller),
        command_key(caller, idempotency_key, f"audiences/{code}", body.model_dump()),
    )
    return command_response(result)


@router.get("/v1/reference/audiences", response_model=m.CodeList)
async def get_audiences(caller: Reader, services: ServicesDep) -> dict[str, Any]:
    """Every audience code with its name."""
    return await run_in_threadpool(services.reference.codes, "audiences")


@router.get("/v1/reference/causes", response_model=m.CodeList)
async def get_causes(caller: Reader, services: ServicesDep) -> dict[str, Any]:
    """Every complaint cause code with its name."""
    return await run_in_threadpool(services.reference.codes, "causes")


@router.put("/v1/reference/report-categories/{code}", status_code=201, responses=PUT_RESPONSES)
async def put_report_category(
    code: CodeKey,
    body: CodeBody,
    caller: Admin,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Add a report category (举报类别) or rename one; the defaults are domain.md §6's."""
    result = await run_in_threadpool(
        services.reference.put_code,
        "report_categories",
        code,
        body.name,
        _meta(caller),
        command_key(caller, idempotency_key, f"report-categories/{code}", body.model_dump()),
    )
    return command_response(result)


@router.get("/v1/reference/report-categories", response_model=m.CodeList)
async def get_report_categories(caller: CategoryReader, services: ServicesDep) -> dict[str, Any]:
    """Every report category with its name."""
    return await run_in_threadpool(services.reference.codes, "report_categories")


@router.get("/v1/reference/schemes", response_model=SchemeCodeList)
async def get_schemes(caller: Reader, services: ServicesDep) -> dict[str, Any]:
    """Every scheme id with its latest version (number, region, person type, date)."""
    return await run_in_threadpool(services.reference.schemes)


@router.get("/v1/reference/products", response_model=ProductCodeList)
async def get_products(caller: Reader, services: ServicesDep) -> dict[str, Any]:
    """Every product code with its latest version (number, date)."""
    return await run_in_threadpool(services.reference.products)


@router.get("/v1/reference/schemes/{scheme_id}", response_model=m.SchemeVersions)
async def get_scheme(
    scheme_id: Key, caller: Reader, services: ServicesDep, response: Response
) -> dict[str, Any]:
    """Every version of a scheme; `ETag` is the record's version, for If-Match."""
    found = await run_in_threadpool(services.reference.scheme, scheme_id)
    response.headers["ETag"] = f'"{found["version"]}"'
    return found


@router.get("/v1/reference/products/{product_code}", response_model=m.ProductVersions)
async def get_product(
    product_code: Key, caller: Reader, services: ServicesDep, response: Response
) -> dict[str, Any]:
    """Every version of a product; `ETag` is the record's version, for If-Match."""
    found = await run_in_threadpool(services.reference.product, product_code)
    response.headers["ETag"] = f'"{found["version"]}"'
    return found
