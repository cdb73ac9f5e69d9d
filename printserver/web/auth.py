"""Who may see the console, what they may do, and proof that an action came from its own page.

Bound to loopback with no user and no token configured, the console is open to the local machine (like a
CUPS web interface on localhost). With users (`[[server.web_user]]`, web/users.py) or `server.web_token`
(one of them is required for any other bind address, checked at start) every request needs a session
cookie, got by posting a name and password (or the token) to /login, or an `Authorization: Bearer <token>`
header for scripts. Sessions are HMAC-signed with a per-process secret, carry the user's name, and expire
after SESSION_SECONDS (and at every server restart; /logout voids one at once). Every POST needs the
page's CSRF token in the X-CSRF-Token header: a cross-site page can neither read it nor send that header.

Roles: a user's role from the configuration (viewer or admin); the token holder and the open loopback
console act as admin (they configured the server, or sit at it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from printserver.web.users import ADMIN, WebUser, dummy_hash, verify_password

SESSION_COOKIE = "printserver_session"
SESSION_SECONDS = 8 * 3600
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Viewer:
    who: str  # for the audit log
    session: str  # "" = no login needed (loopback, no token)
    role: str = ADMIN
    user: str = ""  # the configured user's name ("" = token or open console)

    @property
    def admin(self) -> bool:
        return self.role == ADMIN


class Auth:
    def __init__(self, token: str = "", *, users: tuple[WebUser, ...] = (), secret: bytes | None = None) -> None:
        self.token = token
        self.users = {u.name: u for u in users}
        self._secret = secret or secrets.token_bytes(32)
        self._void: set[str] = set()  # sessions logged out before they expire (this process only, like the secret)

    @property
    def required(self) -> bool:
        return bool(self.token or self.users)

    def check_user(self, name: str, password: str) -> WebUser | None:
        """The user whose password this is; the same cost for an unknown name (no telling names apart)."""
        user = self.users.get(name)
        ok = verify_password(password, user.password_hash if user else dummy_hash())
        return user if ok and user is not None else None

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def check_token(self, offered: str) -> bool:
        return bool(self.token) and hmac.compare_digest(offered.encode(), self.token.encode())

    def new_session(self, now: float | None = None, user: str = "") -> str:
        """A signed cookie value: expiry, a random ID, the user's name ("" = logged in with the token)."""
        expires = int((now or time.time()) + SESSION_SECONDS)
        body = f"{expires}.{secrets.token_hex(8)}.{user}"
        return f"{body}:{self._sign(body)}"

    def _session(self, cookie: str, now: float | None = None) -> tuple[str, str] | None:
        """(session ID, user name) of a valid, unexpired, not logged-out session cookie."""
        body, _, signature = cookie.rpartition(":")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        expires, _, rest = body.partition(".")
        sid, _, user = rest.partition(".")
        try:
            alive = int(expires) > (now or time.time())
        except ValueError:
            return None
        if not alive or sid in self._void or (user and user not in self.users):
            return None
        return sid, user

    def session_valid(self, cookie: str, now: float | None = None) -> bool:
        return self._session(cookie, now) is not None

    def end_session(self, cookie: str) -> None:
        """/logout: this session is void from now on, whatever its expiry."""
        found = self._session(cookie)
        if found is not None:
            self._void.add(found[0])

    def viewer(self, cookie: str, authorization: str, client: str) -> Viewer | None:
        """Who this request comes from, or None when it must log in."""
        if not self.required:
            return Viewer(f"local user at {client}", "")
        if authorization.startswith("Bearer ") and self.check_token(authorization[7:].strip()):
            return Viewer(f"token holder at {client}", "bearer")
        found = self._session(cookie) if cookie else None
        if found is None:
            return None
        sid, name = found
        if not name:
            return Viewer(f"session {sid} (token) at {client}", cookie)
        return Viewer(f"{name} at {client}", cookie, self.users[name].role, name)

    def csrf_token(self, viewer: Viewer) -> str:
        return self._sign(f"csrf:{viewer.session}")

    def csrf_valid(self, viewer: Viewer, offered: str) -> bool:
        if viewer.session == "bearer":
            return True  # a script with the token itself: no cross-site page can hold it
        return bool(offered) and hmac.compare_digest(offered, self.csrf_token(viewer))
