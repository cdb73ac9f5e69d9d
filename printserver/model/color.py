"""Basic Color Image Box (PS3.4 H.4.3.2): the Basic Color Image Sequence item -> checked RGB pixels.

Colour needs no density mapping: RGB values are printed as sent (Polarity REVERSE inverts them).
Sizes are checked against the declared attributes and the printer's maximum before any array is made.
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
    if planar == PLANAR_BY_PLANE:
        pixels = np.ascontiguousarray(flat.reshape(3, rows, columns).transpose(1, 2, 0))
    else:
        pixels = flat.reshape(rows, columns, 3)
    return ColorImage(pixels, aspect)
