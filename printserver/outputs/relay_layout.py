"""Output `relay`, mode "layout": the modality's films forwarded as laid out, for upstreams that compose
themselves (their own resampling, their own annotation fonts, their own density calibration).

Per film the upstream gets a film session with the modality's session attributes, a Film Box with the
film's Image Display Format, orientation, size, magnification/smoothing, border and empty-image density,
Min/Max Density, trim, configuration information and resolution ID (the values the film was printed with
here: what the modality sent, else this printer's default), and each image box's original pixels
(grayscale P-values or RGB, as the modality sent them) at its Image Box Position, with its polarity,
requested image size, decimate/crop behaviour and whatever it set apart from the film box (magnification,
smoothing, densities, configuration information); empty boxes stay empty. The annotation texts go on the
upstream's annotation boxes when both sides have them (the Basic Annotation Box class accepted, an
Annotation Display Format ID in the film). It is printserver's SCU (scu/client.py) that talks: an 8-bit-only
upstream gets 8 bits, a grayscale-only one gray, as `printserver print` chooses. A value the upstream does
not have (a display format, a film size: 0106) fails the output with its status and Error Comment.

Delivery never reads the job file: the render workers write rendition "source" (`<job>.source.npz`): each
image box's pixels as `film<i>_box<position>` (a colour box's ICC Profile as `icc<i>_box<position>`) and,
in `meta`, how to read them (bits, photometric interpretation, aspect ratio, colour, ICC). Journal, one
film per step, busy/refusal handling: relay.py's.
A Presentation LUT the modality used for every image of the film (shape or table) is created on the
upstream and referenced by the film box; image boxes with different LUTs each reference their own (one
instance per distinct LUT; PS3.4 H.4.3.1: the image box's overrides the film box's). Either way the film's
Illumination and Reflected Ambient Light go along (printers take those only with a LUT). An upstream without
the Presentation LUT class: not forwarded, and the job's warnings say so (the upstream then maps the
P-values as sent).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from printserver import uids
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.outputs.base import Rendition

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from printserver.model.spooled_job import FilmJob, ImageBoxJob, PrintJob
    from printserver.scu.films import FilmOptions, ImageBoxOptions

SOURCE = Rendition("source")
#: Film box attributes forwarded as the film was printed here (empty ones are left to the upstream).
FILM_BOX_KEYS = ("FilmOrientation", "FilmSizeID", "MagnificationType", "SmoothingType", "BorderDensity",
                 "EmptyImageDensity", "MinDensity", "MaxDensity", "Trim", "ConfigurationInformation",
                 "RequestedResolutionID")


def source_arrays(job: PrintJob) -> dict[str, np.ndarray]:
    """Rendition "source" of a job read with its pixels (the render worker's side)."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, dict[str, Any]] = {}
    for index, film in enumerate(job.films):
        for box in film.image_boxes:
            if box.image is None:
                continue
            key = f"film{index}_box{box.position}"
            arrays[key] = np.ascontiguousarray(box.image.pixels)
            icc = getattr(box.image, "icc_profile", None)
            if icc:
                arrays[f"icc{index}_box{box.position}"] = np.frombuffer(icc, np.uint8)
            meta[key] = {"color": isinstance(box.image, ColorImage), "bits_stored": box.image.bits_stored,
                         "photometric_interpretation": box.image.photometric_interpretation,
                         "pixel_aspect_ratio": list(box.image.pixel_aspect_ratio), "icc": bool(icc)}
    arrays["meta"] = np.array(json.dumps(meta))  # a string array: read back without pickle
    return arrays


def source_images(path: Path, index: int) -> dict[int, GrayscaleImage | ColorImage]:
    """Film `index`'s images by Image Box Position, from rendition "source" (the delivery side)."""
    images: dict[int, GrayscaleImage | ColorImage] = {}
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        prefix = f"film{index}_box"
        for key, m in meta.items():
            if not key.startswith(prefix):
                continue
            pixels, aspect, position = data[key], tuple(m["pixel_aspect_ratio"]), int(key.removeprefix(prefix))
            icc = data[f"icc{index}_box{position}"].tobytes() if m.get("icc") else None
            images[position] = ColorImage(pixels, aspect, icc_profile=icc) if m["color"] else \
                GrayscaleImage(pixels, int(m["bits_stored"]), str(m["photometric_interpretation"]), aspect)
    return images


def box_options(box: ImageBoxJob, film_box: dict[str, Any]) -> ImageBoxOptions:
    """One image box's attributes: its own ones, and the effective values that differ from the film box's."""
    from printserver.scu.films import ImageBoxOptions

    def apart(value: Any, keyword: str) -> Any:
        return None if value in (None, "") or value == film_box.get(keyword) else value

    return ImageBoxOptions(
        Polarity=box.polarity or None,
        RequestedImageSize=box.requested_image_size,
        MagnificationType=apart(box.magnification_type, "MagnificationType"),
        SmoothingType=apart(box.smoothing_type, "SmoothingType"),
        MinDensity=apart(box.min_density, "MinDensity"),
        MaxDensity=apart(box.max_density, "MaxDensity"),
        ConfigurationInformation=apart(box.configuration_information, "ConfigurationInformation"),
        RequestedDecimateCropBehavior=None if box.decimate_crop in ("", "DECIMATE") else box.decimate_crop)


def presentation_lut_dataset(lut: dict[str, Any]) -> Dataset:
    """A Presentation LUT N-CREATE data set from the job's LUT (model/presentation_lut.py as_job)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = Dataset()
    if "shape" in lut:
        ds.PresentationLUTShape = lut["shape"]
        return ds
    data = [int(v) for v in lut["data"]]
    item = Dataset()
    item.add_new(0x00283002, "US", [len(data) % 65536, 0, int(lut["bits"])])  # LUT Descriptor
    item.add_new(0x00283006, "US", data)  # LUT Data
    ds.PresentationLUTSequence = Sequence([item])
    return ds


def box_lut_datasets(box_luts: dict[int, dict[str, Any]], count: int) -> tuple[Dataset | None, ...]:
    """Per position, the box's own Presentation LUT data set; boxes with the same LUT share one (the SCU
    creates each data set once)."""
    made: dict[str, Dataset] = {}
    for lut in box_luts.values():
        made.setdefault(json.dumps(lut, sort_keys=True), presentation_lut_dataset(lut))
    return tuple(made[json.dumps(box_luts[p], sort_keys=True)] if p in box_luts else None
                 for p in range(1, count + 1)) if box_luts else ()


def film_luts(film: FilmJob, images: dict[int, GrayscaleImage | ColorImage],
              accepted: frozenset[str]) -> tuple[dict[str, Any] | None, dict[int, dict[str, Any]], list[str]]:
    """The Presentation LUTs the modality used, to forward: the film box's when every grayscale box has the
    same one, else each box's own by position; and why they are not forwarded. `images`: the boxes with an
    image (the job header delivery reads has no pixels); a colour box has no Presentation LUT."""
    own = {b.position: b.presentation_lut if b.presentation_lut and "gamma" not in b.presentation_lut else None
           for b in film.image_boxes if isinstance(images.get(b.position), GrayscaleImage)}
    luts = list(own.values())
    if not any(luts):
        return None, {}, []
    if uids.PRESENTATION_LUT not in accepted:
        return None, {}, [f"film{film.film_number}: the upstream does not accept Presentation LUT; "
                          "the modality's is not forwarded"]
    if all(lut == luts[0] for lut in luts):
        return luts[0], {}, []
    return None, {position: lut for position, lut in own.items() if lut is not None}, []


def layout_request(film: FilmJob, images: dict[int, GrayscaleImage | ColorImage], session: FilmOptions,
                   accepted: frozenset[str]) -> tuple[list[GrayscaleImage | ColorImage | None], FilmOptions, list[str]]:
    """The images in position order (None: an empty box), the options of one film as the modality laid
    it out and notes on what could not be forwarded; `session`: the session options relay.py forwards;
    `accepted`: the upstream's accepted classes."""
    from printserver.scu.films import FilmBoxOptions, FilmOptions

    fb = film.attributes
    values = {k: fb[k] for k in FILM_BOX_KEYS if fb.get(k) not in (None, "")}
    lut, box_luts, notes = film_luts(film, images, accepted)
    if lut is not None or box_luts:
        values |= {k: int(fb[k]) for k in ("Illumination", "ReflectedAmbientLight") if fb.get(k) not in (None, "")}
    annotations: tuple[tuple[int, str], ...] = ()
    if film.annotations and fb.get("AnnotationDisplayFormatID") and uids.BASIC_ANNOTATION_BOX in accepted:
        values["AnnotationDisplayFormatID"] = fb["AnnotationDisplayFormatID"]
        annotations = tuple((a.position, a.text) for a in film.annotations)
    count = max((b.position for b in film.image_boxes), default=0)
    by_position = {b.position: b for b in film.image_boxes}
    options = FilmOptions(
        session.session, FilmBoxOptions(str(fb["ImageDisplayFormat"]), **values),
        image_boxes=tuple(box_options(by_position[p], fb) if p in by_position else None for p in range(1, count + 1)),
        annotations=annotations, presentation_lut=presentation_lut_dataset(lut) if lut is not None else None,
        box_presentation_luts=box_lut_datasets(box_luts, count))
    return [images.get(p) for p in range(1, count + 1)], options, notes
