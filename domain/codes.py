"""Code lists kept as reference data: complaint causes (default list modelled on the insurance
complaint causes of GB/T 43568-2023) and report categories (domain.md §6), extended or
renamed by admins, never deleted."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.common import Actor, InvalidInput, stream_id
from domain.knowledge import DEFAULT_AUDIENCES, DEFAULT_CATEGORIES

DEFAULT_CAUSES: dict[str, str] = {
    "claims": "理赔纠纷",
    "sales": "销售纠纷",
    "surrender": "退保纠纷",
    "policy_service": "保全纠纷",
    "service": "服务质量",
    "product": "产品条款",
    "marketing": "营销扰民",
    "other": "其他",
}
DEFAULT_REPORT_CATEGORIES: dict[str, str] = {
    "sales_misrepresentation": "销售误导",
    "unlicensed_agent": "违规代理",
    "fraud": "欺诈",
    "data_misuse": "个人信息违规",
    "claims_obstruction": "惜赔拖赔",
    "misappropriation": "侵占挪用",
    "other": "其他",
}
DEFAULTS: dict[str, dict[str, str]] = {
    "causes": DEFAULT_CAUSES,
    "report_categories": DEFAULT_REPORT_CATEGORIES,
    "knowledge_categories": DEFAULT_CATEGORIES,
    "audiences": DEFAULT_AUDIENCES,
}


def code_list_id(kind: str) -> UUID:
    return stream_id("codes", kind)


class CodeList(Aggregate):
    """One kind of code list: the codes added to its defaults, with their names."""

    @staticmethod
    def create_id(kind: str) -> UUID:
        return code_list_id(kind)

    @event("Opened")
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.codes: dict[str, str] = {}

    def put(self, code: str, name: str, occurred_at: datetime, actor: Actor) -> None:
        """Add a code or rename one."""
        if not name.strip():
            raise InvalidInput("name", "must not be blank")
        self._code_put(code=code, name=name, occurred_at=occurred_at, actor=actor)

    @event("CodePut")
    def _code_put(self, code: str, name: str, occurred_at: datetime, actor: Actor) -> None:
        self.codes[code] = name


def all_codes(kind: str, recorded: CodeList | None) -> dict[str, str]:
    """The defaults of a kind, with what admins added or renamed."""
    return {**DEFAULTS.get(kind, {}), **(recorded.codes if recorded else {})}


def synonym_table_id() -> UUID:
    return stream_id("synonyms", "knowledge")


class SynonymTable(Aggregate):
    """The knowledge base's synonym groups added to or changed from the defaults: each group
    a canonical word and the variants folded to it before ranking (退保/解约/退钱...)."""

    @staticmethod
    def create_id() -> UUID:
        return synonym_table_id()

    @event("Opened")
    def __init__(self) -> None:
        self.groups: dict[str, tuple[str, ...]] = {}

    def put(
        self, canonical: str, variants: tuple[str, ...], occurred_at: datetime, actor: Actor
    ) -> None:
        """Set a group's variants (an empty tuple switches the group off)."""
        if not canonical.strip():
            raise InvalidInput("canonical", "must not be blank")
        for index, variant in enumerate(variants):
            if not variant.strip():
                raise InvalidInput(f"variants[{index}]", "must not be blank")
        self._group_put(
            canonical=canonical, variants=variants, occurred_at=occurred_at, actor=actor
        )

    @event("GroupPut")
    def _group_put(
        self, canonical: str, variants: tuple[str, ...], occurred_at: datetime, actor: Actor
    ) -> None:
        self.groups[canonical] = variants


def all_synonyms(
    defaults: dict[str, tuple[str, ...]], recorded: SynonymTable | None
) -> dict[str, tuple[str, ...]]:
    """The default groups with what admins changed; a group with no variants is dropped."""
    merged = {**defaults, **(recorded.groups if recorded else {})}
    return {canonical: variants for canonical, variants in merged.items() if variants}
