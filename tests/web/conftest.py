"""Fixtures of the console tests: a spool with a few jobs (in memory tests), a headless Debian Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from printserver.views.previews import write_previews
from tests.views.records import put_record
from tests.views.test_transcripts import TRANSCRIPT

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def have_chromium() -> bool:
    return Path(CHROMIUM).exists() and Path(DRIVER).exists()


class FakeFilm:
    film_number = 1
    attributes: ClassVar[dict[str, str]] = {"FilmSizeID": "14INX17IN", "ImageDisplayFormat": "STANDARD\\1,1",
                                            "FilmOrientation": "PORTRAIT"}
    width_mm, height_mm, image_boxes, color = 355.6, 431.8, (), False


class FakeJob:
    films = (FakeFilm(),)


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    spool = tmp_path / "spool"
    done = put_record(spool, "0001-done", calling="CT1", pdf=str(tmp_path / "f.pdf"))
    (tmp_path / "f.pdf").write_bytes(b"%PDF-1.5 test\n")
    put_record(spool, "0002-failed", where="failed", state="failed", status="FAILURE", calling="MR2",
               created="2026-11-30T11:00:00+00:00", patient_id="PID-4711")
    raster = np.tile(np.linspace(0, 65535, 400, dtype=np.uint16), (500, 1))
    write_previews(spool / "done" / "0001-done.job", FakeJob(), [raster])
    transcripts = spool / "console" / "transcripts"
    transcripts.mkdir()
    uid = json.loads(done.read_text())["job_uid"]
    (transcripts / "00000000000000000001-abc.json").write_text(json.dumps(TRANSCRIPT | {"job_uids": [uid]}))
    return spool


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)  # the Debian driver: nothing downloaded
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


