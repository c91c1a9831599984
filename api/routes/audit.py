"""The auditor's console at `/audit`: a Chinese page served by the service and one script
(`/audit/console.js`) that looks records up through the contract's reads and verifies every
event's inclusion proof and the checkpoints' signatures in the browser (WebCrypto), against
a verifier key the auditor pins there. The server only serves the page: it never tells the
browser which key to trust.

Login as the dashboard's: a token posted once to a form becomes a signed session cookie,
which the contract's GET routes accept in place of the bearer token."""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.access import roles_of
from api.deps import Runtime, runtime
from api.errors import PROBLEM_RESPONSES, Problem
from api.labels import role
from api.sessions import COOKIE, session_principal, start_session
from infrastructure.principals import Principal

router = APIRouter(tags=["auditor's console"])
ROLES = roles_of("audit")  # the route table (api/access.py)
SCRIPT = Path(__file__).parent.parent / "static" / "audit-console.js"
NOT_AUDITOR = "此页面仅供审计人员使用：当前令牌的角色（{role}）无权使用审计控制台。"
# A refused browser gets a Chinese page; an API client without any credentials, problem+json.
REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": f"{PROBLEM_RESPONSES[status]['description']}: a Chinese page for a browser",
        "content": {
            **PROBLEM_RESPONSES[status]["content"],
            "text/html": {"schema": {"type": "string"}},
        },
    }
    for status in (401, 403)
}


@cache
def _script() -> bytes:
    return SCRIPT.read_bytes()


@router.get("/audit/console.js", include_in_schema=False)
def console_script() -> Response:
    """The console's one script (plain JavaScript, no libraries)."""
    return Response(_script(), media_type="text/javascript; charset=utf-8")


@router.get("/audit/login", response_class=HTMLResponse)
def login_form() -> str:
    """The login form (a token, once)."""
    return _page("审计控制台 · 登录", _LOGIN)


@router.post("/audit/login", response_class=HTMLResponse, responses=REFUSALS)
def login(
    token: Annotated[str, Form(max_length=500)], rt: Annotated[Runtime, Depends(runtime)]
) -> Response:
    """Exchange an auditor's token for an HttpOnly session cookie."""
    found = rt.principals.authenticate(token)
    if found is None:
        return _refusal(401, "令牌无效：请检查后重新输入。")
    if found.role not in ROLES:
        return _refusal(403, NOT_AUDITOR.format(role=role(found.role)))
    return start_session(RedirectResponse("/audit", status_code=303), rt, found)


@router.post("/audit/logout", response_class=HTMLResponse)
def logout() -> Response:
    """End the session."""
    response = RedirectResponse("/audit/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/audit", response_class=HTMLResponse, responses=REFUSALS)
def console(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Response:
    """The console's page; the script does the looking up and the verifying."""
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(COOKIE)
    found: Principal | None
    if header.lower().startswith("bearer "):
        found = rt.principals.authenticate(header[7:].strip())
    elif cookie:
        found = session_principal(rt, cookie)
    elif "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/audit/login", status_code=303)  # a browser
    else:
        raise Problem(401, "a bearer token or a console session is required")
    if found is None:
        return _refusal(401, "令牌无效或会话已过期：请重新登录。")
    if found.role not in ROLES:
        return _refusal(403, NOT_AUDITOR.format(role=role(found.role)))
    return HTMLResponse(_page("消保账本 · 审计控制台", _CONSOLE.format(name=escape(found.name))))


def _refusal(status: int, message: str) -> HTMLResponse:
    body = f'<p class="bad" id="refused">{escape(message)}</p>{_LOGIN}'
    return HTMLResponse(_page("审计控制台 · 无法进入", body), status_code=status)


_LOGIN = (
    '<form method="post" action="/audit/login">'
    '<label>审计人员访问令牌 <input type="password" name="token" id="token"></label> '
    '<button type="submit" id="login">登录</button></form>'
)
_CONSOLE = """
<div>审计人员：{name} <form method="post" action="/audit/logout" style="display:inline">
<button type="submit" id="logout">退出</button></form></div>
<section><h2>验证密钥</h2>
<p>粘贴从服务以外的渠道取得的签名注记验证密钥（名称+密钥编号+公钥）。它只保存在本浏览器中；
控制台只用它验证，从不采用服务器给出的密钥。</p>
<form id="key-form"><input id="key" size="80" autocomplete="off"
 placeholder="xiaobao-ledger+0123abcd+AQ…"> <button type="submit" id="pin">固定密钥</button>
 <button type="button" id="key-clear">清除</button></form>
<p id="key-status"></p><p id="consistency"></p></section>
<section><h2>查找记录</h2>
<form id="find-form"><select id="kind"><option value="claims">理赔</option>
<option value="complaints">投诉</option><option value="disputes">纠纷</option></select>
<input id="record" size="40" placeholder="记录编号"> <button type="submit" id="find">查找</button>
</form>
<form id="encounter-form">按就诊查找理赔：<input id="encounter" placeholder="就诊编号">
<input id="hospital" placeholder="医院编号"> <button type="submit" id="find-encounter">查找</button>
</form></section>
<section id="result"></section><pre id="state"></pre>
<script src="/audit/console.js"></script>
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "font-size:13px;text-align:left}tr[data-version]{cursor:pointer}"
        ".ok{color:#176117}.bad{color:#b00020;font-weight:bold}"
        "pre{background:#f6f6f6;padding:8px;max-height:400px;overflow:auto}pre:empty{display:none}"
        f"</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
