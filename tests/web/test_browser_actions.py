"""The console's actions in a real headless Chromium next to a real `printserver serve`.

Re-print: a film printed over a real association is re-printed from its job page on another printer;
a second PDF with the same page size appears on disk and the new job in the list. Login: a configured
user logs in with name and password (a wrong one is refused), sees the console, logs out. Screenshots
are saved in the test's tmp folder for a person to look at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.dcmtk import free_port
from tests.printscu import print_film
from tests.serverproc import ServerProcess
from tests.spool.test_reprint import pdf_size
from tests.web.conftest import have_chromium

pytestmark = pytest.mark.skipif(not have_chromium(), reason="needs Debian chromium and chromium-driver (./run test)")

CONFIG = ('[server]\nspool_dir = "spool"\n\n[[printer]]\nae_title = "PRINTSCP"\npdf_dir = "films"\n\n'
          '[[printer]]\nae_title = "WIDE"\nprinter_name = "wide imager"\npdf_dir = "films-b"\n')


def test_reprint_from_the_job_page_makes_a_second_film_on_another_printer(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    toml = tmp_path / "printserver.toml"
    toml.write_text(CONFIG)
    web_port = free_port()
    with ServerProcess(tmp_path, extra=["--config", str(toml), "--web", f"127.0.0.1:{web_port}"]) as server:
        try:
            url = re.search(r"console on (http://\S+)", server.log.read_text()).group(1)  # type: ignore[union-attr]
            pixels = np.tile(np.linspace(0, 4095, 128, dtype=np.uint16), (128, 1))
            assert print_film(server.port, [pixels], film_box={"FilmSizeID": "11INX14IN"}, calling_ae="CT_RE")[-2] == 0
            first = server.wait_drained(1)[0]
            job_id = next((tmp_path / "spool" / "done").glob("*.job")).stem

            browser.get(f"{url}jobs/{job_id}")
            WebDriverWait(browser, 30).until(lambda d: d.refresh() or d.find_elements(
                By.CSS_SELECTOR, "button[data-action=reprint]"))
            Select(browser.find_element(By.ID, "reprint-printer")).select_by_visible_text("WIDE")
            browser.find_element(By.CSS_SELECTOR, "button[data-action=reprint]").click()
            WebDriverWait(browser, 40).until(lambda d: d.find_elements(By.ID, "new-job"))
            assert f"re-print of {job_id} on WIDE, queued" in browser.find_element(By.ID, "action-result").text
            browser.save_screenshot(str(tmp_path / "reprint-asked.png"))

            deadline = time.monotonic() + 60
            while not list((tmp_path / "films-b").rglob("*.pdf")) and time.monotonic() < deadline:
                time.sleep(0.1)
            second = next((tmp_path / "films-b").rglob("*.pdf"))
            assert pdf_size(second) == pdf_size(first) == (11 * 72, 14 * 72)

            browser.find_element(By.ID, "new-job").click()
            WebDriverWait(browser, 30).until(lambda d: "re-print of" in d.find_element(By.TAG_NAME, "main").text)
            assert "WIDE (wide imager)" in browser.find_element(By.TAG_NAME, "main").text
            browser.get(url)
            row = "#job-rows tr[data-job]"
            WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, row)) == 2 and all(
                "PDF: done" in e.text for e in d.find_elements(By.CSS_SELECTOR, row)))
            rows = [e.text for e in browser.find_elements(By.CSS_SELECTOR, row)]
            assert "WIDE" in rows[0] and "PRINTSCP" in rows[1] and all("11INX14IN" in r for r in rows)
            browser.save_screenshot(str(tmp_path / "reprint-list.png"))
            browser.get(url + "audit")
            assert "reprint on WIDE" in browser.find_element(By.TAG_NAME, "main").text
            for shot in ("reprint-asked.png", "reprint-list.png"):
                assert (tmp_path / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            server.stop()


def test_login_with_name_and_password_then_logout(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from printserver.web.users import hash_password

    toml = tmp_path / "printserver.toml"
    toml.write_text(f'[[server.web_user]]\nname = "alice"\nrole = "admin"\n'
                    f'password_hash = "{hash_password("alice-secret")}"\n')
    web_port = free_port()
    with ServerProcess(tmp_path, extra=["--config", str(toml), "--web", f"127.0.0.1:{web_port}"]) as server:
        try:
            url = f"http://127.0.0.1:{web_port}/"
            browser.get(url)
            WebDriverWait(browser, 20).until(lambda d: d.current_url == url + "login")

            def log_in(password: str) -> None:
                browser.find_element(By.NAME, "name").send_keys("alice")
                browser.find_element(By.NAME, "password").send_keys(password)
                browser.find_element(By.CSS_SELECTOR, "#login-user button").click()

            log_in("guess")
            WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "login-error"))
            assert browser.find_element(By.ID, "login-error").text == "Wrong name or password."
            log_in("alice-secret")
            WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "who"))
            assert browser.current_url == url and "alice (admin)" in browser.find_element(By.ID, "who").text
            WebDriverWait(browser, 20).until(lambda d: "No job." in d.find_element(By.ID, "job-rows").text)
            browser.save_screenshot(str(tmp_path / "logged-in.png"))
            assert browser.get_cookie("printserver_session")["httpOnly"]  # type: ignore[index]
            browser.find_element(By.ID, "logout").click()
            WebDriverWait(browser, 20).until(lambda d: d.current_url == url + "login")
            browser.get(url + "printers")
            assert browser.current_url == url + "login"  # the session is over
            assert (tmp_path / "logged-in.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            server.stop()
