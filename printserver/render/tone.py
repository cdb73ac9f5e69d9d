"""The one place that maps stored values and optical densities to the page's gray (digest §6, PS3.14).

Chain: stored value -> polarity / MONOCHROME1 -> Presentation LUT (or a configured curve) -> P-value
-> optical density D (GSDF, `render.gsdf`) -> page gray. The page gray is chosen so that a display
(or paper) shows the luminance *ratios* the film would show on its light box:

    Y = (La + L0·10^(−D)) / (La + L0·10^(−Dref))        relative luminance, 1 = page white
    code = round(65535 · sRGB(Y))                        16-bit DeviceGray, sRGB transfer curve

L0/La are the film box's Illumination / Reflected Ambient Light, Dref the lowest Min Density on the
film (the clearest film the printer would lay down is the page's white). 16 bits because near Max
Density an 8-bit code step is ~0.1 OD, while a QA reading needs ±0.02 OD; 16 bits resolve better
than 0.01 OD up to 4.0 OD. `OutputModel.decode` is the documented inverse: page gray -> OD.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from printserver.render.gsdf import film_luminance, lin_od_density, p_to_density

if TYPE_CHECKING:
    from printserver.model.spooled_job import FilmJob

CODE_MAX = 65535  # 16-bit page gray
#: Page gray encodings a PDF records (`DICOMGrayscaleModel.encoding`) -> their largest code.
ENCODINGS = {"sRGB-16": CODE_MAX, "sRGB-8": 255}
#: 16-bit page gray -> the nearest 8-bit code of the same sRGB scale (a printer's `pdf_bits = 8`).
_TO_8BIT = ((np.arange(CODE_MAX + 1, dtype=np.uint32) * 255 + CODE_MAX // 2) // CODE_MAX).astype(np.uint8)


def srgb_encode(y: npt.ArrayLike) -> np.ndarray:
    """IEC 61966-2-1 transfer function: relative luminance 0..1 -> encoded value 0..1."""
    y = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(y, 1 / 2.4) - 0.055)


def srgb_decode(v: npt.ArrayLike) -> np.ndarray:
    v = np.clip(np.asarray(v, dtype=np.float64), 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))


@dataclass(frozen=True)
class OutputModel:
    """How densities become page gray for one film (recorded in the PDF so a reader can invert it)."""

    illumination: float  # L0, cd/m²
    reflected_ambient_light: float  # La, cd/m²
    reference_density: float  # OD shown as page white
    encoding: str = "sRGB-16"

    @property
    def white_luminance(self) -> float:
        return float(film_luminance(self.reference_density, self.illumination, self.reflected_ambient_light))

    def encode(self, density: npt.ArrayLike) -> np.ndarray:
        """OD -> 16-bit page gray."""
        y = film_luminance(density, self.illumination, self.reflected_ambient_light) / self.white_luminance
        return np.rint(srgb_encode(y) * CODE_MAX).astype(np.uint16)

    def decode(self, code: npt.ArrayLike) -> np.ndarray:
        """Page gray in this model's encoding (16 or 8 bits) -> OD: what a densitometer would read on the film."""
        lum = srgb_decode(np.asarray(code, dtype=np.float64) / ENCODINGS[self.encoding]) * self.white_luminance
        excess = np.maximum(lum - self.reflected_ambient_light, 1e-12)
        return -np.log10(excess / self.illumination)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_8bit(gray: np.ndarray) -> np.ndarray:
    """16-bit page gray -> 8-bit page gray (`sRGB-8`): the same curve, codes rounded to 255 steps.

    Near Max Density one 8-bit step is ~0.14 OD (L0 2000, La 10 cd/m², 3.0 OD); the recorded model
    then decodes the 8-bit code, so a density read back is the one the page holds.
    """
    return _TO_8BIT[gray]


def output_model(film: FilmJob) -> OutputModel:
    """The film's model: its L0/La (defaults 2000/10 cd/m²), white = lowest Min Density on the film."""
    fb = film.attributes
    mins = [int(fb["MinDensity"])] + [b.min_density for b in film.image_boxes if b.image is not None]
    return OutputModel(float(fb.get("Illumination", 2000)), float(fb.get("ReflectedAmbientLight", 10)),
                       min(mins) / 100)


def stored_to_density(bits_stored: int, *, invert: bool, min_density: int, max_density: int,
                      illumination: float, ambient: float, plut: dict[str, Any] | None = None) -> np.ndarray:
    """OD for every stored value 0..2^bits−1 (float64), through polarity and the Presentation LUT.

    `plut`: None or {"shape": "IDENTITY"} (P = v), {"shape": "LIN OD"} (v linear in OD),
    {"gamma": g} (a configured curve: P = top·(v/top)^g) or {"bits": N, "data": [...]} (a table with
    2^bits_stored entries; another length is rescaled onto the stored range).
    """
    top = (1 << bits_stored) - 1
    v = np.arange(top + 1, dtype=np.float64)
    if invert:
        v = top - v
    dmin, dmax = min_density / 100, max_density / 100
    plut = plut or {"shape": "IDENTITY"}
    if plut.get("shape") == "LIN OD":
        return lin_od_density(v, bits_stored, min_density=dmin, max_density=dmax)
    p, bits = p_values(v, bits_stored, plut)
    return p_to_density(p, bits, min_density=dmin, max_density=dmax, illumination=illumination, ambient=ambient)


def p_values(v: np.ndarray, bits_stored: int, plut: dict[str, Any]) -> tuple[np.ndarray, int]:
    """P-values (float64) and their bit depth for values `v` after polarity, through a table, a configured
    curve or IDENTITY (not LIN OD: that one maps to density directly). Shared with the SCU, which burns a
    box's table into its pixels for a printer without image box Presentation LUTs (scu/burn_lut.py)."""
    top = (1 << bits_stored) - 1
    if "data" in plut:
        table = np.asarray(plut["data"], dtype=np.float64)
        index = np.rint(v * (len(table) - 1) / top).astype(np.int64)
        return table[index], int(plut["bits"])
    if "gamma" in plut:
        return top * np.power(v / top, float(plut["gamma"])), bits_stored
    return v, bits_stored


def gray_lut(bits_stored: int, *, invert: bool, min_density: int, max_density: int, model: OutputModel,
             plut: dict[str, Any] | None = None) -> np.ndarray:
    """Lookup table: stored value -> 16-bit page gray (uint16); `invert` = exactly one of MONOCHROME1, REVERSE.

    The boxes of a film mostly share one table: it is computed once per distinct set of arguments
    (a film's GSDF mapping was ~6 % of its composition when every box computed its own). Read-only.
    """
    key = json.dumps(plut, sort_keys=True) if plut else ""
    return _gray_lut(bits_stored, invert, min_density, max_density, model, key)


@lru_cache(maxsize=64)
def _gray_lut(bits_stored: int, invert: bool, min_density: int, max_density: int, model: OutputModel,
              plut_key: str) -> np.ndarray:
    d = stored_to_density(bits_stored, invert=invert, min_density=min_density, max_density=max_density,
                          illumination=model.illumination, ambient=model.reflected_ambient_light,
                          plut=json.loads(plut_key) if plut_key else None)
    lut = model.encode(d)
    lut.flags.writeable = False
    return lut


def density_od(density: str, *, min_density: int, max_density: int) -> float:
    """Border / Empty Image Density in OD: BLACK = Max Density, WHITE = Min Density, else hundredths of OD."""
    if density == "BLACK":
        return max_density / 100
    if density == "WHITE":
        return min_density / 100
    return int(density) / 100


def density_gray(density: str, *, min_density: int, max_density: int, model: OutputModel) -> int:
    """Page gray of a Border / Empty Image Density."""
    return int(model.encode(density_od(density, min_density=min_density, max_density=max_density)))
