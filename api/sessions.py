"""Browser sessions of the staff pages (the dashboard and the auditor's console): a token is
posted once to a login form and exchanged for an HttpOnly cookie `name|expiry|mac`, signed
with a key derived from the server's own secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING

from fastapi.responses import Response

from infrastructure.principals import Principal
from infrastructure.vault import load_or_create_index_key

if TYPE_CHECKING:
    from api.deps import Runtime

COOKIE = "xiaobao_session"
SESSION_SECONDS = 8 * 3600


def _secret(rt: Runtime) -> bytes:
    """Derived from the server's own secret (the blind-index key file, mode 0600)."""
    secret = load_or_create_index_key(rt.settings.index_key_file)
    return hmac.new(secret, b"dashboard-session", hashlib.sha256).digest()


def session_cookie(rt: Runtime, name: str) -> str:
    """`name|expiry|mac`, the name base64url-encoded (cookies carry ASCII only)."""
    expires = int(time.time()) + SESSION_SECONDS
    payload = f"{base64.urlsafe_b64encode(name.encode()).decode()}|{expires}"
    mac = hmac.new(_secret(rt), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}|{mac}"


def session_principal(rt: Runtime, cookie: str | None) -> Principal | None:
    """The principal a session cookie names, or None when it is absent, forged or expired."""
    if not cookie or cookie.count("|") != 2 or not cookie.isascii():
        return None
    name, expires, mac = cookie.split("|")
    expected = hmac.new(_secret(rt), f"{name}|{expires}".encode(), hashlib.sha256).hexdigest()
    if (
        not hmac.compare_digest(mac, expected)
        or not expires.isdigit()
        or int(expires) < time.time()
    ):
        return None
    try:
        decoded = base64.urlsafe_b64decode(name.encode()).decode()
    except ValueError:
        return None
    return next((p for p in rt.principals.all() if p.name == decoded), None)


def start_session(response: Response, rt: Runtime, principal: Principal) -> Response:
    """Set the session cookie of `principal` on `response`."""
    response.set_cookie(
        COOKIE,
        session_cookie(rt, principal.name),
        httponly=True,
        samesite="strict",
        max_age=SESSION_SECONDS,
    )
    return response
