"""A running `printserver serve` (subprocess) printing through a real CUPS: `jobs retry|cancel` while it runs,
and the quick start `serve --cups QUEUE --cups-server HOST:PORT` without a config file.

Asserts are on what ippeveprinter received (job names, page size), on the CUPS job's state and on what
`printserver jobs` lists.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset

from printserver.outputs import cups as cupsout
from printserver.spool.records import read_record
from printserver.status import Status
from tests.cupsbed import CupsBed, dump
from tests.interop.test_cups import page_size_pt, wait_until
from tests.printscu import PrintSCU
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.skipif(not cupsout.available(), reason="pycups not installed (printserver[cups])")

FAST = """[server]
delivery_retry_initial = 0.3
delivery_retry_max = 0.5
delivery_give_up = {give_up}
"""


@pytest.fixture
def serve(tmp_path: Path, bed: CupsBed) -> Iterator[Any]:
    procs: list[ServerProcess] = []

    def start(give_up: float | None = None, base: Path | None = None) -> ServerProcess:
        extra = ["--cups", bed.queue, "--cups-server", bed.server]
        if give_up is not None:
            cfg = tmp_path / "printserver.toml"
            cfg.write_text(FAST.format(give_up=give_up))
            extra += ["--config", str(cfg)]
        proc = ServerProcess(base or tmp_path / f"server{len(procs)}", extra=extra).start()
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        p.stop()
        p.kill()
    bed.enable()
    bed.accept()


def print_film(port: int, label: str) -> None:
    with PrintSCU(port) as scu:
        session = Dataset()
        session.FilmSessionLabel = label
        assert scu.create_session(session) == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\1,1", FilmSizeID="14INX17IN")[0] == Status.SUCCESS
        assert scu.set_image(1, np.full((64, 64), 1000, np.uint16)) == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS


def jobs(server: ServerProcess, *args: str, ok: bool = True) -> str:
    out = subprocess.run([sys.executable, "-m", "printserver", "jobs", "--spool", str(server.spool), *args],
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode == 0) == ok, out.stdout + out.stderr
    return out.stdout


def row(listing: str, where: str) -> list[str]:
    return next(line.split() for line in listing.splitlines() if f" {where} " in line)


def names(bed: CupsBed) -> list[str]:
    return [attrs["IPP_JOB_NAME"] for _, attrs in bed.jobs_received()]


def test_a_failed_job_retried_while_the_server_runs_is_printed(serve: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    bed.reject()
    server = serve(give_up=1.0)
    print_film(server.port, "retry me")
    wait_until(lambda: list((server.spool / "failed").glob("*.job")), 20, "the job to fail for good")
    failed = row(jobs(server), "failed")
    assert failed[2:4] == ["FAILURE", "PRINTER"]
    bed.accept()
    assert "queued again" in jobs(server, "retry", failed[0])
    assert f"jobs retry {failed[0]}" in server.log.read_text()  # carried out by the running server
    received = bed.wait_received(before + 1, timeout=30)
    assert names(bed)[before:] == ["retry me from TESTSCU"], dump(bed)
    assert page_size_pt(received[-1][0]) == "1008 x 1224 pts"
    wait_until(lambda: not server.pending_jobs(), 20, "spool drained")
    done = row(jobs(server), "done")
    assert done[0] == failed[0] and done[2] == "DONE"
    assert server.proc is not None and server.proc.poll() is None  # the server ran throughout


def test_a_queued_job_canceled_while_the_server_runs_is_never_printed(serve: Any, bed: CupsBed) -> None:
    import cups

    before = len(bed.jobs_received())
    bed.disable()
    server = serve()
    print_film(server.port, "cancel me")

    def waiting_in_cups() -> bool:
        pending = server.pending_jobs()
        rec = read_record(pending[0]) if pending else None
        return rec is not None and "job_id" in rec.outputs["cups"].memo and \
            rec.execution_status_info == "PRINTER OFFLINE"
    wait_until(waiting_in_cups, 20, "the job queued in the disabled CUPS queue")
    job = row(jobs(server), "queued")
    assert job[2:5] == ["PENDING", "PRINTER", "OFFLINE"]
    cups_job = read_record(server.pending_jobs()[0]).outputs["cups"].memo["job_id"]  # type: ignore[union-attr]
    assert "canceled" in jobs(server, "cancel", job[0])
    assert f"jobs cancel {job[0]}" in server.log.read_text()
    cups.setServer(bed.server)
    assert cups.Connection().getJobAttributes(cups_job)["job-state"] == cupsout.JOB_CANCELED
    assert not server.pending_jobs()
    failed = row(jobs(server), "failed")
    assert failed[0] == job[0] and failed[2] == "FAILURE" and "canceled" in failed
    assert "no queued job" in jobs(server, "cancel", job[0], ok=False)  # once only
    bed.enable()
    print_film(server.port, "after cancel")  # the queue works again; only this film reaches the printer
    bed.wait_received(before + 1, timeout=30)
    time.sleep(1.0)
    assert names(bed)[before:] == ["after cancel from TESTSCU"], dump(bed)


def test_serve_cups_quick_start_without_a_config_file(serve: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = serve()
    print_film(server.port, "quick start")
    received = bed.wait_received(before + 1, timeout=30)
    assert names(bed)[before:] == ["quick start from TESTSCU"]
    assert page_size_pt(received[-1][0]) == "1008 x 1224 pts"
    wait_until(lambda: not server.pending_jobs(), 20, "spool drained")
    assert len(server.pdfs()) == 1  # the default printer's PDF folder still gets the film


def test_sigkill_while_cups_holds_the_job_then_restart_prints_it_once(serve: Any, bed: CupsBed) -> None:
    """kill -9 after the film went to CUPS: the next server on the same spool follows that CUPS job (the id is
    in the job record), it does not print the film a second time; the PDF folder output, done before the
    kill, is not redone either."""
    before = len(bed.jobs_received())
    bed.disable()
    server = serve()
    print_film(server.port, "killed")

    def in_cups() -> bool:
        pending = server.pending_jobs()
        rec = read_record(pending[0]) if pending else None
        return rec is not None and "job_id" in rec.outputs["cups"].memo and rec.outputs["pdf"].state == "done"
    wait_until(in_cups, 20, "the film handed to CUPS")
    pdf_before = [(p, p.stat().st_mtime_ns) for p in server.pdfs()]
    server.kill()
    again = serve(base=server.base)
    bed.enable()
    received = bed.wait_received(before + 1, timeout=30)
    wait_until(lambda: not again.pending_jobs(), 20, "spool drained")
    time.sleep(1.0)
    assert names(bed)[before:] == ["killed from TESTSCU"], dump(bed)
    assert page_size_pt(received[-1][0]) == "1008 x 1224 pts"
    assert [(p, p.stat().st_mtime_ns) for p in again.pdfs()] == pdf_before  # written once, not redone
    done = row(jobs(again), "done")
    assert done[2] == "DONE" and "cups:done" in " ".join(done) and "pdf:done" in " ".join(done)
