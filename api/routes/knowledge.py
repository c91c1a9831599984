"""The knowledge base (消保知识库): editors write, reviewers review (four eyes), consumers'
questions are answered from the published versions.

(No `from __future__ import annotations` here: the command routes are made by a factory whose
body models FastAPI must see as real types.)"""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api import knowledge_models as km
from api import read_models as m
from api.access import roles_of
from api.deps import (
    IdempotencyKey,
    IfMatch,
    Runtime,
    allow,
    command_key,
    command_meta,
    command_response,
    if_match_version,
    runtime,
)
from api.errors import Problem
from api.fields import AsOf, Instant, Text, WireModel
from api.responses import JSONBody
from application.knowledge import (
    DraftArticle,
    PublishArticle,
    RetireArticle,
    ReviewArticle,
    ReviseArticle,
    SubmitArticle,
    answer_view,
)
from application.services import Knowledge
from domain.knowledge import ArticleContent
from infrastructure.principals import Principal

router = APIRouter(tags=["knowledge base"])

DRAFT_READERS = roles_of("knowledge.drafts")  # they see drafts where others see published

Editor = Annotated[Principal, Depends(allow("knowledge.editor"))]
Reviewer = Annotated[Principal, Depends(allow("knowledge.reviewer"))]
DraftReader = Annotated[Principal, Depends(allow("knowledge.drafts"))]
Reader = Annotated[Principal, Depends(allow("knowledge.read"))]
Word = Annotated[str, Field(min_length=1, max_length=50)]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


async def knowledge(rt: Annotated[Runtime, Depends(runtime)]) -> Knowledge:
    if rt.knowledge is None:
        raise Problem(503, "the knowledge base is not running in this process")
    return rt.knowledge


KnowledgeDep = Annotated[Knowledge, Depends(knowledge)]


class Command(WireModel):
    """Every command may say when it happened (not in the future)."""

    occurred_at: Instant | None = None


class ArticleBody(Command):
    """An article version: Chinese text, one category, rights, audiences."""

    title: Text
    body: str = Field(min_length=1, max_length=20_000)
    category: Code
    rights: list[Text] = Field(max_length=8)
    audiences: list[Code] = Field(min_length=1, max_length=7)
    keywords: list[Word] = Field(default_factory=list, max_length=30)
    lines: list[Code] = Field(default_factory=list, max_length=7)

    def content(self) -> ArticleContent:
        return ArticleContent(
            title=self.title,
            body=self.body,
            category=self.category,
            rights=tuple(self.rights),
            audiences=tuple(self.audiences),
            keywords=tuple(self.keywords),
            lines=tuple(self.lines),
        )


class ReviewBody(Command):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=2000)


class RetireBody(Command):
    reason: Text


class SynonymBody(WireModel):
    """A synonym group: the variants folded to the canonical word (none switches it off)."""

    variants: list[Word] = Field(max_length=50)


def _key(caller: Principal, key: str | None, path: str, body: BaseModel) -> Any:
    return command_key(caller, key, path, body.model_dump())


@router.post("/v1/knowledge/articles", status_code=201)
async def draft_article(
    body: ArticleBody,
    caller: Editor,
    kb: KnowledgeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """A new article; its first version is a draft (201 with `id`, `version`, `state`)."""
    result = await run_in_threadpool(
        kb.desk.draft,
        DraftArticle(body.content()),
        command_meta(caller, body.occurred_at),
        _key(caller, idempotency_key, "knowledge/articles", body),
    )
    return command_response(result)


@router.put("/v1/knowledge/articles/{article_id}")
async def revise_article(
    article_id: UUID,
    body: ArticleBody,
    caller: Editor,
    kb: KnowledgeDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """A new draft version; the published version keeps answering until this is published."""
    result = await run_in_threadpool(
        kb.desk.revise,
        ReviseArticle(article_id, body.content()),
        command_meta(caller, body.occurred_at),
        _key(caller, idempotency_key, f"knowledge/articles/{article_id}", body),
        if_match_version(if_match),
    )
    return command_response(result)


@router.post("/v1/knowledge/articles/{article_id}/submit")
async def submit_article(
    article_id: UUID,
    caller: Editor,
    kb: KnowledgeDep,
    body: Command | None = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Submit the latest draft for review."""
    given = body or Command()
    result = await run_in_threadpool(
        kb.desk.submit,
        SubmitArticle(article_id),
        command_meta(caller, given.occurred_at),
        _key(caller, idempotency_key, f"knowledge/articles/{article_id}/submit", given),
        if_match_version(if_match),
    )
    return command_response(result)


@router.post("/v1/knowledge/articles/{article_id}/review")
async def review_article(
    article_id: UUID,
    body: ReviewBody,
    caller: Reviewer,
    kb: KnowledgeDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Approve or reject the submitted version (a reviewer other than its author)."""
    result = await run_in_threadpool(
        kb.desk.review,
        ReviewArticle(article_id, body.decision == "approve", body.comment),
        command_meta(caller, body.occurred_at),
        _key(caller, idempotency_key, f"knowledge/articles/{article_id}/review", body),
        if_match_version(if_match),
    )
    return command_response(result)


@router.post("/v1/knowledge/articles/{article_id}/publish")
async def publish_article(
    article_id: UUID,
    caller: Editor,
    kb: KnowledgeDep,
    body: Command | None = None,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Publish the approved version: it answers from now on."""
    given = body or Command()
    result = await run_in_threadpool(
        kb.desk.publish,
        PublishArticle(article_id),
        command_meta(caller, given.occurred_at),
        _key(caller, idempotency_key, f"knowledge/articles/{article_id}/publish", given),
        if_match_version(if_match),
    )
    return command_response(result)


@router.post("/v1/knowledge/articles/{article_id}/retire")
async def retire_article(
    article_id: UUID,
    body: RetireBody,
    caller: Editor,
    kb: KnowledgeDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONBody:
    """Withdraw the article from the answers for good (with a reason)."""
    result = await run_in_threadpool(
        kb.desk.retire,
        RetireArticle(article_id, body.reason),
        command_meta(caller, body.occurred_at),
        _key(caller, idempotency_key, f"knowledge/articles/{article_id}/retire", body),
        if_match_version(if_match),
    )
    return command_response(result)


@router.get("/v1/knowledge/ask", response_model=km.Answers)
async def ask(
    caller: Reader,
    kb: KnowledgeDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="the question, Chinese")],
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
) -> dict[str, Any]:
    """The best published articles for a question, best first; `handoff` (转人工) when none
    is good enough; `position` is the log position of the published set that answered."""
    if not q.strip():
        raise Problem(422, "the question is empty", [{"field": "q", "message": "is blank"}])
    asked = await run_in_threadpool(kb.queries.ask, q, limit)
    return {
        "answers": [answer_view(found) for found in asked.answers],
        "handoff": asked.handoff,
        "position": asked.position,
    }


@router.get("/v1/knowledge/categories", response_model=km.Categories)
async def categories(caller: Reader, kb: KnowledgeDep) -> dict[str, Any]:
    """The article categories (reference data; twelve by default)."""
    return await run_in_threadpool(kb.queries.categories)


@router.get("/v1/knowledge/gaps", response_model=km.Gaps)
async def gaps(caller: DraftReader, kb: KnowledgeDep) -> dict[str, Any]:
    """Handed-off questions, masked, counted by normalised form, most asked first."""
    return await run_in_threadpool(kb.queries.gaps)


@router.get("/v1/knowledge/articles", response_model=km.Articles)
async def list_articles(
    caller: Reader,
    kb: KnowledgeDep,
    category: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[
        Literal["draft", "submitted", "approved", "rejected", "published", "retired"] | None,
        Query(),
    ] = None,
) -> dict[str, Any]:
    """Articles (without bodies): editors, reviewers and auditors see every article's latest
    version; everyone else the published versions."""
    drafts = caller.role in DRAFT_READERS
    if state is not None and state != "published" and not drafts:
        raise Problem(403, f"the {caller.role} role reads published articles only")
    items = await run_in_threadpool(kb.queries.articles, drafts, category, state)
    return {"items": items}


@router.get("/v1/knowledge/articles/{article_id}", response_model=km.Article)
async def get_article(
    article_id: UUID,
    caller: Reader,
    kb: KnowledgeDep,
    response: Response,
    version: Annotated[int | None, Query(ge=1, description="a content version")] = None,
    as_of_version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[AsOf | None, Query(description="RFC 3339; what the ledger knew then")] = None,
) -> dict[str, Any]:
    """The published version (staff of the knowledge base: the latest, or `?version=N`)."""
    drafts = caller.role in DRAFT_READERS
    if not drafts and (version or as_of_version or as_of):
        raise Problem(403, f"the {caller.role} role reads the published version only")
    view = await run_in_threadpool(
        kb.queries.article, article_id, drafts, version, as_of_version, as_of
    )
    response.headers["ETag"] = f'"{view["record_version"]}"'
    return view


@router.get("/v1/knowledge/articles/{article_id}/history", response_model=m.History)
async def article_history(
    article_id: UUID,
    caller: DraftReader,
    kb: KnowledgeDep,
    proofs: Annotated[bool, Query(description="add each event's inclusion proof")] = False,
) -> dict[str, Any]:
    """Every event of the article in order (drafts, reviews, publications), with positions."""
    events = await run_in_threadpool(kb.queries.history, article_id, proofs)
    return {"events": events}


Admin = Annotated[Principal, Depends(allow("reference.write"))]
RefReader = Annotated[Principal, Depends(allow("reference.read"))]


PUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "a further version of an existing group was recorded"},
    201: {"description": "the group was created"},
}


@router.put(
    "/v1/reference/knowledge-synonyms/{canonical}", status_code=201, responses=PUT_RESPONSES
)
async def put_synonyms(
    canonical: Annotated[str, Path(min_length=1, max_length=50)],
    body: SynonymBody,
    caller: Admin,
    kb: KnowledgeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONBody:
    """Set a synonym group (201 when new, else 200); the versions are kept in the ledger."""
    result = await run_in_threadpool(
        kb.reference.put_synonyms,
        canonical,
        tuple(body.variants),
        command_meta(caller, None),
        _key(caller, idempotency_key, f"knowledge-synonyms/{canonical}", body),
    )
    return command_response(result)


@router.get("/v1/reference/knowledge-synonyms", response_model=km.Synonyms)
async def get_synonyms(caller: RefReader, kb: KnowledgeDep) -> dict[str, Any]:
    """The synonym groups in force (defaults with what admins changed)."""
    return await run_in_threadpool(kb.reference.synonyms)
