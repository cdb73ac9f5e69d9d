"""Benchmarks only: the composer's GSDF table as it was before issue 12, computed for every image box
(render.tone.gray_lut now computes it once per distinct box setting)."""

from __future__ import annotations

from typing import Any

import numpy as np

from printserver.render.tone import OutputModel, stored_to_density


def gray_lut(bits_stored: int, *, invert: bool, min_density: int, max_density: int, model: OutputModel,
             plut: dict[str, Any] | None = None) -> np.ndarray:
    return model.encode(stored_to_density(bits_stored, invert=invert, min_density=min_density,
                                          max_density=max_density, illumination=model.illumination,
                                          ambient=model.reflected_ambient_light, plut=plut))
