"""The console's HTTP layer: pages, JSON API, files, actions with CSRF and audit, login when bound elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from printserver import config
from printserver.web.app import ConsoleState, create_app
from printserver.web.auth import Auth
from tests.dcmtk import free_port


def client(spool: Path, token: str = "", calls: list[tuple[str, str]] | None = None,
           cfg: config.ServerConfig | None = None) -> TestClient:
    def admin(action: str, job: str, printer: str = "", who: str = "") -> tuple[bool, str]:
        if calls is not None:
            calls.append((action, job))
        return (job == "0002-failed", f"{job}: queued again" if job == "0002-failed" else f"job {job}: no match")

    state = ConsoleState(spool, cfg or config.load(None), Auth(token), admin)
    return TestClient(create_app(state), base_url="http://127.0.0.1:8080")


def test_jobs_api_lists_newest_first_and_filters(spool: Path) -> None:
    with client(spool) as c:
        data = c.get("/api/jobs").json()
        assert [j["id"] for j in data["jobs"]] == ["0002-failed", "0001-done"]
        assert data["jobs"][1]["film_size"] == "14INX17IN"  # from the previews' films.json: the job file is gone
        assert data["jobs"][1]["outputs"] == [{"output": "PDF", "state": "done", "detail": "NORMAL f.pdf"}]
        assert [j["id"] for j in c.get("/api/jobs?calling_ae=MR2").json()["jobs"]] == ["0002-failed"]
        assert c.get(f"/api/jobs?since={data['version']}").json() == {"unchanged": True, "version": data["version"]}


def test_job_page_shows_thumbnails_pdf_timeline_and_conversation(spool: Path) -> None:
    with client(spool) as c:
        page = c.get("/jobs/0001-done")
        assert page.status_code == 200
        html = page.text
        assert 'src="/jobs/0001-done/films/1.png?size=thumb"' in html
        assert 'href="/jobs/0001-done/pdf/0"' in html
        assert "N-CREATE-RQ" in html and "Basic Film Box SOP Class" in html
        assert "MaxDensity &#39;400&#39; asked, &#39;300&#39; used" in html  # a finding, escaped
        thumb = c.get("/jobs/0001-done/films/1.png?size=thumb")
        assert thumb.headers["content-type"] == "image/png" and thumb.content[:8] == b"\x89PNG\r\n\x1a\n"
        large = c.get("/jobs/0001-done/films/1.png")
        assert len(large.content) > len(thumb.content)
        pdf = c.get("/jobs/0001-done/pdf/0?download=1")
        assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("attachment")
        assert c.get("/jobs/..%2Fetc/films/1.png").status_code == 404
        assert c.get("/api/jobs/nope").status_code == 404


def test_transcripts_acceptance_printers_pages(spool: Path) -> None:
    with client(spool) as c:
        assert "CT1" in c.get("/associations").text
        report = c.get("/acceptance/CT1")
        assert report.status_code == 200 and "Polarity" in report.text
        md = c.get("/acceptance/CT1/report.md")
        assert md.headers["content-disposition"] == 'attachment; filename="acceptance-CT1.md"'
        assert md.text.startswith("# Modality acceptance report: CT1")



def test_printers_show_the_n_get_status_and_the_unwell_output_with_its_reason(spool: Path, tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    base = config.load(None)
    cfg = replace(base, printers=(replace(base.printers[0], pdf_dir=str(tmp_path / "not-a-folder" / "films")),))
    with client(spool, cfg=cfg) as c:
        (printer,) = c.get("/api/printers").json()
        assert printer["ae_title"] == "PRINTSCP"
        assert (printer["n_get"]["PrinterStatus"], printer["n_get"]["PrinterStatusInfo"]) == ("FAILURE", "PRINTER DOWN")
        (output,) = printer["outputs"]
        assert output["output"] == "pdf" and output["status"] == "FAILURE" and "not-a-folder" in output["why"]
        assert printer["counters"]["films_today"] >= 0
        assert "PRINTER DOWN" in c.get("/printers").text


def test_actions_need_the_csrf_token_and_are_audited(spool: Path) -> None:
    calls: list[tuple[str, str]] = []
    with client(spool, calls=calls) as c:
        assert c.post("/api/jobs/0002-failed/retry").status_code == 403  # no token: a cross-site form
        assert calls == []
        page = c.get("/jobs/0002-failed").text
        csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
        ok = c.post("/api/jobs/0002-failed/retry", headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200 and ok.json()["message"] == "0002-failed: queued again"
        refused = c.post("/api/jobs/0001-done/cancel", headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 409
        assert calls == [("retry", "0002-failed"), ("cancel", "0001-done")]
        log = c.get("/api/audit").json()
        assert [(e["action"], e["job"], e["ok"]) for e in log] == [("cancel", "0001-done", False),
                                                                   ("retry", "0002-failed", True)]
        assert log[0]["who"].startswith("local user at")
        assert "0002-failed: queued again" in c.get("/audit").text
    assert (spool / "console" / "audit.log").stat().st_mode & 0o077 == 0


def test_with_a_token_everything_needs_a_login(spool: Path) -> None:
    with client(spool, token="s3cret") as c:
        assert c.get("/api/jobs").status_code == 401
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        film = c.get("/jobs/0001-done/films/1.png", follow_redirects=False)
        assert film.status_code == 303 and film.headers["location"] == "/login"  # no image without a login
        assert c.post("/login", content="token=wrong").status_code == 401
        assert c.get("/api/jobs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        login = c.post("/login", content="token=s3cret", follow_redirects=False)
        assert login.status_code == 303 and "httponly" in login.headers["set-cookie"].lower()
        assert c.get("/api/jobs").status_code == 200  # the session cookie


def test_session_expires(spool: Path) -> None:
    auth = Auth("t")
    cookie = auth.new_session(now=1000.0)
    assert auth.session_valid(cookie, now=1001.0)
    assert not auth.session_valid(cookie, now=1000.0 + 9 * 3600)
    assert not auth.session_valid(cookie.replace(cookie[-4:], "0000"), now=1001.0)


def test_serve_refuses_a_non_loopback_console_without_a_token(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "printserver", "serve", "--port", str(free_port()),
                          "--web", "0.0.0.0:0",
                          "--spool", str(tmp_path / "spool"), "--output", str(tmp_path / "films")],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2
    assert "server.web_token" in out.stderr and "not loopback" in out.stderr
    bad = subprocess.run([sys.executable, "-m", "printserver", "serve", "--web", "localhost:http"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert bad.returncode == 2 and "server.web: 'localhost:http' is not [ADDR:]PORT" in bad.stderr


def test_print_server_starts_the_console_on_an_ephemeral_port(tmp_path: Path) -> None:
    from printserver.net.scp import PrintServer
    from tests.conftest import make_server

    server = PrintServer(make_server(tmp_path).config, web="127.0.0.1:0")
    server.start()
    try:
        url = server.console.url
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":8080/")
        with urllib.request.urlopen(url + "api/printers", timeout=10) as response:
            assert response.status == 200 and json.load(response)[0]["ae_title"] == "PRINTSCP"
    finally:
        server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "api/printers", timeout=2)


def test_identity_is_searched_by_post_only_and_shown_with_its_source(spool: Path) -> None:
    with client(spool) as c:
        assert c.get("/api/jobs?identity=PID-4711").status_code == 400  # never in a URL
        assert c.post("/api/jobs/query", json={"identity": "4711"}).status_code == 403  # CSRF
        csrf = c.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
        found = c.post("/api/jobs/query", json={"identity": "4711"}, headers={"X-CSRF-Token": csrf}).json()
        assert [(j["id"], j["patient_id"]) for j in found["jobs"]] == [("0002-failed", "PID-4711")]
        assert c.post("/api/jobs/query", json={"identity": "0815"}, headers={"X-CSRF-Token": csrf}).json()["total"] == 0
        page = c.get("/jobs/0002-failed").text
        assert "PID-4711" in page and "PatientID from film 1 image box 1" in page
