"""Basic Film Box (PS3.4 H.4.2): N-CREATE lays out its image (and annotation) boxes, N-SET, Print, N-DELETE.

The lifecycle (a film session exists, only the last film box, C616) is decided in session.TRANSITIONS
before these run; here the data set is checked and the answer made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from printserver import uids
from printserver.errors import PrintError
from printserver.formats import AnnotationFormat
from printserver.layout import DisplayFormat, Rect, film_dimensions, image_box_rects, parse_display_format
from printserver.model import attributes as A
from printserver.model import image_box, presentation_lut
from printserver.model.annotation import FILM_BOX_WITH_ANNOTATION, AnnotationBox
from printserver.model.common import (
    FILM_BOX_ECHO,
    answer,
    dataset,
    echo_plut_reference,
    findings,
    references,
    require_no_data,
    require_print_action,
)
from printserver.model.image_box import ImageBox
from printserver.model.messages import Request, Response
from printserver.model.snapshot import print_response
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.session import PrintSession

#: Recommended viewing of reflective media (paper) when the SCU sends none: L0 150 cd/m², La 0 (PS3.14).
REFLECTIVE_ILLUMINATION = 150
_REFERENCED_FILM_SESSION = 0x20100500
_IMAGE_DISPLAY_FORMAT = 0x20100010


@dataclass
class FilmBox:
    sop_instance_uid: str
    display_format: DisplayFormat
    #: Complete: every attribute with the value in use (defaults applied).
    attributes: dict[str, Any]
    image_boxes: list[ImageBox]
    printed: bool = False
    #: Image box rectangles in mm (position order), resolved from the format and layout data at N-CREATE.
    rects: tuple[Rect, ...] = ()
    annotation_format: AnnotationFormat | None = None
    annotation_boxes: list[AnnotationBox] = field(default_factory=list)
    #: Printer-defined values replaced on this film box or its image boxes (lenient printers).
    findings: list[str] = field(default_factory=list)
    #: Printed, then its images let go to bound the session's memory (film_box._make_room).
    released: bool = False

    @property
    def has_image(self) -> bool:
        return any(box.image is not None for box in self.image_boxes)


def _make_room(s: PrintSession, boxes: list[FilmBox], where: str) -> None:
    """Bound the pixels one film session holds before a new film box joins it.

    Without film session printing a printed film box that a new one supersedes can never print again
    (only the last film box prints, PS3.4 H.4.2), so its images are let go. With it, at most
    `max_collated_films` film boxes hold images for a film session Print (what Printer Configuration
    Retrieval reports): at that limit the oldest *printed* box lets go of its images (it printed
    already; a later film session Print leaves it out and says so), and a session of that many
    unprinted film boxes is refused 0213, never grown without bound.
    """
    if not s.profile.session_print:
        for fb in boxes:
            if fb.printed:
                _release_images(fb)
        return
    holding = [fb for fb in boxes if fb.has_image]
    if len(holding) < s.profile.max_collated_films:
        return
    printed = [fb for fb in holding if fb.printed]
    if not printed:
        raise PrintError(Status.RESOURCE_LIMITATION,
                         f"the film session holds {len(holding)} unprinted film boxes, the most this printer "
                         f"collates (Maximum Collated Films {s.profile.max_collated_films}): print the film "
                         f"session or delete film boxes first", context=where)
    _release_images(printed[0])


def _release_images(fb: FilmBox) -> None:
    for ib in fb.image_boxes:
        ib.image = None
    fb.released = True


def create(s: PrintSession, req: Request) -> Response:
    where = "Film Box N-CREATE"
    annotating = uids.BASIC_ANNOTATION_BOX in s.negotiated
    table = FILM_BOX_WITH_ANNOTATION if annotating else A.FILM_BOX
    v = A.validate(req.dataset, table, s.profile, where=where, creating=True)
    session = s.film_session
    assert session is not None  # session.TRANSITIONS: no film box without a film session
    ref = v.values["ReferencedFilmSessionSequence"]
    ref_uid = ref[0].get("ReferencedSOPInstanceUID") if len(ref) == 1 else None
    if len(ref) != 1 or ref_uid != session.sop_instance_uid:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"ReferencedFilmSessionSequence must hold one item "
                         f"referencing film session {session.sop_instance_uid}", _REFERENCED_FILM_SESSION,
                         context=where)
    ref_class = ref[0].get("ReferencedSOPClassUID")
    if ref_class not in (None, "", uids.BASIC_FILM_SESSION):
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"ReferencedFilmSessionSequence names class {ref_class}, not Basic Film Session",
                         _REFERENCED_FILM_SESSION, context=where)
    presentation_lut.resolve_reference(s, v.values, where)
    _make_room(s, session.film_boxes, where)
    uid = s.new_instance_uid(req)
    fmt = parse_display_format(v.values["ImageDisplayFormat"])
    annotation = s.layouts.annotation_formats.get(v.values.get("AnnotationDisplayFormatID", ""))
    width, height = film_dimensions(v.values["FilmSizeID"], v.values["FilmOrientation"], s.layouts)
    try:
        rects = image_box_rects(fmt, width, height, margin=s.layouts.margin_mm, gap=s.layouts.gap_mm,
                                display_formats=s.layouts.display_formats, annotation=annotation)
    except ValueError as exc:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"ImageDisplayFormat '{fmt}' {exc} ({v.values['FilmSizeID']} "
                         f"{v.values['FilmOrientation']})", _IMAGE_DISPLAY_FORMAT, context=where) from None
    if len(rects) > s.profile.max_image_boxes:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"ImageDisplayFormat '{fmt}' has {len(rects)} image boxes, this printer's "
                         f"maximum is {s.profile.max_image_boxes}", _IMAGE_DISPLAY_FORMAT, context=where)
    image_box_class = image_box.sop_class(s, req)
    image_boxes = [ImageBox(uids.new_uid(), position) for position in range(1, len(rects) + 1)]
    annotation_boxes = [AnnotationBox(uids.new_uid(), position)
                        for position in range(1, len(annotation.boxes) + 1)] if annotation else []
    values = {k: val for k, val in v.values.items() if k != "ReferencedFilmSessionSequence"}
    for kw, reflective in (("Illumination", REFLECTIVE_ILLUMINATION), ("ReflectedAmbientLight", 0)):
        if req.dataset is not None and kw in req.dataset:
            continue
        if kw in session.attributes:  # pre-CP-173: set on the film session
            values[kw] = session.attributes[kw]
        elif session.attributes.get("MediumType") == "PAPER":  # reflective: PS3.14 §7.3 viewing
            values[kw] = reflective
    box = FilmBox(uid, fmt, values, image_boxes, rects=tuple(rects), annotation_format=annotation,
                  annotation_boxes=annotation_boxes, findings=findings(v, where))
    session.film_boxes.append(box)
    s.instances[uid] = (uids.BASIC_FILM_BOX, box)
    for ib in image_boxes:
        s.instances[ib.sop_instance_uid] = (image_box_class, ib)
    for ab in annotation_boxes:
        s.instances[ab.sop_instance_uid] = (uids.BASIC_ANNOTATION_BOX, ab)

    ds = dataset(values, FILM_BOX_ECHO)
    echo_plut_reference(ds, values)
    ds.ReferencedFilmSessionSequence = references(uids.BASIC_FILM_SESSION, [session.sop_instance_uid])
    ds.ReferencedImageBoxSequence = references(image_box_class, [ib.sop_instance_uid for ib in image_boxes])
    if annotating:
        ds.ReferencedBasicAnnotationBoxSequence = references(
            uids.BASIC_ANNOTATION_BOX, [ab.sop_instance_uid for ab in annotation_boxes])
    return answer(v, ds, created_instance_uid=None if req.sop_instance_uid else uid)


def set_(s: PrintSession, req: Request) -> Response:
    box: FilmBox = s.lookup(req)
    where = "Film Box N-SET"
    v = A.validate(req.dataset, A.FILM_BOX, s.profile, where=where, creating=False, settable=A.FILM_BOX_SETTABLE)
    presentation_lut.resolve_reference(s, v.values, where)
    if "ReferencedPresentationLUTSequence" in v.values:
        for ib in box.image_boxes:
            if ib.image is not None:
                plut = presentation_lut.in_force(s, ib.attributes, v.values)
                presentation_lut.check_match(s, plut, ib.image.bits_stored, where)
    box.attributes.update(v.values)
    box.findings += findings(v, where)
    ds = dataset(v.values, FILM_BOX_ECHO)
    echo_plut_reference(ds, v.values)
    return answer(v, ds)


def print_(s: PrintSession, req: Request) -> Response:
    box: FilmBox = s.lookup(req)
    require_print_action(req)
    if not box.has_image:
        return Response(Status.EMPTY_PAGE_FILM_BOX,
                        error_comment="no image box of the film box holds an image: nothing printed")
    assert s.film_session is not None
    fits = [image_box.fit(s, box, ib) for ib in box.image_boxes if ib.image is not None]
    warnings = [f.status for f in fits if f.status is not None]
    return print_response(s, s.film_session, [box], warnings, Status.PRINT_QUEUE_FULL_FILM_BOX)


def delete(s: PrintSession, req: Request) -> Response:
    box: FilmBox = s.lookup(req)
    require_no_data(req, "N-DELETE")
    assert s.film_session is not None
    s.film_session.film_boxes.remove(box)
    del s.instances[box.sop_instance_uid]
    for ib in box.image_boxes:
        s.instances.pop(ib.sop_instance_uid, None)
    for ab in box.annotation_boxes:
        s.instances.pop(ab.sop_instance_uid, None)
    return Response(Status.SUCCESS)

