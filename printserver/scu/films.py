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
    AnnotationDisplayFormatID: str | None = None
    #: Only with a Presentation LUT (FilmOptions.presentation_lut): printers accept them only then
    Illumination: int | None = None
    ReflectedAmbientLight: int | None = None


@dataclass(frozen=True)
class ImageBoxOptions:
    """Basic Grayscale Image Box attributes besides the image (PS3.4 H.4.3); a colour box takes Polarity,
    Magnification/Smoothing Type and Requested Decimate/Crop Behavior of them."""

    Polarity: str | None = None
    RequestedImageSize: float | None = None
    MagnificationType: str | None = None
    SmoothingType: str | None = None
    MinDensity: int | None = None
    MaxDensity: int | None = None
    ConfigurationInformation: str | None = None
    RequestedDecimateCropBehavior: str | None = None


#: Image box attributes a Basic Color Image Box does not have (or this SCU does not send on one).
GRAYSCALE_ONLY = ("RequestedImageSize", "MinDensity", "MaxDensity", "ConfigurationInformation")


@dataclass(frozen=True)
class FilmOptions:
    session: SessionOptions = SessionOptions()
    film_box: FilmBoxOptions = FilmBoxOptions()
    image_box: ImageBoxOptions = ImageBoxOptions()
    #: Per Image Box Position (index = position - 1): that box's options instead of `image_box` (a relay
    #: forwarding a modality's film, whose boxes differ in polarity, magnification, size)
    image_boxes: tuple[ImageBoxOptions | None, ...] = ()
    #: (Annotation Position, Text String) set on the film's annotation boxes, when the printer has them
    annotations: tuple[tuple[int, str], ...] = ()
    #: Presentation LUT N-CREATE data set (shape or table), created before each film box and referenced by it
    presentation_lut: Dataset | None = None
    #: Per Image Box Position (index = position - 1): a grayscale box's own Presentation LUT, created before
    #: the film box and referenced by that box (PS3.4 H.4.3.1: it overrides the film box's)
    box_presentation_luts: tuple[Dataset | None, ...] = ()

    def box_options(self, position: int) -> ImageBoxOptions:
        own = self.image_boxes[position - 1] if position <= len(self.image_boxes) else None
        return own if own is not None else self.image_box

    @property
    def boxes_per_film(self) -> int:
        """Boxes of the display format; a film given box by box (`image_boxes`): as many as it has."""
        return len(self.image_boxes) or parse_display_format(self.film_box.ImageDisplayFormat).box_count


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


def _reference(sop_class: str, uid: str) -> Sequence:
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = sop_class, uid
    return Sequence([ref])


def film_box_dataset(options: FilmOptions, film_session_uid: str, presentation_lut_uid: str | None = None) -> Dataset:
    ds = _dataset(options.film_box)
    ds.ReferencedFilmSessionSequence = _reference(uids.BASIC_FILM_SESSION, film_session_uid)
    if presentation_lut_uid is not None:
        ds.ReferencedPresentationLUTSequence = _reference(uids.PRESENTATION_LUT, presentation_lut_uid)
    return ds


def image_box_dataset(position: int, image: GrayscaleImage | ColorImage, options: FilmOptions, *,
                      big_endian: bool, presentation_lut_uid: str | None = None) -> Dataset:
    """Image Box Position, the Basic Grayscale (or Color) Image Sequence item, the image box options set and
    (grayscale only: a colour box has none) the box's own Presentation LUT reference."""
    ds = _dataset(options.box_options(position))
    ds.ImageBoxPosition = position
    if isinstance(image, ColorImage):
        return _color_item(ds, image)
    if presentation_lut_uid is not None:
        ds.ReferencedPresentationLUTSequence = _reference(uids.PRESENTATION_LUT, presentation_lut_uid)
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
    """Basic Color Image Sequence: 8-bit RGB, Planar Configuration 1 (R plane, G plane, B plane), and the
    image's ICC Profile when it has one."""
    for keyword in GRAYSCALE_ONLY:
        ds.pop(keyword, None)
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
    if image.icc_profile:  # the colour space of the pixels (PS3.3 C.11.15); printers refusing it: client.py
        item.add_new(0x00282000, "OB", image.icc_profile + b"\0" * (len(image.icc_profile) % 2))
    ds.BasicColorImageSequence = Sequence([item])
    return ds


def annotation_dataset(position: int, text: str) -> Dataset:
    ds = Dataset()
    ds.AnnotationPosition = position
    ds.TextString = text
    return ds


def paginate(images: Seq[Any], boxes_per_film: int) -> list[list[Any]]:
    """Fill films in order; the last film's remaining boxes stay empty (not sent), as do None entries."""
    return [list(images[i:i + boxes_per_film]) for i in range(0, len(images), boxes_per_film)]
