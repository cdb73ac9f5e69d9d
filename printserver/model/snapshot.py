"""Print (N-ACTION on a film box or film session): the hierarchy becomes a frozen PrintJob to spool.

The answer is made here too, with its effects: spool the job (C601/C602 if the queue is full) and,
when the association negotiated Print Job, the Referenced Print Job Sequence and its events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.layout import annotation_rects, film_dimensions
from printserver.model import presentation_lut
from printserver.model.common import FILM_SESSION_ECHO, pick_warning
from printserver.model.image_box import ImageBox, effective
from printserver.model.messages import Effect, Response, SpoolJob, WatchPrintJob
from printserver.model.spooled_job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.film_box import FilmBox
    from printserver.model.film_session import FilmSession
    from printserver.model.session import PrintSession

REFERENCED_PRINT_JOB_SEQUENCE = 0x21000500  # pydicom names it ...PullStoredPrint (notes)


def print_response(s: PrintSession, session: FilmSession, boxes: list[FilmBox], warnings: list[Status],
                   queue_full: Status, notes: tuple[str, ...] = ()) -> Response:
    """The answer to a Print that prints `boxes`: Success (or the warning) once the job is spooled."""
    job = snapshot(s, session, boxes)
    effects: tuple[Effect, ...] = (SpoolJob(job, queue_full, notes),)
    data = None
    if uids.PRINT_JOB in s.negotiated:
        item = Dataset()
        item.ReferencedSOPClassUID = uids.PRINT_JOB
        item.ReferencedSOPInstanceUID = job.job_uid
        data = Dataset()
        data.add_new(REFERENCED_PRINT_JOB_SEQUENCE, "SQ", Sequence([item]))
        effects = (WatchPrintJob(job.job_uid), *effects)
    return Response(pick_warning(warnings), data, effects=effects)


def _lut(s: PrintSession, ib: ImageBox, fb: FilmBox) -> dict[str, Any] | None:
    """The Presentation LUT in force, else the configured curve of Configuration Information, else identity."""
    plut = presentation_lut.in_force(s, ib.attributes, fb.attributes)
    if plut is not None:
        return plut.as_job()
    curve = effective(ib, fb, "ConfigurationInformation")
    if curve in s.profile.configuration_curves:
        return {"gamma": float(s.profile.configuration_curves[curve])}
    return None


def _image_job(s: PrintSession, ib: ImageBox, box: FilmBox) -> ImageBoxJob:
    return ImageBoxJob(
        position=ib.position,
        polarity=ib.attributes.get("Polarity", "NORMAL"),
        magnification_type=effective(ib, box, "MagnificationType"),
        smoothing_type=effective(ib, box, "SmoothingType"),
        min_density=effective(ib, box, "MinDensity"),
        max_density=effective(ib, box, "MaxDensity"),
        configuration_information=effective(ib, box, "ConfigurationInformation"),
        image=ib.image,
        presentation_lut=_lut(s, ib, box),
        requested_image_size=ib.attributes.get("RequestedImageSize"),
        decimate_crop=ib.attributes.get("RequestedDecimateCropBehavior", "DECIMATE"),
        smoothing_kernel=s.profile.smoothing_kernels.get(effective(ib, box, "SmoothingType"), ""),
        source_attributes=dict(ib.source_attributes),
    )


def snapshot(s: PrintSession, session: FilmSession, boxes: list[FilmBox]) -> PrintJob:
    """Everything the films need, copied: later N-SETs or deletes cannot change the job (H.4.2.2.4)."""
    films = []
    for box in boxes:
        s.films_printed += 1
        fb = dict(box.attributes)
        width, height = film_dimensions(fb["FilmSizeID"], fb["FilmOrientation"], s.layouts)
        films.append(FilmJob(
            film_number=s.films_printed,
            film_box_uid=box.sop_instance_uid,
            attributes=fb,
            width_mm=width,
            height_mm=height,
            dpi=s.profile.resolution_dpi[fb["RequestedResolutionID"]],
            margin_mm=s.layouts.margin_mm,
            gap_mm=s.layouts.gap_mm,
            image_boxes=tuple(_image_job(s, ib, box) for ib in box.image_boxes),
            box_rects_mm=tuple((r.x, r.y, r.width, r.height) for r in box.rects),
            annotations=_annotation_jobs(box, width, height, s.layouts.margin_mm),
        ))
        box.printed = True
    session_values = {k: session.attributes[k] for k in FILM_SESSION_ECHO if k in session.attributes}
    return PrintJob(
        job_uid=uids.new_uid(),
        created=s.clock().isoformat(timespec="microseconds"),
        calling_ae=s.calling_ae,
        called_ae=s.called_ae,
        printer_name=s.profile.printer_name,
        film_session_uid=session.sop_instance_uid,
        session=session_values,
        films=tuple(films),
        findings=tuple(session.findings + [f for box in boxes for f in box.findings]),
    )


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
