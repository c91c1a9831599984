"""Statistics as CSV or XLSX with Chinese column headings (for regulators' spreadsheets)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

HEADINGS = {
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
    "review_rate": "核查率",
    "upheld_rate": "投诉成立率",
    "redress": "补偿金额（元）",
}


def rows(body: dict[str, Any]) -> list[list[Any]]:
    """One row for the totals, one per group; columns in HEADINGS order."""
    lines = [("合计", body["totals"])]
    for group in body["groups"]:
        lines.append(("，".join(f"{k}={v}" for k, v in group["key"].items()), group))
    table = []
    for label, figures in lines:
        row: list[Any] = [label]
        for key in list(HEADINGS)[1:]:
            head, _, tail = key.partition(".")
            value = figures.get(head)
            row.append(value.get(tail) if tail and isinstance(value, dict) else value)
        table.append(row)
    return table


def to_csv(body: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            f"期间 {body['period']}",
            f"账本位置 {body['position']}",
            f"统计时点 {body['evaluated_at']}",
        ]
    )
    writer.writerow(list(HEADINGS.values()))
    writer.writerows(rows(body))
    return ("\ufeff" + buffer.getvalue()).encode()  # BOM: spreadsheet programs read UTF-8


def to_xlsx(body: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "投诉统计"
    sheet.append(
        [
            f"期间 {body['period']}",
            f"账本位置 {body['position']}",
            f"统计时点 {body['evaluated_at']}",
        ]
    )
    sheet.append(list(HEADINGS.values()))
    for row in rows(body):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
