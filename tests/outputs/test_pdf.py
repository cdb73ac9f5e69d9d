"""Output `pdf` on files: the true-size rendition linked (not encoded again) into the folder, owner-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from printserver import config
from printserver.errors import ConfigError
from printserver.outputs.base import TRUE_SIZE_PDF, DeliveryJob, Done, Render
from printserver.outputs.pdf import PdfFolder
from printserver.outputs.plan import from_snapshot, job_outputs, outputs_of
from printserver.spool.paths import JobPaths
from printserver.spool.store import Spool
from tests.spool.test_store import job


def pdf_output(tmp_path: Path, **keys: object) -> PdfFolder:
    profile = config.from_dict({"printer": [{"pdf_dir": str(tmp_path / "films"), **keys}]}).printers[0]
    (out,) = outputs_of(profile, "printer[0]")
    assert isinstance(out, PdfFolder)
    return out


def rendered(tmp_path: Path, out: PdfFolder) -> DeliveryJob:
    spool = Spool(tmp_path / "spool").open()
    path = spool.submit(job(), job_outputs(config.PrinterProfile(pdf_dir=out.folder)))
    JobPaths.of(path).pdf.write_bytes(b"%PDF-1.5 the film")
    header, _ = Spool.load_header(path)
    return DeliveryJob(header, JobPaths.of(path))


def test_the_rendition_is_linked_under_its_deterministic_name_and_a_redo_replaces_it(tmp_path: Path) -> None:
    out = pdf_output(tmp_path)
    dj = rendered(tmp_path, out)
    old = os.umask(0)
    try:
        step = out.deliver(dj)
    finally:
        os.umask(old)
    target = out.target(dj)
    assert isinstance(step, Done) and step.memo == {"path": str(target)}
    assert target.read_bytes() == b"%PDF-1.5 the film"
    assert target.stat().st_ino == dj.paths.pdf.stat().st_ino  # the same file: no second encode or copy
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert isinstance(out.deliver(dj), Done)  # a redone job replaces its own file
    assert [p for p in (tmp_path / "films").rglob("*") if p.is_file()] == [target]


def test_pdf_mode_opens_the_films_to_a_group_never_to_everyone(tmp_path: Path) -> None:
    out = pdf_output(tmp_path, pdf_mode="0640")
    dj = rendered(tmp_path, out)
    assert isinstance(out.deliver(dj), Done)
    target = out.target(dj)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and stat.S_IMODE(target.parent.stat().st_mode) == 0o750
    for bad in ("0644", "0604", "rw-r--r--", "0400"):
        with pytest.raises(ConfigError, match=r"^printer\[0\]\.pdf_mode: .*nothing for others"):
            pdf_output(tmp_path, pdf_mode=bad)


def test_a_missing_rendition_is_rendered_again_not_lost(tmp_path: Path) -> None:
    out = pdf_output(tmp_path)
    dj = rendered(tmp_path, out)
    dj.paths.pdf.unlink()
    step = out.deliver(dj)
    assert isinstance(step, Render) and step.rendition == TRUE_SIZE_PDF


def test_a_folder_that_cannot_be_made_is_a_startup_problem_and_a_health_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    out = pdf_output(tmp_path / "not-a-folder")
    assert out.check() is not None and out.check().startswith("printer[0].pdf_dir: output folder")  # type: ignore[union-attr]
    assert "set another pdf_dir" in out.check()  # type: ignore[operator]
    assert out.health()[:2] == ("FAILURE", "PRINTER DOWN")
    assert pdf_output(tmp_path).check() is None and pdf_output(tmp_path).health() == ("NORMAL", "NORMAL", "")
    with_group = pdf_output(tmp_path, pdf_group="no-such-group-here")
    assert with_group.check() == "printer[0].pdf_group: no group 'no-such-group-here' on this machine"


def test_the_snapshot_round_trips_and_old_spooled_jobs_still_deliver(tmp_path: Path) -> None:
    profile = config.from_dict({"printer": [{"pdf_dir": str(tmp_path), "pdf_name": "{job}.pdf"}]}).printers[0]
    snap = job_outputs(profile)
    assert from_snapshot(snap) == outputs_of(profile)
    legacy = from_snapshot({"printer": "PRINTSCP", "pdf_dir": str(tmp_path), "pdf_name": "{job}.pdf",
                            "cups": {"queue": "film", "server": "", "media": {}, "medium_type": {},
                                     "film_destination": {}, "options": {}, "paper_policy": "fit"}})
    assert [(o.kind, o.id) for o in legacy] == [("pdf", "pdf"), ("cups", "cups")]
    assert legacy[0].name == "{job}.pdf" and legacy[1].paper_policy == "fit"  # type: ignore[attr-defined]


def test_pdf_group_gives_the_films_to_that_group(tmp_path: Path) -> None:
    import grp

    try:
        group = grp.getgrnam("daemon")
    except KeyError:
        pytest.skip("no group 'daemon' here")
    if os.getuid() != 0 and group.gr_gid not in os.getgroups():
        pytest.skip("this user may not give files to group 'daemon'")
    out = pdf_output(tmp_path, pdf_mode="0640", pdf_group="daemon")
    assert out.check() is None
    dj = rendered(tmp_path, out)
    assert isinstance(out.deliver(dj), Done)
    st = out.target(dj).stat()
    assert st.st_gid == group.gr_gid and stat.S_IMODE(st.st_mode) == 0o640
