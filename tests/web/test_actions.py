"""The console's actions in memory (Starlette TestClient): re-print's request, answer and audit entry."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from printserver import config
from printserver.web.app import ConsoleState, create_app
from printserver.web.auth import Auth

Call = tuple[str, str, str, str]


def console(spool: Path, calls: list[Call], auth: Auth | None = None) -> TestClient:
    def admin(action: str, job: str, printer: str, who: str) -> tuple[bool, str]:
        calls.append((action, job, printer, who))
        if printer == "NARROW":
            return False, f"job {job} not re-printed: printer NARROW does not support film size 14INX17IN"
        return True, f"0003-new: re-print of {job} on {printer or 'PRINTSCP'}, queued"

    state = ConsoleState(spool, config.load(None), auth or Auth(), admin)
    return TestClient(create_app(state), base_url="http://127.0.0.1:8080")


def csrf_of(c: TestClient, page: str = "/") -> str:
    return c.get(page).text.split('name="csrf-token" content="')[1].split('"')[0]


def test_reprint_posts_the_printer_and_answers_with_the_new_job(spool: Path) -> None:
    calls: list[Call] = []
    (spool / "done" / "0001-done.job").write_bytes(b"PSJOB1\n")  # kept: the page offers the re-print
    with console(spool, calls) as c:
        page = c.get("/jobs/0001-done").text
        assert 'data-action="reprint"' in page and '<option selected>PRINTSCP</option>' in page
        assert 'data-action="reprint"' not in c.get("/jobs/0002-failed").text  # no job file: nothing to re-print
        headers = {"X-CSRF-Token": csrf_of(c)}
        assert c.post("/api/jobs/0001-done/reprint", json={"printer": "WIDE"}).status_code == 403  # CSRF
        ok = c.post("/api/jobs/0001-done/reprint", json={"printer": "WIDE"}, headers=headers)
        assert ok.status_code == 200 and ok.json()["new_job"] == "0003-new"
        assert c.post("/api/jobs/0001-done/reprint", headers=headers).status_code == 200  # its own printer
        refused = c.post("/api/jobs/0001-done/reprint", json={"printer": "NARROW"}, headers=headers)
        assert refused.status_code == 409 and "does not support film size 14INX17IN" in refused.json()["message"]
        assert c.post("/api/jobs/0001-done/reprint", json={"printer": 7}, headers=headers).status_code == 400
        assert [(a, j, p) for a, j, p, _ in calls] == [("reprint", "0001-done", "WIDE"), ("reprint", "0001-done", ""),
                                                       ("reprint", "0001-done", "NARROW")]
        assert all(who.startswith("local user at") for *_, who in calls)
        log = c.get("/api/audit").json()
        assert [(e["action"], e["ok"]) for e in log] == [("reprint on NARROW", False), ("reprint", True),
                                                         ("reprint on WIDE", True)]
