"""Who may see the console, and proof that an action came from its own page.

Bound to loopback with no token configured, the console is open to the local machine (like a CUPS web
interface on localhost). With `server.web_token` set (required for any other bind address, checked at
start) every request needs a session cookie, got by posting the token to /login, or an
`Authorization: Bearer <token>` header for scripts. Sessions are HMAC-signed with a per-process
secret and expire after SESSION_SECONDS (and at every server restart). Every POST needs the page's
CSRF token in the X-CSRF-Token header: a cross-site page can neither read it nor send that header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "printserver_session"
SESSION_SECONDS = 8 * 3600
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Viewer:
    who: str  # for the audit log
    session: str  # "" = no login needed (loopback, no token)


class Auth:
    def __init__(self, token: str = "", *, secret: bytes | None = None) -> None:
        self.token = token
        self._secret = secret or secrets.token_bytes(32)

    @property
    def required(self) -> bool:
        return bool(self.token)

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def check_token(self, offered: str) -> bool:
        return self.required and hmac.compare_digest(offered.encode(), self.token.encode())

    def new_session(self, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_SECONDS)
        body = f"{expires}.{secrets.token_hex(8)}"
        return f"{body}.{self._sign(body)}"

    def session_valid(self, cookie: str, now: float | None = None) -> bool:
        body, _, signature = cookie.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return False
        try:
            return int(body.split(".")[0]) > (now or time.time())
        except ValueError:
            return False

    def viewer(self, cookie: str, authorization: str, client: str) -> Viewer | None:
        """Who this request comes from, or None when it must log in."""
        if not self.required:
            return Viewer(f"local user at {client}", "")
        if authorization.startswith("Bearer ") and self.check_token(authorization[7:].strip()):
            return Viewer(f"token holder at {client}", "bearer")
        if cookie and self.session_valid(cookie):
            return Viewer(f"session {cookie.split('.')[1]} at {client}", cookie)
        return None

    def csrf_token(self, viewer: Viewer) -> str:
        return self._sign(f"csrf:{viewer.session}")

    def csrf_valid(self, viewer: Viewer, offered: str) -> bool:
        if viewer.session == "bearer":
            return True  # a script with the token itself: no cross-site page can hold it
        return bool(offered) and hmac.compare_digest(offered, self.csrf_token(viewer))
