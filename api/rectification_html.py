"""The rectification report (整改报告) of one source as a Chinese HTML page, rendered from
its JSON: times in Beijing time, roles by their Chinese names."""

from __future__ import annotations

from html import escape
from typing import Any

from api.labels import RECTIFICATION_SOURCES as SOURCES
from api.labels import SEVERITIES, beijing, role

STATES = {
    "open": "已立项",
    "planned": "已制定方案",
    "in_progress": "整改中",
    "submitted": "待验收",
    "closed": "已销号",
    "cancelled": "已撤销",
}
TIMELINESS = {
    "on_time": "按期完成",
    "late": "逾期完成",
    "cancelled": "已撤销",
    "overdue": "逾期未完成",
    "open": "整改中（未到期）",
}


def _row(label: str, value: Any) -> str:
    shown = "—" if value in (None, "", []) else value
    return f"<tr><th>{escape(label)}</th><td>{escape(str(shown))}</td></tr>"


def _item(entry: dict[str, Any]) -> str:
    finding = entry["finding"]
    steps = "".join(
        "<tr>"
        f"<td>{escape(beijing(s['occurred_at']) or '')}</td><td>{escape(s['step_zh'])}</td>"
        f"<td>{escape(s['by']['name'])}（{escape(role(s['by']['role']))}）"
        "</td></tr>"
        for s in entry["steps"]
    )
    evidence = "；".join(f"{e['name']}（SHA-256 {e['sha256']}）" for e in entry["evidence"])
    rows = [
        _row("事项编号", entry["id"]),
        _row("问题摘要", finding["summary"]),
        _row("问题描述", finding["description"]),
        _row("依据", finding["basis"]),
        _row("风险等级", SEVERITIES.get(finding["severity"], finding["severity"])),
        _row("涉及金额（元）", finding["amount"]),
        _row("责任部门", entry["department"]),
        _row("责任人", entry["owner"]),
        _row("状态", STATES.get(entry["state"], entry["state"])),
        _row("整改期限", entry["due_date"]),
        _row("原定期限", entry["original_due_date"]),
        _row("整改措施", "；".join(entry["measures"])),
        _row("证据摘要", evidence),
        _row("验收人", entry["verified_by"]),
        _row("验收时间", beijing(entry["verified_at"])),
        _row("完成情况", TIMELINESS.get(entry["timeliness"], entry["timeliness"])),
        _row("撤销原因", entry["cancel_reason"]),
    ]
    return (
        f"<h2>{escape(finding['summary'])}</h2><table>{''.join(rows)}</table>"
        "<h3>办理过程</h3><table><tr><th>时间</th><th>环节</th><th>办理人</th></tr>"
        f"{steps}</table>"
    )


def render(report: dict[str, Any]) -> str:
    """A self-contained page (no external assets)."""
    source, totals = report["source"], report["totals"]
    summary = [
        _row("来源类型", SOURCES.get(source["kind"], source["kind"])),
        _row("来源编号", source["ref"]),
        _row("整改事项数", totals["items"]),
        _row("已销号", totals["closed"]),
        _row("按期完成", totals["closed_on_time"]),
        _row("逾期完成", totals["closed_late"]),
        _row("已撤销", totals["cancelled"]),
        _row("尚未完成", totals["open"]),
        _row("逾期未完成", totals["overdue"]),
        _row("尚未完成的事项", "、".join(report["still_open"])),
    ]
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>整改情况报告</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:left}</style></head><body>"
        "<h1>整改情况报告</h1>"
        f"<table>{''.join(summary)}</table>"
        f"{''.join(_item(entry) for entry in report['items'])}"
        f"<p>报告生成时间：{escape(beijing(report['generated_at']) or '')}</p>"
        "</body></html>"
    )
