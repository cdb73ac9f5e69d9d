"""One association's Print Management state: routes each request, enforces the lifecycle rules.

Rules (PS3.4 H.4, digest §2): one film session per association and before any film box; only the
last created film box can be set or printed; a new film box while one is unprinted needs film
session printing (else C616); Print snapshots the hierarchy into a PrintJob the caller spools.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.formats import annotation_rects, image_box_rects
from printserver.layout import LayoutData, film_dimensions, parse_display_format
from printserver.model import attributes as A
from printserver.model.annotation import ANNOTATION_BOX, FILM_BOX_WITH_ANNOTATION, AnnotationBox
from printserver.model.color import COLOR_IMAGE_BOX, parse_color_item
from printserver.model.job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.model.messages import Op, Request, Response
from printserver.model.objects import FilmBox, FilmSession, ImageBox
from printserver.model.pixels import parse_grayscale_item
from printserver.model.printer import printer_attributes
from printserver.status import Category, Status

log = logging.getLogger(__name__)

PRINT_ACTION = 1  # Action Type ID of Print (PS3.4 H.4.1.2.4, H.4.2.2.4)

#: Film box attributes echoed in N-CREATE / N-SET responses (the values actually used).
FILM_BOX_ECHO = (
    "ImageDisplayFormat", "FilmOrientation", "FilmSizeID", "MagnificationType", "SmoothingType",
    "BorderDensity", "EmptyImageDensity", "MinDensity", "MaxDensity", "Trim", "ConfigurationInformation",
    "RequestedResolutionID", "Illumination", "ReflectedAmbientLight", "AnnotationDisplayFormatID",
)  # fmt: skip
FILM_SESSION_ECHO = (
    "NumberOfCopies", "PrintPriority", "MediumType", "FilmDestination", "FilmSessionLabel", "OwnerID",
)  # fmt: skip


def _pick_warning(warnings: list[Status]) -> Status:
    """One status per response: a print-specific warning outranks the generic attribute-list one."""
    specific = [w for w in warnings if w >= 0xB000]
    if specific:
        return specific[0]
    return warnings[0] if warnings else Status.SUCCESS


def _dataset(values: dict[str, Any], keywords: tuple[str, ...]) -> Dataset:
    ds = Dataset()
    for kw in keywords:
        value = values.get(kw)
        if value is not None and value != "":
            setattr(ds, kw, value)
    return ds


class PrintAssociation:
    """The SCP side of Print Management for one association: `handle(Request) -> Response`."""

    def __init__(
        self,
        profile: PrinterProfile,
        layouts: LayoutData,
        *,
        calling_ae: str = "",
        called_ae: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        negotiated: frozenset[str] = frozenset(),
    ) -> None:
        self.profile = profile
        self.layouts = layouts
        self.calling_ae = calling_ae
        self.called_ae = called_ae or profile.ae_title
        self.clock = clock
        #: Abstract syntaxes accepted on this association (Basic Annotation Box decides annotation boxes).
        self.negotiated = negotiated
        self.film_session: FilmSession | None = None
        self._instances: dict[str, tuple[str, Any]] = {}
        self._films_printed = 0
        self._routes: dict[tuple[str, Op], Callable[[Request], Response]] = {
            (uids.BASIC_FILM_SESSION, Op.N_CREATE): self._film_session_create,
            (uids.BASIC_FILM_SESSION, Op.N_SET): self._film_session_set,
            (uids.BASIC_FILM_SESSION, Op.N_ACTION): self._film_session_action,
            (uids.BASIC_FILM_SESSION, Op.N_DELETE): self._film_session_delete,
            (uids.BASIC_FILM_BOX, Op.N_CREATE): self._film_box_create,
            (uids.BASIC_FILM_BOX, Op.N_SET): self._film_box_set,
            (uids.BASIC_FILM_BOX, Op.N_ACTION): self._film_box_action,
            (uids.BASIC_FILM_BOX, Op.N_DELETE): self._film_box_delete,
            (uids.BASIC_GRAYSCALE_IMAGE_BOX, Op.N_SET): self._image_box_set,
            (uids.BASIC_COLOR_IMAGE_BOX, Op.N_SET): self._color_image_box_set,
            (uids.BASIC_ANNOTATION_BOX, Op.N_SET): self._annotation_box_set,
            (uids.PRINTER, Op.N_GET): self._printer_get,
        }

    # --- entry point -------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            rsp = self._dispatch(req)
        except PrintError as exc:
            rsp = Response(exc.status, error_comment=exc.comment, error_context=exc.context,
                           offending_elements=(exc.offending,) if exc.offending is not None else ())
        if rsp.status.category is not Category.SUCCESS:
            level = logging.WARNING if rsp.status.category is Category.FAILURE else logging.INFO
            log.log(level, "%s %s %s from %s: 0x%04X %s%s", req.op.value, _class_name(req.sop_class_uid),
                    req.sop_instance_uid or "", self.calling_ae, rsp.status, rsp.status.text,
                    f" - {rsp.error_context + ': ' if rsp.error_context else ''}{rsp.error_comment}"
                    if rsp.error_comment else "")
        return rsp

    def release(self) -> None:
        """Association released or aborted: the implicit N-DELETE of everything it created."""
        self.film_session = None
        self._instances.clear()

    def _dispatch(self, req: Request) -> Response:
        allowed = uids.META_MEMBERS.get(req.context_sop_class_uid, frozenset({req.context_sop_class_uid}))
        if req.sop_class_uid not in allowed:
            raise PrintError(Status.NO_SUCH_SOP_CLASS,
                             f"SOP Class {req.sop_class_uid} is not supported on the presentation context of "
                             f"{_class_name(req.context_sop_class_uid)}")
        if req.sop_instance_uid is not None and not uids.is_valid_uid(req.sop_instance_uid):
            raise PrintError(Status.INVALID_OBJECT_INSTANCE,
                             f"SOP Instance UID '{req.sop_instance_uid[:80]}' is not a valid UID")
        route = self._routes.get((req.sop_class_uid, req.op))
        if route is None:
            raise PrintError(Status.UNRECOGNIZED_OPERATION,
                             f"{req.op.value} is not an operation of {_class_name(req.sop_class_uid)}")
        return route(req)

    # --- helpers -----------------------------------------------------------------------------------

    def _lookup(self, req: Request) -> Any:
        uid = req.sop_instance_uid
        if not uid or uid not in self._instances:
            raise PrintError(Status.NO_SUCH_OBJECT_INSTANCE,
                             f"{_class_name(req.sop_class_uid)} {uid or '(none)'} does not exist on this association")
        cls, obj = self._instances[uid]
        if cls != req.sop_class_uid:
            raise PrintError(Status.CLASS_INSTANCE_CONFLICT,
                             f"{uid} is a {_class_name(cls)}, not a {_class_name(req.sop_class_uid)}")
        return obj

    def _new_instance_uid(self, req: Request) -> str:
        uid = req.sop_instance_uid
        if uid is None:
            return uids.new_uid()
        if uid in self._instances:
            raise PrintError(Status.DUPLICATE_SOP_INSTANCE, f"SOP Instance {uid} already exists on this association")
        return uid

    def _last_film_box(self, req: Request) -> FilmBox:
        box = self._lookup(req)
        assert self.film_session is not None
        if self.film_session.film_boxes[-1] is not box:
            raise PrintError(Status.PROCESSING_FAILURE,
                             f"film box {box.sop_instance_uid} is not the last created film box: "
                             "only the last one can be changed or printed (PS3.4 H.4.2)")
        return box

    @staticmethod
    def _require_no_data(req: Request, what: str) -> None:
        if req.dataset is not None and len(req.dataset):
            first = next(iter(req.dataset)).tag
            raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"{what} takes no attributes, got {A.tag_name(first)}", first)

    def _require_print_action(self, req: Request) -> None:
        if req.action_type_id != PRINT_ACTION:
            raise PrintError(Status.NO_SUCH_ACTION_TYPE,
                             f"Action Type ID {req.action_type_id} is not defined; only 1 (Print) is")
        self._require_no_data(req, "N-ACTION Print")

    # --- Film Session ------------------------------------------------------------------------------

    def _film_session_create(self, req: Request) -> Response:
        if self.film_session is not None:
            raise PrintError(Status.DUPLICATE_SOP_INSTANCE,
                             f"a film session ({self.film_session.sop_instance_uid}) already exists: "
                             "one film session per association")
        uid = self._new_instance_uid(req)
        v = A.validate(req.dataset, A.FILM_SESSION, self.profile, where="Film Session N-CREATE", creating=True)
        self.film_session = FilmSession(uid, v.values, req.context_sop_class_uid)
        self._instances[uid] = (uids.BASIC_FILM_SESSION, self.film_session)
        return Response(_pick_warning(v.warnings), _dataset(v.values, FILM_SESSION_ECHO),
                        created_instance_uid=None if req.sop_instance_uid else uid,
                        attribute_identifiers=tuple(v.ignored))

    def _film_session_set(self, req: Request) -> Response:
        session: FilmSession = self._lookup(req)
        v = A.validate(req.dataset, A.FILM_SESSION, self.profile, where="Film Session N-SET", creating=False,
                       settable=A.FILM_SESSION_SETTABLE)
        session.attributes.update(v.values)
        return Response(_pick_warning(v.warnings), _dataset(v.values, FILM_SESSION_ECHO),
                        attribute_identifiers=tuple(v.ignored))

    def _film_session_delete(self, req: Request) -> Response:
        self._lookup(req)
        self._require_no_data(req, "N-DELETE")
        self.release()
        return Response(Status.SUCCESS)

    def _film_session_action(self, req: Request) -> Response:
        session: FilmSession = self._lookup(req)
        self._require_print_action(req)
        if not session.film_boxes:
            raise PrintError(Status.NO_FILM_BOX, "film session has no film box to print")
        if not self.profile.session_print:
            # Without collation only the (single, by C616) unprinted film box can be printed.
            boxes = [b for b in session.film_boxes if not b.printed and b.has_image]
            status = Status.COLLATION_NOT_SUPPORTED
        else:
            boxes = [b for b in session.film_boxes if b.has_image]
            status = Status.SUCCESS
        if not boxes:
            return Response(Status.EMPTY_PAGE_FILM_SESSION,
                            error_comment="no film box of the session holds an image: nothing printed")
        skipped = len(session.film_boxes) - len(boxes)
        rsp = Response(status, job=self._snapshot(session, boxes))
        if skipped:
            rsp.notes.append(f"{skipped} film box(es) without images not printed")
        return rsp

    # --- Film Box ----------------------------------------------------------------------------------

    def _film_box_create(self, req: Request) -> Response:
        where = "Film Box N-CREATE"
        annotating = uids.BASIC_ANNOTATION_BOX in self.negotiated
        table = FILM_BOX_WITH_ANNOTATION if annotating else A.FILM_BOX
        v = A.validate(req.dataset, table, self.profile, where=where, creating=True)
        session = self.film_session
        ref = v.values["ReferencedFilmSessionSequence"]
        ref_uid = ref[0].get("ReferencedSOPInstanceUID") if len(ref) == 1 else None
        if session is None or len(ref) != 1 or ref_uid != session.sop_instance_uid:
            why = ("no film session exists on this association" if session is None
                   else f"must hold one item referencing film session {session.sop_instance_uid}")
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"ReferencedFilmSessionSequence {why}",
                             0x20100500, context=where)
        ref_class = ref[0].get("ReferencedSOPClassUID")
        if ref_class not in (None, "", uids.BASIC_FILM_SESSION):
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ReferencedFilmSessionSequence names class {ref_class}, "
                             f"not Basic Film Session", 0x20100500, context=where)
        if not self.profile.session_print and any(not b.printed for b in session.film_boxes):
            raise PrintError(Status.UNPRINTED_FILM_BOX_EXISTS,
                             "the previous film box is not printed and this printer does not print film sessions")
        uid = self._new_instance_uid(req)
        fmt = parse_display_format(v.values["ImageDisplayFormat"])
        annotation = self.layouts.annotation_formats.get(v.values.get("AnnotationDisplayFormatID", ""))
        width, height = film_dimensions(v.values["FilmSizeID"], v.values["FilmOrientation"], self.layouts)
        try:
            rects = image_box_rects(fmt, width, height, margin=self.layouts.margin_mm, gap=self.layouts.gap_mm,
                                    display_formats=self.layouts.display_formats, annotation=annotation)
        except ValueError as exc:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ImageDisplayFormat '{fmt}' {exc} ({v.values['FilmSizeID']} "
                             f"{v.values['FilmOrientation']})", 0x20100010, context=where) from None
        if len(rects) > self.profile.max_image_boxes:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ImageDisplayFormat '{fmt}' has {len(rects)} image boxes, this printer's "
                             f"maximum is {self.profile.max_image_boxes}", 0x20100010, context=where)
        image_box_class = self._image_box_class(req, session)
        image_boxes = [ImageBox(uids.new_uid(), position) for position in range(1, len(rects) + 1)]
        annotation_boxes = [AnnotationBox(uids.new_uid(), position)
                            for position in range(1, len(annotation.boxes) + 1)] if annotation else []
        values = {k: val for k, val in v.values.items() if k != "ReferencedFilmSessionSequence"}
        box = FilmBox(uid, fmt, values, image_boxes, rects=tuple(rects), annotation_format=annotation,
                      annotation_boxes=annotation_boxes)
        session.film_boxes.append(box)
        self._instances[uid] = (uids.BASIC_FILM_BOX, box)
        for ib in image_boxes:
            self._instances[ib.sop_instance_uid] = (image_box_class, ib)
        for ab in annotation_boxes:
            self._instances[ab.sop_instance_uid] = (uids.BASIC_ANNOTATION_BOX, ab)

        ds = _dataset(values, FILM_BOX_ECHO)
        ref_item = Dataset()
        ref_item.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
        ref_item.ReferencedSOPInstanceUID = session.sop_instance_uid
        ds.ReferencedFilmSessionSequence = Sequence([ref_item])
        ds.ReferencedImageBoxSequence = _references(image_box_class, [ib.sop_instance_uid for ib in image_boxes])
        if annotating:
            ds.ReferencedBasicAnnotationBoxSequence = _references(
                uids.BASIC_ANNOTATION_BOX, [ab.sop_instance_uid for ab in annotation_boxes])
        return Response(_pick_warning(v.warnings), ds, created_instance_uid=None if req.sop_instance_uid else uid,
                        attribute_identifiers=tuple(v.ignored))

    def _film_box_set(self, req: Request) -> Response:
        box = self._last_film_box(req)
        v = A.validate(req.dataset, A.FILM_BOX, self.profile, where="Film Box N-SET", creating=False,
                       settable=A.FILM_BOX_SETTABLE)
        box.attributes.update(v.values)
        return Response(_pick_warning(v.warnings), _dataset(v.values, FILM_BOX_ECHO),
                        attribute_identifiers=tuple(v.ignored))

    def _film_box_action(self, req: Request) -> Response:
        box = self._last_film_box(req)
        self._require_print_action(req)
        if not box.has_image:
            return Response(Status.EMPTY_PAGE_FILM_BOX,
                            error_comment="no image box of the film box holds an image: nothing printed")
        assert self.film_session is not None
        return Response(Status.SUCCESS, job=self._snapshot(self.film_session, [box]))

    def _film_box_delete(self, req: Request) -> Response:
        box: FilmBox = self._lookup(req)
        self._require_no_data(req, "N-DELETE")
        assert self.film_session is not None
        self.film_session.film_boxes.remove(box)
        del self._instances[box.sop_instance_uid]
        for ib in box.image_boxes:
            self._instances.pop(ib.sop_instance_uid, None)
        for ab in box.annotation_boxes:
            self._instances.pop(ab.sop_instance_uid, None)
        return Response(Status.SUCCESS)

    def _image_box_class(self, req: Request, session: FilmSession) -> str:
        """Grayscale or color image boxes: the meta of the film box's context, else the session's (H.3.2.2)."""
        for context in (req.context_sop_class_uid, session.context_sop_class_uid):
            if context == uids.BASIC_COLOR_PRINT_MANAGEMENT_META:
                return uids.BASIC_COLOR_IMAGE_BOX
            if context == uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META:
                return uids.BASIC_GRAYSCALE_IMAGE_BOX
        # Component classes negotiated on their own: the image box class that was negotiated.
        if uids.BASIC_COLOR_IMAGE_BOX in self.negotiated and uids.BASIC_GRAYSCALE_IMAGE_BOX not in self.negotiated:
            return uids.BASIC_COLOR_IMAGE_BOX
        return uids.BASIC_GRAYSCALE_IMAGE_BOX

    # --- Image Box ---------------------------------------------------------------------------------

    def _image_box_set(self, req: Request) -> Response:
        where = "Grayscale Image Box N-SET"
        box: ImageBox = self._lookup(req)
        v = A.validate(req.dataset, A.GRAYSCALE_IMAGE_BOX, self.profile, where=where, creating=True)
        if v.values["ImageBoxPosition"] != box.position:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ImageBoxPosition {v.values['ImageBoxPosition']} is not this image box's "
                             f"position {box.position}", 0x20200010, context=where)
        seq = v.values.pop("BasicGrayscaleImageSequence")
        if len(seq) > 1:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"BasicGrayscaleImageSequence has {len(seq)} items, at most 1 allowed",
                             0x20200110, context=where)
        image = parse_grayscale_item(seq[0], self.profile, little_endian=req.little_endian, where=where) \
            if len(seq) else None
        box.image = image
        box.attributes = {k: val for k, val in v.values.items() if k != "ImageBoxPosition"}
        return Response(_pick_warning(v.warnings), attribute_identifiers=tuple(v.ignored))

    def _color_image_box_set(self, req: Request) -> Response:
        where = "Color Image Box N-SET"
        box: ImageBox = self._lookup(req)
        v = A.validate(req.dataset, COLOR_IMAGE_BOX, self.profile, where=where, creating=True)
        if v.values["ImageBoxPosition"] != box.position:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ImageBoxPosition {v.values['ImageBoxPosition']} is not this image box's "
                             f"position {box.position}", 0x20200010, context=where)
        seq = v.values.pop("BasicColorImageSequence")
        if len(seq) > 1:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"BasicColorImageSequence has {len(seq)} items, at most 1 allowed",
                             0x20200111, context=where)
        box.image = parse_color_item(seq[0], self.profile, little_endian=req.little_endian, where=where) \
            if len(seq) else None
        box.attributes = {k: val for k, val in v.values.items() if k != "ImageBoxPosition"}
        return Response(_pick_warning(v.warnings), attribute_identifiers=tuple(v.ignored))

    # --- Annotation Box ----------------------------------------------------------------------------

    def _annotation_box_set(self, req: Request) -> Response:
        """Annotation Position in the data set decides where the text goes, among the film box's positions.

        DCMTK's print SCU sends its one annotation to the first annotation box of the Referenced Basic
        Annotation Box Sequence whatever its position (e.g. "Annotation = 2\\ANNOTATION"), so the
        position is honoured, not checked against the instance (logged when they differ).
        """
        where = "Annotation Box N-SET"
        box: AnnotationBox = self._lookup(req)
        v = A.validate(req.dataset, ANNOTATION_BOX, self.profile, where=where, creating=True)
        assert self.film_session is not None
        film_box = next(fb for fb in self.film_session.film_boxes if box in fb.annotation_boxes)
        position = v.values["AnnotationPosition"]
        if not 1 <= position <= len(film_box.annotation_boxes):
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"AnnotationPosition {position} is not a position of Annotation Display Format "
                             f"{film_box.attributes.get('AnnotationDisplayFormatID')} "
                             f"(1..{len(film_box.annotation_boxes)})", 0x20300010, context=where)
        if position != box.position:
            log.info("%s: AnnotationPosition %d sent to the annotation box of position %d; text goes to %d",
                     where, position, box.position, position)
        film_box.annotation_boxes[position - 1].text = v.values.get("TextString", "")
        return Response(_pick_warning(v.warnings), attribute_identifiers=tuple(v.ignored))

    # --- Printer -----------------------------------------------------------------------------------

    def _printer_get(self, req: Request) -> Response:
        if req.sop_instance_uid != uids.PRINTER_INSTANCE:
            raise PrintError(Status.NO_SUCH_OBJECT_INSTANCE,
                             f"Printer instance must be the well-known {uids.PRINTER_INSTANCE}, "
                             f"got {req.sop_instance_uid}")
        ds, unknown = printer_attributes(self.profile, req.attribute_identifiers)
        status = Status.ATTRIBUTE_LIST_ERROR if unknown else Status.SUCCESS
        return Response(status, ds, attribute_identifiers=tuple(unknown),
                        error_comment="unsupported attributes ignored" if unknown else None)

    # --- Print -------------------------------------------------------------------------------------

    def _snapshot(self, session: FilmSession, boxes: list[FilmBox]) -> PrintJob:
        films = []
        for box in boxes:
            self._films_printed += 1
            fb = dict(box.attributes)
            width, height = film_dimensions(fb["FilmSizeID"], fb["FilmOrientation"], self.layouts)
            image_jobs = tuple(
                ImageBoxJob(
                    position=ib.position,
                    polarity=ib.attributes.get("Polarity", "NORMAL"),
                    magnification_type=ib.attributes.get("MagnificationType", fb["MagnificationType"]),
                    smoothing_type=ib.attributes.get("SmoothingType", fb["SmoothingType"]),
                    min_density=ib.attributes.get("MinDensity", fb["MinDensity"]),
                    max_density=ib.attributes.get("MaxDensity", fb["MaxDensity"]),
                    configuration_information=ib.attributes.get("ConfigurationInformation",
                                                                fb["ConfigurationInformation"]),
                    image=ib.image,
                )
                for ib in box.image_boxes
            )
            films.append(FilmJob(
                film_number=self._films_printed,
                film_box_uid=box.sop_instance_uid,
                attributes=fb,
                width_mm=width,
                height_mm=height,
                dpi=self.profile.resolution_dpi[fb["RequestedResolutionID"]],
                margin_mm=self.layouts.margin_mm,
                gap_mm=self.layouts.gap_mm,
                image_boxes=image_jobs,
                box_rects_mm=tuple((r.x, r.y, r.width, r.height) for r in box.rects),
                annotations=_annotation_jobs(box, width, height, self.layouts.margin_mm),
            ))
            box.printed = True
        session_values = {k: session.attributes[k] for k in FILM_SESSION_ECHO if k in session.attributes}
        return PrintJob(
            job_uid=uids.new_uid(),
            created=self.clock().isoformat(timespec="microseconds"),
            calling_ae=self.calling_ae,
            called_ae=self.called_ae,
            printer_name=self.profile.printer_name,
            film_session_uid=session.sop_instance_uid,
            session=session_values,
            films=tuple(films),
        )


def _references(sop_class: str, instance_uids: list[str]) -> Sequence:
    items = []
    for uid in instance_uids:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = uid
        items.append(item)
    return Sequence(items)


def _annotation_jobs(box: FilmBox, width: float, height: float, margin: float) -> tuple[AnnotationBoxJob, ...]:
    """The annotation texts set on `box`, placed by its Annotation Display Format (empty texts draw nothing)."""
    fmt = box.annotation_format
    if fmt is None:
        return ()
    rects = annotation_rects(fmt, width, height, margin=margin)
    return tuple(
        AnnotationBoxJob(ab.position, ab.text, r.x, r.y, r.width, r.height, fmt.font_size_pt, b.align)
        for ab, r, b in zip(box.annotation_boxes, rects, fmt.boxes, strict=True)
        if ab.text
    )


_CLASS_NAMES = {
    uids.BASIC_FILM_SESSION: "Basic Film Session",
    uids.BASIC_FILM_BOX: "Basic Film Box",
    uids.BASIC_GRAYSCALE_IMAGE_BOX: "Basic Grayscale Image Box",
    uids.BASIC_COLOR_IMAGE_BOX: "Basic Color Image Box",
    uids.PRINTER: "Printer",
    uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META: "Basic Grayscale Print Management Meta",
    uids.BASIC_COLOR_PRINT_MANAGEMENT_META: "Basic Color Print Management Meta",
    uids.PRESENTATION_LUT: "Presentation LUT",
    uids.BASIC_ANNOTATION_BOX: "Basic Annotation Box",
    uids.PRINT_JOB: "Print Job",
}


def _class_name(uid: str) -> str:
    return _CLASS_NAMES.get(uid, uid)

