"""How big an image prints in its box: Magnification Type, Requested Image Size, Decimate/Crop (PS3.3 C.13.5).

Pure arithmetic in printer pixels, shared by the model (the B604/B609/B60A warnings and the C603
failure at image box N-SET and Print) and the composer (where the pixels land), so what the SCU is
told and what is printed cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from printserver.status import Status

#: Printed size may exceed the box by this much (rounding of mm to printer pixels) and still fit.
TOLERANCE_PX = 0.5


@dataclass(frozen=True)
class Fit:
    """The printed image: its size in printer pixels, the part of the image used, and what the SCU hears."""

    width: int
    height: int
    #: Image columns / rows printed (centred): less than the image's only when cropped.
    used_columns: int
    used_rows: int
    #: B604 demagnified, B60A decimated, B609 cropped, C603 does not fit and FAIL was requested; None: as asked.
    status: Status | None = None


def fit_image(columns: int, rows: int, aspect: float, box_w: int, box_h: int, *, magnification: str,
              requested_width_px: float | None = None, behavior: str | None = None) -> Fit:
    """Size of an image of `columns` x `rows` (pixel height/width `aspect`) in a `box_w` x `box_h` box.

    Without Requested Image Size the image fills the box (aspect kept), except Magnification NONE:
    one image pixel per printer pixel. An image that would not fit is decimated (DECIMATE, the
    default: B60A when requested, B604 when not), cropped around its centre (CROP: B609) or refused
    (FAIL: C603).
    """
    fit_scale = min(box_w / columns, box_h / (rows * aspect))
    if requested_width_px is not None:
        scale = requested_width_px / columns
    elif magnification == "NONE":
        scale = 1.0
    else:
        scale = fit_scale
    too_big = columns * scale > box_w + TOLERANCE_PX or rows * aspect * scale > box_h + TOLERANCE_PX
    status = None
    used_c, used_r = columns, rows
    if too_big:
        if behavior == "FAIL":
            status = Status.IMAGE_LARGER_THAN_BOX
        elif behavior == "CROP":
            status = Status.IMAGE_CROPPED
            used_c = max(1, min(columns, int(box_w / scale + 1e-9)))
            used_r = max(1, min(rows, int(box_h / (scale * aspect) + 1e-9)))
        else:
            status = Status.IMAGE_DECIMATED if behavior == "DECIMATE" else Status.IMAGE_DEMAGNIFIED
            scale = fit_scale
    width = max(1, min(box_w, round(used_c * scale)))
    height = max(1, min(box_h, round(used_r * aspect * scale)))
    return Fit(width, height, used_c, used_r, status)
