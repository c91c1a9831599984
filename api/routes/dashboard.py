"""The regulators' and supervisors' dashboard: headline figures, quarterly trend, breakdowns
by cause and channel, reports of misconduct by category, timeliness, 12378 transfers and the
early-warning count — server-rendered HTML and SVG in Chinese, working offline. A login form
takes a token once and sets an HttpOnly session cookie."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.access import roles_of
from api.deps import Runtime, authenticate, runtime
from api.errors import Problem
from api.labels import code
from api.routes.stats import statistics
from api.sessions import COOKIE, session_principal, start_session
from api.svg import bars
from application.ledger import utc_now
from domain.codes import DEFAULT_CAUSES, DEFAULT_REPORT_CATEGORIES
from domain.common import CST
from infrastructure.complaint_stats import ComplaintStatistics, Period, parse_period
from infrastructure.principals import Principal

router = APIRouter(tags=["dashboard"])
ROLES = roles_of("stats")  # the contract opens /dashboard to the statistics readers
CAUSES = DEFAULT_CAUSES  # the default labels of the cause codes (domain/codes.py)
REPORT_CATEGORIES = DEFAULT_REPORT_CATEGORIES
CHANNELS = {
    "12378": "12378转办",
    "hotline": "热线",
    "app": "应用",
    "online": "网上",
    "letter": "来信",
    "visit": "来访",
}


async def viewer(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Principal | None:
    """The caller by bearer token or session cookie; None sends them to the login form."""
    header = request.headers.get("authorization", "")
    found = (
        authenticate(rt, request, header[7:].strip())
        if header.lower().startswith("bearer ")
        else session_principal(rt, request.cookies.get(COOKIE))
    )
    if found is not None and found.role not in ROLES:
        raise Problem(403, f"the {found.role} role may not use the dashboard")
    return found


@router.get("/dashboard/login", response_class=HTMLResponse)
def login_form() -> str:
    """The login form (a token, once)."""
    return _page(
        "登录",
        '<form method="post" action="/dashboard/login">'
        '<label>访问令牌 <input type="password" name="token" id="token"></label> '
        '<button type="submit" id="login">登录</button></form>',
    )


@router.post("/dashboard/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=500)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> Response:
    """Exchange a token for an HttpOnly session cookie (failures throttled per address)."""
    found = authenticate(rt, request, token)
    if found.role not in ROLES:
        raise Problem(403, f"the {found.role} role may not use the dashboard")
    response = RedirectResponse("/dashboard", status_code=303)
    return start_session(response, rt, found)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    caller: Annotated[Principal | None, Depends(viewer)],
    stats: Annotated[ComplaintStatistics, Depends(statistics)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> Response:
    """Headline figures of the current quarter and their trend over four quarters."""
    if caller is None:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/dashboard/login", status_code=303)  # a browser
        raise Problem(401, "a bearer token or a dashboard session is required")
    now = utc_now()
    body = await run_in_threadpool(_render, stats, rt, now)
    return HTMLResponse(body)


def _quarters(now: datetime, count: int = 4) -> list[str]:
    local = now.astimezone(CST)
    year, quarter = local.year, (local.month - 1) // 3 + 1
    labels = []
    for _ in range(count):
        labels.append(f"{year}Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return list(reversed(labels))


def _render(stats: ComplaintStatistics, rt: Runtime, now: datetime) -> str:
    quarters = _quarters(now)
    trend = [
        (q, stats.figures(parse_period(q, now), (), now)["totals"]["received"]) for q in quarters
    ]
    current = parse_period(quarters[-1], now)
    totals = stats.figures(current, (), now)["totals"]
    by_cause = stats.figures(current, ("cause",), now)["groups"]
    by_channel = stats.figures(current, ("channel",), now)["groups"]
    warnings = rt.services.complaint_queries.risk(now, "high", pseudonymous=True)
    by_category = (
        rt.report_statistics.figures(current, ("category",), now)["groups"]
        if rt.report_statistics is not None
        else []
    )
    timeliness = totals["timeliness"]
    headline = [
        ("received", "本季度受理投诉", totals["received"]),
        ("closed", "本季度办结", totals["closed"]),
        ("open", "期末未办结", totals["open_at_end"]),
        ("transfers", "12378转办", totals["transfers_12378"]),
        ("overdue", "未办结且超期", timeliness["open_overdue"]),
        ("warnings", "高客诉风险客户", len(warnings)),
    ]
    cards = "".join(
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value" data-figure="{key}">{value}</div></div>'
        for key, label, value in headline
    )
    charts = "".join(
        [
            bars("季度受理投诉趋势", [(q, float(n)) for q, n in trend]),
            bars(
                "投诉原因分布",
                [
                    (CAUSES.get(g["key"]["cause"], g["key"]["cause"]), float(g["received"]))
                    for g in by_cause
                ],
            ),
            bars(
                "投诉渠道分布",
                [
                    (CHANNELS.get(g["key"]["channel"], g["key"]["channel"]), float(g["received"]))
                    for g in by_channel
                ],
            ),
            bars(
                "举报类别分布（本季度受理）",
                [
                    (
                        REPORT_CATEGORIES.get(g["key"]["category"], g["key"]["category"]),
                        float(g["received"]),
                    )
                    for g in by_category
                ],
            ),
            bars(
                "办理时效",
                [
                    ("15日内", float(timeliness["within_15"])),
                    ("16-30日", float(timeliness["days_16_30"])),
                    ("31-60日", float(timeliness["days_31_60"])),
                    ("60日以上", float(timeliness["later"])),
                ],
            ),
            _rectification_charts(rt, quarters, now),
        ]
    )
    position = stats.tracked()
    return _page(
        "消保账本 · 监管看板",
        f'<p>统计期间 <b data-figure="period">{quarters[-1]}</b>，账本位置 '
        f'<b data-figure="position">{position}</b>，统计时点 {now.astimezone(UTC).isoformat()}</p>'
        f'<div class="cards">{cards}</div><div class="charts">{charts}</div>'
        + _education_panel(rt, current),
    )


def _education_panel(rt: Runtime, period: Period) -> str:
    """消保宣教: the quarter's activities, participants, views, 一老一小 share and training."""
    stats = rt.education_statistics
    if stats is None:
        return ""
    found = stats.figures(period, ("channel",))
    totals = found["totals"]
    share = totals["one_old_one_young_share"]
    coverage = totals["coverage"]
    headline = [
        ("education_activities", "宣教活动场次", totals["activities"]),
        ("education_participants", "线下参与人次", totals["participants"]),
        ("education_views", "线上浏览量", totals["views"]),
        ("one_old_one_young_share", "“一老一小”活动占比", _percent(share)),
        ("training_hours", "消保培训学时", totals["training_hours"]),
        ("training_coverage", "培训覆盖率", _percent(coverage)),
    ]
    cards = "".join(
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value" data-figure="{key}">{escape(str(value))}</div></div>'
        for key, label, value in headline
    )
    channels = [
        (
            code("channel", g["key"]["channel"]),
            float(g["activities"]),
        )
        for g in found["groups"]
    ]
    return (
        f'<h2>消保宣教</h2><div class="cards" id="education">{cards}</div>'
        f'<div class="charts">{bars("宣教活动渠道分布", channels)}</div>'
    )


def _percent(rate: str | None) -> str:
    """ "0.4500" → "45.0%"; no activities (or no staff) → "—"."""
    return "—" if rate is None else f"{Decimal(rate) * 100:.1f}%"


def _rectification_charts(rt: Runtime, quarters: list[str], now: datetime) -> str:
    """Overdue rectification items by department (now), and the share of items closed on
    time per quarter (percent of those closed in it)."""
    rect = rt.rectification_statistics
    if rect is None:
        return ""
    current = rect.figures(parse_period(quarters[-1], now), ("department",), now)
    overdue = [
        (g["key"]["department"], float(g["overdue"])) for g in current["groups"] if g["overdue"]
    ]
    trend = []
    for q in quarters:
        rate = rect.figures(parse_period(q, now), (), now)["totals"]["on_time_rate"]
        trend.append((q, float(rate) * 100 if rate is not None else 0.0))
    return bars("逾期整改事项（按部门）", overdue) + bars("按期整改率（按季度）", trend, unit="%")


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        ".cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ccc;padding:12px;"
        "min-width:140px}.label{font-size:12px;color:#555}.value{font-size:28px}"
        ".charts svg{margin:12px 12px 0 0;border:1px solid #eee;vertical-align:top}"
        f"</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
