"""A colour image's ICC Profile through the SCU (scu/films.py, scu/client.py): sent with the image, the
printer's model keeps it; a printer that refuses it gets the image converted to sRGB, with a warning.

In memory: the printer is printserver's own model (LocalTransport); a printer refusing ICC Profile is that
model answering 0105 for it (none of the real peers here prints colour from an ICC profile: dcmprscp has no
colour, printserver takes it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from printserver.model.color import ColorImage
from printserver.scu.client import PrintClient
from printserver.scu.films import FilmBoxOptions, FilmOptions, ImageBoxOptions
from printserver.scu.prepare import PrepareOptions, load, to_gray
from printserver.scu.transport import LocalTransport, Reply
from printserver.status import Status
from tests.iccprofile import rgb_profile

ADOBE = rgb_profile()
ORANGE = np.broadcast_to(np.array((180, 120, 60), np.uint8), (8, 8, 3)).copy()
OPTIONS = FilmOptions(film_box=FilmBoxOptions("STANDARD\\1,2", FilmSizeID="8INX10IN"),
                      image_boxes=(ImageBoxOptions(), ImageBoxOptions(Polarity="REVERSE")))


@dataclass
class RefusesICC(LocalTransport):
    """printserver's model behind a printer that has no ICC Profile in its colour image box."""

    def n_set(self, sop_class: str, uid: str, ds: Dataset) -> Reply:
        items = ds.get("BasicColorImageSequence") or []
        if any("ICCProfile" in item for item in items):
            return Reply(Status.NO_SUCH_ATTRIBUTE, None, "ICCProfile not supported")
        return super().n_set(sop_class, uid, ds)


def boxes(transport: LocalTransport) -> list[ColorImage]:
    (job,) = transport.jobs
    return [b.image for b in job.films[0].image_boxes]  # type: ignore[misc]


def test_the_profile_goes_with_the_image() -> None:
    transport = LocalTransport()
    result = PrintClient(transport).print_images([ColorImage(ORANGE, icc_profile=ADOBE)] * 2, OPTIONS)
    assert result.ok and result.films[0].warnings == []
    first, second = boxes(transport)
    assert first.icc_profile == ADOBE and second.icc_profile == ADOBE and np.array_equal(first.pixels, ORANGE)


def test_a_printer_refusing_the_profile_gets_srgb_and_the_film_says_so() -> None:
    transport = RefusesICC()
    result = PrintClient(transport).print_images([ColorImage(ORANGE, icc_profile=ADOBE)] * 2, OPTIONS)
    assert result.ok, result
    assert [w for w in result.films[0].warnings if "ICC" in w] == \
        ["Image Box 1: the printer takes no ICC Profile (0x0105); colour images are converted to sRGB"]
    first, second = boxes(transport)
    assert first.icc_profile is None and tuple(first.pixels[0, 0]) == (199, 121, 53)  # Adobe RGB -> sRGB
    (job,) = transport.jobs
    assert job.films[0].image_boxes[1].polarity == "NORMAL"  # REVERSE applied before the conversion
    assert tuple(second.pixels[0, 0]) != tuple(255 - ORANGE[0, 0])  # converted, not merely inverted


def test_a_dicom_colour_image_keeps_its_profile_and_gray_uses_its_srgb(tmp_path: Path) -> None:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", generate_uid()
    ds.Modality, ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = "US", 3, "RGB", 0
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 8, 8, 7, 0
    ds.PixelData = ORANGE.tobytes()
    ds.ICCProfile = ADOBE
    ds.save_as(tmp_path / "us.dcm", enforce_file_format=True)
    (prepared,), _ = load([tmp_path / "us.dcm"], PrepareOptions(keep_color=True))
    assert isinstance(prepared.image, ColorImage) and prepared.image.icc_profile == ADOBE
    srgb_luma = round((0.299 * 199 + 0.587 * 121 + 0.114 * 53) / 255 * 4095)
    assert abs(int(to_gray(prepared.image).pixels[0, 0]) - srgb_luma) <= 1
