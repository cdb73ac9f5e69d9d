"""JobPaths names every side file; finish/fail/unfail move or remove all of them; everything is owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from printserver.outputs.base import RASTERS, TRUE_SIZE_PDF, Rendition
from printserver.spool.paths import JobPaths
from printserver.spool.records import JobRecord, write_record
from printserver.spool.store import Spool
from tests.spool.test_store import job

PACKAGE = Path(__file__).resolve().parents[2] / "printserver"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most careless umask there is: files must still not be readable by others."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_side_file_has_one_name() -> None:
    p = JobPaths.of("/spool/jobs/0001-000000-9.job")
    assert p.stem == "0001-000000-9"
    assert (p.state.name, p.pdf.name, p.rasters.name, p.reason.name) == (
        "0001-000000-9.state.json", "0001-000000-9.film.pdf", "0001-000000-9.films.npz", "0001-000000-9.reason.txt")
    assert p.rendition(TRUE_SIZE_PDF) == p.pdf and p.rendition(RASTERS) == p.rasters
    assert p.rendition(Rendition("fit-pdf", (210, 297), "A3 on A4")).name == "0001-000000-9.fit-210x297.pdf"
    assert p.in_folder(Path("/spool/failed")).state == Path("/spool/failed/0001-000000-9.state.json")
    spelled = [q.relative_to(PACKAGE) for q in PACKAGE.rglob("*.py") if ".film.pdf" in q.read_text()]
    assert spelled == [Path("spool/paths.py")]


def fill(spool: Spool) -> JobPaths:
    path = spool.submit(job(), {"printer": "P", "outputs": []})
    paths = JobPaths.of(path)
    write_record(path, JobRecord.for_job(job(), "P"))
    for side in (paths.pdf, paths.rasters, paths.rendition(Rendition("fit-pdf", (210, 297)))):
        side.write_bytes(b"x")
    (spool.jobs / f".{paths.pdf.name}.123.tmp").write_bytes(b"half")  # a writer killed mid-way
    return paths


def test_finish_removes_every_side_file_and_keeps_the_record_in_done(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    paths = fill(spool)
    assert len(paths.side_files()) == 4 and len(paths.renditions()) == 3
    spool.finish(paths.job)
    assert [p.name for p in spool.jobs.iterdir() if not p.name.startswith(".")] == []
    assert [p.name for p in spool.done.iterdir()] == [paths.state.name]


def test_fail_moves_every_side_file_and_unfail_brings_them_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    paths = fill(spool)
    kept = JobPaths.of(spool.fail(paths.job, "CUPS refused it"))
    assert kept.job.parent == spool.failed and kept.reason.read_text() == "CUPS refused it\n"
    assert sorted(p.name for p in spool.failed.iterdir()) == sorted(
        [paths.job.name, paths.state.name, paths.pdf.name, paths.rasters.name, kept.reason.name,
         paths.rendition(Rendition("fit-pdf", (210, 297))).name])
    back = JobPaths.of(spool.unfail(kept.job))
    assert back.job == paths.job and not kept.reason.exists() and not back.reason.exists()
    assert len(back.side_files()) == 4 and list(spool.failed.iterdir()) == []


def test_spool_files_are_owner_only_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    spool = Spool(tmp_path / "spool").open()
    path = spool.submit(job(), {"printer": "P", "outputs": []})
    write_record(path, JobRecord.for_job(job(), "P"))
    kept = JobPaths.of(spool.fail(path, "reason"))
    for folder in (spool.root, spool.jobs, spool.failed, spool.done):
        assert mode(folder) == 0o700, folder
    for f in (kept.job, kept.state, kept.reason, spool.root / ".lock"):
        assert mode(f) == 0o600, f


def test_a_rendered_pdf_is_owner_only_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    from printserver.spool.worker import process_job

    spool = Spool(tmp_path / "spool").open()
    path = spool.submit(job(), {"printer": "P", "outputs": []})
    written = process_job(str(path), [TRUE_SIZE_PDF.to_json(), RASTERS.to_json()])
    assert [Path(w).name for w in written] == [JobPaths.of(path).pdf.name, JobPaths.of(path).rasters.name]
    assert all(mode(Path(w)) == 0o600 for w in written)
