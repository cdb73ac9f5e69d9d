"""A print to printserver ends in the PACS: modalities (DCMTK, our test SCU) print, printserver archives each
film to a real Orthanc (checked through its REST API and dciodvfy) and DCMTK storescp, through outages and
kill -9, once each."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from printserver import uids
from printserver.spool.records import read_record
from printserver.status import Status
from tests.dcmtk import DcmtkPrintScu, PrintOptions, dcmtk_available, write_test_image
from tests.orthanc import Orthanc, StoreSCP, dciodvfy, orthanc_available
from tests.printscu import JobSCU, PrintSCU
from tests.serverproc import ServerProcess, wait_until

pytestmark = pytest.mark.skipif(not (orthanc_available() and dcmtk_available()), reason="orthanc or dcmtk missing")
SC = "1.2.840.10008.5.1.4.1.1.7"
FILMS = 6  # prints in the kill -9 test
PDF = "1.2.840.10008.5.1.4.1.1.104.1"


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    with Orthanc(tmp_path / "orthanc") as server:
        yield server


def config(tmp_path: Path, *archives: dict[str, Any]) -> list[str]:
    """A TOML config with fast retries and these archives on the printer PRINTSCP."""
    lines = ["[server]", "delivery_retry_initial = 0.2", "delivery_retry_max = 1.0", "printer_event_interval = 0.5",
             "[[printer]]", 'ae_title = "PRINTSCP"']
    for a in archives:
        lines.append("[[printer.pacs]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in a.items()]
    path = tmp_path / "printserver.toml"
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path)]


def dcmtk_print(tmp_path: Path, port: int, name: str, values: tuple[int, ...] = (0, 1365, 2730, 4095)) -> None:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    images = [write_test_image(folder / f"img{i}.dcm", 64, 64, v) for i, v in enumerate(values)]
    result = DcmtkPrintScu(folder / "dcmtk", port, options=PrintOptions(columns=2, rows=2, film_size="8INX10IN")) \
        .print_film(images)
    assert result.ok, result.stdout + result.stderr


def test_dcmtk_print_ends_as_sc_and_encapsulated_pdf_in_orthanc_and_storescp(orthanc: Orthanc,
                                                                           tmp_path: Path) -> None:
    with StoreSCP(tmp_path / "storescp") as scp:
        archives = [{"called_ae": orthanc.aet, "host": "127.0.0.1", "port": orthanc.dicom_port,
                     "store": ["film", "pdf"]},
                    {"called_ae": scp.aet, "host": "127.0.0.1", "port": scp.port}]
        with ServerProcess(tmp_path / "server", extra=config(tmp_path, *archives)) as server:
            dcmtk_print(tmp_path, server.port, "a")
            server.wait_drained(1)
            received = scp.files()
    instances = orthanc.instances()
    assert len(instances) == 2
    by_class = {orthanc.tags(i)["SOPClassUID"]: i for i in instances}
    assert set(by_class) == {SC, PDF}
    sc = dcmread(orthanc.file(by_class[SC], tmp_path / "sc.dcm"))
    assert dciodvfy(tmp_path / "sc.dcm")[0] == []
    assert dciodvfy(orthanc.file(by_class[PDF], tmp_path / "pdf.dcm"))[0] == []
    assert (sc.Rows, sc.Columns) == (3000, 2400)  # 8 x 10 in at 300 dpi
    assert sc.PhotometricInterpretation == "MONOCHROME2" and sc.BitsStored == 12
    px = sc.pixel_array
    quads = [int(px[int(sc.Rows * fy), int(sc.Columns * fx)]) for fy in (0.3, 0.7) for fx in (0.3, 0.7)]
    assert quads[0] < quads[1] < quads[2] < quads[3]  # P-values 0 .. 4095 printed darker to lighter (MONOCHROME2)
    assert sc.PatientID.startswith("NOPID-PRINTSCP-DCMTKSCU-") and sc.StationName == "PRINTSCP"
    assert pytest.approx(float(sc.PixelSpacing[0]), rel=1e-4) == 25.4 / 300
    (stored,) = received  # storescp: the film only (its store = ["film"])
    assert dcmread(stored).SOPInstanceUID == sc.SOPInstanceUID


def test_orthanc_down_then_up_delivers_once_and_jobs_say_so_meanwhile(orthanc: Orthanc, tmp_path: Path) -> None:
    orthanc.stop()
    archive = {"called_ae": orthanc.aet, "host": "127.0.0.1", "port": orthanc.dicom_port, "timeout": 3.0}
    with ServerProcess(tmp_path / "server", extra=config(tmp_path, archive)) as server:
        dcmtk_print(tmp_path, server.port, "a")
        wait_until(lambda: "retrying" in jobs(server), 60, "the job to wait for the archive")
        listing = jobs(server)
        assert f"pacs:{orthanc.aet}:retrying" in listing and "pdf:done" in listing, listing
        (job,) = server.pending_jobs()
        record = read_record(job)
        assert record is not None and record.outputs[f"pacs:{orthanc.aet}"].attempts >= 1
        assert (record.execution_status, record.execution_status_info) == ("PENDING", "QUEUED")
        assert printer_status(server.port) == ("WARNING", "CHECK PRINTER")
        orthanc.start()
        wait_until(lambda: not server.pending_jobs(), 60, "delivery after Orthanc came back")
        wait_until(lambda: printer_status(server.port)[0] == "NORMAL", 30, "the printer NORMAL again")
    assert len(orthanc.instances()) == 1


def printer_status(port: int) -> tuple[str, str]:
    """Printer N-GET: (Printer Status, Printer Status Info) as a modality reads them."""
    with PrintSCU(port) as scu:
        _, ds = scu.n_get(None)
    return str(ds.PrinterStatus), str(ds.PrinterStatusInfo)


def jobs(server: ServerProcess) -> str:
    return subprocess.run([sys.executable, "-m", "printserver", "jobs", "--spool", str(server.spool), "list"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def test_two_sessions_are_two_studies_and_two_placeholder_patients_with_the_quick_start_option(
        orthanc: Orthanc, tmp_path: Path) -> None:
    quick_start = ["--archive", f"{orthanc.aet}@127.0.0.1:{orthanc.dicom_port}"]
    with ServerProcess(tmp_path / "server", extra=quick_start) as server:
        dcmtk_print(tmp_path, server.port, "a")
        dcmtk_print(tmp_path, server.port, "b")
        server.wait_drained(2)
    assert len(orthanc.instances()) == 2
    assert len(orthanc.get("/studies")) == 2 and len(orthanc.get("/patients")) == 2
    ids = {orthanc.tags(i)["PatientID"] for i in orthanc.instances()}
    assert len(ids) == 2 and all(i.startswith("NOPID-") for i in ids)


def test_patient_in_the_image_item_files_the_film_and_print_job_is_done_only_when_archived(
        orthanc: Orthanc, tmp_path: Path) -> None:
    archive = {"called_ae": orthanc.aet, "host": "127.0.0.1", "port": orthanc.dicom_port}
    with ServerProcess(tmp_path / "server", extra=config(tmp_path, archive)) as server, \
            JobSCU(server.port, called_ae="PRINTSCP") as scu:
        assert scu.create_session() == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")[0] == Status.SUCCESS
        item_attrs = {"PatientName": "DOE^JANE", "PatientID": "MRN-4711", "AccessionNumber": "ACC9",
                      "StudyInstanceUID": "1.2.826.0.1.3680043.2.1143.77"}
        rsp = _set_and_print(scu, item_attrs)
        job_uid = str(rsp[0x21000500].value[0].ReferencedSOPInstanceUID)
        scu.wait_event(3)
        assert scu.job_status(job_uid) == ("DONE", "NORMAL")
    (instance,) = orthanc.instances()
    tags = orthanc.tags(instance)
    assert (tags["PatientID"], tags["PatientName"], tags["AccessionNumber"], tags["StudyInstanceUID"]) == \
        ("MRN-4711", "DOE^JANE", "ACC9", "1.2.826.0.1.3680043.2.1143.77")
    (done,) = (server.spool / "done").glob("*.state.json")
    memo = json.loads(done.read_text())["outputs"][f"pacs:{orthanc.aet}"]["memo"]
    assert memo["identity"]["PatientID"] == "film 1 image box 1" and memo["stored"] == ["film1"]


def _set_and_print(scu: JobSCU, item_attrs: dict[str, str]) -> Dataset:
    from tests.printscu import image_box_dataset

    ds = image_box_dataset(1, np.full((64, 64), 2048, np.uint16))
    for k, v in item_attrs.items():
        setattr(ds.BasicGrayscaleImageSequence[0], k, v)
    status, _ = scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[0])
    assert int(status.Status) == Status.SUCCESS
    status, rsp = scu.n_action(1, uids.BASIC_FILM_BOX, scu.film_box_uid)
    assert int(status.Status) == Status.SUCCESS
    return rsp


def test_sigkill_during_archive_delivery_loses_and_duplicates_nothing(orthanc: Orthanc, tmp_path: Path) -> None:
    """Six prints of 14x17 in films (43 MB objects); the server is killed once the first job is done (its record
    in spool/done: a file check, not Orthanc's REST, which lags while it ingests), restarted, and every film
    ends in Orthanc exactly once."""
    archive = {"called_ae": orthanc.aet, "host": "127.0.0.1", "port": orthanc.dicom_port}
    extra = config(tmp_path, archive)
    server = ServerProcess(tmp_path / "server", extra=extra)
    with server:
        folder = tmp_path / "img"
        folder.mkdir()
        images = [write_test_image(folder / f"img{i}.dcm", 64, 64, 700 * i) for i in range(FILMS)]
        scu = DcmtkPrintScu(folder / "dcmtk", server.port, options=PrintOptions(columns=1, rows=1))
        for image in images:
            assert scu.print_film([image]).ok
        wait_until(lambda: any((server.spool / "done").glob("*.state.json")), 120, "the first job archived")
        server.kill()
    at_kill = len(orthanc.instances())
    assert at_kill < FILMS, "all films were archived before the kill: the test proved nothing"
    with ServerProcess(tmp_path / "server", port=server.port, extra=extra) as again:
        wait_until(lambda: not again.pending_jobs(), 180, "the rest after the restart")
    instances = orthanc.instances()
    assert len(instances) == FILMS
    assert orthanc.get("/statistics")["CountInstances"] == FILMS
    assert len({orthanc.tags(i)["PatientID"] for i in instances}) == FILMS  # one session, one NOPID patient each


def test_a_malformed_archive_option_is_refused_at_start(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "printserver", "serve", "--archive", "ORTHANC:4242", "--spool",
                          str(tmp_path / "spool"), "--port", "1"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "expected AE@HOST:PORT" in run.stderr
