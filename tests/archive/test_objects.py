"""The film as DICOM objects: what a PACS gets is a valid SC / Encapsulated PDF (dciodvfy), pixel-true, with
stable UIDs. Builders are pure; dciodvfy (Debian dicom3tools) is the independent judge."""

from __future__ import annotations

import shutil
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from printserver.archive.identity import Identity, resolve_identity
from printserver.archive.objects import (
    ENCAPSULATED_PDF_STORAGE,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    encapsulated_pdf,
    secondary_capture,
)
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.render.compose import compose_film
from printserver.render.pdf import FilmPage, write_pdf
from printserver.render.tone import output_model
from tests.orthanc import dciodvfy

needs_dciodvfy = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
ATTRS = {"ImageDisplayFormat": "STANDARD\\2,1", "BorderDensity": "BLACK", "EmptyImageDensity": "WHITE",
         "MinDensity": 20, "MaxDensity": 300, "Trim": "NO", "FilmSizeID": "8INX10IN"}


def make_job(color: bool = False, job_uid: str = "2.25.77", session_uid: str = "1.2.3.4",
             film_number: int = 3) -> PrintJob:
    ramp = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096)
    image = ColorImage(np.stack([ramp % 256] * 3, axis=-1).astype(np.uint8)) if color \
        else GrayscaleImage(ramp, 12, "MONOCHROME2")
    boxes = (ImageBoxJob(1, "NORMAL", "REPLICATE", "", 20, 300, "", image),
             ImageBoxJob(2, "NORMAL", "REPLICATE", "", 20, 300, "", None))
    note = (AnnotationBoxJob(1, "Ünïcode label", 2, 2, 40, 5, 10, "LEFT"),)
    film = FilmJob(film_number, "1.2.3.4.5", ATTRS, 50.8, 63.5, 150, 2.0, 2.0, boxes, annotations=note)
    return PrintJob(job_uid, "2026-11-24T10:11:12.000000+00:00", "CT_1", "PRINTSCP", "printserver", session_uid,
                    {"FilmSessionLabel": "Thorax"}, (film,))


def identity(job: PrintJob, **items: str) -> Identity:
    return resolve_identity(item_attributes=[("box 1", items)] if items else [], session=job.session,
                            annotations=[], rules=[], called_ae=job.called_ae, calling_ae=job.calling_ae,
                            created=job.created, film_session_uid=job.film_session_uid)


def roundtrip(ds, tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path, dcmread(path)


@needs_dciodvfy
def test_grayscale_film_is_a_valid_12_bit_monochrome2_sc_with_the_film_pixels(tmp_path: Path) -> None:
    job = make_job()
    film = job.films[0]
    raster = compose_film(film)
    path, ds = roundtrip(secondary_capture(job, film, raster, identity(job)), tmp_path, "sc.dcm")
    errors, warnings = dciodvfy(path)
    assert errors == [], errors
    assert all("Laterality" in w for w in warnings), warnings  # dciodvfy's 2C wording; empty is right here
    assert ds.SOPClassUID == SECONDARY_CAPTURE_IMAGE_STORAGE and ds.Modality == "OT" and ds.ConversionType == "WSD"
    assert (ds.PhotometricInterpretation, ds.BitsAllocated, ds.BitsStored) == ("MONOCHROME2", 16, 12)
    assert (ds.Rows, ds.Columns) == raster.shape == (375, 300)  # 63.5 x 50.8 mm at 150 dpi
    assert np.array_equal(ds.pixel_array, raster >> 4)
    model = output_model(film)  # page white (Min Density) and Max Density, at 12 bits
    assert (ds.pixel_array.max(), ds.pixel_array.min()) == (4095, int(model.encode(3.00)) >> 4)
    assert [float(v) for v in ds.PixelSpacing] == [float(v) for v in ds.NominalScannedPixelSpacing] \
        == pytest.approx([25.4 / 150] * 2, rel=1e-5)
    assert ds.InstanceNumber == 3 and ds.StudyDescription == "Thorax" and ds.BurnedInAnnotation == "YES"
    assert ds.PatientID.startswith("NOPID-PRINTSCP-CT_1-20261124-")


@needs_dciodvfy
def test_colour_film_is_a_valid_rgb_sc(tmp_path: Path) -> None:
    job = make_job(color=True)
    raster = compose_film(job.films[0])
    path, ds = roundtrip(secondary_capture(job, job.films[0], raster, identity(job)), tmp_path, "rgb.dcm")
    assert dciodvfy(path)[0] == []
    assert (ds.PhotometricInterpretation, ds.SamplesPerPixel, ds.BitsStored) == ("RGB", 3, 8)
    assert np.array_equal(ds.pixel_array, raster)
    from PIL import ImageCms  # the film's RGB is the page's sRGB, and the object says so

    assert ds.ColorSpace == "SRGB" and "sRGB" in ImageCms.getProfileDescription(
        ImageCms.ImageCmsProfile(BytesIO(ds.ICCProfile)))


@needs_dciodvfy
def test_true_size_pdf_is_a_valid_encapsulated_pdf(tmp_path: Path) -> None:
    job = make_job()
    film = job.films[0]
    pdf = tmp_path / "film.pdf"
    write_pdf(pdf, [FilmPage(compose_film(film), film.width_mm, film.height_mm)], title="t", author="a",
              subject="s", keywords="k", extra={})
    path, ds = roundtrip(encapsulated_pdf(job, pdf.read_bytes(), identity(job)), tmp_path, "pdf.dcm")
    assert dciodvfy(path) == ([], [])
    assert ds.SOPClassUID == ENCAPSULATED_PDF_STORAGE and ds.Modality == "DOC"
    assert ds.EncapsulatedDocument[:ds.EncapsulatedDocumentLength] == pdf.read_bytes()
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"


def test_uids_are_stable_for_a_redone_job_and_distinct_where_they_must_be() -> None:
    job = make_job()
    raster = compose_film(job.films[0])
    a = secondary_capture(job, job.films[0], raster, identity(job))
    b = secondary_capture(make_job(), make_job().films[0], raster, identity(job))  # the same job, redone
    assert (a.SOPInstanceUID, a.SeriesInstanceUID, a.StudyInstanceUID) == \
        (b.SOPInstanceUID, b.SeriesInstanceUID, b.StudyInstanceUID)
    pdf = encapsulated_pdf(job, b"%PDF-1.5\n", identity(job))
    assert pdf.StudyInstanceUID == a.StudyInstanceUID and pdf.SeriesInstanceUID != a.SeriesInstanceUID
    # the next job of the same session: same study and series, new instance
    later = make_job(job_uid="2.25.78", film_number=4)
    c = secondary_capture(later, later.films[0], raster, identity(later))
    assert (c.StudyInstanceUID, c.SeriesInstanceUID) == (a.StudyInstanceUID, a.SeriesInstanceUID)
    assert c.SOPInstanceUID != a.SOPInstanceUID
    # another session: another study and patient
    other = make_job(session_uid="1.2.3.9")
    d = secondary_capture(other, other.films[0], raster, identity(other))
    assert d.StudyInstanceUID != a.StudyInstanceUID and d.PatientID != a.PatientID
    for uid in (a.SOPInstanceUID, a.SeriesInstanceUID, a.StudyInstanceUID):
        assert uid.startswith("2.25.") and len(uid) <= 64


def test_identity_from_the_modality_goes_into_the_object() -> None:
    job = make_job()
    ds = secondary_capture(job, job.films[0], compose_film(job.films[0]),
                           identity(job, PatientID="12345", PatientName="DOE^JANE", StudyInstanceUID="1.2.840.9.9",
                                    AccessionNumber="A77", Modality="CT"))
    assert (ds.PatientID, str(ds.PatientName), ds.StudyInstanceUID, ds.AccessionNumber, ds.Modality) == \
        ("12345", "DOE^JANE", "1.2.840.9.9", "A77", "CT")
