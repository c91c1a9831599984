"""Statistics as CSV or XLSX with Chinese column headings (for regulators' spreadsheets)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from api.labels import beijing, group_label

COMPLAINT_HEADINGS = {
    "group": "分组",
    "received": "受理投诉量",
    "duplicates_merged": "合并重复投诉",
    "closed": "办结量",
    "open_at_start": "期初未办结",
    "open_at_end": "期末未办结",
    "transfers_12378": "12378转办量",
    "per_100m_premium": "亿元保费投诉量",
    "per_10k_policies": "万张保单投诉量",
    "per_10k_insured": "万人次投诉量",
    "timeliness.within_15": "15日内办结",
    "timeliness.days_16_30": "16至30日办结",
    "timeliness.days_31_60": "31至60日办结",
    "timeliness.later": "60日以上办结",
    "timeliness.open_overdue": "未办结且超期",
    "timeliness.extended": "延期件数",
    "timeliness.average_days_to_notice": "平均办理天数",
    "extension_rate": "延期率",
    "review_rate": "核查率",
    "upheld_rate": "投诉成立率",
    "redress": "补偿金额（元）",
}


CLAIM_HEADINGS = {
    "group": "分组",
    "settlements": "一站式结算笔数",
    "offline_claims": "线下理赔笔数",
    "one_stop_share": "一站式结算占比",
    "with_social_insurance": "含医保统筹笔数",
    "medfee": "医疗费用总额（元）",
    "social_insurance_paid": "医保统筹支付（元）",
    "commercial_paid": "商业保险支付（元）",
    "patient_paid": "个人自付（元）",
    "offline_paid": "线下理赔金额（元）",
    "average_hours_discharge_to_settlement": "出院至结算平均小时数",
}
DISPUTE_HEADINGS = {
    "group": "分组",
    "opened": "受理纠纷量",
    "mediated": "调解件数",
    "mediation_success_rate": "调解成功率",
    "confirmations_granted": "司法确认件数",
    "awards": "仲裁裁决件数",
    "performed": "履行件数",
    "enforced": "强制执行件数",
    "amount_paid": "履行金额（元）",
    "average_days_to_resolution": "平均化解天数",
}
EDUCATION_HEADINGS = {
    "group": "分组",
    "activities": "宣教活动场次",
    "participants": "线下参与人次",
    "views": "线上浏览量",
    "one_old_one_young": "覆盖“一老一小”活动场次",
    "one_old_one_young_share": "“一老一小”活动占比",
    "training_sessions": "消保培训场次",
    "training_hours": "培训学时",
    "attendees": "参训人数",
    "attendee_hours": "参训总人时",
    "staff": "消保工作人员数",
    "trained_staff": "参训消保工作人员数",
    "coverage": "培训覆盖率",
    "hours_per_person": "人均培训学时",
    "published_articles": "已发布知识文章",
    "questions_answered": "知识库答复问题数",
    "questions_handed_off": "转人工问题数",
}
RECTIFICATION_HEADINGS = {
    "group": "分组",
    "opened": "新增整改事项",
    "closed": "销号事项",
    "closed_on_time": "按期销号",
    "closed_late": "逾期销号",
    "cancelled": "撤销事项",
    "open": "未完成事项",
    "overdue": "逾期未完成",
    "on_time_rate": "按期整改率",
}
REPORT_HEADINGS = {
    "group": "分组",
    "received": "受理举报量",
    "accepted": "受理件数",
    "declined": "不予受理件数",
    "substantiated": "属实",
    "partly_substantiated": "部分属实",
    "not_substantiated": "不属实",
    "overdue": "超期未办结",
    "accepted_on_time": "按时受理",
    "accepted_late": "逾期受理",
    "acceptance_timeliness": "受理及时率",
    "concluded_on_time": "按时办结",
    "concluded_late": "逾期办结",
    "conclusion_timeliness": "办结及时率",
}
WARNING_HEADINGS = {
    "group": "分组",
    "customers": "客户数",
    "complaints_90d": "近90日投诉件数",
    "transfers_12378_365d": "近365日12378转办件数",
    "repeats_after_closure_365d": "近365日结案后重复投诉件数",
}
SHEETS = {
    "complaints": ("投诉统计", COMPLAINT_HEADINGS),
    "claims": ("理赔结算统计", CLAIM_HEADINGS),
    "disputes": ("纠纷化解统计", DISPUTE_HEADINGS),
    "education": ("消保宣教统计", EDUCATION_HEADINGS),
    "rectifications": ("整改统计", RECTIFICATION_HEADINGS),
    "reports": ("举报处理统计", REPORT_HEADINGS),
    "warnings": ("高客诉风险预警", WARNING_HEADINGS),
}


def rows(body: dict[str, Any], headings: dict[str, str]) -> list[list[Any]]:
    """One row for the totals, one per group; columns in the headings' order."""
    lines = [("合计", body["totals"])]
    for group in body["groups"]:
        lines.append((group_label(group["key"]), group))
    table = []
    for label, figures in lines:
        row: list[Any] = [label]
        for key in list(headings)[1:]:
            head, _, tail = key.partition(".")
            value = figures.get(head)
            row.append(value.get(tail) if tail and isinstance(value, dict) else value)
        table.append(row)
    return table


def metadata(body: dict[str, Any]) -> list[tuple[str, str]]:
    """What the figures reflect: shown beside the table, never above its header."""
    checkpoint = body.get("checkpoint") or {}
    return [
        ("期间", str(body["period"])),
        ("账本位置", str(body["position"])),
        ("签名检查点（树大小）", str(checkpoint.get("size", "—"))),
        ("检查点根哈希", str(checkpoint.get("root", "—"))),
        ("统计时点", beijing(str(body["evaluated_at"])) or "—"),
        ("已追平账本", "是" if body.get("caught_up", True) else "否"),
    ]


def metadata_headers(body: dict[str, Any]) -> dict[str, str]:
    """The same as HTTP headers (ASCII), for the CSV file that has no second sheet."""
    checkpoint = body.get("checkpoint") or {}
    headers = {
        "X-Xiaobao-Period": str(body["period"]),
        "X-Xiaobao-Position": str(body["position"]),
        "X-Xiaobao-Evaluated-At": str(body["evaluated_at"]),
        "X-Xiaobao-Caught-Up": "true" if body.get("caught_up", True) else "false",
    }
    if checkpoint:
        headers["X-Xiaobao-Checkpoint"] = f"{checkpoint['size']} {checkpoint['root']}"
    return headers


def to_csv(body: dict[str, Any], kind: str) -> bytes:
    """The header row first, then the totals and one row per group (Chinese labels)."""
    _, headings = SHEETS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(headings.values()))
    writer.writerows(rows(body, headings))
    return ("\ufeff" + buffer.getvalue()).encode()  # BOM: spreadsheet programs read UTF-8


def to_xlsx(body: dict[str, Any], kind: str) -> bytes:
    """The figures on the first sheet (header first), what they reflect on a second."""
    title, headings = SHEETS[kind]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(headings.values()))
    for row in rows(body, headings):
        sheet.append(row)
    about = book.create_sheet("说明")
    about.append(["项目", "内容"])
    for name, value in metadata(body):
        about.append([name, value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
