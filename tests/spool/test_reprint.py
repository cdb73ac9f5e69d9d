"""Re-print and the retention of delivered jobs' pixels: the rules in memory, the CLI against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from printserver import config
from printserver.errors import SpoolError
from printserver.model.color import ColorImage
from printserver.spool import retention
from printserver.spool.records import JobBook, JobRecord, read_record
from printserver.spool.reprint import reprint, unsupported
from printserver.spool.store import Spool
from tests.printscu import print_film
from tests.serverproc import ServerProcess
from tests.spool.test_store import job


def two_printers(tmp_path: Path, laser: dict[str, object] | None = None) -> config.ServerConfig:
    return config.from_dict({"server": {"spool_dir": str(tmp_path / "spool")}, "printer": [
        {"ae_title": "PRINTSCP", "pdf_dir": str(tmp_path / "films-a")},
        {"ae_title": "LASER", "printer_name": "laser", "pdf_dir": str(tmp_path / "films-b"), **(laser or {})}]})


def a_job() -> object:
    j = job()
    film = replace(j.films[0], attributes=j.films[0].attributes | {"FilmSizeID": "14INX17IN"})
    return replace(j, films=(film,))


def delivered(spool: Spool, book: JobBook) -> Path:
    """A job through the spool as delivery ends it: record in done/, job file kept (or not) by finish."""
    j = a_job()
    path = spool.submit(j, {"printer": "PRINTSCP", "outputs": []})
    book.create(path, JobRecord.for_job(j, "PRINTSCP"))
    spool.finish(path)
    return spool.done / path.name


def test_a_delivered_job_keeps_its_pixels_owner_only_and_zero_days_keeps_none(tmp_path: Path) -> None:
    kept = Spool(tmp_path / "a", keep_printed=True).open()
    path = delivered(kept, JobBook())
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    assert (kept.done / f"{path.stem}.state.json").exists() and not list(kept.jobs.iterdir())
    assert Spool.load(path)[0].films[0].image_boxes[0].image is not None  # the pixels, readable again
    gone = Spool(tmp_path / "b").open()
    path = delivered(gone, JobBook())
    assert not path.exists() and (gone.done / f"{path.stem}.state.json").exists()


def test_the_sweep_removes_only_what_is_older_than_the_retention_and_is_bounded(tmp_path: Path) -> None:
    spool = Spool(tmp_path, keep_printed=True).open()
    book = JobBook()
    paths = [delivered(spool, book) for _ in range(5)]
    old = time.time() - 4 * retention.DAY
    for p in paths[:3]:
        os.utime(p, (old, old))
    assert retention.sweep(spool, 3.0, limit=2) == 2  # bounded per call
    assert retention.sweep(spool, 3.0) == 1
    assert retention.sweep(spool, 3.0) == 0
    assert [p.exists() for p in paths] == [False, False, False, True, True]
    assert all((spool.done / f"{p.stem}.state.json").exists() for p in paths)  # the records stay
    assert retention.sweep(spool, 0.0) == 2  # keep_printed_days = 0: none kept


def test_another_printer_must_support_the_films_as_they_are(tmp_path: Path) -> None:
    j = a_job()
    cfg = two_printers(tmp_path, {"film_sizes": ["8INX10IN", "A4"], "default_film_size": "A4"})
    assert unsupported(j, cfg.printers[0]) is None
    why = unsupported(j, cfg.printers[1])
    assert why == "printer LASER does not support film size 14INX17IN (supported: 8INX10IN, A4)"
    narrow = replace(cfg.printers[0], display_format_kinds=("ROW", "COL"))
    assert "does not support display format STANDARD\\3,1" in str(unsupported(j, narrow))
    film = j.films[0]
    box = replace(film.image_boxes[0], image=ColorImage(np.zeros((2, 2, 3), np.uint8)))
    color = replace(j, films=(replace(film, image_boxes=(box, *film.image_boxes[1:])),))
    gray_only = replace(cfg.printers[0], supports_color=False)
    assert unsupported(color, gray_only) == "printer PRINTSCP prints grayscale only, film 4 is in colour"


def test_a_reprint_is_a_new_job_for_the_target_printer_with_both_timelines_told(tmp_path: Path) -> None:
    cfg = two_printers(tmp_path)
    spool = Spool(tmp_path / "spool", keep_printed=True).open()
    book = JobBook()
    old = delivered(spool, book)
    new = reprint(spool, book, cfg, old.stem[:24], "LASER", "alice at 127.0.0.1")
    assert new.parent == spool.jobs and new.stem != old.stem
    again, snapshot = Spool.load(new)
    first, _ = Spool.load(old)
    assert again.job_uid != first.job_uid and again.called_ae == "LASER" and again.printer_name == "laser"
    assert np.array_equal(again.films[0].image_boxes[0].image.pixels, first.films[0].image_boxes[0].image.pixels)
    assert snapshot["printer"] == "LASER"
    assert [o["settings"]["folder"] for o in snapshot["outputs"]] == [str(tmp_path / "films-b")]
    record = read_record(new)
    assert record is not None and record.printer == "LASER" and record.state == "queued"
    assert record.timeline[0]["event"] == "re-print"
    assert record.timeline[0]["detail"] == f"re-print of {old.stem} (1 film(s) from CT) by alice at 127.0.0.1"
    note = read_record(old).timeline[-1]  # type: ignore[union-attr]
    assert note["event"] == "re-printed" and note["detail"] == f"as {new.stem} on LASER by alice at 127.0.0.1"


def test_a_reprint_is_refused_with_the_reason(tmp_path: Path) -> None:
    cfg = two_printers(tmp_path, {"film_sizes": ["A4"], "default_film_size": "A4"})
    spool = Spool(tmp_path / "spool", keep_printed=True).open()
    book = JobBook()
    old = delivered(spool, book)
    with pytest.raises(SpoolError, match="not re-printed: printer LASER does not support film size 14INX17IN"):
        reprint(spool, book, cfg, old.stem, "LASER")
    with pytest.raises(SpoolError, match=r"no printer NOSUCH is configured here \(printers: PRINTSCP, LASER\)"):
        reprint(spool, book, cfg, old.stem, "NOSUCH")
    old.unlink()  # swept
    with pytest.raises(SpoolError, match="its films are no longer kept"):
        reprint(spool, book, cfg, old.stem)
    assert list(spool.jobs.iterdir()) == []  # nothing spooled by a refusal


def pdf_size(path: Path) -> tuple[float, float]:
    from pypdf import PdfReader

    box = PdfReader(path).pages[0].mediabox
    return float(box.width), float(box.height)


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_cli_reprint_on_another_printer_makes_a_second_film_of_the_same_size(tmp_path: Path) -> None:
    toml = tmp_path / "printserver.toml"
    toml.write_text('[server]\nspool_dir = "spool"\n\n[[printer]]\nae_title = "PRINTSCP"\npdf_dir = "films"\n\n'
                    '[[printer]]\nae_title = "LASER"\npdf_dir = "films-b"\nfilm_sizes = ["A4"]\n'
                    'default_film_size = "A4"\n\n[[printer]]\nae_title = "WIDE"\npdf_dir = "films-c"\n')
    with ServerProcess(tmp_path, extra=["--config", str(toml)]) as server:
        pixels = np.tile(np.linspace(0, 4095, 64, dtype=np.uint16), (64, 1))
        assert print_film(server.port, [pixels], film_box={"FilmSizeID": "14INX17IN"}, calling_ae="CT_CLI")[-2] == 0
        first = server.wait_drained(1)[0]
        job_id = next((tmp_path / "spool" / "done").glob("*.job")).stem

        def jobs(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "printserver", "jobs", "--spool", str(tmp_path / "spool"),
                                   *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        refused = jobs("reprint", job_id, "--printer", "LASER")
        assert refused.returncode == 1
        assert "printer LASER does not support film size 14INX17IN (supported: A4)" in refused.stdout
        done = jobs("reprint", job_id, "--printer", "WIDE")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"re-print of {job_id} on WIDE, queued" in done.stdout
        wait_for(lambda: list((tmp_path / "films-c").rglob("*.pdf")), 60, "the re-printed PDF")
        second = next((tmp_path / "films-c").rglob("*.pdf"))
        assert second != first and pdf_size(second) == pdf_size(first)
        assert pdf_size(first) == pytest.approx((14 * 72, 17 * 72), abs=1)
        audit = [json.loads(line) for line in (tmp_path / "spool" / "console" / "audit.log").read_text().splitlines()]
        assert [(a["action"], a["ok"]) for a in audit] == [("reprint on LASER", False), ("reprint on WIDE", True)]
        assert audit[1]["who"].endswith("(printserver jobs)")
        new_id = done.stdout.split(":")[0]
        wait_for(lambda: (tmp_path / "spool" / "done" / f"{new_id}.state.json").exists(), 30, "the new job done")
        shown = jobs("show", new_id).stdout
        assert f"re-print: re-print of {job_id} (1 film(s) from CT_CLI) by" in shown
        record = json.loads((tmp_path / "spool" / "done" / f"{new_id}.state.json").read_text())
        assert record["printer"] == "WIDE" and record["state"] == "done"
