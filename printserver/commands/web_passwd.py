"""`printserver web-passwd NAME [--role viewer|admin] [--stdin]`: a console user's table for the config file.

Asks for the password twice (or reads one line from stdin, for scripts) and prints the
`[[server.web_user]]` table with its scrypt hash (web/users.py says why scrypt). The password itself is
never printed nor written anywhere.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from printserver.errors import ConfigError
from printserver.web.users import NAME, ROLES, hash_password

MIN_LENGTH = 8


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("web-passwd", help="hash a console user's password: prints a [[server.web_user]] table")
    p.add_argument("name", help="the user's login name (letters, digits, . _ @ -)")
    p.add_argument("--role", choices=ROLES, default="viewer",
                   help="viewer: sees everything; admin: also retries, cancels, re-prints (default viewer)")
    p.add_argument("--stdin", action="store_true", help="read the password from standard input (one line)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not NAME.match(args.name):
        raise ConfigError(f"web-passwd: {args.name!r} is not a user name (1-64 letters, digits or . _ @ -)")
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("web-passwd: the two passwords differ")
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"web-passwd: the password needs at least {MIN_LENGTH} characters")
    print(f'[[server.web_user]]\nname = "{args.name}"\nrole = "{args.role}"\n'
          f'password_hash = "{hash_password(password)}"')
    return 0
