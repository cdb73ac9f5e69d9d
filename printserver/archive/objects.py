"""A printed film as DICOM objects a PACS stores: Secondary Capture image, Encapsulated PDF (pure builders).

Flavour: **Secondary Capture Image Storage** (1.2.840.10008.5.1.4.1.1.7), one object per film. It is the
oldest Storage class, so every PACS and viewer takes it, and its Image Pixel module allows 12-bit
grayscale: a grayscale film is MONOCHROME2, Bits Allocated 16 / Stored 12 (the 16-bit page gray of
render.tone >> 4, about 0.006 OD per step near 4.0 OD, where 8 bits would step ~0.1 OD), with a window
over the whole range so a viewer shows the film as printed; a colour film is 8-bit RGB. The multi-frame
SC classes add nothing for one frame and more PACS refuse them. The film's own pixel spacing (25.4 mm /
dpi) is Pixel Spacing with its calibration description and Nominal Scanned Pixel Spacing, so a ruler on
the film measures the film; Conversion Type WSD (made by a workstation).

UIDs are derived, not minted (2.25 + a name-based UUID), so a job redone after a crash or a retry makes
the same objects, which a PACS stores once: study = film session + patient, series = study + printer +
kind, instance = job + film + kind. A study UID a modality put into an image box wins over the derived
one (the film joins its examination).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from printserver import __version__
from printserver.archive.identity import Identity
from printserver.model.spooled_job import FilmJob, PrintJob
from printserver.uids import ENCAPSULATED_PDF_STORAGE, SECONDARY_CAPTURE_IMAGE_STORAGE, UID_PREFIX

#: Fixed namespace of printserver's name-based UIDs: changing it would duplicate every archived film.
UID_NAMESPACE = uuid.UUID("6f1d6a52-5d0e-4c39-9a57-2c2b0e3e1a77")
SERIES_NUMBER = {"film": 9001, "pdf": 9002}  # high, so they sort after a modality's own series
MANUFACTURER = "printserver"
MODEL_NAME = "printserver virtual film printer"


def derived_uid(*parts: str) -> str:
    """2.25.<uuid5 of the parts>: the same parts always give the same UID (PS3.5 B.2), at most 44 chars."""
    return f"{UID_PREFIX}{uuid.uuid5(UID_NAMESPACE, chr(31).join(parts)).int}"


def study_uid(job: PrintJob, identity: Identity) -> str:
    """The modality's study if an image box named one, else one study per film session and patient."""
    given = identity.get("StudyInstanceUID")
    if given:
        return given
    return derived_uid("study", job.called_ae, job.film_session_uid, identity.get("PatientID"))


def series_uid(job: PrintJob, study: str, kind: str) -> str:
    """One series per printer, film session and kind ("film": SC images, "pdf": documents)."""
    return derived_uid("series", study, job.called_ae, job.film_session_uid, kind)


def instance_uid(job: PrintJob, kind: str, film_number: int = 0) -> str:
    return derived_uid("instance", job.job_uid, kind, str(film_number))


def _da_tm(iso: str) -> tuple[str, str]:
    when = datetime.fromisoformat(iso)
    return when.strftime("%Y%m%d"), when.strftime("%H%M%S.%f")


def _ds(value: float) -> str:
    return f"{value:.6g}"[:16]


def _common(job: PrintJob, identity: Identity, *, sop_class: str, sop_instance: str, kind: str,
            modality: str) -> Dataset:
    """Patient, General Study, General Series, General Equipment, SOP Common: shared by both objects."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationVersionName = f"PRINTSERVER_{__version__}"[:16]
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: labels and names may be in any script
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    date, time = _da_tm(job.created)
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    # Patient (type 2 attributes present even when unknown)
    ds.PatientName = identity.get("PatientName")
    ds.PatientID = identity.get("PatientID")
    if identity.get("IssuerOfPatientID"):
        ds.IssuerOfPatientID = identity.get("IssuerOfPatientID")
    ds.PatientBirthDate = identity.get("PatientBirthDate")
    ds.PatientSex = identity.get("PatientSex")
    # General Study
    study = study_uid(job, identity)
    ds.StudyInstanceUID = study
    ds.StudyDate = identity.get("StudyDate") or date
    ds.StudyTime = identity.get("StudyTime") or time
    ds.ReferringPhysicianName = identity.get("ReferringPhysicianName")
    ds.StudyID = identity.get("StudyID") or f"PS{study[-8:]}"  # a DICOMDIR wants one
    ds.AccessionNumber = identity.get("AccessionNumber")
    ds.StudyDescription = identity.get("StudyDescription") or "Printed films"
    # General Series
    ds.Modality = modality
    ds.SeriesInstanceUID = series_uid(job, study, kind)
    ds.SeriesNumber = SERIES_NUMBER[kind]
    ds.SeriesDescription = f"{'Films' if kind == 'film' else 'Film documents'} printed on {job.called_ae}"
    ds.SeriesDate, ds.SeriesTime = date, time
    if identity.get("OperatorsName"):
        ds.OperatorsName = identity.get("OperatorsName")
    # General Equipment
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = f"printserver {__version__}"
    ds.StationName = job.called_ae[:16]
    if identity.get("InstitutionName"):
        ds.InstitutionName = identity.get("InstitutionName")
    # SC Equipment / Encapsulated Document Series both use Conversion Type
    ds.ConversionType = "WSD"
    return ds


def secondary_capture(job: PrintJob, film: FilmJob, raster: np.ndarray, identity: Identity) -> Dataset:
    """The composed film (render.compose.compose_film's raster) as a Secondary Capture image."""
    ds = _common(job, identity, sop_class=SECONDARY_CAPTURE_IMAGE_STORAGE,
                 sop_instance=instance_uid(job, "film", film.film_number), kind="film",
                 modality=identity.get("Modality") or "OT")
    date, time = _da_tm(job.created)
    # SC Equipment + SC Image
    ds.SecondaryCaptureDeviceManufacturer = MANUFACTURER
    ds.SecondaryCaptureDeviceManufacturerModelName = MODEL_NAME
    ds.SecondaryCaptureDeviceSoftwareVersions = __version__
    ds.DateOfSecondaryCapture, ds.TimeOfSecondaryCapture = date, time
    spacing = _ds(25.4 / film.dpi)
    ds.NominalScannedPixelSpacing = [spacing, spacing]
    ds.PixelSpacing = [spacing, spacing]
    ds.PixelSpacingCalibrationType = "GEOMETRY"
    ds.PixelSpacingCalibrationDescription = "distance on the printed film, not in the patient"
    # General Image
    ds.Laterality = ""  # type 2C: a film of several images has none
    ds.InstanceNumber = film.film_number
    ds.PatientOrientation = ""
    ds.ContentDate, ds.ContentTime = date, time
    ds.ImageType = ["DERIVED", "SECONDARY", "PRINTED FILM"]
    fb = film.attributes
    ds.DerivationDescription = (f"DICOM print film {film.film_number} from {job.calling_ae or 'unknown AE'}: "
                                f"{fb.get('FilmSizeID', '')} {fb.get('ImageDisplayFormat', '')} at {film.dpi} dpi")
    ds.BurnedInAnnotation = "YES"  # printed films carry the modality's text in their pixels
    ds.LossyImageCompression = "00"
    ds.ImageComments = f"Printed film {film.film_number} of film session {job.film_session_uid}"
    # Image Pixel
    ds.Rows, ds.Columns = int(raster.shape[0]), int(raster.shape[1])
    ds.PixelRepresentation = 0
    if raster.ndim == 3:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        ds.PixelData = np.ascontiguousarray(raster, dtype=np.uint8).tobytes()
        ds.ICCProfile, ds.ColorSpace = srgb_profile(), "SRGB"  # the page's space (render/color_management.py)
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"  # page gray: higher = brighter, like the printed page
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        pixels = raster >> 4 if raster.dtype == np.uint16 else raster.astype(np.uint16) << 4
        ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
        ds.WindowCenter, ds.WindowWidth = 2048, 4096  # VOI LUT: the whole range, as printed
        ds.WindowCenterWidthExplanation = "FILM AS PRINTED"
    ds["PixelData"].VR = "OB" if raster.ndim == 3 else "OW"
    return ds


def encapsulated_pdf(job: PrintJob, pdf: bytes, identity: Identity) -> Dataset:
    """The job's true-size PDF as an Encapsulated PDF (one per job: the PDF holds all its films)."""
    ds = _common(job, identity, sop_class=ENCAPSULATED_PDF_STORAGE, sop_instance=instance_uid(job, "pdf"),
                 kind="pdf", modality="DOC")
    date, time = _da_tm(job.created)
    numbers = ", ".join(str(f.film_number) for f in job.films)
    # SC Equipment + Encapsulated Document
    ds.InstanceNumber = job.films[0].film_number if job.films else 1
    ds.ContentDate, ds.ContentTime = date, time
    ds.AcquisitionDateTime = f"{date}{time}"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = f"Printed film {numbers} from {job.calling_ae or 'unknown AE'}"[:64]
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    return ds


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """littleCMS's sRGB profile: what a colour film's RGB means, so a viewer that manages colour shows the
    page (PS3.3 C.11.15: ICC Profile, Color Space SRGB)."""
    from PIL import ImageCms

    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())

