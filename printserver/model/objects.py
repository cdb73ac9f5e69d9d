"""The print objects of one association: Film Session, Film Box and Image Box (PS3.4 H.4.1-H.4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from printserver.formats import AnnotationFormat
from printserver.layout import DisplayFormat, Rect
from printserver.model.annotation import AnnotationBox
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage


@dataclass
class ImageBox:
    sop_instance_uid: str
    position: int
    image: GrayscaleImage | ColorImage | None = None
    #: Only what the SCU set; unset values fall back to the film box at print time.
    attributes: dict[str, Any] = field(default_factory=dict)
    #: Identifying attributes of the image item (model.pixels.identifying_attributes).
    source_attributes: dict[str, str] = field(default_factory=dict)


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

    @property
    def has_image(self) -> bool:
        return any(box.image is not None for box in self.image_boxes)


@dataclass
class FilmSession:
    sop_instance_uid: str
    attributes: dict[str, Any]
    #: The presentation context it was created on: a meta class decides grayscale or color image boxes.
    context_sop_class_uid: str = ""
    film_boxes: list[FilmBox] = field(default_factory=list)
