"""Image preparation: any image pydicom reads -> preformatted P-values for an image box.

The SCU's job (PS3.4 H.4.3: image boxes carry preformatted images): Modality LUT, VOI (the file's
window or VOI LUT, or one given), MONOCHROME1 kept or inverted, colour to gray for a grayscale
printer, multi-frame split into frames, oversized images downsampled, quantised to 12 or 8 bits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi

from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage

log = logging.getLogger(__name__)


class PreparationError(Exception):
    """An image that cannot be printed; the message says why (and what to install, for codecs)."""


class UndecodableImage(PreparationError):
    """One file whose pixel data cannot be decoded here: one line naming the file and transfer syntax."""


#: What `pip install 'printserver[codecs]'` brings (pyproject.toml): the hint names it only for these.
CODECS_EXTRA = ("pylibjpeg",)


@dataclass(frozen=True)
class PrepareOptions:
    #: Explicit (center, width); else the file's window number `window_index`, else its VOI LUT, else min-max.
    window: tuple[float, float] | None = None
    window_index: int = 0
    invert_monochrome1: bool = False
    bits: int = 12
    #: Longest side in pixels; larger images are downsampled (aspect kept).
    max_size: int = 4096
    #: 1-based frame selection such as "1,3-5"; None = every frame.
    frames: str | None = None
    #: Keep colour images as RGB (printed in colour where the printer accepts the colour meta class,
    #: else converted to gray by the client); False converts them to gray here.
    keep_color: bool = True


@dataclass(frozen=True)
class PreparedImage:
    source: str  # "path" or "path#frame"
    image: GrayscaleImage | ColorImage


def parse_frames(selection: str, count: int) -> list[int]:
    """'1,3-5' -> [0, 2, 3, 4] (0-based), each checked against the frame count."""
    chosen: list[int] = []
    for part in selection.split(","):
        part = part.strip()
        lo, _, hi = part.partition("-")
        try:
            start, end = int(lo), int(hi or lo)
        except ValueError:
            raise PreparationError(f"frame selection '{selection}' is not like '1,3-5'") from None
        if not 1 <= start <= end <= count:
            raise PreparationError(f"frames {part} outside 1..{count}")
        chosen.extend(range(start - 1, end))
    return chosen


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files, and the files under folders (recursively, sorted)."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file())
        else:
            yield p


def load(paths: Iterable[str | Path], options: PrepareOptions) -> tuple[list[PreparedImage], list[str]]:
    """Every printable image under `paths`, and notes on what was skipped and why."""
    images: list[PreparedImage] = []
    notes: list[str] = []
    undecodable: list[str] = []
    for path in iter_files(paths):
        try:
            ds = dcmread(path)
        except (InvalidDicomError, OSError) as exc:
            notes.append(f"skipped {path}: not a DICOM file ({exc.__class__.__name__})")
            continue
        if "PixelData" not in ds:
            notes.append(f"skipped {path}: no pixel data ({ds.get('SOPClassUID', 'unknown class')})")
            continue
        try:
            images.extend(prepare_dataset(ds, options, str(path)))
        except UndecodableImage as exc:  # go on: every such file gets its line, then nothing is printed
            undecodable.append(str(exc))
    if undecodable:
        raise PreparationError("\n".join(undecodable))
    return images, notes


def undecodable(ds: Dataset, source: str, exc: Exception) -> UndecodableImage:
    """One line: the file, its transfer syntax, and what would decode it only when that is what is missing."""
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.uid import UID

    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", ""))) if hasattr(ds, "file_meta") else UID("")
    name = f"{ts.name} ({ts})" if ts and ts.name != str(ts) else str(ts or "no transfer syntax")
    if ts.is_compressed:
        try:
            decoder = get_decoder(ts)
        except NotImplementedError:
            return UndecodableImage(f"{source}: cannot decode {name}: no decoder for it exists in pydicom")
        if not decoder.is_available:
            missing = decoder.missing_dependencies
            if any(m.startswith(CODECS_EXTRA) for m in missing):
                hint = "install the decoders: pip install 'printserver[codecs]'"
            else:
                hint = "it needs one of: " + "; ".join(missing)
            return UndecodableImage(f"{source}: cannot decode {name}: no decoder installed ({hint})")
    words = " ".join(str(exc).split()) or type(exc).__name__
    return UndecodableImage(f"{source}: cannot decode the pixel data ({name}): {words[:160]}")


def _pixel_frames(ds: Dataset, source: str) -> np.ndarray:
    try:
        arr = ds.pixel_array
    except Exception as exc:  # missing codec plugin, corrupt data: say which and how to fix
        log.debug("decoding %s failed", source, exc_info=True)  # pydicom's own words, with --debug
        raise undecodable(ds, source, exc) from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    spp = int(ds.get("SamplesPerPixel", 1))
    single_ndim = 2 if spp == 1 else 3
    return arr if arr.ndim > single_ndim or frames > 1 else arr[None]


def _window(x: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """VOI windowing to [0, 1] (PS3.3 C.11.2.1.2)."""
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (x - center) / width))
    if function == "LINEAR_EXACT":
        return np.clip((x - center) / width + 0.5, 0.0, 1.0)
    if width < 1:
        raise PreparationError(f"Window Width {width} is below 1 (LINEAR)")
    if width == 1:
        return (x > center - 0.5).astype(np.float64)
    return np.clip((x - (center - 0.5)) / (width - 1) + 0.5, 0.0, 1.0)


def _voi(ds: Dataset, values: np.ndarray, options: PrepareOptions, source: str,
         data_range: tuple[float, float]) -> np.ndarray:
    if options.window is not None:
        center, width = options.window
        return _window(values, center, width, "LINEAR")
    windows = ds.get("WindowCenter")
    voi_luts = ds.get("VOILUTSequence")
    if windows is None and voi_luts:
        if options.window_index >= len(voi_luts):
            raise PreparationError(f"{source}: no VOI LUT {options.window_index + 1} (the file has {len(voi_luts)})")
        item = voi_luts[options.window_index]
        out = apply_voi(np.rint(values).astype(np.int64), ds, index=options.window_index)
        return out.astype(np.float64) / float((1 << int(item.LUTDescriptor[2])) - 1)
    if windows is not None:
        centers, widths = _multi(windows), _multi(ds.get("WindowWidth"))
        if options.window_index >= len(centers):
            raise PreparationError(f"{source}: no window {options.window_index + 1} (the file has {len(centers)})")
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        return _window(values, float(centers[options.window_index]), float(widths[options.window_index]), function)
    lo, hi = data_range  # no VOI at all: the full range of the data (of every frame, so frames compare)
    return np.zeros_like(values, dtype=np.float64) if hi <= lo else (values - lo) / (hi - lo)


def _multi(value: object) -> list[object]:
    return list(value) if isinstance(value, MultiValue | list | tuple) else [value]


def _aspect(ds: Dataset) -> tuple[int, int]:
    """(vertical, horizontal) pixel size ratio from Pixel Aspect Ratio or the pixel spacing."""
    par = ds.get("PixelAspectRatio")
    if par and len(par) == 2 and min(int(v) for v in par) > 0:
        return int(par[0]), int(par[1])
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    if spacing and len(spacing) == 2 and min(float(v) for v in spacing) > 0:
        ratio = Fraction(float(spacing[0]) / float(spacing[1])).limit_denominator(100)
        return ratio.numerator, ratio.denominator
    return 1, 1


def _resize(norm: np.ndarray, max_size: int) -> np.ndarray:
    rows, cols = norm.shape
    scale = max_size / max(rows, cols)
    if scale >= 1:
        return norm
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    return np.asarray(Image.fromarray(norm.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS))


def prepare_dataset(ds: Dataset, options: PrepareOptions, source: str) -> list[PreparedImage]:
    """One PreparedImage per (selected) frame."""
    if options.bits not in (8, 12):
        raise PreparationError(f"bits must be 8 or 12, not {options.bits}")
    frames = _pixel_frames(ds, source)
    indexes = parse_frames(options.frames, len(frames)) if options.frames else list(range(len(frames)))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    spp = int(ds.get("SamplesPerPixel", 1))
    aspect = _aspect(ds)
    out = []
    top = (1 << options.bits) - 1
    data_range = (0.0, 0.0)
    if spp == 1 and photometric != "PALETTE COLOR":
        modality = [apply_modality_lut(frames[i], ds) for i in indexes]
        data_range = (float(min(m.min() for m in modality)), float(max(m.max() for m in modality)))
    for i in indexes:
        stored = frames[i]
        label = f"{source}#{i + 1}" if len(frames) > 1 else source
        if photometric == "PALETTE COLOR" or spp == 3:
            if photometric == "PALETTE COLOR":
                rgb = apply_color_lut(stored, ds).astype(np.float64)
                rgb /= float(np.iinfo(rgb.dtype).max if rgb.dtype.kind == "u" else 65535)
            else:  # pydicom hands colour over as RGB (YBR converted)
                rgb = stored.astype(np.float64) / float((1 << int(ds.BitsStored)) - 1)
            if options.keep_color:
                channels = [_resize(rgb[..., c], options.max_size) for c in range(3)]
                pixels8 = np.rint(np.clip(np.stack(channels, axis=-1), 0, 1) * 255).astype(np.uint8)
                icc = ds.get("ICCProfile")  # the colour space of the RGB pydicom hands over
                out.append(PreparedImage(label, ColorImage(pixels8, aspect, icc_profile=bytes(icc) if icc else None)))
                continue
            norm, out_photometric = _luma(rgb)
        else:
            values = apply_modality_lut(stored, ds).astype(np.float64)
            norm = _voi(ds, values, options, source, data_range)
            out_photometric = photometric if photometric in ("MONOCHROME1", "MONOCHROME2") else "MONOCHROME2"
            if out_photometric == "MONOCHROME1" and options.invert_monochrome1:
                norm, out_photometric = 1.0 - norm, "MONOCHROME2"
        norm = np.clip(_resize(norm, options.max_size), 0.0, 1.0)
        pixels = np.rint(norm * top).astype(np.uint16 if options.bits == 12 else np.uint8)
        out.append(PreparedImage(label, GrayscaleImage(pixels, options.bits, out_photometric, aspect)))
    return out


def to_gray(image: ColorImage, bits: int = 12) -> GrayscaleImage:
    """A colour image for a printer without colour: its luma (of its sRGB, when it has an ICC Profile) as
    P-values."""
    from printserver.render.color_management import to_srgb

    norm, photometric = _luma(to_srgb(image.pixels, image.icc_profile).astype(np.float64) / 255.0)
    pixels = np.rint(norm * ((1 << bits) - 1)).astype(np.uint16 if bits == 12 else np.uint8)
    return GrayscaleImage(pixels, bits, photometric, image.pixel_aspect_ratio)


def to_color(image: GrayscaleImage) -> ColorImage:
    """A grayscale image on a colour film: equal R, G, B, light where the image is light."""
    top = (1 << image.bits_stored) - 1
    norm = image.pixels.astype(np.float64) / top
    if image.photometric_interpretation == "MONOCHROME1":
        norm = 1.0 - norm
    gray = np.rint(norm * 255).astype(np.uint8)
    return ColorImage(np.repeat(gray[..., None], 3, axis=2), image.pixel_aspect_ratio)


def _luma(rgb: np.ndarray) -> tuple[np.ndarray, str]:
    """Colour for a grayscale printer: Rec. 601 luma of the RGB values (0..1)."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114, "MONOCHROME2"
