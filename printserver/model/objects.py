"""The print objects of one association: Film Session, Film Box and Image Box (PS3.4 H.4.1-H.4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from printserver.layout import DisplayFormat
from printserver.model.pixels import GrayscaleImage


@dataclass
class ImageBox:
    sop_instance_uid: str
    position: int
    image: GrayscaleImage | None = None
    #: Only what the SCU set; unset values fall back to the film box at print time.
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class FilmBox:
    sop_instance_uid: str
    display_format: DisplayFormat
    #: Complete: every attribute with the value in use (defaults applied).
    attributes: dict[str, Any]
    image_boxes: list[ImageBox]
    printed: bool = False

    @property
    def has_image(self) -> bool:
        return any(box.image is not None for box in self.image_boxes)


@dataclass
class FilmSession:
    sop_instance_uid: str
    attributes: dict[str, Any]
    film_boxes: list[FilmBox] = field(default_factory=list)
