"""The closure report (结案报告) as a Chinese HTML page, rendered from its JSON."""

from __future__ import annotations

from html import escape
from typing import Any

from api.labels import CHANNELS, ROOT_CAUSES, beijing, role

OUTCOMES = {"upheld": "投诉成立", "partly_upheld": "投诉部分成立", "not_upheld": "投诉不成立"}
REMEDIES = {"review": "申请核查", "mediation": "调解", "arbitration": "仲裁", "litigation": "诉讼"}
# The states in which a case has ended (domain/complaints.py); any other is still open.
ENDED = frozenset(
    {"closed", "review_requested", "review_decided", "withdrawn", "declined", "merged"}
)
DRAFT = "未结案（草稿）"


def _detail(value: Any) -> Any:
    """An instant in a step's detail in Beijing time; anything else as it is."""
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            return beijing(value)
        except ValueError:
            return value
    return value


def _row(label: str, value: Any) -> str:
    shown = "—" if value in (None, "", []) else value
    return f"<tr><th>{escape(label)}</th><td>{escape(str(shown))}</td></tr>"


def render(report: dict[str, Any]) -> str:
    """A self-contained page (no external assets)."""
    deadlines = report["deadlines"]
    met = {True: "按期办结", False: "超期", None: "尚未告知"}[deadlines["met"]]
    facts = [
        _row("投诉编号", report["complaint_id"]),
        _row("渠道", CHANNELS.get(report["channel"], report["channel"])),
        _row("12378转办编号", report["transfer_id"]),
        _row("投诉人", report["complainant"].get("name")),
        _row("投诉事项", report["matter"]),
        _row("投诉请求", report["request"]),
        _row("核实的事实", report["facts"]),
        _row("处理依据", report["basis"]),
        _row("处理结果", OUTCOMES.get(report["outcome"] or "", report["outcome"])),
        _row("补偿金额（元）", report["redress"]),
        _row("投诉根源", "、".join(ROOT_CAUSES.get(r, r) for r in report["root_causes"])),
        _row("责任部门", report["responsible_department"]),
        _row("告知的救济途径", "、".join(REMEDIES.get(r, r) for r in report["remedies"])),
        _row("受理时间", beijing(deadlines["received_at"])),
        _row(
            "办理时限",
            f"{deadlines['due_date']}（延期级别 {deadlines['extension_level']}，"
            f"中止 {deadlines['paused_days']} 日）",
        ),
        _row("告知时间", beijing(deadlines["notified_at"])),
        _row("时限情况", met),
        _row("合并的重复投诉", "、".join(d["id"] for d in report["duplicates"])),
    ]
    steps = "".join(
        "<tr>"
        f"<td>{escape(beijing(step['occurred_at']) or '')}</td><td>{escape(step['step_zh'])}</td>"
        f"<td>{escape(step['by']['name'])}（{escape(role(step['by']['role']))}）</td>"
        f"<td>{escape(', '.join(f'{k}: {_detail(v)}' for k, v in step['detail'].items()))}</td>"
        "</tr>"
        for step in report["timeline"]
    )
    title = "投诉结案报告" if report["status"] in ENDED else f"投诉结案报告 · {DRAFT}"
    draft = (
        ""
        if report["status"] in ENDED
        else f'<p class="draft" id="draft">本案{DRAFT}：以下为办理中的情况，不作为结案依据。</p>'
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>{title}</h1>{draft}"
        f"<table>{''.join(facts)}</table>"
        "<h2>办理过程</h2>"
        "<table><tr><th>时间</th><th>环节</th><th>办理人</th><th>说明</th></tr>"
        f"{steps}</table>"
        f"<p>报告生成时间：{escape(beijing(report['generated_at']) or '')}</p>"
        "</body></html>"
    )
