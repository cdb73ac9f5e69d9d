"""Basic Grayscale and Color Image Box (PS3.4 H.4.3): N-SET puts one image (or none) into its box.

An image box value that is not set falls back to its film box's (`effective`); how big the image
prints (and the B604/B609/B60A/C603 it earns) is `fit`, shared with the film box Print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.tag import Tag

from printserver import uids
from printserver.errors import PrintError
from printserver.layout import mm_to_px
from printserver.model import attributes as A
from printserver.model import memory, presentation_lut
from printserver.model.color import COLOR_IMAGE_BOX, ColorImage, parse_color_item
from printserver.model.common import answer, findings
from printserver.model.messages import Request, Response
from printserver.model.pixels import GrayscaleImage, identifying_attributes, parse_grayscale_item
from printserver.model.sizing import Fit, fit_image
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.film_box import FilmBox
    from printserver.model.session import PrintSession

_IMAGE_BOX_POSITION = 0x20200010
_DECIMATE_CROP = 0x20200040


@dataclass
class ImageBox:
    sop_instance_uid: str
    position: int
    image: GrayscaleImage | ColorImage | None = None
    #: Only what the SCU set; unset values fall back to the film box (`effective`).
    attributes: dict[str, Any] = field(default_factory=dict)
    #: Patient/study attributes of the image item beside the pixels (model.pixels.identifying_attributes).
    source_attributes: dict[str, str] = field(default_factory=dict)


def effective(ib: ImageBox, fb: FilmBox, keyword: str) -> Any:
    """The value in force for an image box: its own, else its film box's (PS3.4 H.4.3.1)."""
    return ib.attributes.get(keyword, fb.attributes[keyword])


def sop_class(s: PrintSession, req: Request) -> str:
    """Grayscale or color image boxes: the meta of the film box's context, else the session's (H.3.2.2)."""
    assert s.film_session is not None
    for context in (req.context_sop_class_uid, s.film_session.context_sop_class_uid):
        if context == uids.BASIC_COLOR_PRINT_MANAGEMENT_META:
            return uids.BASIC_COLOR_IMAGE_BOX
        if context == uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META:
            return uids.BASIC_GRAYSCALE_IMAGE_BOX
    # Component classes negotiated on their own: the image box class that was negotiated.
    if uids.BASIC_COLOR_IMAGE_BOX in s.negotiated and uids.BASIC_GRAYSCALE_IMAGE_BOX not in s.negotiated:
        return uids.BASIC_COLOR_IMAGE_BOX
    return uids.BASIC_GRAYSCALE_IMAGE_BOX


def fit(s: PrintSession, film_box: FilmBox, ib: ImageBox) -> Fit:
    """How the image prints in its box (model.sizing): the status the SCU is told."""
    fb = film_box.attributes
    assert ib.image is not None
    rect = film_box.rects[ib.position - 1]  # as laid out at N-CREATE (any display format kind)
    dpi = s.profile.resolution_dpi[fb["RequestedResolutionID"]]
    box_w = mm_to_px(rect.x + rect.width, dpi) - mm_to_px(rect.x, dpi)
    box_h = mm_to_px(rect.y + rect.height, dpi) - mm_to_px(rect.y, dpi)
    size = ib.attributes.get("RequestedImageSize")
    v, h = ib.image.pixel_aspect_ratio
    return fit_image(ib.image.columns, ib.image.rows, v / h, box_w, box_h,
                     magnification=effective(ib, film_box, "MagnificationType"),
                     requested_width_px=size * dpi / 25.4 if size else None,
                     behavior=ib.attributes.get("RequestedDecimateCropBehavior"))


def _values(s: PrintSession, req: Request, table: dict[str, A.Attr], sequence: str,
            where: str) -> tuple[ImageBox, A.Validated, Dataset | None]:
    """What grayscale and colour image box N-SETs share: the box, the checked values (sequence removed),
    and the one image item (None: an empty sequence clears the box)."""
    box: ImageBox = s.lookup(req)
    v = A.validate(req.dataset, table, s.profile, where=where, creating=True)
    if v.values["ImageBoxPosition"] != box.position:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"ImageBoxPosition {v.values['ImageBoxPosition']} is not this image box's "
                         f"position {box.position}", _IMAGE_BOX_POSITION, context=where)
    seq = v.values.pop(sequence)
    if len(seq) > 1:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{sequence} has {len(seq)} items, at most 1 allowed",
                         int(Tag(sequence)), context=where)
    return box, v, seq[0] if len(seq) else None


def set_grayscale(s: PrintSession, req: Request) -> Response:
    where = "Grayscale Image Box N-SET"
    box, v, item = _values(s, req, A.GRAYSCALE_IMAGE_BOX, "BasicGrayscaleImageSequence", where)
    image = parse_grayscale_item(item, s.profile, little_endian=req.little_endian, where=where) \
        if item is not None else None
    attributes = {k: val for k, val in v.values.items() if k != "ImageBoxPosition"}
    presentation_lut.resolve_reference(s, attributes, where)
    warnings = list(v.warnings)
    if image is not None:
        film_box = s.film_box_of(box)
        presentation_lut.check_match(s, presentation_lut.in_force(s, attributes, film_box.attributes),
                                     image.bits_stored, where)
        result = fit(s, film_box, ImageBox(box.sop_instance_uid, box.position, image, attributes))
        if result.status is Status.IMAGE_LARGER_THAN_BOX:
            raise PrintError(Status.IMAGE_LARGER_THAN_BOX,
                             "RequestedDecimateCropBehavior FAIL: image larger than its image box",
                             _DECIMATE_CROP, context=where)
        if result.status is not None:
            warnings.insert(0, result.status)
    if image is not None:
        memory.admit(s, box, image, where)
    box.image = image
    box.attributes = attributes
    box.source_attributes = identifying_attributes(item)
    s.film_box_of(box).findings += findings(v, f"{where} {box.position}")
    return answer(v, warnings=warnings)


def set_color(s: PrintSession, req: Request) -> Response:
    where = "Color Image Box N-SET"
    box, v, item = _values(s, req, COLOR_IMAGE_BOX, "BasicColorImageSequence", where)
    image = parse_color_item(item, s.profile, little_endian=req.little_endian, where=where) \
        if item is not None else None
    if image is not None:
        memory.admit(s, box, image, where)
    box.image = image
    box.attributes = {k: val for k, val in v.values.items() if k != "ImageBoxPosition"}
    box.source_attributes = identifying_attributes(item)
    s.film_box_of(box).findings += findings(v, f"{where} {box.position}")
    return answer(v)
