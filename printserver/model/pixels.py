"""Basic Grayscale Image Sequence item -> checked pixel array (PS3.4 H.4.3.1, digest §4.3, §5.3).

Sizes are checked against the declared attributes and the printer's maximum before any array is
made; the array is a view on the received bytes (no copy for little endian data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.status import Status

if TYPE_CHECKING:  # pydicom only where items are parsed (the server): a render worker never loads it (~16 MB)
    from pydicom.dataset import Dataset

PHOTOMETRIC = ("MONOCHROME1", "MONOCHROME2")
#: (Bits Allocated, Bits Stored, High Bit) the Basic Grayscale Image Box allows.
DEPTHS = {8: (8, 8, 7), 12: (16, 12, 11)}


@dataclass(frozen=True)
class GrayscaleImage:
    """A preformatted grayscale image as received: P-values before polarity."""

    pixels: np.ndarray  # (rows, columns), uint8 for 8-bit, uint16 for 12-bit
    bits_stored: int
    photometric_interpretation: str
    #: Pixel Aspect Ratio as (vertical, horizontal) physical pixel size.
    pixel_aspect_ratio: tuple[int, int] = (1, 1)

    @property
    def rows(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def columns(self) -> int:
        return int(self.pixels.shape[1])


def _require(item: Dataset, keyword: str, where: str) -> object:
    if keyword not in item:
        raise PrintError(Status.MISSING_ATTRIBUTE, f"{keyword} is required and missing", _tag(keyword),
                         context=where)
    value = item[keyword].value
    if value is None or value == "" or value == b"":
        raise PrintError(Status.MISSING_ATTRIBUTE_VALUE, f"{keyword} has no value", _tag(keyword), context=where)
    return value


#: Attributes a modality may put into an image item beside the pixels that say whose image it is.
IDENTIFYING_KEYWORDS = (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "AccessionNumber", "StudyID", "StudyDate", "StudyTime", "StudyDescription",
    "ReferringPhysicianName", "InstitutionName", "Modality",
)  # fmt: skip


def identifying_attributes(item: Dataset | None) -> dict[str, str]:
    """The single-valued IDENTIFYING_KEYWORDS an image item carries, as text (the rest of the item is pixels)."""
    if item is None:
        return {}
    found = {}
    for keyword in IDENTIFYING_KEYWORDS:
        if keyword not in item:
            continue
        elem = item[keyword]  # the element (its VM), not only its value
        if not elem.is_empty and elem.VM == 1:
            found[keyword] = str(elem.value).strip()
    return {k: v for k, v in found.items() if v}


def _tag(keyword: str) -> int:
    from pydicom.tag import Tag

    return int(Tag(keyword))


def _invalid(where: str, keyword: str, value: object, why: str) -> PrintError:
    return PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{keyword} '{value}' {why}", _tag(keyword), context=where)


def image_size(item: Dataset, profile: PrinterProfile, where: str) -> tuple[int, int]:
    """(Rows, Columns), checked positive and within the printer's maximum before anything is allocated."""
    rows = int(_require(item, "Rows", where))  # type: ignore[call-overload]
    columns = int(_require(item, "Columns", where))  # type: ignore[call-overload]
    for kw, v in (("Rows", rows), ("Columns", columns)):
        if v <= 0:
            raise _invalid(where, kw, v, "must be greater than zero")
    if rows * columns > profile.max_image_pixels:
        raise PrintError(
            Status.INSUFFICIENT_MEMORY,
            f"Rows x Columns {rows}x{columns} exceeds this printer's maximum of "
            f"{profile.max_image_pixels} pixels per image",
            _tag("Rows"), context=where)
    return rows, columns


def unsigned(item: Dataset, where: str) -> None:
    representation = _require(item, "PixelRepresentation", where)
    if representation != 0:
        raise _invalid(where, "PixelRepresentation", representation, "must be 0 (unsigned)")


def pixel_aspect_ratio(item: Dataset, where: str) -> tuple[int, int]:
    """(vertical, horizontal); 1:1 when absent or empty."""
    if "PixelAspectRatio" not in item or item["PixelAspectRatio"].is_empty:
        return 1, 1
    raw = item.PixelAspectRatio
    try:
        values = tuple(int(v) for v in raw)
    except (TypeError, ValueError):
        raise _invalid(where, "PixelAspectRatio", raw, "must be two integers") from None
    if len(values) != 2 or min(values) <= 0:
        raise _invalid(where, "PixelAspectRatio", raw, "must be two positive integers")
    return values[0], values[1]


def pixel_bytes(item: Dataset, needed: int, where: str, *, little_endian: bool, what: str) -> np.ndarray:
    """Pixel Data of exactly `needed` bytes (plus one pad byte) as uint8, OW byte pairs unswapped on a
    big endian wire (there OW is a stream of 16-bit words)."""
    if "PixelData" not in item:
        raise PrintError(Status.MISSING_ATTRIBUTE, "PixelData is required and missing",
                         _tag("PixelData"), context=where)
    elem = item["PixelData"]
    data = elem.value or b""
    if not needed <= len(data) <= needed + 1:  # one pad byte keeps odd lengths even
        raise _invalid(where, "PixelData", f"{len(data)} bytes", f"is not {what} = {needed} bytes")
    if not little_endian and elem.VR == "OW":
        words = np.frombuffer(data, dtype=">u2", count=len(data) // 2)
        return words.astype("<u2").view(np.uint8)[:needed]
    return np.frombuffer(data, dtype=np.uint8, count=needed)


def parse_grayscale_item(item: Dataset, profile: PrinterProfile, *, little_endian: bool, where: str) -> GrayscaleImage:
    where = f"{where} BasicGrayscaleImageSequence item"
    spp = _require(item, "SamplesPerPixel", where)
    if spp != 1:
        raise _invalid(where, "SamplesPerPixel", spp, "must be 1 for a grayscale image box")
    photometric = str(_require(item, "PhotometricInterpretation", where)).strip()
    if photometric not in PHOTOMETRIC:
        raise _invalid(where, "PhotometricInterpretation", photometric, "must be MONOCHROME1 or MONOCHROME2")
    rows, columns = image_size(item, profile, where)
    allocated = _require(item, "BitsAllocated", where)
    stored = _require(item, "BitsStored", where)
    high = _require(item, "HighBit", where)
    depth = next((bits for bits, triple in DEPTHS.items() if triple == (allocated, stored, high)), None)
    if depth is None:
        raise _invalid(where, "BitsStored", stored,
                       f"with BitsAllocated {allocated} and HighBit {high} is not 8/8/7 or 16/12/11")
    if depth == 12 and not profile.supports_12_bit:
        raise _invalid(where, "BitsStored", stored, "12-bit images are not supported by this printer")
    unsigned(item, where)
    aspect = pixel_aspect_ratio(item, where)
    bytes_per_pixel = 1 if depth == 8 else 2
    # 8-bit in OW on a big endian wire: unswap the byte pairs; 16-bit words are read in the wire's order below.
    data = pixel_bytes(item, rows * columns * bytes_per_pixel, where, little_endian=little_endian or depth != 8,
                       what=f"Rows x Columns x {bytes_per_pixel}")
    if depth == 8:
        pixels = data
    else:
        pixels = data.view("<u2" if little_endian else ">u2")
        if not little_endian or int(pixels.max(initial=0)) > 0x0FFF:
            pixels = (pixels & 0x0FFF).astype(np.uint16)  # High Bit 11: bits above carry no pixel value
    return GrayscaleImage(pixels.reshape(rows, columns), depth, photometric, aspect)
