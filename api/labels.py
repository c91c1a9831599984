"""Chinese names of the codes and dimensions that appear in exports and documents."""

from __future__ import annotations

from datetime import datetime

from domain.codes import DEFAULT_CAUSES
from domain.common import CST
from domain.education import CAMPAIGNS

CHANNELS = {
    "12378": "12378监管转办",
    "hotline": "客服热线",
    "app": "移动应用",
    "online": "网上",
    "letter": "来信",
    "visit": "来访",
    "email": "电子邮件",
    "internal": "内部员工",
    "one_stop": "一站式结算",
    "offline": "线下理赔",
    "complaint": "投诉转入",
    "claim": "理赔决定转入",
    "direct": "直接受理",
    # Education activities' channels.
    "website": "官网",
    "wechat": "微信",
    "weibo": "微博",
    "douyin": "抖音",
    "live_stream": "直播",
    "service_center": "营业网点",
    "community": "社区",
    "village": "乡村",
    "school": "学校",
    "nursing_home": "养老机构",
    "industry_event": "行业活动",
    "other": "其他",
}
KINDS = {"online": "线上", "offline": "线下"}
AUDIENCES = {
    "elderly": "老年人",
    "youth": "青少年",
    "rural": "农村居民",
    "ethnic_minority": "少数民族",
    "new_citizen": "新市民",
    "disabled": "残障人士",
    "general": "社会公众",
}
LINES = {
    "health": "健康险",
    "life": "人寿险",
    "accident": "意外险",
    "motor": "车险",
    "property": "财产险",
    "guarantee": "保证保险",
    "other": "其他",
}
ROOT_CAUSES = {  # 投诉溯源 (domain.md section 7)
    "product_design": "产品设计",
    "sales_practice": "销售行为",
    "underwriting": "核保",
    "claims_service": "理赔服务",
    "customer_service": "客户服务",
    "third_party": "第三方",
    "system": "系统",
    "other": "其他",
}
COMPANY_TYPES = {"property": "财产险公司", "life_health": "人身险公司"}
RECTIFICATION_SOURCES = {
    "inspection": "监管检查",
    "evaluation": "消保监管评价",
    "internal_audit": "内部审计",
    "complaint": "投诉溯源",
    "report": "举报查实",
    "self_inspection": "自查",
    "mystery_shopping": "神秘人暗访",
}
SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
DEPARTMENTS = {  # the usual responsible departments; any other shows as it was given
    "claims": "理赔部",
    "sales": "销售部",
    "underwriting": "核保部",
    "customer_service": "客户服务部",
    "policy_service": "保全部",
    "product": "产品部",
    "operations": "运营部",
    "finance": "财务部",
    "it": "信息技术部",
    "compliance": "合规部",
    "consumer_protection": "消费者权益保护部",
}
ROLES = {  # the contract's roles, as Chinese documents name them
    "hospital": "医疗机构",
    "insurer": "保险公司",
    "regulator_platform": "12378监管平台",
    "mediator": "调解组织",
    "arbitrator": "仲裁机构",
    "court": "人民法院",
    "handler": "投诉处理人员",
    "supervisor": "消保主管",
    "auditor": "审计人员",
    "regulator": "监管人员",
    "admin": "系统管理员",
    "editor": "知识库编辑",
    "reviewer": "知识库审核人员",
    "educator": "宣教人员",
    "consumer_app": "客服应用",
    "report_officer": "举报受理人员",
    "compliance": "合规管理人员",
    "department": "责任部门",
}
DIMENSIONS = {
    "cause": "投诉原因",
    "channel": "渠道",
    "line": "险种",
    "region": "地区",
    "company_type": "公司类型",
    "kind": "活动形式",
    "campaign": "宣传主题",
    "audience": "受众",
    "source": "整改来源",
    "department": "责任部门",
    "severity": "风险等级",
    "level": "预警等级",
}
CODES: dict[str, dict[str, str]] = {
    "cause": DEFAULT_CAUSES,
    "channel": CHANNELS,
    "line": LINES,
    "company_type": COMPANY_TYPES,
    "kind": KINDS,
    "campaign": CAMPAIGNS,
    "audience": AUDIENCES,
    "source": RECTIFICATION_SOURCES,
    "severity": SEVERITIES,
    "department": DEPARTMENTS,
    "level": SEVERITIES,
}


def dimension(name: str) -> str:
    return DIMENSIONS.get(name, name)


def code(dimension_name: str, value: object) -> str:
    """The Chinese name of a code (the code itself where none is known; 未注明 for none)."""
    if value is None:
        return "未注明"
    return CODES.get(dimension_name, {}).get(str(value), str(value))


def group_label(key: dict[str, object]) -> str:
    """`{"cause": "claims", "channel": "12378"}` → `投诉原因：理赔纠纷；渠道：12378监管转办`."""
    return "；".join(f"{dimension(k)}：{code(k, v)}" for k, v in key.items())


def role(name: str) -> str:
    """The Chinese name of a role (the code itself for one the contract does not name)."""
    return ROLES.get(name, name)


def beijing(value: str | datetime | None) -> str | None:
    """An instant (RFC 3339 text or an aware datetime) in Beijing time to the minute:
    `2026-12-07 09:47 北京时间`; None stays None."""
    if value is None or value == "":
        return None
    instant = (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(value.replace("Z", "+00:00"))
    )
    return instant.astimezone(CST).strftime("%Y-%m-%d %H:%M") + " 北京时间"
