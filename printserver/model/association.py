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
from pydicom.tag import Tag

from printserver import uids
from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.formats import annotation_rects, image_box_rects
from printserver.layout import LayoutData, film_dimensions, mm_to_px, parse_display_format
from printserver.model import attributes as A
from printserver.model.annotation import ANNOTATION_BOX, FILM_BOX_WITH_ANNOTATION, AnnotationBox
from printserver.model.color import COLOR_IMAGE_BOX, parse_color_item
from printserver.model.job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.model.messages import Op, Request, Response
from printserver.model.objects import FilmBox, FilmSession, ImageBox
from printserver.model.pixels import identifying_attributes, parse_grayscale_item
from printserver.model.presentation_lut import PresentationLut, parse_presentation_lut
from printserver.model.printer import printer_attributes
from printserver.model.printer_configuration import printer_configuration
from printserver.model.sizing import Fit, fit_image
from printserver.status import Category, Status

log = logging.getLogger(__name__)

PRINT_ACTION = 1  # Action Type ID of Print (PS3.4 H.4.1.2.4, H.4.2.2.4)
#: Recommended viewing of reflective media (paper) when the SCU sends none: L0 150 cd/m², La 0 (PS3.14).
REFLECTIVE_ILLUMINATION = 150

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


def _echo_plut_reference(ds: Dataset, values: dict[str, Any]) -> None:
    """The Referenced Presentation LUT Sequence in use, as the SCU sent it (values hold the UID)."""
    uid = values.get("ReferencedPresentationLUTSequence")
    if uid:
        item = Dataset()
        item.ReferencedSOPClassUID = uids.PRESENTATION_LUT
        item.ReferencedSOPInstanceUID = uid
        ds.ReferencedPresentationLUTSequence = Sequence([item])


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
            (uids.PRINTER_CONFIGURATION_RETRIEVAL, Op.N_GET): self._printer_configuration_get,
            (uids.PRESENTATION_LUT, Op.N_CREATE): self._presentation_lut_create,
            (uids.PRESENTATION_LUT, Op.N_DELETE): self._presentation_lut_delete,
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
        self._resolve_plut_reference(v.values, "Film Session N-CREATE")
        self.film_session = FilmSession(uid, v.values, req.context_sop_class_uid)
        self._instances[uid] = (uids.BASIC_FILM_SESSION, self.film_session)
        return Response(_pick_warning(v.warnings), _dataset(v.values, FILM_SESSION_ECHO),
                        created_instance_uid=None if req.sop_instance_uid else uid,
                        attribute_identifiers=tuple(v.ignored))

    def _film_session_set(self, req: Request) -> Response:
        session: FilmSession = self._lookup(req)
        v = A.validate(req.dataset, A.FILM_SESSION, self.profile, where="Film Session N-SET", creating=False,
                       settable=A.FILM_SESSION_SETTABLE)
        self._resolve_plut_reference(v.values, "Film Session N-SET")
        session.attributes.update(v.values)
        return Response(_pick_warning(v.warnings), _dataset(v.values, FILM_SESSION_ECHO),
                        attribute_identifiers=tuple(v.ignored))

    def _film_session_delete(self, req: Request) -> Response:
        self._lookup(req)
        self._require_no_data(req, "N-DELETE")
        # the session hierarchy goes; Presentation LUTs live on until the association ends (PS3.4 H.4.9)
        self.film_session = None
        self._instances = {uid: e for uid, e in self._instances.items() if e[0] == uids.PRESENTATION_LUT}
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
        self._resolve_plut_reference(v.values, where)
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
        for kw, reflective in (("Illumination", REFLECTIVE_ILLUMINATION), ("ReflectedAmbientLight", 0)):
            if req.dataset is not None and kw in req.dataset:
                continue
            if kw in session.attributes:  # pre-CP-173: set on the film session
                values[kw] = session.attributes[kw]
            elif session.attributes.get("MediumType") == "PAPER":  # reflective: PS3.14 §7.3 viewing
                values[kw] = reflective
        box = FilmBox(uid, fmt, values, image_boxes, rects=tuple(rects), annotation_format=annotation,
                      annotation_boxes=annotation_boxes)
        session.film_boxes.append(box)
        self._instances[uid] = (uids.BASIC_FILM_BOX, box)
        for ib in image_boxes:
            self._instances[ib.sop_instance_uid] = (image_box_class, ib)
        for ab in annotation_boxes:
            self._instances[ab.sop_instance_uid] = (uids.BASIC_ANNOTATION_BOX, ab)

        ds = _dataset(values, FILM_BOX_ECHO)
        _echo_plut_reference(ds, values)
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
        self._resolve_plut_reference(v.values, "Film Box N-SET")
        if "ReferencedPresentationLUTSequence" in v.values:
            for ib in box.image_boxes:
                if ib.image is not None and "ReferencedPresentationLUTSequence" not in ib.attributes:
                    self._check_plut_match(v.values["ReferencedPresentationLUTSequence"], ib.image.bits_stored,
                                           "Film Box N-SET")
        box.attributes.update(v.values)
        ds = _dataset(v.values, FILM_BOX_ECHO)
        _echo_plut_reference(ds, v.values)
        return Response(_pick_warning(v.warnings), ds, attribute_identifiers=tuple(v.ignored))

    def _film_box_action(self, req: Request) -> Response:
        box = self._last_film_box(req)
        self._require_print_action(req)
        if not box.has_image:
            return Response(Status.EMPTY_PAGE_FILM_BOX,
                            error_comment="no image box of the film box holds an image: nothing printed")
        assert self.film_session is not None
        fits = [self._fit(box, ib) for ib in box.image_boxes if ib.image is not None]
        warnings = [f.status for f in fits if f.status is not None]
        return Response(_pick_warning(warnings), job=self._snapshot(self.film_session, [box]))

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

    def _image_box_values(self, req: Request, table: dict[str, A.Attr], sequence: str,
                          where: str) -> tuple[ImageBox, A.Validated, Dataset | None]:
        """What grayscale and colour image box N-SETs share: the box, the checked values (sequence removed),
        and the one image item (None: an empty sequence clears the box)."""
        box: ImageBox = self._lookup(req)
        v = A.validate(req.dataset, table, self.profile, where=where, creating=True)
        if v.values["ImageBoxPosition"] != box.position:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ImageBoxPosition {v.values['ImageBoxPosition']} is not this image box's "
                             f"position {box.position}", 0x20200010, context=where)
        seq = v.values.pop(sequence)
        if len(seq) > 1:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{sequence} has {len(seq)} items, at most 1 allowed",
                             int(Tag(sequence)), context=where)
        return box, v, seq[0] if len(seq) else None

    def _image_box_set(self, req: Request) -> Response:
        where = "Grayscale Image Box N-SET"
        box, v, item = self._image_box_values(req, A.GRAYSCALE_IMAGE_BOX, "BasicGrayscaleImageSequence", where)
        image = parse_grayscale_item(item, self.profile, little_endian=req.little_endian, where=where) \
            if item is not None else None
        attributes = {k: val for k, val in v.values.items() if k != "ImageBoxPosition"}
        self._resolve_plut_reference(attributes, where)
        warnings = list(v.warnings)
        if image is not None:
            film_box = self._film_box_of(box)
            plut = attributes.get("ReferencedPresentationLUTSequence") \
                or film_box.attributes.get("ReferencedPresentationLUTSequence") \
                or self._session_plut()
            self._check_plut_match(plut, image.bits_stored, where)
            fit = self._fit(film_box, ImageBox(box.sop_instance_uid, box.position, image, attributes))
            if fit.status is Status.IMAGE_LARGER_THAN_BOX:
                raise PrintError(Status.IMAGE_LARGER_THAN_BOX,
                                 "RequestedDecimateCropBehavior FAIL: image larger than its image box",
                                 0x20200040, context=where)
            if fit.status is not None:
                warnings.insert(0, fit.status)
        box.image = image
        box.attributes = attributes
        box.source_attributes = identifying_attributes(item)
        return Response(_pick_warning(warnings), attribute_identifiers=tuple(v.ignored))

    # --- Presentation LUT --------------------------------------------------------------------------

    def _presentation_lut_create(self, req: Request) -> Response:
        uid = self._new_instance_uid(req)
        plut = parse_presentation_lut(uid, req.dataset, self.profile, little_endian=req.little_endian,
                                      where="Presentation LUT N-CREATE")
        self._instances[uid] = (uids.PRESENTATION_LUT, plut)
        log.info("Presentation LUT %s created by %s: %s", uid, self.calling_ae, plut.describe())
        return Response(Status.SUCCESS, created_instance_uid=None if req.sop_instance_uid else uid)

    def _presentation_lut_delete(self, req: Request) -> Response:
        plut: PresentationLut = self._lookup(req)
        self._require_no_data(req, "N-DELETE")
        users = self._plut_users(plut.sop_instance_uid)
        if users:
            raise PrintError(Status.PROCESSING_FAILURE,
                             f"still referenced by {users[0]}: Presentation LUT {plut.sop_instance_uid} not deleted")
        del self._instances[plut.sop_instance_uid]
        return Response(Status.SUCCESS)

    def _plut_users(self, uid: str) -> list[str]:
        session = self.film_session
        if session is None:
            return []
        users = ["the film session"] if session.attributes.get("ReferencedPresentationLUTSequence") == uid else []
        for fb in session.film_boxes:
            if fb.attributes.get("ReferencedPresentationLUTSequence") == uid:
                users.append(f"film box {fb.sop_instance_uid}")
            users += [f"image box {ib.position}" for ib in fb.image_boxes
                      if ib.attributes.get("ReferencedPresentationLUTSequence") == uid]
        return users

    def _resolve_plut_reference(self, values: dict[str, Any], where: str) -> None:
        """Replace a Referenced Presentation LUT Sequence by the referenced instance's UID (checked)."""
        seq = values.get("ReferencedPresentationLUTSequence")
        if seq is None:
            return
        item = seq[0] if len(seq) == 1 else None
        uid = str(item.get("ReferencedSOPInstanceUID", "")) if item is not None else ""
        cls = str(item.get("ReferencedSOPClassUID", "")) if item is not None else ""
        entry = self._instances.get(uid)
        if item is None or cls not in ("", uids.PRESENTATION_LUT) or entry is None \
                or entry[0] != uids.PRESENTATION_LUT:
            why = (f"must hold 1 item, has {len(seq)}" if item is None
                   else f"names {uid or '(no UID)'}, not a Presentation LUT of this association")
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"ReferencedPresentationLUTSequence {why}",
                             0x20500500, context=where)
        values["ReferencedPresentationLUTSequence"] = uid

    def _session_plut(self) -> str | None:
        return self.film_session.attributes.get("ReferencedPresentationLUTSequence") if self.film_session else None

    def _check_plut_match(self, plut_uid: str | None, bits_stored: int, where: str) -> None:
        """With presentation_lut_match_required, a table must have one entry per stored value (DCMTK's rule)."""
        if not plut_uid or not self.profile.presentation_lut_match_required:
            return
        plut: PresentationLut = self._instances[plut_uid][1]
        if plut.entries is not None and plut.entries != 1 << bits_stored:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"ReferencedPresentationLUTSequence: LUT of {plut.entries} entries for a "
                             f"{bits_stored}-bit image", 0x20500500, context=where)

    def _plut_in_force(self, session: FilmSession, fb: dict[str, Any], ib: ImageBox) -> dict[str, Any] | None:
        """Image box reference, else film box, else film session (pre-CP-173); else the configured curve."""
        uid = ib.attributes.get("ReferencedPresentationLUTSequence") \
            or fb.get("ReferencedPresentationLUTSequence") \
            or session.attributes.get("ReferencedPresentationLUTSequence")
        if uid and uid in self._instances:
            return self._instances[uid][1].as_job()
        curve = ib.attributes.get("ConfigurationInformation", fb["ConfigurationInformation"])
        if curve in self.profile.configuration_curves:
            return {"gamma": float(self.profile.configuration_curves[curve])}
        return None

    # --- image size ----------------------------------------------------------------------------------

    def _film_box_of(self, ib: ImageBox) -> FilmBox:
        assert self.film_session is not None
        return next(fb for fb in self.film_session.film_boxes if ib in fb.image_boxes)

    def _fit(self, film_box: FilmBox, ib: ImageBox) -> Fit:
        """How the image prints in its box (model.sizing): the status the SCU is told."""
        fb = film_box.attributes
        assert ib.image is not None
        rect = film_box.rects[ib.position - 1]  # as laid out at N-CREATE (any display format kind)
        dpi = self.profile.resolution_dpi[fb["RequestedResolutionID"]]
        box_w = mm_to_px(rect.x + rect.width, dpi) - mm_to_px(rect.x, dpi)
        box_h = mm_to_px(rect.y + rect.height, dpi) - mm_to_px(rect.y, dpi)
        size = ib.attributes.get("RequestedImageSize")
        v, h = ib.image.pixel_aspect_ratio
        return fit_image(ib.image.columns, ib.image.rows, v / h, box_w, box_h,
                         magnification=ib.attributes.get("MagnificationType", fb["MagnificationType"]),
                         requested_width_px=size * dpi / 25.4 if size else None,
                         behavior=ib.attributes.get("RequestedDecimateCropBehavior"))

    def _color_image_box_set(self, req: Request) -> Response:
        where = "Color Image Box N-SET"
        box, v, item = self._image_box_values(req, COLOR_IMAGE_BOX, "BasicColorImageSequence", where)
        box.image = parse_color_item(item, self.profile, little_endian=req.little_endian, where=where) \
            if item is not None else None
        box.attributes = {k: val for k, val in v.values.items() if k != "ImageBoxPosition"}
        box.source_attributes = identifying_attributes(item)
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

    def _printer_configuration_get(self, req: Request) -> Response:
        if req.sop_instance_uid != uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE:
            raise PrintError(Status.NO_SUCH_OBJECT_INSTANCE,
                             f"Printer Configuration Retrieval instance must be the well-known "
                             f"{uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE}, got {req.sop_instance_uid}")
        ds = printer_configuration(self.profile, self.layouts)
        unknown = tuple(t for t in req.attribute_identifiers if t not in ds)
        return Response(Status.ATTRIBUTE_LIST_ERROR if unknown else Status.SUCCESS, ds, attribute_identifiers=unknown,
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
                    presentation_lut=self._plut_in_force(session, fb, ib),
                    requested_image_size=ib.attributes.get("RequestedImageSize"),
                    decimate_crop=ib.attributes.get("RequestedDecimateCropBehavior", "DECIMATE"),
                    smoothing_kernel=self.profile.smoothing_kernels.get(
                        ib.attributes.get("SmoothingType", fb["SmoothingType"]), ""),
                    source_attributes=dict(ib.source_attributes),
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
    uids.PRINTER_CONFIGURATION_RETRIEVAL: "Printer Configuration Retrieval",
}


def _class_name(uid: str) -> str:
    return _CLASS_NAMES.get(uid, uid)

