"""Console users with hashed passwords and roles: the rules in memory (Starlette TestClient), the CLI."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from printserver import config
from printserver.errors import ConfigError
from printserver.web import app as web_app
from printserver.web.app import ConsoleState, create_app
from printserver.web.auth import Auth
from printserver.web.users import WebUser, hash_password, parse_users, verify_password
from tests.dcmtk import free_port

CHEAP = 2**4  # scrypt N for tests: the rules, not the cost, are tested here
ALICE = WebUser("alice", hash_password("alice-secret", n=CHEAP), "admin")
BOB = WebUser("bob", hash_password("bob-secret", n=CHEAP))  # no role given: a viewer


@pytest.fixture(autouse=True)
def no_login_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_app, "LOGIN_FAILURE_DELAY", 0.0)


def console(spool: Path, calls: list[str], auth: Auth) -> TestClient:
    def admin(action: str, job: str, printer: str, who: str) -> tuple[bool, str]:
        calls.append(f"{action} {job} by {who}")
        return True, f"{job}: queued again"

    return TestClient(create_app(ConsoleState(spool, config.load(None), auth, admin)), base_url="http://127.0.0.1")


def log_in(c: TestClient, name: str, password: str) -> int:
    return c.post("/login", data={"name": name, "password": password}, follow_redirects=False).status_code


def csrf_of(c: TestClient) -> str:
    return c.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]


def test_a_hash_names_its_parameters_and_checks_only_its_password() -> None:
    stored = hash_password("pässword", n=CHEAP)
    assert stored.startswith(f"scrypt${CHEAP}$8$1$") and "pässword" not in stored
    assert verify_password("pässword", stored) and not verify_password("password", stored)
    assert stored != hash_password("pässword", n=CHEAP)  # salted
    assert not verify_password("x", "plain-text") and not verify_password("x", "md5$1$8$1$AA==$AA==")


def test_users_in_the_config_are_validated_naming_the_key() -> None:
    good = [{"name": "alice", "password_hash": ALICE.password_hash, "role": "admin"}]
    cfg = config.from_dict({"server": {"web_user": good}})
    assert cfg.web_users == (ALICE,)
    for raw, key in (([{"name": "al ice", "password_hash": ALICE.password_hash}], "server.web_user[0].name"),
                     ([{"name": "a", "password_hash": "alice-secret"}], "server.web_user[0].password_hash"),
                     ([{"name": "a", "password_hash": ALICE.password_hash, "role": "root"}], "server.web_user[0].role"),
                     ([*good, *good], "server.web_user[1].name"),
                     ([{"name": "a", "password": "x"}], "server.web_user[0].password")):
        with pytest.raises(ConfigError) as exc:
            parse_users(raw)
        assert str(exc.value).startswith(f"{key}:")


def test_login_by_name_and_password_and_the_audit_names_the_user(spool: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    with console(spool, calls, Auth(users=(ALICE, BOB))) as c:
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        form = c.get("/login").text
        assert 'name="password"' in form and 'name="token"' not in form  # users only: no token field
        assert log_in(c, "alice", "wrong") == 401 and log_in(c, "nobody", "alice-secret") == 401
        assert "Wrong name or password." in c.post("/login", data={"name": "alice", "password": "x"}).text
        assert c.get("/api/jobs").status_code == 401
        assert "console login refused: user 'nobody' from testclient" in caplog.text
        assert "alice-secret" not in caplog.text  # a password never reaches a log line
        assert log_in(c, "alice", "alice-secret") == 303
        assert "alice (admin)" in c.get("/").text
        answer = c.post("/api/jobs/0002-failed/retry", headers={"X-CSRF-Token": csrf_of(c)})
        assert answer.status_code == 200 and answer.json()["who"] == "alice at testclient"
        assert calls == ["retry 0002-failed by alice at testclient"]
        assert c.get("/api/audit").json()[0]["who"] == "alice at testclient"
        assert "alice at testclient" in c.get("/audit").text


def test_a_viewer_sees_everything_and_changes_nothing(spool: Path) -> None:
    calls: list[str] = []
    (spool / "done" / "0001-done.job").write_bytes(b"PSJOB1\n")
    with console(spool, calls, Auth(users=(ALICE, BOB))) as c:
        assert log_in(c, "bob", "bob-secret") == 303
        page = c.get("/jobs/0001-done").text
        assert "bob (viewer)" in page and 'data-action="reprint"' not in page and "bob is a viewer" in page
        assert c.get("/api/jobs").json()["total"] == 2
        refused = c.post("/api/jobs/0002-failed/retry", headers={"X-CSRF-Token": csrf_of(c)})
        assert refused.status_code == 403 and "only an admin may retry, cancel or re-print" in refused.json()["error"]
        assert calls == [] and c.get("/api/audit").json() == []


def test_the_token_stays_valid_beside_users_and_acts_as_admin(spool: Path) -> None:
    calls: list[str] = []
    with console(spool, calls, Auth("s3cret", users=(BOB,))) as c:
        assert 'name="token"' in c.get("/login").text and 'name="password"' in c.get("/login").text
        assert c.post("/api/jobs/0002-failed/retry", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.post("/login", data={"token": ""}, follow_redirects=False).status_code == 401
        assert c.post("/login", data={"token": "s3cret"}, follow_redirects=False).status_code == 303
        assert c.post("/api/jobs/0002-failed/cancel", headers={"X-CSRF-Token": csrf_of(c)}).status_code == 200
    with console(spool, calls, Auth(users=(BOB,))) as c:  # no token configured: an empty one is no key
        assert c.get("/api/jobs", headers={"Authorization": "Bearer "}).status_code == 401
        assert c.post("/login", data={"token": ""}, follow_redirects=False).status_code == 401


def test_sessions_expire_end_at_logout_and_die_with_their_user(spool: Path) -> None:
    auth = Auth(users=(ALICE,), secret=b"k" * 32)
    cookie = auth.new_session(now=1000.0, user="alice")
    assert auth.session_valid(cookie, now=1001.0) and not auth.session_valid(cookie, now=1000.0 + 9 * 3600)
    assert not auth.session_valid(cookie.replace("alice", "bob"), now=1001.0)  # the signature covers the name
    assert not Auth(users=(BOB,), secret=b"k" * 32).session_valid(cookie, now=1001.0)  # alice removed
    with console(spool, [], Auth(users=(ALICE,))) as c:
        assert log_in(c, "alice", "alice-secret") == 303
        session = c.cookies.get("printserver_session")
        assert c.post("/logout").status_code == 403  # CSRF, as every POST
        assert c.post("/logout", headers={"X-CSRF-Token": csrf_of(c)}).json() == {"logged_out": True}
        c.cookies.set("printserver_session", session)  # a copy kept by someone: void all the same
        assert c.get("/api/jobs").status_code == 401


def test_web_passwd_prints_a_table_that_logs_in(spool: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "printserver", "web-passwd", "carol", "--role", "admin", "--stdin"],
                         input="carol-secret\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "carol-secret" not in out.stdout
    cfg = config.from_dict(tomllib.loads(out.stdout))  # pasted into the config file as printed
    (carol,) = cfg.web_users
    assert (carol.name, carol.role) == ("carol", "admin")
    with console(spool, [], Auth(users=cfg.web_users)) as c:
        assert log_in(c, "carol", "carol-secret") == 303 and "carol (admin)" in c.get("/").text
    short = subprocess.run([sys.executable, "-m", "printserver", "web-passwd", "dave", "--stdin"], input="short\n",
                           capture_output=True, text=True, timeout=60)
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


def test_serve_refuses_a_non_loopback_console_without_users_or_token(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "printserver", "serve", "--port", str(free_port()),
                          "--web", "0.0.0.0:0", "--spool", str(tmp_path / "spool"), "--output", str(tmp_path / "f")],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2 and "server.web_user / server.web_token" in out.stderr
    assert "printserver web-passwd" in out.stderr and "not loopback" in out.stderr


def test_behind_a_tls_proxy_on_loopback_the_session_cookie_is_secure(tmp_path: Path) -> None:
    """What the README says about nginx in front: uvicorn takes X-Forwarded-Proto from 127.0.0.1."""
    import http.client
    from dataclasses import replace

    from printserver.net.scp import PrintServer
    from tests.conftest import make_server

    base = make_server(tmp_path).config
    server = PrintServer(replace(base, web_users=(ALICE,)), web="127.0.0.1:0")
    server.start()
    try:
        host, port = server.console.url.removeprefix("http://").rstrip("/").split(":")
        cookies = []
        for proto in ("https", ""):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            headers = {"Content-Type": "application/x-www-form-urlencoded"} | (
                {"X-Forwarded-Proto": proto} if proto else {})
            conn.request("POST", "/login", body="name=alice&password=alice-secret", headers=headers)
            response = conn.getresponse()
            assert response.status == 303
            cookies.append(response.getheader("set-cookie", "").lower())
            conn.close()
        assert "; secure" in cookies[0] and "httponly" in cookies[0] and "samesite=strict" in cookies[0]
        assert "; secure" not in cookies[1]  # plain http on loopback: a Secure cookie would never come back
    finally:
        server.stop()
