"""Basic Color Image Box (PS3.4 H.4.3.2): the Basic Color Image Sequence item -> checked RGB pixels.

Colour needs no density mapping: RGB values are printed as sent (Polarity REVERSE inverts them), in the
colour space of the item's ICC Profile (0028,2000) when it has one (the renderer converts to the page's
sRGB, render/color_management.py), else taken as sRGB. Sizes are checked against the declared attributes
and the printer's maximum before any array is made; an ICC Profile is checked here only for what a
pure check can see (an ICC header naming an RGB device space), littleCMS reads it in the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from printserver.config import PrinterProfile
from printserver.model.pixels import _invalid, _require, image_size, pixel_aspect_ratio, pixel_bytes, unsigned

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

#: Planar Configuration: 1 (R plane, G plane, B plane) is what H.4.3.2 prescribes; 0 (R, G, B per
#: pixel) is unambiguous too and some SCUs send it, so it is printed rather than refused.
PLANAR_BY_PLANE, PLANAR_BY_PIXEL = 1, 0


def _color_image_box() -> Any:
    from printserver.model.attributes import IGNORED, Attr, U, _table, accept_any, one_of, positive_int
    from printserver.model.attributes import M as REQUIRED

    return _table(
        Attr("ImageBoxPosition", REQUIRED, positive_int),
        Attr("BasicColorImageSequence", REQUIRED, accept_any, empty_ok=True),
        Attr("Polarity", U, one_of(("NORMAL", "REVERSE")), lambda p: "NORMAL"),
        Attr("MagnificationType", U, one_of(lambda p: p.magnification_types)),
        Attr("SmoothingType", U, one_of(lambda p: p.smoothing_types), printer_defined=True),
        Attr("RequestedImageSize", IGNORED),
        Attr("RequestedDecimateCropBehavior", IGNORED),
    )


def __getattr__(name: str) -> Any:
    """`COLOR_IMAGE_BOX` (the N-SET attribute table) is built on first use (PEP 562): the table needs
    pydicom's data dictionary (model.attributes), and a render worker, which imports this module only
    for `ColorImage`, should not load pydicom (~16 MB per worker)."""
    if name == "COLOR_IMAGE_BOX":
        table = globals()[name] = _color_image_box()
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ColorImage:
    """A preformatted 8-bit RGB image as received, pixel-interleaved for the renderer."""

    pixels: np.ndarray  # (rows, columns, 3) uint8
    pixel_aspect_ratio: tuple[int, int] = (1, 1)
    bits_stored: int = 8
    photometric_interpretation: str = "RGB"
    #: ICC Profile (0028,2000) of the pixels' colour space as sent; None: sRGB
    icc_profile: bytes | None = None

    @property
    def rows(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def columns(self) -> int:
        return int(self.pixels.shape[1])


def parse_color_item(item: Dataset, profile: PrinterProfile, *, little_endian: bool, where: str) -> ColorImage:
    where = f"{where} BasicColorImageSequence item"
    spp = _require(item, "SamplesPerPixel", where)
    if spp != 3:
        raise _invalid(where, "SamplesPerPixel", spp, "must be 3 for a color image box")
    photometric = str(_require(item, "PhotometricInterpretation", where)).strip()
    if photometric != "RGB":
        raise _invalid(where, "PhotometricInterpretation", photometric, "must be RGB")
    planar = _require(item, "PlanarConfiguration", where)
    if planar not in (PLANAR_BY_PLANE, PLANAR_BY_PIXEL):
        raise _invalid(where, "PlanarConfiguration", planar, "must be 1 (by plane) or 0 (by pixel)")
    rows, columns = image_size(item, profile, where)
    depth = (_require(item, "BitsAllocated", where), _require(item, "BitsStored", where),
             _require(item, "HighBit", where))
    if depth != (8, 8, 7):
        raise _invalid(where, "BitsStored", depth[1],
                       f"with BitsAllocated {depth[0]} and HighBit {depth[2]} is not 8/8/7")
    unsigned(item, where)
    aspect = pixel_aspect_ratio(item, where)
    flat = pixel_bytes(item, rows * columns * 3, where, little_endian=little_endian, what="Rows x Columns x 3")
    icc = icc_profile(item, where)
    if planar == PLANAR_BY_PLANE:
        pixels = np.ascontiguousarray(flat.reshape(3, rows, columns).transpose(1, 2, 0))
    else:
        pixels = flat.reshape(rows, columns, 3)
    return ColorImage(pixels, aspect, icc_profile=icc)


#: ICC.1 header: profile size (bytes 0-3), data colour space (16-19), file signature (36-39)
ICC_HEADER_BYTES = 128


def icc_profile(item: Dataset, where: str) -> bytes | None:
    """The item's ICC Profile, when it has one: an ICC profile of an RGB device (0106 naming it else)."""
    value = item.get("ICCProfile")
    if value is None or len(value) == 0:
        return None
    data = bytes(value)
    size = int.from_bytes(data[:4], "big") if len(data) >= 4 else 0
    if len(data) < ICC_HEADER_BYTES or data[36:40] != b"acsp" or not ICC_HEADER_BYTES <= size <= len(data):
        raise _invalid(where, "ICCProfile", f"{len(data)} bytes", "is not an ICC profile (ICC.1 header)")
    if data[16:20] != b"RGB ":
        raise _invalid(where, "ICCProfile", data[16:20].decode("latin-1").strip(),
                       "names a colour space other than RGB")
    return data[:size]
