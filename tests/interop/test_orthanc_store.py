"""printserver's Storage SCU against real archives: Orthanc (checked through its REST API) and DCMTK storescp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread

from printserver.archive.cstore import Destination, StoreUnavailable, echo, store
from printserver.archive.objects import encapsulated_pdf, secondary_capture
from printserver.render.compose import compose_film
from tests.archive.test_objects import identity, make_job
from tests.dcmtk import LOCALHOST, free_port
from tests.orthanc import Orthanc, StoreSCP, dciodvfy, orthanc_available, storescp_available

pytestmark = pytest.mark.skipif(not orthanc_available(), reason="orthanc not installed")


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    with Orthanc(tmp_path / "orthanc") as server:
        yield server


def film_files(tmp_path: Path, color: bool = False) -> list[Path]:
    job = make_job(color=color)
    ident = identity(job)
    sc, pdf = tmp_path / "film.dcm", tmp_path / "film.pdf.dcm"
    secondary_capture(job, job.films[0], compose_film(job.films[0]), ident).save_as(sc, enforce_file_format=True)
    encapsulated_pdf(job, b"%PDF-1.5\n%%EOF\n", ident).save_as(pdf, enforce_file_format=True)
    return [sc, pdf]


def test_film_and_pdf_land_in_orthanc_valid_and_once(orthanc: Orthanc, tmp_path: Path) -> None:
    dest = Destination(orthanc.aet, LOCALHOST, orthanc.dicom_port, calling_ae="PRINTSCP")
    files = film_files(tmp_path)
    assert echo(dest) is None
    sent: list[Path] = []
    store(dest, files, stored=sent.append)
    assert sent == files
    store(dest, files)  # a redone delivery: the same UIDs, Orthanc keeps one copy
    instances = orthanc.wait_instances(2)
    assert len(instances) == 2
    classes = set()
    for instance in instances:
        tags = orthanc.tags(instance)
        classes.add(tags["SOPClassUID"])
        assert tags["PatientID"].startswith("NOPID-PRINTSCP-CT_1-")
        assert dciodvfy(orthanc.file(instance, tmp_path / f"{instance}.dcm"))[0] == []
    assert classes == {"1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.104.1"}
    assert len(orthanc.get("/studies")) == 1 and len(orthanc.get("/series")) == 2


def test_wrong_called_ae_and_a_stopped_archive_are_worth_a_retry(orthanc: Orthanc, tmp_path: Path) -> None:
    files = film_files(tmp_path)
    wrong = Destination("NOTORTHANC", LOCALHOST, orthanc.dicom_port, timeout=30)  # a loaded CI machine is slow
    # Orthanc answers A-ASSOCIATE-RJ and closes the connection at once; pynetdicom 3.0 sometimes sees the close
    # before the RJ (an abort). Either way the archive is unavailable, a retry, and health names it.
    with pytest.raises(StoreUnavailable, match=r"rejected the association|association aborted"):
        store(wrong, files)
    reason = echo(wrong) or ""
    assert "NOTORTHANC" in reason and ("rejected" in reason or "aborted" in reason), reason
    orthanc.stop()
    down = Destination(orthanc.aet, LOCALHOST, orthanc.dicom_port, timeout=5)
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        store(down, files)
    assert "cannot be reached" in (echo(down) or "")
    nobody = Destination("X", LOCALHOST, free_port(), timeout=5)
    with pytest.raises(StoreUnavailable):
        store(nobody, files)


@pytest.mark.skipif(not storescp_available(), reason="dcmtk not installed")
def test_storescp_as_a_second_archive(tmp_path: Path) -> None:
    with StoreSCP(tmp_path / "scp") as scp:
        dest = Destination(scp.aet, LOCALHOST, scp.port)
        files = film_files(tmp_path, color=True)
        store(dest, files)
        received = scp.files()
    sc, pdf = (dcmread(f) for f in files)
    assert {p.name for p in received} == {f"SC.{sc.SOPInstanceUID}", f"PDF.{pdf.SOPInstanceUID}"}
    for path in received:
        assert dciodvfy(path)[0] == []
