"""ICC colour management of colour image boxes: pixels sent in the colour space their ICC Profile names are
converted to sRGB, the page's space (a colour film's DeviceRGB is shown as sRGB), by littleCMS (Pillow's
ImageCms, already a dependency through Pillow's wheels: no colour maths of our own).

Relative colorimetric intent: colours the page can show stay exactly as the profile defines them, the rest
are clipped to the page's gamut; for the matrix/TRC display profiles modalities embed, perceptual would be
the same transform (they carry no perceptual tables).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _transform(profile: bytes) -> Any:
    """One transform per distinct profile (a film's boxes mostly share one); None: littleCMS cannot use it.
    ImageCms is imported here: render workers of grayscale films never load it."""
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(BytesIO(profile))
        return ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), "RGB", "RGB",
                                       renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        log.warning("an image box's ICC Profile (%d bytes) cannot be used, its RGB is printed as sRGB: %s",
                    len(profile), exc)
        return None


def to_srgb(rgb: np.ndarray, profile: bytes | None) -> np.ndarray:
    """(rows, columns, 3) uint8 in `profile`'s space -> sRGB; unchanged without a (usable) profile."""
    transform = _transform(profile) if profile else None
    if transform is None:
        return rgb
    from PIL import ImageCms

    image = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb), mode="RGB"), transform)
    return np.asarray(image)
