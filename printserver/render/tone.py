"""The one place that maps P-values and optical densities to output gray levels.

For now the mapping is linear: P-value 0 (darkest) -> Max Density -> gray 0, the highest P-value ->
Min Density -> gray 255; a density between the two maps linearly. The density-true PS3.14 GSDF
mapping replaces these functions without touching the composer.
"""

from __future__ import annotations

import numpy as np


def gray_lut(bits_stored: int, *, invert: bool, min_density: int, max_density: int) -> np.ndarray:
    """Lookup table: stored value -> output gray (uint8), with polarity / MONOCHROME1 applied.

    `invert` is true when exactly one of MONOCHROME1 and Polarity REVERSE holds (digest §6 step 1).
    Min/Max Density (hundredths OD) are part of the signature because the GSDF mapping needs them.
    """
    top = (1 << bits_stored) - 1
    p = np.arange(top + 1, dtype=np.float64)
    if invert:
        p = top - p
    return np.rint(p * (255.0 / top)).astype(np.uint8)


def density_gray(density: str, *, min_density: int, max_density: int) -> int:
    """Gray level of a Border / Empty Image Density: BLACK, WHITE or hundredths of OD."""
    if density == "BLACK":
        return 0
    if density == "WHITE":
        return 255
    od = int(density)
    if max_density <= min_density:
        return 0
    fraction = (max_density - min(max(od, min_density), max_density)) / (max_density - min_density)
    return round(255 * fraction)
