"""PS3.14 Grayscale Standard Display Function: P-values -> optical density for hardcopy (digest §6).

Pure numpy. `p_to_density` is PS3.14 §7.2 (transmissive film on a light box of luminance L0 with
reflected ambient light La): P-values are equally spaced in JND index j between the luminances of
Max and Min Density, so equal P steps look equally different on the light box.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# PS3.14 §7.1: L(j), x = ln j
_A, _B, _C, _D, _E = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1, 1.3646699e-1
_F, _G, _H, _K, _M = 2.8745620e-2, -2.5468404e-2, -3.1978977e-3, 1.2992634e-4, 1.3635334e-3
# PS3.14 §7.1: j(L), y = log10 L
_J = (71.498068, 94.593053, 41.912053, 9.8247004, 0.28175407, -1.1878455, -0.18014349, 0.14710899, -0.017046845)

JND_MIN, JND_MAX = 1.0, 1023.0

Floats = npt.NDArray[np.float64]


def luminance(j: npt.ArrayLike) -> Floats:
    """L(j) in cd/m² for JND index j (1..1023)."""
    x = np.log(np.asarray(j, dtype=np.float64))
    num = _A + _C * x + _E * x**2 + _G * x**3 + _M * x**4
    den = 1 + _B * x + _D * x**2 + _F * x**3 + _H * x**4 + _K * x**5
    return np.power(10.0, num / den)


def jnd_index(lum: npt.ArrayLike) -> Floats:
    """j(L): the JND index of luminance L (cd/m²); the fit is not the exact inverse of `luminance`."""
    y = np.log10(np.asarray(lum, dtype=np.float64))
    return np.polynomial.polynomial.polyval(y, _J)


def film_luminance(density: npt.ArrayLike, illumination: float, ambient: float) -> Floats:
    """Luminance of film of optical density D on a light box: La + L0·10^(−D) (PS3.14 §7.2)."""
    return ambient + illumination * np.power(10.0, -np.asarray(density, dtype=np.float64))


def p_to_density(p: npt.ArrayLike, bits: int, *, min_density: float, max_density: float,
                 illumination: float, ambient: float) -> Floats:
    """Optical density of P-value(s) `p` (0 darkest .. 2^bits−1 lightest); densities in OD, not hundredths."""
    top = (1 << bits) - 1
    j_min = jnd_index(film_luminance(max_density, illumination, ambient))
    j_max = jnd_index(film_luminance(min_density, illumination, ambient))
    j = j_min + np.asarray(p, dtype=np.float64) * (j_max - j_min) / top
    lum = luminance(np.clip(j, JND_MIN, JND_MAX))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = -np.log10(np.maximum(lum - ambient, 1e-12) / illumination)
    return np.clip(d, min_density, max_density)


def lin_od_density(v: npt.ArrayLike, bits: int, *, min_density: float, max_density: float) -> Floats:
    """Presentation LUT Shape LIN OD: input linear in OD, 0 -> Min Density, 2^bits−1 -> Max Density."""
    top = (1 << bits) - 1
    return min_density + (max_density - min_density) * np.asarray(v, dtype=np.float64) / top


def density_to_p(density: npt.ArrayLike, bits: int, *, min_density: float, max_density: float,
                 illumination: float, ambient: float) -> Floats:
    """The P-values (0..2^bits−1, unrounded) a printer maps to `density` with these Min/Max Density,
    Illumination and Reflected Ambient Light: `p_to_density`'s inverse (through j(L), the standard's fit)."""
    top = (1 << bits) - 1
    j_dark = jnd_index(film_luminance(max_density, illumination, ambient))
    j_light = jnd_index(film_luminance(min_density, illumination, ambient))
    d = np.clip(np.asarray(density, dtype=np.float64), min_density, max_density)
    j = jnd_index(film_luminance(d, illumination, ambient))
    return np.clip((j - j_dark) * top / (j_light - j_dark), 0, top)

