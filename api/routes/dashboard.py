"""The regulators' and supervisors' dashboard (监管看板): a period picker (`?period=` in the
contract's syntax), panels of complaint, timeliness, cause and channel, quarterly trend,
claim, dispute, early-warning, report, rectification and education figures — each stating
the ledger position and checkpoint it reflects, with CSV and XLSX buttons that call the
statistics routes — server-rendered HTML and SVG in Chinese, Beijing time, working offline.
A login form takes a token once and sets an HttpOnly session cookie; a refusal is a Chinese
page (an API client without any credentials gets problem+json)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.access import roles_of
from api.deps import Runtime, authenticate, runtime
from api.errors import PROBLEM_RESPONSES, Problem
from api.exports import metadata_headers, to_csv, to_xlsx
from api.labels import beijing, code, role
from api.routes.stats import XLSX, current_position
from api.sessions import COOKIE, session_principal, start_session
from api.svg import bars, lines
from application.complaint_queries import Viewer
from application.ledger import utc_now
from application.views import rfc3339
from domain.codes import DEFAULT_CAUSES, DEFAULT_REPORT_CATEGORIES
from domain.common import CST, InvalidInput
from infrastructure.complaint_stats import Period, parse_period
from infrastructure.principals import Principal

router = APIRouter(tags=["dashboard"])
# The contract opens /dashboard to the statistics readers; supervisors (who work the
# complaints) may also follow a figure to its work queue.
DASHBOARD_VIEWERS = roles_of("stats")
QUEUE_READERS = roles_of("dashboard.queues")
TREND_QUARTERS = 8
# A refused browser gets a Chinese page; an API client without any credentials, problem+json.
REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": f"{PROBLEM_RESPONSES[status]['description']}: a Chinese page for a browser",
        "content": {
            **PROBLEM_RESPONSES[status]["content"],
            "text/html": {"schema": {"type": "string"}},
        },
    }
    for status in (401, 403, 422)
}
NOT_ALLOWED = "当前令牌的角色（{role}）无权查看监管看板。监管看板供{allowed}使用。"


def _not_allowed(found: Principal) -> str:
    allowed = "、".join(role(r) for r in DASHBOARD_VIEWERS)
    return NOT_ALLOWED.format(role=role(found.role), allowed=allowed)


@router.get("/dashboard/login", response_class=HTMLResponse)
def login_form(expired: bool = False, period: str | None = None) -> str:
    """The login form (a token, once); after an expired session it says so. The period
    asked for before logging in is shown after it."""
    note = '<p class="bad" id="refused">会话已过期或无效：请重新登录。</p>' if expired else ""
    return _page("消保账本 · 监管看板登录", note + _login(period))


@router.post("/dashboard/login", response_class=HTMLResponse, responses=REFUSALS)
def login(
    request: Request,
    token: Annotated[str, Form(max_length=500)],
    rt: Annotated[Runtime, Depends(runtime)],
    period: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    """Exchange a token for an HttpOnly session cookie (failures throttled per address); a
    bad token or a role that may not see the dashboard is told so on the form. Then the
    dashboard of the period asked for before logging in, if any."""
    try:
        found = authenticate(rt, request, token)
    except Problem as refused:
        if refused.status == 429:
            wait = refused.headers.get("Retry-After", "60")
            message = f"登录失败次数过多：请 {wait} 秒后再试。"
            return _refusal(429, message, refused.headers, period)
        return _refusal(401, "令牌无效：请检查后重新输入。", period=period)
    if found.role not in DASHBOARD_VIEWERS:
        return _refusal(403, _not_allowed(found), period=period)
    return start_session(RedirectResponse(_dashboard_url(period), status_code=303), rt, found)


@router.post("/dashboard/logout", response_class=HTMLResponse)
def logout() -> Response:
    """End the session and go back to the login form."""
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/dashboard", response_class=HTMLResponse, responses=REFUSALS)
async def dashboard(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    period: str | None = None,
) -> Response:
    """The figures of one period (`2026-07`, `2026Q3` or `2026`; the current quarter by
    default) and their trend over quarters."""
    found = _caller(request, rt)
    if isinstance(found, Response):
        return found
    if rt.statistics is None or rt.case_statistics is None:
        return _message(503, "统计暂不可用", "统计需要 SQLite 或 PostgreSQL 存储。")
    now = utc_now()
    label = period or _quarter_of(now)
    try:
        asked = parse_period(label, now)
    except InvalidInput as bad:
        return _bad_period(label, bad, now)
    body = await run_in_threadpool(_render, rt, found, asked, now)
    return HTMLResponse(body)


def _caller(request: Request, rt: Runtime) -> Principal | Response:
    """The caller by bearer token or session cookie, or the answer that refuses them: a
    browser without a session goes to the login form, a bad token or a role that may not
    see the dashboard gets a Chinese page, an API client without credentials problem+json."""
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(COOKIE)
    browser = "text/html" in request.headers.get("accept", "")
    found: Principal | None
    if header.lower().startswith("bearer "):
        try:  # counted as a failure of the address; 429 (problem+json) once throttled
            found = authenticate(rt, request, header[7:].strip())
        except Problem as refused:
            if refused.status != 401:
                raise
            found = None
    elif cookie:
        found = session_principal(rt, cookie)
        if found is None and browser:
            return RedirectResponse(_login_url(request, expired=True), status_code=303)
    elif browser:
        return RedirectResponse(_login_url(request), status_code=303)
    else:
        raise Problem(401, "a bearer token or a dashboard session is required")
    if found is None:
        return _refusal(401, "令牌无效或会话已过期：请重新登录。")
    if found.role not in DASHBOARD_VIEWERS:
        return _refusal(403, _not_allowed(found))
    return found


QUEUE_NAMES = {
    "open": "未办结投诉",
    "overdue": "超期未办结投诉",
    "escalated": "升级关注投诉",
    "due-soon": "即将到期投诉",
    "warnings": "高客诉风险客户",
}


@router.get("/dashboard/queues/{name}", response_class=HTMLResponse, responses=REFUSALS)
async def queue_page(
    name: str,
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    page: int = 1,
) -> Response:
    """A work queue behind a figure, for the roles that work the queues (a supervisor):
    complaints soonest due first, or the customers of the high early-warning level (by
    their keyed pseudonym). Anyone else sees figures only."""
    found = _caller(request, rt)
    if isinstance(found, Response):
        return found
    if found.role not in QUEUE_READERS:
        allowed = "、".join(role(r) for r in QUEUE_READERS)
        return _message(
            403, "无权查看", f"工作队列仅供{allowed}查看；看板的数字对所有看板用户可见。"
        )
    if name not in QUEUE_NAMES:
        known = "、".join(f"{k}（{v}）" for k, v in QUEUE_NAMES.items())
        return _message(404, "没有这个队列", f"没有名为“{name}”的工作队列。可用的队列：{known}。")
    page = max(1, min(page, 100_000))
    now = utc_now()
    if name == "warnings":
        items = await run_in_threadpool(rt.services.complaint_queries.risk, now, "high", True)
        body = _warning_rows(items)
    else:
        viewer = Viewer(found.name, found.role, found.team)
        queue = await run_in_threadpool(
            rt.services.complaint_queries.queue, name, viewer, now, page, 50
        )
        body = _queue_rows(queue, page)
    head = (
        '<p><a href="/dashboard" id="back">返回看板</a> · '
        f"{escape(found.name)}（{escape(role(found.role))}） · 截至 {beijing(now)}</p>"
    )
    return HTMLResponse(_page(f"工作队列 · {QUEUE_NAMES[name]}", head + body))


def _queue_rows(queue: dict[str, Any], page: int) -> str:
    rows = "".join(
        "<tr>"
        f'<td><a href="/v1/complaints/{escape(item["id"])}/closure-report">'
        f"{escape(item['id'][:8])}</a></td>"
        f"<td>{escape(COMPLAINT_STATES.get(item['status'], item['status']))}</td>"
        f"<td>{escape(code('channel', item['channel']))}</td>"
        f"<td>{escape(code('cause', item['cause']))}</td>"
        f"<td>{escape(code('line', item['line']))}</td>"
        f"<td>{escape(item['handler'] or '未分配')}</td>"
        f"<td>{escape(beijing(item['due_at']) or '')}</td>"
        f"<td>{'是' if item['overdue'] else '否'}</td>"
        f"<td>{'是' if item['escalated'] else '否'}</td>"
        "</tr>"
        for item in queue["items"]
    )
    pages = max(1, -(-queue["total"] // queue["size"]))
    more = f' <a href="?page={page + 1}" id="next">下一页</a>' if page < pages else ""
    return (
        f'<p>共 <b data-figure="queue_total">{queue["total"]}</b> 件，第 {page}/{pages} 页'
        f"{more}</p><table><tr><th>编号</th><th>状态</th><th>渠道</th><th>原因</th>"
        "<th>险种</th><th>经办人</th><th>办理期限</th><th>超期</th><th>升级</th></tr>"
        f"{rows}</table>"
    )


def _warning_rows(items: list[dict[str, Any]]) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{escape(str(item['customer']))}</td>"
        f"<td>{escape('；'.join(WARNING_REASONS.get(r, r) for r in item['reasons']))}</td>"
        f"<td>{item['complaints_90d']}</td><td>{item['transfers_12378_365d']}</td>"
        f"<td>{item['repeats_after_closure_365d']}</td>"
        "</tr>"
        for item in items
    )
    return (
        f'<p>共 <b data-figure="queue_total">{len(items)}</b> 位客户（以化名显示）</p>'
        "<table><tr><th>客户（化名）</th><th>原因</th><th>近90日投诉</th>"
        f"<th>近365日12378转办</th><th>结案后重复投诉</th></tr>{rows}</table>"
    )


COMPLAINT_STATES = {
    "received": "已受理",
    "assigned": "已分派",
    "contacted": "已联系",
    "paused": "已中止",
    "decided": "已作出决定",
    "notified": "已告知",
    "review_requested": "申请核查",
}
WARNING_REASONS = {
    "two_or_more_complaints_in_90_days": "近90日投诉2件以上",
    "regulator_transfer_in_365_days": "近365日有12378转办",
    "repeat_after_closure_in_365_days": "近365日结案后重复投诉",
    "urged_complaint_in_90_days": "近90日投诉被催办",
    "dispute_opened": "已进入纠纷化解",
}


@router.get(
    "/dashboard/export/warnings",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "the counts as a file",
        },
        **REFUSALS,
    },
)
async def export_warnings(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    format: Annotated[str, Query(max_length=20, description="csv or xlsx")] = "csv",
) -> Response:
    """The early-warning panel as CSV or XLSX: customers per level now, and the complaints,
    12378 transfers and repeats that put them there (counts only, no customer). Another
    format gets a Chinese page (422), as every bad input of the dashboard does."""
    found = _caller(request, rt)
    if isinstance(found, Response):
        return found
    if format not in ("csv", "xlsx"):
        return _message(422, "导出格式无效", f"导出格式“{format}”无效：请选择 CSV 或 XLSX。")
    now = utc_now()
    body = await run_in_threadpool(_warning_figures, rt, now)
    name = {"Content-Disposition": f'attachment; filename="warnings.{format}"'}
    if format == "xlsx":
        return Response(to_xlsx(body, "warnings"), media_type=XLSX, headers=name)
    return Response(
        to_csv(body, "warnings"),
        media_type="text/csv; charset=utf-8",
        headers={**name, **metadata_headers(body)},
    )


def _warning_figures(rt: Runtime, now: datetime) -> dict[str, Any]:
    """Counts per level, attested like the statistics (the position read before them)."""
    position = current_position(rt.proofs) if rt.proofs is not None else 0
    items = rt.services.complaint_queries.risk(now, None, pseudonymous=True)
    sums = ("customers", "complaints_90d", "transfers_12378_365d", "repeats_after_closure_365d")
    groups = []
    for level in ("high", "medium", "low"):
        mine = [i for i in items if i["level"] == level]
        group: dict[str, Any] = {"key": {"level": level}, "customers": len(mine)}
        for name in sums[1:]:
            group[name] = sum(i[name] for i in mine)
        groups.append(group)
    totals = {name: sum(g[name] for g in groups) for name in sums}
    latest = rt.proofs.store.latest_checkpoint() if rt.proofs is not None else None
    return {
        "period": "now",
        "position": position,
        "caught_up": True,
        "checkpoint": {"size": latest.size, "root": latest.root.hex()} if latest else None,
        "evaluated_at": rfc3339(now),
        "totals": totals,
        "groups": groups,
    }


# -- periods -------------------------------------------------------------------------------


def _quarter_of(instant: datetime) -> str:
    local = instant.astimezone(CST)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def _described(label: str) -> str:
    """`2026Q3` → `2026年第3季度`; `2026-07` → `2026年7月`; `2026` → `2026年`."""
    if "Q" in label:
        year, quarter = label.split("Q")
        return f"{year}年第{quarter}季度"
    if "-" in label:
        year, month = label.split("-")
        return f"{year}年{int(month)}月"
    return f"{label}年"


def _trend_quarters(period: Period, now: datetime) -> list[str]:
    """The quarters up to the one holding the period's last instant (not past now)."""
    local = min(period.end - timedelta(microseconds=1), now).astimezone(CST)
    year, quarter = local.year, (local.month - 1) // 3 + 1
    found = []
    for _ in range(TREND_QUARTERS):
        found.append(f"{year}Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return list(reversed(found))


def _choices(selected: str, now: datetime) -> str:
    """The picker's options: years, quarters and months of this year and the two before
    (none in the future), newest first; the selected one is marked."""
    local = now.astimezone(CST)
    this_quarter = (local.month - 1) // 3 + 1
    groups: list[tuple[str, list[str]]] = [("年度", []), ("季度", []), ("月份", [])]
    for year in range(local.year, local.year - 3, -1):
        groups[0][1].append(str(year))
        last_q = this_quarter if year == local.year else 4
        groups[1][1].extend(f"{year}Q{q}" for q in range(last_q, 0, -1))
        last_m = local.month if year == local.year else 12
        groups[2][1].extend(f"{year}-{m:02d}" for m in range(last_m, 0, -1))
    known = {value for _, values in groups for value in values}
    options = []
    if selected not in known:
        options.append(f'<option value="{escape(selected)}" selected>{escape(selected)}</option>')
    for name, values in groups:
        items = "".join(
            f'<option value="{v}"{" selected" if v == selected else ""}>'
            f"{v}（{_described(v)}）</option>"
            for v in values
        )
        options.append(f'<optgroup label="{name}">{items}</optgroup>')
    return "".join(options)


def _bad_period(label: str, bad: InvalidInput, now: datetime) -> HTMLResponse:
    reason = (
        "尚未开始"
        if "future" in bad.message
        else "年份须在 1 至 9998 之间"
        if "must lie between" in bad.message
        else "格式不正确"
    )
    body = (
        f'<p class="bad" id="refused">统计期间“{escape(label)}”无效：{reason}。'
        "请使用 2026-07（月）、2026Q3（季度）或 2026（年）的写法，或在下面选择。</p>"
        + _picker(_quarter_of(now), now)
        + '<p><a href="/dashboard" id="back">返回看板（本季度）</a></p>'
    )
    return HTMLResponse(_page("监管看板 · 统计期间无效", body), status_code=422)


# -- the page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attested:
    """What a panel's figures reflect: the position read with them and the checkpoint."""

    position: int
    checkpoint: tuple[int, str] | None

    def html(self) -> str:
        signed = (
            f'签名检查点 <b data-figure="checkpoint">{self.checkpoint[0]}</b>'
            f"（根哈希 {self.checkpoint[1][:12]}…）"
            if self.checkpoint
            else "尚无签名检查点"
        )
        return (
            f'<div class="attest">反映账本位置 <b data-figure="position">{self.position}</b>'
            f" · {signed}</div>"
        )


def _render(rt: Runtime, caller: Principal, period: Period, now: datetime) -> str:
    stats, cases = rt.statistics, rt.case_statistics
    assert stats is not None
    assert cases is not None
    checkpoint = None
    if rt.proofs is not None:
        latest = rt.proofs.store.latest_checkpoint()
        checkpoint = (latest.size, latest.root.hex()) if latest else None
    # May follow a figure to its work queue (which holds the cases as they are now: only
    # for a period that has not ended).
    links = caller.role in QUEUE_READERS and period.end > now
    complaints = stats.figures(period, (), now)
    by_cause = stats.figures(period, ("cause",), now)
    by_channel = stats.figures(period, ("channel",), now)
    quarters = _trend_quarters(period, now)
    trend = [stats.figures(parse_period(q, now), (), now)["totals"] for q in quarters]
    claims = cases.claims_figures(period, ())
    disputes = cases.disputes_figures(period, ())
    warnings = rt.services.complaint_queries.risk(now, None, pseudonymous=True)
    warned_at = current_position(rt.proofs) if rt.proofs is not None else 0
    evaluated = min(period.end, now)

    def attested(position: int) -> Attested:
        return Attested(position, checkpoint)

    panels = [
        _complaints_panel(complaints, attested(complaints["position"]), period, links),
        _timeliness_panel(complaints, attested(complaints["position"]), period),
        _causes_panel(by_cause, by_channel, attested(by_cause["position"]), period),
        _trend_panel(quarters, trend, attested(complaints["position"])),
        _claims_panel(claims, attested(claims["position"]), period),
        _disputes_panel(disputes, attested(disputes["position"]), period),
        _warning_panel(warnings, attested(warned_at), links),
        _reports_panel(rt, period, now, checkpoint),
        _rectification_panel(rt, period, quarters, now, checkpoint),
        _education_panel(rt, period, checkpoint),
    ]
    head = (
        f'<div class="who">{escape(caller.name)}（{escape(role(caller.role))}）'
        '<form method="post" action="/dashboard/logout" class="inline">'
        '<button type="submit" id="logout">退出登录</button></form></div>'
        f"{_picker(period.label, now)}"
        f'<p class="period">统计期间 <b data-figure="period">{escape(period.label)}</b>'
        f"（{_described(period.label)}，{_day(period.start)} 至 {_last_day(period)}）"
        f' · 统计截至 <span data-figure="evaluated_at">{beijing(evaluated)}</span>'
        f" · 页面生成于 {beijing(now)}</p>"
    )
    note = (
        '<p class="note">点击带下划线的数字可进入对应的工作队列（按当前时点）。</p>'
        if links
        else '<p class="note">本看板只显示统计数字，不含客户个人信息。</p>'
    )
    return _page(
        "消保账本 · 监管看板",
        head + note + '<div class="panels">' + "".join(p for p in panels if p) + "</div>",
    )


def _picker(selected: str, now: datetime) -> str:
    return (
        '<form method="get" action="/dashboard" class="picker" id="picker">'
        '<label>统计期间 <select name="period" id="period">'
        f"{_choices(selected, now)}</select></label> "
        '<button type="submit" id="show">查看</button>'
        '<span class="hint">写法：2026（年）、2026Q3（季度）、2026-07（月）</span></form>'
    )


def _day(instant: datetime) -> str:
    return instant.astimezone(CST).date().isoformat()


def _last_day(period: Period) -> str:
    return (period.end.astimezone(CST) - timedelta(days=1)).date().isoformat()


def _exports(kind: str, period: Period, by: str | None = None, label: str = "") -> str:
    """CSV and XLSX buttons: the statistics route of the panel, with the dashboard's period."""
    buttons = []
    for fmt in ("csv", "xlsx"):
        query = {"period": period.label, **({"by": by} if by else {}), "format": fmt}
        buttons.append(
            f'<a class="button" data-export="{kind}-{fmt}" '
            f'href="/v1/stats/{kind}?{escape(urlencode(query))}">{fmt.upper()}</a>'
        )
    prefix = f"{escape(label)} " if label else ""
    return f'<span class="exports">{prefix}导出 {" ".join(buttons)}</span>'


def _panel(ident: str, title: str, attested: Attested, exports: str, body: str) -> str:
    return (
        f'<section class="panel" id="panel-{ident}"><div class="panel-head"><h2>{title}</h2>'
        f"{exports}</div>{attested.html()}{body}</section>"
    )


def _cards(items: list[tuple[str, str, object, str | None]]) -> str:
    """Figure cards: (key, label, value, link to the work queue or None)."""
    cards = []
    for key, label, value, link in items:
        shown = escape(str(value))
        figure = f'<span data-figure="{key}">{shown}</span>'
        if link:
            figure = f'<a href="{escape(link)}" data-queue="{key}">{figure}</a>'
        cards.append(
            f'<div class="card"><div class="label">{escape(label)}</div>'
            f'<div class="value">{figure}</div></div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _percent(rate: str | None) -> str:
    """ "0.4500" → "45.0%"; no base → "—"."""
    return "—" if rate is None else f"{Decimal(rate) * 100:.1f}%"


def _dash(value: object) -> str:
    return "—" if value is None else str(value)


def _yuan(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def _complaints_panel(
    found: dict[str, Any], attested: Attested, period: Period, links: bool
) -> str:
    totals = found["totals"]
    timeliness = totals["timeliness"]
    cards = _cards(
        [
            ("received", "受理投诉", totals["received"], None),
            ("closed", "办结", totals["closed"], None),
            (
                "open",
                "期末未办结",
                totals["open_at_end"],
                "/dashboard/queues/open" if links else None,
            ),
            (
                "overdue",
                "未办结且超期",
                timeliness["open_overdue"],
                "/dashboard/queues/overdue" if links else None,
            ),
            ("transfers", "12378转办", totals["transfers_12378"], None),
            ("duplicates", "合并的重复投诉", totals["duplicates_merged"], None),
        ]
    )
    densities = _cards(
        [
            ("per_100m_premium", "亿元保费投诉量", _dash(totals["per_100m_premium"]), None),
            ("per_10k_policies", "万张保单投诉量", _dash(totals["per_10k_policies"]), None),
            ("per_10k_insured", "万人次投诉量", _dash(totals["per_10k_insured"]), None),
        ]
    )
    merged = (
        f'<p class="explain" id="duplicates-explained">受理量按案件计：同一投诉人就同一事项'
        f"（同一原因，涉及保单或理赔时为同一保单或理赔）在案件未办结时再次投诉（含12378转办），"
        f"合并入原案件办理，不另计受理量；本期合并 {totals['duplicates_merged']} 件，"
        f"12378转办 {totals['transfers_12378']} 件（含被合并的转办，其反馈随原案件）。"
        "“—”表示该期未报送承保数据或为零，不作推算。</p>"
    )
    return _panel(
        "complaints",
        "投诉概况",
        attested,
        _exports("complaints", period),
        cards + "<h3>投诉密度</h3>" + densities + merged,
    )


def _timeliness_panel(found: dict[str, Any], attested: Attested, period: Period) -> str:
    timeliness = found["totals"]["timeliness"]
    chart = bars(
        "办结时效（受理至告知，扣除中止天数）",
        [
            ("15日内", float(timeliness["within_15"])),
            ("16-30日", float(timeliness["days_16_30"])),
            ("31-60日", float(timeliness["days_31_60"])),
            ("60日以上", float(timeliness["later"])),
        ],
    )
    cards = _cards(
        [
            ("extended", "延期件数", timeliness["extended"], None),
            ("average_days", "平均办理天数", _dash(timeliness["average_days_to_notice"]), None),
            ("extension_rate", "延期率", _percent(found["totals"]["extension_rate"]), None),
            ("upheld_rate", "投诉成立率", _percent(found["totals"]["upheld_rate"]), None),
        ]
    )
    return _panel("timeliness", "办理时效", attested, _exports("complaints", period), chart + cards)


def _causes_panel(
    by_cause: dict[str, Any], by_channel: dict[str, Any], attested: Attested, period: Period
) -> str:
    causes = [
        (DEFAULT_CAUSES.get(g["key"]["cause"], _dash(g["key"]["cause"])), float(g["received"]))
        for g in by_cause["groups"]
    ]
    channels = [
        (code("channel", g["key"]["channel"]), float(g["received"])) for g in by_channel["groups"]
    ]
    exports = _exports("complaints", period, "cause", "按原因") + _exports(
        "complaints", period, "channel", "按渠道"
    )
    charts = bars("投诉原因分布", causes, width=460) + bars("投诉渠道分布", channels, width=460)
    return _panel(
        "causes", "投诉原因与渠道", attested, exports, f'<div class="charts">{charts}</div>'
    )


def _trend_panel(quarters: list[str], trend: list[dict[str, Any]], attested: Attested) -> str:
    chart = lines(
        f"季度趋势（{quarters[0]}–{quarters[-1]}）",
        quarters,
        [
            ("受理投诉", [float(t["received"]) for t in trend]),
            ("办结", [float(t["closed"]) for t in trend]),
            ("12378转办", [float(t["transfers_12378"]) for t in trend]),
        ],
        width=1100,
    )
    year = quarters[-1][:4]
    exports = (
        f'<span class="exports">{year}年全年 导出 '
        f'<a class="button" href="/v1/stats/complaints?period={year}&amp;format=csv"'
        f' data-export="trend-csv">CSV</a> '
        f'<a class="button" href="/v1/stats/complaints?period={year}&amp;format=xlsx"'
        f' data-export="trend-xlsx">XLSX</a></span>'
    )
    return _panel("trend", "投诉季度趋势", attested, exports, chart)


def _claims_panel(found: dict[str, Any], attested: Attested, period: Period) -> str:
    totals = found["totals"]
    hours = totals["average_hours_discharge_to_settlement"]
    cards = _cards(
        [
            ("settlements", "一站式结算笔数", totals["settlements"], None),
            ("offline_claims", "线下理赔笔数", totals["offline_claims"], None),
            ("one_stop_share", "一站式结算占比", _percent(totals["one_stop_share"]), None),
            ("discharge_hours", "出院至结算平均小时数", _dash(hours), None),
        ]
    )
    payers = [
        ("医保统筹", float(totals["social_insurance_paid"])),
        ("商业保险", float(totals["commercial_paid"])),
        ("个人自付", float(totals["patient_paid"])),
        ("线下理赔", float(totals["offline_paid"])),
    ]
    chart = bars(
        f"支付金额（元，医疗费用合计 {_yuan(totals['medfee'])}）", payers, width=560, money=True
    )
    return _panel("claims", "理赔结算", attested, _exports("claims", period), cards + chart)


def _disputes_panel(found: dict[str, Any], attested: Attested, period: Period) -> str:
    totals = found["totals"]
    cards = _cards(
        [
            ("disputes_opened", "受理纠纷", totals["opened"], None),
            ("mediation_success", "调解成功率", _percent(totals["mediation_success_rate"]), None),
            ("confirmations", "司法确认", totals["confirmations_granted"], None),
            ("awards", "仲裁裁决", totals["awards"], None),
            ("enforced", "强制执行", totals["enforced"], None),
            ("performed", "已履行", totals["performed"], None),
        ]
    )
    paths = bars(
        "化解路径",
        [
            ("诉前调解", float(totals["mediated"])),
            ("司法确认", float(totals["confirmations_granted"])),
            ("仲裁裁决", float(totals["awards"])),
            ("强制执行", float(totals["enforced"])),
        ],
    )
    origins = bars(
        "纠纷来源",
        [(code("channel", k), float(v)) for k, v in totals["by_origin"].items()],
    )
    return _panel(
        "disputes",
        "纠纷化解",
        attested,
        _exports("disputes", period, "channel"),
        cards + f'<div class="charts">{paths}{origins}</div>',
    )


def _warning_panel(warnings: list[dict[str, Any]], attested: Attested, links: bool) -> str:
    levels = {"high": 0, "medium": 0, "low": 0}
    for item in warnings:
        levels[item["level"]] += 1
    link = "/dashboard/queues/warnings" if links else None
    cards = _cards(
        [
            ("warnings", "高客诉风险客户", levels["high"], link),
            ("warnings_medium", "中风险客户", levels["medium"], None),
        ]
    )
    note = (
        '<p class="explain">按当前时点计算（近90日投诉2件以上、近365日有12378转办或结案后重复'
        "投诉为高风险）；导出只含各等级人数与件数，不含客户。</p>"
    )
    buttons = " ".join(
        f'<a class="button" data-export="warnings-{fmt}" '
        f'href="/dashboard/export/warnings?format={fmt}">{fmt.upper()}</a>'
        for fmt in ("csv", "xlsx")
    )
    exports = f'<span class="exports">各等级人数 导出 {buttons}</span>'
    return _panel("warnings", "高客诉风险预警", attested, exports, cards + note)


def _reports_panel(
    rt: Runtime, period: Period, now: datetime, checkpoint: tuple[int, str] | None
) -> str:
    if rt.report_statistics is None:
        return ""
    found = rt.report_statistics.figures(period, ("category",), now)
    chart = bars(
        "举报类别分布",
        [
            (
                DEFAULT_REPORT_CATEGORIES.get(g["key"]["category"], _dash(g["key"]["category"])),
                float(g["received"]),
            )
            for g in found["groups"]
        ],
    )
    cards = _cards(
        [
            ("reports_received", "受理举报", found["totals"]["received"], None),
            ("reports_overdue", "超期未办结", found["totals"]["overdue"], None),
        ]
    )
    return _panel(
        "reports",
        "举报处理",
        Attested(found["position"], checkpoint),
        _exports("reports", period, "category"),
        cards + chart,
    )


def _rectification_panel(
    rt: Runtime,
    period: Period,
    quarters: list[str],
    now: datetime,
    checkpoint: tuple[int, str] | None,
) -> str:
    """Overdue rectification items by department (now), and the share of items closed on
    time per quarter (percent of those closed in it)."""
    rect = rt.rectification_statistics
    if rect is None:
        return ""
    current = rect.figures(period, ("department",), now)
    overdue = [
        (code("department", g["key"]["department"]), float(g["overdue"]))
        for g in current["groups"]
        if g["overdue"]
    ]
    rates: list[float | None] = []
    for q in quarters:
        rate = rect.figures(parse_period(q, now), (), now)["totals"]["on_time_rate"]
        rates.append(float(rate) * 100 if rate is not None else None)  # none closed: a gap
    charts = bars("逾期整改事项（按部门）", overdue) + lines(
        "按期整改率（按季度，无销号的季度不画点）",
        quarters,
        [("按期整改率", rates)],
        width=520,
        unit="%",
    )
    return _panel(
        "rectifications",
        "整改落实",
        Attested(current["position"], checkpoint),
        _exports("rectifications", period, "department"),
        f'<div class="charts">{charts}</div>',
    )


def _education_panel(rt: Runtime, period: Period, checkpoint: tuple[int, str] | None) -> str:
    """消保宣教: the period's activities, participants, views, 一老一小 share and training."""
    stats = rt.education_statistics
    if stats is None:
        return ""
    found = stats.figures(period, ("channel",))
    totals = found["totals"]
    cards = _cards(
        [
            ("education_activities", "宣教活动场次", totals["activities"], None),
            ("education_participants", "线下参与人次", totals["participants"], None),
            ("education_views", "线上浏览量", totals["views"], None),
            (
                "one_old_one_young_share",
                "“一老一小”活动占比",
                _percent(totals["one_old_one_young_share"]),
                None,
            ),
            ("training_hours", "消保培训学时", totals["training_hours"], None),
            ("training_coverage", "培训覆盖率", _percent(totals["coverage"]), None),
        ]
    )
    channels = [
        (code("channel", g["key"]["channel"]), float(g["activities"])) for g in found["groups"]
    ]
    return _panel(
        "education",
        "消保宣教",
        Attested(found["position"], checkpoint),
        _exports("education", period, "channel"),
        cards + bars("宣教活动渠道分布", channels),
    )


# -- pages ---------------------------------------------------------------------------------

PERIOD_SHAPE = re.compile(r"[0-9]{1,4}(Q[1-4]|-[0-9]{2})?")


def _kept(period: str | None) -> str | None:
    """A period carried through the login (only something shaped like one)."""
    return period if period and PERIOD_SHAPE.fullmatch(period) else None


def _dashboard_url(period: str | None) -> str:
    kept = _kept(period)
    return f"/dashboard?{urlencode({'period': kept})}" if kept else "/dashboard"


def _login_url(request: Request, expired: bool = False) -> str:
    query = {"expired": "1"} if expired else {}
    kept = _kept(request.query_params.get("period"))
    if kept:
        query["period"] = kept
    return f"/dashboard/login?{urlencode(query)}" if query else "/dashboard/login"


def _login(period: str | None = None) -> str:
    kept = _kept(period)
    hidden = f'<input type="hidden" name="period" value="{kept}">' if kept else ""
    return (
        f'<form method="post" action="/dashboard/login" class="login">{hidden}'
        '<label>访问令牌 <input type="password" name="token" id="token" autocomplete="off">'
        '</label> <button type="submit" id="login">登录</button></form>'
    )


def _refusal(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    period: str | None = None,
) -> HTMLResponse:
    body = f'<p class="bad" id="refused">{escape(message)}</p>{_login(period)}'
    return HTMLResponse(
        _page("监管看板 · 无法进入", body), status_code=status, headers=headers or {}
    )


def _message(status: int, title: str, message: str) -> HTMLResponse:
    body = f'<p class="bad" id="refused">{escape(message)}</p>'
    return HTMLResponse(_page(f"监管看板 · {title}", body), status_code=status)


_STYLE = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:0;"
    "padding:20px 28px;color:#222;background:#f4f5f7}"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:0}h3{font-size:14px;"
    "margin:12px 0 4px;color:#444}"
    ".who{float:right;font-size:13px}.inline{display:inline;margin-left:8px}"
    ".picker{margin:8px 0}.hint{margin-left:12px;font-size:12px;color:#666}"
    ".period{font-size:14px}.note{font-size:12px;color:#555}"
    ".panels{display:flex;flex-wrap:wrap;gap:16px}"
    ".panel{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:14px 16px;"
    "flex:1 1 560px;max-width:100%;box-sizing:border-box}"
    "#panel-trend{flex-basis:100%}"
    ".panel-head{display:flex;justify-content:space-between;align-items:baseline;gap:8px;"
    "flex-wrap:wrap}"
    ".attest{font-size:11px;color:#667;margin:4px 0 8px}"
    ".exports{font-size:12px;color:#555}.exports .button{margin-left:4px}"
    ".button{display:inline-block;border:1px solid #2f6db5;color:#2f6db5;border-radius:3px;"
    "padding:1px 8px;text-decoration:none;font-size:12px}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e1e4ea;"
    "border-radius:4px;padding:8px 12px;min-width:120px}"
    ".label{font-size:12px;color:#555}.value{font-size:24px}"
    ".value a{color:#2f6db5}"
    ".explain{font-size:12px;color:#444;line-height:1.6}"
    ".charts svg,.panel>svg{margin:10px 10px 0 0;vertical-align:top}"
    ".bad{color:#b00020;font-weight:bold}"
    "table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ccd;"
    "padding:4px 8px;font-size:13px;text-align:left}"
    ".login label{font-size:14px}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
