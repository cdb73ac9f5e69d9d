"""What a printer refuses to be told, applied to the pixels instead: an image box's own Presentation LUT,
a colour image's ICC Profile.

PS3.4 H.4.3.1 lets an image box reference a Presentation LUT of its own (it overrides the film box's); DCMTK's
print SCP, like other printers, answers such an N-SET with 0105 (No such attribute). The SCU then does what
DCMTK's own SCU does with a table: it maps the pixels through it (after polarity and MONOCHROME1, the order of
PS3.14's chain, render/tone.py) and sends 12-bit MONOCHROME2 P-values, Polarity NORMAL, which the printer's
default IDENTITY prints as the table would. IDENTITY needs nothing; LIN OD depends on the printer's density
model and is not burnt (the refusal stands, reported). A colour image with an ICC Profile refused (0105 or
0106) goes converted to sRGB (render/color_management.py, as the renderer does for the page), after its
polarity, with Polarity NORMAL.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.render.color_management import to_srgb
from printserver.render.tone import p_values

#: The burnt image's depth: the finest a grayscale image box takes
BITS = 12


def _words(value: Any) -> list[int]:
    if isinstance(value, bytes | bytearray):
        return np.frombuffer(value[: len(value) // 2 * 2], "<u2").tolist()
    return [int(value)] if isinstance(value, int) else [int(v) for v in value]


def as_plut(lut: Dataset) -> dict[str, Any] | None:
    """A Presentation LUT N-CREATE data set as render/tone.py's dict; None for a shape other than IDENTITY."""
    if "PresentationLUTSequence" in lut:
        item = lut.PresentationLUTSequence[0]
        return {"bits": int(_words(item.LUTDescriptor)[2]), "data": _words(item.LUTData)}
    return {"shape": "IDENTITY"} if lut.get("PresentationLUTShape") == "IDENTITY" else None


def burn(image: GrayscaleImage, polarity: str | None, lut: Dataset) -> tuple[GrayscaleImage, str | None] | None:
    """(the image to send, its Polarity) with `lut` applied; None when it cannot be (LIN OD)."""
    plut = as_plut(lut)
    if plut is None:
        return None
    if "data" not in plut:
        return image, polarity
    top = (1 << image.bits_stored) - 1
    v = image.pixels.astype(np.float64)
    if (image.photometric_interpretation == "MONOCHROME1") != (polarity == "REVERSE"):
        v = top - v
    p, bits = p_values(v, image.bits_stored, plut)
    scaled = np.rint(p * ((1 << BITS) - 1) / ((1 << bits) - 1)).astype(np.uint16)
    return GrayscaleImage(scaled, BITS, "MONOCHROME2", image.pixel_aspect_ratio), "NORMAL"


def to_page_rgb(image: ColorImage, polarity: str | None) -> tuple[ColorImage, str | None]:
    """(the image in sRGB without its profile, its Polarity) for a printer refusing ICC Profile."""
    pixels = 255 - image.pixels if polarity == "REVERSE" else image.pixels
    return ColorImage(to_srgb(pixels, image.icc_profile), image.pixel_aspect_ratio), "NORMAL"

