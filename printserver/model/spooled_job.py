"""The spooled job: the snapshot a Print N-ACTION takes — everything needed to compose the films, nothing live.

Later N-SETs or deletes on the association cannot change a job (PS3.4 H.4.1.2.4 / H.4.2.2.4),
and a job read back from the spool after a restart composes the same films.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage


@dataclass(frozen=True)
class ImageBoxJob:
    """One image box with the effective values (image box over film box over printer default)."""

    position: int
    polarity: str
    magnification_type: str
    smoothing_type: str
    min_density: int
    max_density: int
    configuration_information: str
    image: GrayscaleImage | ColorImage | None
    #: Presentation LUT in force (image box, film box or session reference), or the configured curve
    #: of Configuration Information; None = IDENTITY. See render.tone.stored_to_density.
    presentation_lut: dict[str, Any] | None = None
    #: Requested Image Size: printed width in mm (None: fit the box).
    requested_image_size: float | None = None
    #: Requested Decimate/Crop Behavior for an image larger than its box: DECIMATE or CROP.
    decimate_crop: str = "DECIMATE"
    #: Pillow resampling filter of the Smoothing Type (CUBIC only); "" = Pillow's BICUBIC.
    smoothing_kernel: str = ""
    #: Patient/study attributes the modality put into the image item beside the pixels (model.pixels
    #: IDENTIFYING_KEYWORDS): the archive output files the film under them.
    source_attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnnotationBoxJob:
    """One annotation's text and where it is drawn (mm on the film as viewed)."""

    position: int
    text: str
    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float
    font_size_pt: float
    align: str  # LEFT, CENTER, RIGHT


@dataclass(frozen=True)
class FilmJob:
    film_number: int
    film_box_uid: str
    #: Film box attributes as used (the N-CREATE response values), JSON-able.
    attributes: dict[str, Any]
    width_mm: float  # as viewed, orientation applied
    height_mm: float
    dpi: int
    margin_mm: float
    gap_mm: float
    image_boxes: tuple[ImageBoxJob, ...]
    #: Image box rectangles (x, y, width, height) in mm, position order, as resolved from the layout data
    #: at N-CREATE; empty: computed from ImageDisplayFormat, margin and gap (grid formats).
    box_rects_mm: tuple[tuple[float, float, float, float], ...] = ()
    annotations: tuple[AnnotationBoxJob, ...] = ()

    @property
    def color(self) -> bool:
        """A film of Basic Color Image Boxes is composed and written in RGB."""
        return any(isinstance(box.image, ColorImage) for box in self.image_boxes)


@dataclass(frozen=True)
class PrintJob:
    #: Also the Print Job SOP Instance UID.
    job_uid: str
    created: str  # ISO 8601 with UTC offset
    calling_ae: str
    called_ae: str
    printer_name: str
    film_session_uid: str
    #: Film session attributes as used (copies, priority, medium, destination, label, owner).
    session: dict[str, Any]
    films: tuple[FilmJob, ...]
    #: What the modality sent that was replaced to print anyway (lenient printers), for the QA console.
    findings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", tuple(self.findings))  # a list when read back from the spool

    @property
    def copies(self) -> int:
        return int(self.session.get("NumberOfCopies", 1))
