"""What a printer refuses to be told, applied to the pixels instead: an image box's own Presentation LUT,
a colour image's ICC Profile.

PS3.4 H.4.3.1 lets an image box reference a Presentation LUT of its own (it overrides the film box's); DCMTK's
print SCP, like other printers, answers such an N-SET with 0105 (No such attribute). The SCU then does what
DCMTK's own SCU does with a table: it maps the pixels through it (after polarity and MONOCHROME1, the order of
PS3.14's chain, render/tone.py) and sends 12-bit MONOCHROME2 P-values, Polarity NORMAL, which the printer's
default IDENTITY prints as the table would. IDENTITY needs nothing. LIN OD (input linear in OD between
the box's Min and Max Density) becomes the P-values of those densities under the printer's GSDF mapping
with the Min/Max Density, Illumination and Reflected Ambient Light the SCU sends it (`DensityModel`);
without a Min/Max Density to send, the printer's own is unknown and the refusal stands, reported.

A colour image with an ICC Profile refused (0105 or 0106) goes converted to sRGB
(render/color_management.py, as the renderer does for the page), after its polarity, with Polarity NORMAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.model.presentation_lut import us_words
from printserver.render.color_management import to_srgb
from printserver.render.gsdf import density_to_p, lin_od_density
from printserver.render.tone import p_values

#: The burnt image's depth: the finest a grayscale image box takes
BITS = 12


@dataclass(frozen=True)
class DensityModel:
    """What the printer maps a box's P-values with (PS3.14 §7.2): Min/Max Density in hundredths of OD as
    sent for the box (its own, else the film box's), the film box's Illumination and Reflected Ambient Light
    (DICOM's defaults 2000 and 10 cd/m² when not sent)."""

    min_density: int
    max_density: int
    illumination: float = 2000.0
    ambient: float = 10.0


def as_plut(lut: Dataset) -> dict[str, Any] | None:
    """A Presentation LUT N-CREATE data set as render/tone.py's dict (None: no shape this SCU knows)."""
    if "PresentationLUTSequence" in lut:
        item = lut.PresentationLUTSequence[0]
        return {"bits": int(us_words(item.LUTDescriptor)[2]), "data": us_words(item.LUTData)}
    shape = lut.get("PresentationLUTShape")
    return {"shape": shape} if shape in ("IDENTITY", "LIN OD") else None


def burn(image: GrayscaleImage, polarity: str | None, lut: Dataset,
         model: DensityModel | None = None) -> tuple[GrayscaleImage, str | None] | None:
    """(the image to send, its Polarity) with `lut` applied; None when it cannot be (LIN OD without `model`)."""
    plut = as_plut(lut)
    if plut is None or (plut.get("shape") == "LIN OD" and model is None):
        return None
    if plut.get("shape") == "IDENTITY":
        return image, polarity
    top = (1 << image.bits_stored) - 1
    v = image.pixels.astype(np.float64)
    if (image.photometric_interpretation == "MONOCHROME1") != (polarity == "REVERSE"):
        v = top - v
    if model is not None and plut.get("shape") == "LIN OD":
        dmin, dmax = model.min_density / 100, model.max_density / 100
        density = lin_od_density(v, image.bits_stored, min_density=dmin, max_density=dmax)
        p, bits = density_to_p(density, BITS, min_density=dmin, max_density=dmax, illumination=model.illumination,
                               ambient=model.ambient), BITS
    else:
        p, bits = p_values(v, image.bits_stored, plut)
    scaled = np.rint(p * ((1 << BITS) - 1) / ((1 << bits) - 1)).astype(np.uint16)
    return GrayscaleImage(scaled, BITS, "MONOCHROME2", image.pixel_aspect_ratio), "NORMAL"


def to_page_rgb(image: ColorImage, polarity: str | None) -> tuple[ColorImage, str | None]:
    """(the image in sRGB without its profile, its Polarity) for a printer refusing ICC Profile."""
    pixels = 255 - image.pixels if polarity == "REVERSE" else image.pixels
    return ColorImage(to_srgb(pixels, image.icc_profile), image.pixel_aspect_ratio), "NORMAL"

