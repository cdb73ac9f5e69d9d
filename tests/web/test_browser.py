"""The console in a real headless Chromium, next to a real `printserver serve`, printed to by DCMTK.

One test, on purpose (browser tests cost CI time): a film printed by dcmpsprt + dcmprscu over a real
association appears in the open job list without a reload, its page shows the thumbnail (loaded, not
just referenced) and the recorded Film Box N-CREATE with its attributes; a refused association shows up
as a finding. Screenshots are saved in the
test's tmp folder (pytest keeps the last runs) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.dcmtk import DcmtkPrintScu, PrintOptions, dcmtk_available, free_port, write_test_image
from tests.serverproc import ServerProcess
from tests.web.conftest import have_chromium

pytestmark = pytest.mark.skipif(not (have_chromium() and dcmtk_available()),
                                reason="needs Debian chromium, chromium-driver and dcmtk (./run test installs them)")


def refuse(port: int) -> bool:
    from pynetdicom import AE

    from printserver import uids

    ae = AE(ae_title="CT_WRONG")
    ae.acse_timeout = ae.network_timeout = 10
    ae.add_requested_context(uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META)
    try:
        assoc = ae.associate("127.0.0.1", port, ae_title="NOSUCHPRINTER")
        return bool(assoc.is_rejected)
    finally:
        ae.shutdown()


def test_a_dcmtk_print_appears_live_with_its_thumbnail_and_conversation(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    web_port = free_port()
    with ServerProcess(tmp_path / "server", extra=["--web", f"127.0.0.1:{web_port}"]) as server:
        try:
            url = re.search(r"console on (http://\S+)", server.log.read_text()).group(1)  # type: ignore[union-attr]
            assert url == f"http://127.0.0.1:{web_port}/"
            browser.get(url)
            WebDriverWait(browser, 20).until(lambda d: "No job." in d.find_element(By.ID, "job-rows").text)
            browser.execute_script("window.notReloaded = true")

            image = write_test_image(tmp_path / "img.dcm", 256, 256,
                                     np.tile(np.linspace(0, 4095, 256, dtype=np.uint16), (256, 1)))
            scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, calling_ae="CT_BROWSER",
                                options=PrintOptions(columns=1, rows=1))
            result = scu.print_film([image])
            assert result.ok, result.stdout + result.stderr

            row = "#job-rows tr[data-job]"
            WebDriverWait(browser, 60).until(
                lambda d: "PDF: done" in " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, row)))
            assert browser.execute_script("return window.notReloaded === true")  # it came live, no reload
            cells = browser.find_element(By.CSS_SELECTOR, row).text
            assert "CT_BROWSER" in cells and "PRINTSCP" in cells and "14INX17IN" in cells
            browser.save_screenshot(str(tmp_path / "jobs.png"))

            browser.find_element(By.CSS_SELECTOR, f"{row} a").click()
            WebDriverWait(browser, 30).until(lambda d: d.execute_script(
                "const i = document.querySelector('img.thumb'); return i && i.complete && i.naturalWidth > 0"))
            width, height = browser.execute_script(
                "const i = document.querySelector('img.thumb'); return [i.naturalWidth, i.naturalHeight]")
            assert height == 240 and 150 < width < 240  # a 14x17 in portrait film, thumbnail-sized
            WebDriverWait(browser, 30).until(lambda d: "N-CREATE-RQ" in d.page_source)
            film_box = [tr.text for tr in browser.find_elements(By.CSS_SELECTOR, "table.messages tr")
                        if "N-CREATE-RQ" in tr.text and "Basic Film Box" in tr.text]
            assert film_box, "the Film Box N-CREATE is in the transcript"
            browser.find_element(By.CSS_SELECTOR, "a.film").click()
            WebDriverWait(browser, 20).until(lambda d: d.execute_script(
                "const i = document.querySelector('#large-view img'); return i && i.complete && i.naturalWidth > 0"))
            assert browser.execute_script("return document.querySelector('#large-view img').naturalHeight") == 1400
            assert "Print answered 0x0000 Success" in browser.find_element(By.ID, "job-told").text
            browser.save_screenshot(str(tmp_path / "job.png"))

            refused = refuse(server.port)  # a modality calling a printer that does not exist here
            browser.get(url + "associations")
            WebDriverWait(browser, 20).until(lambda d: d.refresh() or "association rejected: called AE title not "
                                             "recognized" in d.find_element(By.TAG_NAME, "main").text)
            assert refused and "CT_WRONG" in browser.find_element(By.TAG_NAME, "main").text
            browser.save_screenshot(str(tmp_path / "associations.png"))
            for shot in ("jobs.png", "job.png", "associations.png"):
                assert (tmp_path / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            server.stop()
    shutil.rmtree(tmp_path / "dcmtk", ignore_errors=True)
