"""Console users: a name, a password hash and a role, from `[[server.web_user]]` tables.

Hashes are scrypt (RFC 7914) from Python's hashlib: in the standard library (OpenSSL underneath), so no
dependency to keep up to date, and memory-hard, which is what makes guessing from a stolen config file
expensive on GPUs (plain PBKDF2 is not; argon2 would need argon2-cffi for a gain that does not matter at
this scale). The stored form names its parameters, so stronger ones can come later without breaking
existing hashes: `scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>`. `printserver web-passwd NAME` makes
one (commands/web_passwd.py); the configuration holds only the hash.

Roles: `viewer` sees everything; `admin` also retries, cancels and re-prints. A user without a role is a
viewer: a forgotten line grants less, not more.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from printserver.errors import ConfigError

ROLES = ("viewer", "admin")
ADMIN = "admin"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MB and ~50 ms per check here: fine for a login
_MAX_MEM = 256 * 1024 * 1024
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class WebUser:
    name: str
    password_hash: str
    role: str = "viewer"

    @property
    def admin(self) -> bool:
        return self.role == ADMIN


def hash_password(password: str, *, n: int = SCRYPT_N, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, maxmem=_MAX_MEM,
                            dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    kind, n, r, p, salt, digest = stored.split("$")
    if kind != "scrypt":
        raise ValueError(f"unknown hash kind {kind!r}")
    return int(n), int(r), int(p), base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)


def verify_password(password: str, stored: str) -> bool:
    try:
        n, r, p, salt, digest = _parse(stored)
        offered = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEM,
                                 dklen=len(digest))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(offered, digest)


@functools.cache
def dummy_hash() -> str:
    """Checked against when a name is unknown, so a wrong name costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def parse_users(raw: Any, key: str = "server.web_user") -> tuple[WebUser, ...]:
    """The `[[server.web_user]]` tables, validated; errors name the key (server.web_user[1].role)."""
    if not isinstance(raw, list):
        raise ConfigError(f"{key}: must be an array of tables ([[server.web_user]])")
    users: list[WebUser] = []
    for i, table in enumerate(raw):
        at = f"{key}[{i}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{at}: must be a table with name, password_hash and role")
        unknown = set(table) - {"name", "password_hash", "role"}
        if unknown:
            raise ConfigError(f"{at}.{sorted(unknown)[0]}: unknown key (known: name, password_hash, role)")
        name, stored, role = table.get("name"), table.get("password_hash"), table.get("role", "viewer")
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(f"{at}.name: 1-64 letters, digits or . _ @ - (got {name!r})")
        if any(u.name == name for u in users):
            raise ConfigError(f"{at}.name: {name!r} is configured twice")
        try:
            if not isinstance(stored, str):
                raise ValueError("missing")
            _parse(stored)
        except (ValueError, TypeError):
            raise ConfigError(f"{at}.password_hash: not a hash made by `printserver web-passwd` "
                              "(scrypt$N$r$p$salt$hash; the password itself never goes in the file)") from None
        if role not in ROLES:
            raise ConfigError(f"{at}.role: must be one of {', '.join(ROLES)} (got {role!r})")
        users.append(WebUser(name, stored, role))
    return tuple(users)
