"""CUPS output end to end: a modality association in, a real cupsd + ippeveprinter out.

One isolated CUPS (tests/cupsbed.py) serves the module; every test starts its own printserver and
leaves the queue enabled and accepting. Asserts are on what the printer received (page size,
copies, media), on Print Job events and N-GET, and on the failure paths: nothing lost, status truthful.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pynetdicom import evt

from printserver import config, uids
from printserver.errors import ConfigError
from printserver.net.scp import PrintServer
from printserver.outputs import cups as cupsout
from printserver.render.pdf import fit_scale
from printserver.status import Status
from tests import printscu
from tests.cupsbed import CupsBed, dump
from tests.serverproc import wait_until

pytestmark = pytest.mark.skipif(not cupsout.available(), reason="pycups not installed (printserver[cups])")

IMG = np.full((64, 64), 1000, np.uint16)


@pytest.fixture
def make_server(tmp_path: Path, bed: CupsBed) -> Iterator[Any]:
    servers: list[PrintServer] = []

    def start(**printer: Any) -> PrintServer:
        server_keys = {k: printer.pop(k) for k in list(printer) if k.startswith(("delivery_", "printer_event"))}
        cfg = config.from_dict({
            "server": {"host": "127.0.0.1", "spool_dir": str(tmp_path / f"spool{len(servers)}"), "workers": 1,
                       "delivery_retry_initial": 0.5, "delivery_retry_max": 1.0, **server_keys},
            "printer": [{"ae_title": "FILMCUPS", "pdf_dir": str(tmp_path / "films"), "cups_queue": bed.queue,
                         "cups_server": bed.server, **printer}],
        })
        server = PrintServer(replace(cfg, port=0))
        server.start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()
    bed.enable()
    bed.accept()


class JobSCU(printscu.JobSCU):
    """The shared Print Job SCU, calling the CUPS printer."""

    def __init__(self, port: int, **kw: Any) -> None:
        super().__init__(port, called_ae="FILMCUPS", **kw)

    def print_one(self, film_size: str = "14INX17IN", **session: Any) -> str:
        ds = Dataset()
        for k, v in session.items():
            setattr(ds, k, v)
        assert self.create_session(ds if session else None) == Status.SUCCESS
        assert self.create_film_box("STANDARD\\1,1", FilmSizeID=film_size)[0] == Status.SUCCESS
        assert self.set_image(1, IMG) == Status.SUCCESS
        status, rsp = self.n_action(1, uids.BASIC_FILM_BOX, self.film_box_uid)
        assert int(status.Status) == Status.SUCCESS
        item = rsp[0x21000500].value[0]
        assert item.ReferencedSOPClassUID == uids.PRINT_JOB
        return str(item.ReferencedSOPInstanceUID)

    def printer_status(self) -> tuple[str, str]:
        _, ds = self.n_get(None)
        return str(ds.PrinterStatus), str(ds.PrinterStatusInfo)


def page_size_pt(pdf: Path) -> str:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=30).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Page size"))


def test_film_printed_true_size_with_copies_and_print_job_events(make_server: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = make_server()
    with JobSCU(server.port) as scu:
        assert scu.printer_status() == ("NORMAL", "NORMAL")
        job_uid = scu.print_one(NumberOfCopies=2, PrintPriority="HIGH", FilmSessionLabel="CT chest")
        events = scu.wait_event(3)
        assert scu.job_status(job_uid) == ("DONE", "NORMAL")
    assert events[0][0] == 1 and events[-1] == (3, "NORMAL") and 2 in [e[0] for e in events]
    assert len(set(scu.event_message_ids)) == len(scu.event_message_ids)  # each event its own Message ID
    received = bed.wait_received(before + 1)
    doc, attrs = received[-1]
    assert page_size_pt(doc) == "1008 x 1224 pts", dump(bed)  # 14 x 17 in, true size
    assert attrs["IPP_COPIES"] == "2"
    assert "x-dimension=35560 y-dimension=43180" in attrs["IPP_MEDIA_COL"]
    assert attrs["IPP_JOB_NAME"] == "CT chest from TESTSCU"
    assert not server.spool.pending() and len(list((Path(server.config.printers[0].pdf_dir)).rglob("*.pdf"))) == 1


def test_a_collated_session_of_two_film_sizes_is_one_cups_job_per_size_each_on_its_media(
        make_server: Any, bed: CupsBed) -> None:
    """A film session printed collated (film session N-ACTION) with a 14x17 and an 8x10 film: each film goes on
    its own media as its own CUPS job (page-ranges of the one document), not both on the first film's media."""
    before = len(bed.jobs_received())
    server = make_server()
    with JobSCU(server.port) as scu:
        assert scu.create_session() == Status.SUCCESS
        for size in ("14INX17IN", "8INX10IN"):
            assert scu.create_film_box("STANDARD\\1,1", FilmSizeID=size)[0] == Status.SUCCESS
            assert scu.set_image(1, IMG) == Status.SUCCESS
        status, _ = scu.n_action(1, uids.BASIC_FILM_SESSION, scu.session_uid)
        assert int(status.Status) == Status.SUCCESS
        scu.wait_event(3)
    received = bed.wait_received(before + 2)[before:]
    assert [page_size_pt(doc) for doc, _ in received] == ["1008 x 1224 pts", "576 x 720 pts"], dump(bed)
    assert "x-dimension=35560 y-dimension=43180" in received[0][1]["IPP_MEDIA_COL"]
    assert "x-dimension=20320 y-dimension=25400" in received[1][1]["IPP_MEDIA_COL"]
    done = Path(server.config.spool_dir, "done")
    wait_until(lambda: list(done.glob("*.state.json")), 10, "job record in done/")
    (record,) = [json.loads(p.read_text()) for p in done.glob("*.state.json")]
    assert len(record["outputs"]["cups"]["memo"]["job_ids"]) == 2


def test_queue_disabled_then_enabled_nothing_lost(make_server: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = make_server()
    bed.disable()
    with JobSCU(server.port) as scu:
        job_uid = scu.print_one()
        scu.wait_event(1, "PRINTER OFFLINE")
        assert scu.job_status(job_uid) == ("PENDING", "PRINTER OFFLINE")
        assert scu.printer_status() == ("WARNING", "PRINTER OFFLINE")
        assert len(server.spool.pending()) == 1 and len(bed.jobs_received()) == before
        bed.enable()
        scu.wait_event(3)  # no more events for this job: N-GET may poll now
        wait_until(lambda: scu.printer_status() == ("NORMAL", "NORMAL"), 10, "printer NORMAL")
    bed.wait_received(before + 1)
    wait_until(lambda: not server.spool.pending(), 10, "spool drained")


def test_queue_rejecting_then_accepting_is_retried(make_server: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = make_server()
    bed.reject()
    with JobSCU(server.port) as scu:
        assert scu.printer_status() == ("FAILURE", "PRINTER OFFLINE")
        job_uid = scu.print_one()
        scu.wait_event(1, "PRINTER OFFLINE")
        wait_until(lambda: server.book.get(job_uid).outputs["cups"].attempts >= 2, 20, "retries")
        assert scu.job_status(job_uid) == ("PENDING", "PRINTER OFFLINE")
        assert len(server.spool.pending()) == 1
        bed.accept()
        scu.wait_event(3)
    assert len(bed.wait_received(before + 1)) == before + 1


def test_cupsd_down_then_up_delivers_after_recovery(make_server: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = make_server()
    bed.stop_cupsd()
    try:
        with JobSCU(server.port) as scu:
            assert scu.printer_status() == ("FAILURE", "PRINTER DOWN")
            job_uid = scu.print_one()
            scu.wait_event(1, "PRINTER DOWN")
            wait_until(lambda: server.book.get(job_uid).outputs["cups"].attempts >= 2, 20, "retries")
            assert scu.job_status(job_uid) == ("PENDING", "PRINTER DOWN")
            assert len(server.spool.pending()) == 1
            bed.start_cupsd()
            scu.wait_event(3)
    finally:
        if "cupsd" not in bed.procs:
            bed.start_cupsd()
    assert len(bed.wait_received(before + 1)) == before + 1


def test_job_that_finally_fails_is_reported_and_kept(make_server: Any, bed: CupsBed) -> None:
    server = make_server(delivery_give_up=1.5)
    bed.reject()
    with JobSCU(server.port) as scu:
        job_uid = scu.print_one()
        events = scu.wait_event(4)
        assert events[-1] == (4, "PRINTER OFFLINE")
        assert scu.job_status(job_uid) == ("FAILURE", "PRINTER OFFLINE")
    failed = list(server.spool.failed.glob("*.job"))
    assert len(failed) == 1 and "not delivered" in next(server.spool.failed.glob("*.reason.txt")).read_text()
    assert not server.spool.pending()


def test_fit_policy_scales_onto_smaller_paper_and_says_so(make_server: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = make_server(paper_policy="fit", cups_media={"A3": "iso_a4_210x297mm"})
    with JobSCU(server.port) as scu:
        job_uid = scu.print_one(film_size="A3")
        scu.wait_event(3)
    doc, _ = bed.wait_received(before + 1)[-1]
    assert page_size_pt(doc) == "595.276 x 841.89 pts (A4)"
    text = subprocess.run(["pdftotext", str(doc), "-"], capture_output=True, text=True, timeout=30).stdout
    scale = f"{fit_scale((297, 420), (210, 297)) * 100:.1f} %"
    assert scale == "65.3 %" and f"SCALE {scale} - NOT TRUE SIZE - A3 film on iso_a4_210x297mm" in text
    record = server.book.get(job_uid)
    assert any(f"scaled to {scale}" in w for w in record.warnings)
    fit = [t for t in record.timeline if t["output"] == "cups" and t["event"] == "rendering"]
    assert fit and "fit-pdf" in fit[0]["detail"]  # made by the render workers, not in the server process
    wait_until(lambda: not list(Path(server.config.spool_dir, "jobs").iterdir()), 10, "spool emptied")


def test_a_cups_queue_that_does_not_exist_stops_the_server_at_start(bed: CupsBed, tmp_path: Path) -> None:
    cfg = config.from_dict({"server": {"host": "127.0.0.1", "spool_dir": str(tmp_path / "spool")},
                            "printer": [{"pdf_dir": "", "cups_queue": "no_such_queue", "cups_server": bed.server}]})
    server = PrintServer(replace(cfg, port=0))
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.cups_queue: CUPS has no queue 'no_such_queue' on "):
        server.start()
    assert not (tmp_path / "spool").exists()  # refused before it could accept a film


def test_jobs_cli_lists_retries_a_failed_job_which_is_then_printed(make_server: Any, bed: CupsBed) -> None:
    before = len(bed.jobs_received())
    server = make_server(delivery_give_up=1.0)
    bed.reject()
    with JobSCU(server.port) as scu:
        scu.print_one()
        scu.wait_event(4)
    server.stop()
    spool = server.config.spool_dir

    def cli(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "printserver", "jobs", "--spool", spool, *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    listing = cli()
    row = next(line for line in listing.splitlines() if " failed " in line)
    assert "FAILURE" in row and "PRINTER OFFLINE" in row and "FILMCUPS" in row and "TESTSCU" in row
    assert "queued again" in cli("retry", row.split()[0])
    bed.accept()
    again = PrintServer(server.config)  # a restart on the same spool delivers the retried job
    again.start()
    try:
        bed.wait_received(before + 1)
        wait_until(lambda: not again.spool.pending(), 20, "spool drained")
    finally:
        again.stop()
    assert " done " in cli() and "DONE" in cli()


def test_printer_gone_while_cups_holds_the_job_is_printed_once_it_is_back(make_server: Any, bed: CupsBed) -> None:
    """ippeveprinter stopped: CUPS's ipp backend gives up after contimeout=5 and (ErrorPolicy retry-job) holds the job
    and retries. The modality hears PENDING/PRINTER OFFLINE, the Printer says WARNING; the printer, once back, gets
    the film exactly once."""
    import cups

    before = len(bed.jobs_received())
    server = make_server()
    bed.stop_printer()
    try:
        with JobSCU(server.port) as scu:
            job_uid = scu.print_one(FilmSessionLabel="printer gone")
            scu.wait_event(1, "PRINTER OFFLINE", timeout=20)
            assert scu.job_status(job_uid) == ("PENDING", "PRINTER OFFLINE")
            wait_until(lambda: scu.printer_status() == ("WARNING", "PRINTER OFFLINE"), 5, "printer WARNING")
            cups.setServer(bed.server)
            conn = cups.Connection()
            cups_job = server.book.get(job_uid).outputs["cups"].memo["job_id"]
            wait_until(lambda: conn.getJobAttributes(cups_job)["job-state"] == cupsout.JOB_HELD, 20,
                       "CUPS holding the job for a retry")
            assert scu.job_status(job_uid) == ("PENDING", "PRINTER OFFLINE")
            assert len(server.spool.pending()) == 1 and len(bed.jobs_received()) == before
            bed.start_printer()
            scu.wait_event(3, timeout=30)
            assert scu.job_status(job_uid) == ("DONE", "NORMAL")
    finally:
        if "printer" not in bed.procs:
            bed.start_printer()
    received = bed.wait_received(before + 1)
    time.sleep(1.5)  # a second copy would arrive within a poll of the backend
    assert len(bed.jobs_received()) == before + 1, dump(bed)
    assert received[-1][1]["IPP_JOB_NAME"] == "printer gone from TESTSCU"
    assert page_size_pt(received[-1][0]) == "1008 x 1224 pts"
    assert not server.spool.pending()


def test_a_job_cups_aborts_is_sent_again_until_the_printer_is_back_and_printed_once(
        make_server: Any, bed: CupsBed) -> None:
    """ErrorPolicy abort-job: with the printer gone CUPS aborts the job after contimeout (5 s). The output sends
    the film again as a new CUPS job, with backoff, until one prints: the printer gets the film once and the
    timeline names the aborted CUPS job."""
    before = len(bed.jobs_received())
    server = make_server()
    bed.error_policy("abort-job")
    bed.stop_printer()
    try:
        with JobSCU(server.port) as scu:
            job_uid = scu.print_one(FilmSessionLabel="aborted by CUPS")

            def aborted() -> bool:
                return any("canceled/aborted" in t["detail"] for t in server.book.get(job_uid).timeline)
            wait_until(aborted, 40, "CUPS aborting the first CUPS job")
            assert scu.job_status(job_uid)[0] == "PENDING"
            bed.start_printer()
            scu.wait_event(3, timeout=60)
            assert scu.job_status(job_uid) == ("DONE", "NORMAL")
    finally:
        bed.error_policy("retry-job")
        if "printer" not in bed.procs:
            bed.start_printer()
    received = bed.wait_received(before + 1)
    time.sleep(1.5)  # a second copy would arrive within a poll of the backend
    assert len(bed.jobs_received()) == before + 1, dump(bed)
    assert received[-1][1]["IPP_JOB_NAME"] == "aborted by CUPS from TESTSCU"


def test_printer_events_follow_the_cups_queue(make_server: Any, bed: CupsBed) -> None:
    """Queue disabled -> a Printer Warning event (PRINTER OFFLINE) on the open association; enabled -> Normal."""
    server = make_server(printer_event_interval=0.2)
    seen: list[tuple[int, str]] = []

    def on_event(event: Any) -> tuple[int, None]:
        if event.request.AffectedSOPClassUID == uids.PRINTER:
            seen.append((int(event.request.EventTypeID), str(event.event_information.get("PrinterStatusInfo", ""))))
        return 0x0000, None

    with JobSCU(server.port) as scu:
        scu.assoc.bind(evt.EVT_N_EVENT_REPORT, on_event)
        bed.disable()
        wait_until(lambda: len(seen) >= 1, 10, "a Printer event")
        assert seen == [(2, "PRINTER OFFLINE")]
        assert scu.printer_status() == ("WARNING", "PRINTER OFFLINE")
        bed.enable()
        wait_until(lambda: len(seen) >= 2, 10, "the Normal event")
        assert seen == [(2, "PRINTER OFFLINE"), (1, "")]
        assert scu.printer_status() == ("NORMAL", "NORMAL")


def raster(pdf: Path, dpi: int = 10) -> np.ndarray:
    import io

    from PIL import Image

    out = subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-singlefile", str(pdf)], capture_output=True,
                         check=True, timeout=30).stdout
    return np.asarray(Image.open(io.BytesIO(out)), dtype=np.float64)


def test_landscape_film_is_turned_onto_the_portrait_media_true_size(make_server: Any, bed: CupsBed) -> None:
    """A LANDSCAPE 14x17 film is a 17x14 in page; the queue's media is 14x17 in (portrait). The document keeps the
    film's orientation and CUPS turns the page onto the media: the printer gets 14x17 in whose content is the film
    turned by 90 degrees, unscaled (no orientation-requested, no shrink)."""
    before = len(bed.jobs_received())
    server = make_server()
    img = np.zeros((64, 128), np.uint16)
    img[:, :64] = 4095  # white left half, black right half: a turn shows where the halves go
    with JobSCU(server.port) as scu:
        assert scu.create_session() == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\1,1", FilmSizeID="14INX17IN", FilmOrientation="LANDSCAPE")[0] == 0
        assert scu.set_image(1, img) == Status.SUCCESS
        status, _ = scu.n_action(1, uids.BASIC_FILM_BOX, scu.film_box_uid)
        assert int(status.Status) == Status.SUCCESS
        scu.wait_event(3)
    doc, attrs = bed.wait_received(before + 1)[-1]
    film = next(Path(server.config.printers[0].pdf_dir).rglob("*.pdf"))
    assert page_size_pt(film) == "1224 x 1008 pts"  # the film itself is landscape
    assert page_size_pt(doc) == "1008 x 1224 pts", dump(bed)
    assert "x-dimension=35560 y-dimension=43180" in attrs["IPP_MEDIA_COL"]
    printed, original = raster(doc), raster(film)
    diffs = [np.abs(printed - np.rot90(original, k)).mean() for k in (1, 3) if np.rot90(original, k).shape ==
             printed.shape]
    assert diffs and min(diffs) < 8, diffs  # gray levels 0..255: the same picture, turned
    assert np.abs(printed - printed[::-1]).mean() > 50  # white half on one end: not a picture any turn matches


def test_a_restart_polls_the_cups_job_already_submitted_and_prints_it_once(make_server: Any, bed: CupsBed) -> None:
    """The CUPS job id is the output's memo in the job record: a new server on the same spool follows that job
    instead of submitting the film again."""
    before = len(bed.jobs_received())
    server = make_server()
    bed.disable()
    with JobSCU(server.port) as scu:
        job_uid = scu.print_one(FilmSessionLabel="across a restart")
        scu.wait_event(1, "PRINTER OFFLINE")
    cups_job = server.book.get(job_uid).outputs["cups"].memo["job_id"]
    server.stop()
    again = PrintServer(server.config)
    again.start()
    try:
        bed.enable()
        received = bed.wait_received(before + 1)
        wait_until(lambda: not again.spool.pending(), 20, "spool drained")
        time.sleep(1.0)  # a second submission would arrive within a poll
        assert len(bed.jobs_received()) == before + 1, dump(bed)
        assert received[-1][1]["IPP_JOB_NAME"] == "across a restart from TESTSCU"
        record = again.book.get(job_uid)
        assert record.state == "done" and record.outputs["cups"].memo == {"job_id": cups_job, "job_ids": [cups_job]}
        assert [t["event"] for t in record.timeline if t["output"] == "cups"].count("sent") == 1
    finally:
        again.stop()


def test_a_film_sent_to_cups_just_before_its_id_was_recorded_is_adopted_not_sent_again(bed: CupsBed,
                                                                                      tmp_path: Path) -> None:
    """The kill -9 window between CUPS accepting a job and the job record knowing its id: the next step (memo
    without the id) finds the CUPS job by its token and follows it; a job CUPS aborted is not adopted."""
    import cups

    from printserver.outputs.base import DeliveryJob, Wait
    from printserver.outputs.plan import job_outputs, outputs_of
    from printserver.spool.paths import JobPaths
    from printserver.spool.store import Spool
    from tests.spool.test_store import job

    profile = config.from_dict({"printer": [{"pdf_dir": "", "cups_queue": bed.queue,
                                             "cups_server": bed.server}]}).printers[0]
    (out,) = outputs_of(profile)
    spool = Spool(tmp_path / "spool").open()
    path = spool.submit(job(), job_outputs(profile))
    JobPaths.of(path).pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    header, _ = Spool.load_header(path)
    cups.setServer(bed.server)
    conn = cups.Connection()
    bed.disable()
    try:
        first = out.deliver(DeliveryJob(header, JobPaths.of(path)))
        assert isinstance(first, Wait) and first.memo is not None
        again = out.deliver(DeliveryJob(header, JobPaths.of(path)))  # the first result never reached the record
        assert isinstance(again, Wait) and again.memo == first.memo and "sent before a restart" in again.detail
        listed = conn.getJobs(which_jobs="all", requested_attributes=["job-id", "printserver-job"])
        ours = [j for j, a in listed.items() if a.get("printserver-job") == f"{path.stem}/0"]
        assert ours == [first.memo["job_id"]], listed
        conn.cancelJob(first.memo["job_id"])  # canceled (or aborted) jobs are never adopted: sent anew
        fresh = out.deliver(DeliveryJob(header, JobPaths.of(path)))
        assert isinstance(fresh, Wait) and fresh.memo is not None and fresh.memo["job_id"] != first.memo["job_id"]
        conn.cancelJob(fresh.memo["job_id"])
    finally:
        bed.enable()
