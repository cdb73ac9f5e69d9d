"""The truth travels back: a relayed job's Print Job follows the upstream's own Print Job, over real
associations. The upstream is a second printserver (which has Print Job), itself relaying to DCMTK dcmprscp:
while dcmprscp is down its job waits (PENDING, PRINTER OFFLINE), and the modality printing to the gateway hears
exactly that, then DONE once dcmprscp is up; an upstream job failing for good fails ours with its info."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from printserver import uids
from printserver.outputs.base import Done, Wait
from printserver.status import Status
from tests.dcmtk import DcmprscpServer, dcmtk_available, free_port
from tests.outputs.test_relay import relay, spooled
from tests.printscu import JobSCU
from tests.serverproc import ServerProcess, wait_until

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")


def relay_to(tmp_path: Path, name: str, called_ae: str, port: int, give_up: float = 600.0) -> list[str]:
    path = tmp_path / f"{name}.toml"
    path.write_text("\n".join([
        "[server]", "delivery_retry_initial = 0.2", "delivery_retry_max = 1.0", f"delivery_give_up = {give_up}",
        "[[printer]]", 'ae_title = "PRINTSCP"', "[[printer.relay]]", f'called_ae = "{called_ae}"',
        'host = "127.0.0.1"', f"port = {port}", "timeout = 10.0"]) + "\n")
    return ["--config", str(path)]


def print_one(scu: JobSCU) -> str:
    """One 8x10 film through the modality's association; the UID of our Print Job."""
    assert scu.create_session() == Status.SUCCESS
    assert scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")[0] == Status.SUCCESS
    assert scu.set_image(1, np.full((64, 64), 2048, np.uint16)) == Status.SUCCESS
    status, rsp = scu.n_action(1, uids.BASIC_FILM_BOX, scu.film_box_uid)
    assert int(status.Status) == Status.SUCCESS
    return str(rsp[0x21000500].value[0].ReferencedSOPInstanceUID)


def test_our_print_job_waits_while_the_upstream_job_waits_and_is_done_when_it_is(tmp_path: Path) -> None:
    laser = DcmprscpServer(tmp_path / "laser", port=free_port())  # the real imager, off for now
    with ServerProcess(tmp_path / "upstream", extra=relay_to(tmp_path, "up", laser.aetitle, laser.port)) as up, \
            ServerProcess(tmp_path / "gateway", extra=relay_to(tmp_path, "gw", "PRINTSCP", up.port)) as gw, \
            JobSCU(gw.port) as modality:
        job_uid = print_one(modality)
        # our own relay has the film printed upstream: only the upstream's job can say PRINTER OFFLINE
        modality.wait_event(1, "PRINTER OFFLINE", timeout=60)
        assert modality.job_status(job_uid) == ("PENDING", "PRINTER OFFLINE")
        with laser:
            events = modality.wait_event(3, timeout=60)
            assert modality.job_status(job_uid) == ("DONE", "NORMAL")
            films = laser.films()
        wait_until(lambda: not gw.pending_jobs(), 30, "the gateway's job to end")
    assert [(f.image_display_format, f.film_size) for f in films] == [("STANDARD\\1,1", "8INX10IN")]
    assert events[-1] == (3, "NORMAL") and (1, "PRINTER OFFLINE") in events
    (record,) = [json.loads(p.read_text()) for p in (gw.spool / "done").glob("*.state.json")]
    relay_out = record["outputs"]["relay:PRINTSCP"]
    assert relay_out["memo"]["seen"]["film1"][0] == "DONE"
    timeline = [(e["event"], e["output"]) for e in record["timeline"]]
    assert ("sent", "relay:PRINTSCP") in timeline and timeline.index(("sent", "relay:PRINTSCP")) < \
        timeline.index(("done", "relay:PRINTSCP"))


def test_an_upstream_job_failing_for_good_fails_ours_with_its_status_info(tmp_path: Path) -> None:
    nowhere = free_port()  # the upstream's imager never answers: it gives up after 3 s
    with ServerProcess(tmp_path / "upstream", extra=relay_to(tmp_path, "up", "LASER", nowhere, give_up=3)) as up, \
            ServerProcess(tmp_path / "gateway", extra=relay_to(tmp_path, "gw", "PRINTSCP", up.port)) as gw, \
            JobSCU(gw.port) as modality:
        job_uid = print_one(modality)
        events = modality.wait_event(4, timeout=60)
        assert modality.job_status(job_uid) == ("FAILURE", "PRINTER OFFLINE")  # ours would say CHECK PRINTER
        wait_until(lambda: not gw.pending_jobs(), 30, "the gateway's job to end")
    assert events[-1] == (4, "PRINTER OFFLINE")
    (record,) = [json.loads(p.read_text()) for p in (gw.spool / "failed").glob("*.state.json")]
    assert record["outputs"]["relay:PRINTSCP"]["reason"] == \
        "PRINTSCP reports its Print Job for film1 FAILURE (PRINTER OFFLINE)"


def test_steps_against_an_upstream_with_print_jobs_and_a_resume_polls_instead_of_printing(tmp_path: Path) -> None:
    """The delivery steps themselves: the Print association gets the upstream's Print Job events (confirmed by
    our SCU, none waits out a timeout), the UID is in the memo, polls end in Done; a step redone from the memo
    saved right after the Print (a kill -9 while following) asks again and prints nothing twice."""
    with ServerProcess(tmp_path / "upstream") as up:
        out = relay(called_ae="PRINTSCP", port=up.port, timeout=30)
        job = spooled(tmp_path)
        started = time.monotonic()
        first = out.deliver(job)
        assert time.monotonic() - started < out.timeout, "the print step waited out a DIMSE timeout"
        assert isinstance(first, Wait) and first.printing and list(first.memo["jobs"]) == ["film1"], first
        memo, step = first.memo, first
        for _ in range(40):
            step = out.deliver(replace(job, memo=memo))
            if not isinstance(step, Wait):
                break
            memo = step.memo
            time.sleep(step.after)
        assert isinstance(step, Done) and step.detail == "1 film(s) printed on PRINTSCP; its Print Job says DONE for 1"
        again = out.deliver(replace(job, memo=first.memo))
        assert isinstance(again, Done), again
        up.wait_drained(1)
        log = up.log.read_text()
    assert len(up.pdfs()) == 1
    assert "event 1 (QUEUED) sent to PRINTSCP: reply 0x0000" in log or "Print Job" in log, log[-2000:]
