"""Film options and the data sets the SCU sends, built from them (only what the user set).

Some printers reject the mere presence of an optional attribute, so every option defaults to None
(not sent) and the SCP's defaults apply. The same builders feed the network client and the offline
preview, so a preview shows exactly what would print.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.layout import parse_display_format
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage


@dataclass(frozen=True)
class SessionOptions:
    """Basic Film Session attributes (PS3.4 H.4.1)."""

    NumberOfCopies: int | None = None
    PrintPriority: str | None = None
    MediumType: str | None = None
    FilmDestination: str | None = None
    FilmSessionLabel: str | None = None
    OwnerID: str | None = None


@dataclass(frozen=True)
class FilmBoxOptions:
    """Basic Film Box attributes (PS3.4 H.4.2); ImageDisplayFormat is always sent."""

    ImageDisplayFormat: str = "STANDARD\\1,1"
    FilmOrientation: str | None = None
    FilmSizeID: str | None = None
    MagnificationType: str | None = None
    SmoothingType: str | None = None
    BorderDensity: str | None = None
    EmptyImageDensity: str | None = None
    MinDensity: int | None = None
    MaxDensity: int | None = None
    Trim: str | None = None
    ConfigurationInformation: str | None = None
    RequestedResolutionID: str | None = None


@dataclass(frozen=True)
class ImageBoxOptions:
    """Basic Grayscale Image Box attributes besides the image (PS3.4 H.4.3)."""

    Polarity: str | None = None
    RequestedImageSize: float | None = None


@dataclass(frozen=True)
class FilmOptions:
    session: SessionOptions = SessionOptions()
    film_box: FilmBoxOptions = FilmBoxOptions()
    image_box: ImageBoxOptions = ImageBoxOptions()

    @property
    def boxes_per_film(self) -> int:
        return parse_display_format(self.film_box.ImageDisplayFormat).box_count


def _dataset(options: Any) -> Dataset:
    ds = Dataset()
    for f in fields(options):
        value = getattr(options, f.name)
        if value is not None:
            setattr(ds, f.name, value)
    return ds


def film_session_dataset(options: FilmOptions) -> Dataset | None:
    """None when nothing was set: never send an empty data set (a pynetdicom trap)."""
    ds = _dataset(options.session)
    return ds if len(ds) else None


def film_box_dataset(options: FilmOptions, film_session_uid: str) -> Dataset:
    ds = _dataset(options.film_box)
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = film_session_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    return ds


def image_box_dataset(position: int, image: GrayscaleImage | ColorImage, options: FilmOptions, *,
                      big_endian: bool) -> Dataset:
    """Image Box Position, the Basic Grayscale (or Color) Image Sequence item, and the image box options set."""
    ds = _dataset(options.image_box)
    ds.ImageBoxPosition = position
    if isinstance(image, ColorImage):
        return _color_item(ds, image)
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = image.photometric_interpretation
    item.Rows, item.Columns = image.rows, image.columns
    if image.pixel_aspect_ratio != (1, 1):
        item.PixelAspectRatio = list(image.pixel_aspect_ratio)
    if image.bits_stored == 12:
        item.BitsAllocated, item.BitsStored, item.HighBit = 16, 12, 11
        data = image.pixels.astype(">u2" if big_endian else "<u2").tobytes()
        vr = "OW"
    else:
        item.BitsAllocated, item.BitsStored, item.HighBit = 8, 8, 7
        data = np.ascontiguousarray(image.pixels, dtype=np.uint8).tobytes()
        vr = "OB"
    item.PixelRepresentation = 0
    if len(data) % 2:
        data += b"\0"
    item.add_new(0x7FE00010, vr, data)
    ds.BasicGrayscaleImageSequence = Sequence([item])
    return ds


def _color_item(ds: Dataset, image: ColorImage) -> Dataset:
    """Basic Color Image Sequence: 8-bit RGB, Planar Configuration 1 (R plane, G plane, B plane)."""
    ds.pop("RequestedImageSize", None)  # not an attribute this SCU sends on colour boxes
    item = Dataset()
    item.SamplesPerPixel = 3
    item.PhotometricInterpretation = "RGB"
    item.PlanarConfiguration = 1
    item.Rows, item.Columns = image.rows, image.columns
    if image.pixel_aspect_ratio != (1, 1):
        item.PixelAspectRatio = list(image.pixel_aspect_ratio)
    item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation = 8, 8, 7, 0
    data = np.ascontiguousarray(image.pixels.transpose(2, 0, 1)).tobytes()
    if len(data) % 2:
        data += b"\0"
    item.add_new(0x7FE00010, "OB", data)
    ds.BasicColorImageSequence = Sequence([item])
    return ds


def paginate(images: Seq[Any], boxes_per_film: int) -> list[list[Any]]:
    """Fill films in order; the last film's remaining boxes stay empty (not sent)."""
    return [list(images[i:i + boxes_per_film]) for i in range(0, len(images), boxes_per_film)]
