"""PDF output: one page per film, page size = the film, raster embedded losslessly.

The document is written here, object by object, straight to the file: the page image is an image
XObject streamed in strips of rows, so a worker never holds more than the film raster plus one strip
(reportlab, used before, built the whole document in memory: ~220 MB for a 14x17 in 16-bit film).

Each strip goes through the PNG "Up" row predictor (PDF `/DecodeParms /Predictor 12`, which every
reader decodes) and ISA-L's deflate (`isal`, a zlib-compatible stream) at level 1: for a film of
magnified medical images ~20 % smaller than plain deflate and several times faster than zlib.
Samples: 16-bit DeviceGray (big endian, PDF 1.5), or 8-bit when the printer's `pdf_bits` is 8 (the
recorded grayscale model then says so, see `_record_depth`); an 8-bit DeviceRGB for a colour film.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from printserver.outputs.files import atomic_write
from printserver.render.tone import to_8bit

try:  # ISA-L: same stream format as zlib, ~5x faster at level 1
    from isal import isal_zlib as _deflate
except ImportError:  # no wheel for this platform: plain zlib writes the same, valid PDF, only slower
    import zlib as _deflate

POINTS_PER_MM = 72 / 25.4
DEFLATE_LEVEL = 1
PDF_BITS = (16, 8)
_STRIP_BYTES = 256 * 1024  # uncompressed rows handed to deflate at once: stays in the CPU cache
_UP = 2  # PNG filter type of every row


@dataclass(frozen=True)
class FilmPage:
    raster: np.ndarray  # (rows, columns) uint8/uint16 gray or (rows, columns, 3) uint8 RGB, row 0 at the top
    width_mm: float
    height_mm: float


# -- PDF objects ------------------------------------------------------------------------------------------------


def _text(value: str) -> bytes:
    """A PDF text string: literal if printable ASCII, else UTF-16BE with a byte order mark (PDF 1.7 §7.9.2.2)."""
    if all(32 <= ord(ch) < 127 for ch in value):
        return b"(" + value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii") + b")"
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _name(key: str) -> bytes:
    """A PDF name; characters outside regular ASCII written as #xx (PDF 1.7 §7.3.5)."""
    out = "".join(ch if ch.isascii() and ch.isalnum() else f"#{ord(ch):02X}" for ch in key)
    return b"/" + out.encode("ascii")


def _date(ts: datetime) -> bytes:
    offset = ts.strftime("%z") or "+0000"
    return _text(ts.strftime("D:%Y%m%d%H%M%S") + f"{offset[:3]}'{offset[3:]}'")


class _Writer:
    """Indirect objects written in order, their offsets kept for the cross-reference table."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.pos = 0
        self.offsets: dict[int, int] = {}
        self.count = 0
        self._put(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")  # 1.5: 16-bit image samples; binary marker for transfer tools

    def _put(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def reserve(self) -> int:
        self.count += 1
        return self.count

    def obj(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.pos
        self._put(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def stream(self, number: int, entries: bytes, chunks: Iterable[bytes]) -> None:
        """A stream whose length is known only once written: /Length is an indirect object after it."""
        length_ref = self.reserve()
        self.offsets[number] = self.pos
        self._put(b"%d 0 obj\n<<%s/Length %d 0 R>>\nstream\n" % (number, entries, length_ref))
        start = self.pos
        for chunk in chunks:
            if chunk:
                self._put(chunk)
        length = self.pos - start
        self._put(b"\nendstream\nendobj\n")
        self.obj(length_ref, b"%d" % length)

    def finish(self, root: int, info: int) -> None:
        xref = self.pos
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % (self.count + 1)]
        lines += [b"%010d 00000 n \n" % self.offsets[n] for n in range(1, self.count + 1)]
        self._put(b"".join(lines))
        self._put(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
                  % (self.count + 1, root, info, xref))


# -- the page image ---------------------------------------------------------------------------------------------


def _predicted_rows(raster: np.ndarray, bits: int) -> Iterator[bytes]:
    """The image samples row by row in strips, each row prefixed with the PNG Up filter byte.

    Up is a byte-wise difference with the row above (mod 256), the same on big- and little-endian
    bytes but for their order, so it runs on the native bytes and the strip is swapped once after.
    """
    rows = raster.shape[0]
    depth_16 = raster.dtype.itemsize == 2 and bits == 16
    row_bytes = raster[0].size * (2 if depth_16 else 1)
    step = max(1, _STRIP_BYTES // row_bytes)
    out = np.empty((step, row_bytes + 1), np.uint8)
    out[:, 0] = _UP
    previous = np.zeros(row_bytes, np.uint8)
    for r0 in range(0, rows, step):
        strip = raster[r0:r0 + step]
        if depth_16:
            samples = strip.astype(">u2").reshape(len(strip), -1).view(np.uint8)
        elif raster.dtype.itemsize == 2:  # 16-bit page gray written at 8 bits
            samples = to_8bit(strip).reshape(len(strip), -1)
        else:
            samples = np.ascontiguousarray(strip, np.uint8).reshape(len(strip), -1)
        n = len(samples)
        np.subtract(samples[0], previous, out=out[0, 1:])
        np.subtract(samples[1:], samples[:-1], out=out[1:n, 1:])
        previous = samples[-1].copy()
        yield out[:n].tobytes()


def _deflated(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = _deflate.compressobj(DEFLATE_LEVEL)
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


def image_entries(raster: np.ndarray, bits: int) -> bytes:
    """The image XObject's dictionary entries (without /Length) for `raster` written at `bits`."""
    rows, columns = raster.shape[:2]
    colors = 3 if raster.ndim == 3 else 1
    depth = 16 if raster.dtype.itemsize == 2 and bits == 16 else 8
    space = b"/DeviceRGB" if colors == 3 else b"/DeviceGray"
    return (b"/Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace%s/BitsPerComponent %d/Filter/FlateDecode"
            b"/DecodeParms<</Predictor 12/Colors %d/BitsPerComponent %d/Columns %d>>"
            % (columns, rows, space, depth, colors, depth, columns))


def encode_image(raster: np.ndarray, bits: int = 16) -> Iterator[bytes]:
    """The compressed image stream of `raster` in pieces (for the writer, and for benchmarks)."""
    return _deflated(_predicted_rows(raster, bits))


# -- documents --------------------------------------------------------------------------------------------------

_HELVETICA = b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"


def _caption_text(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _check_bits(pdf_bits: int) -> None:
    if pdf_bits not in PDF_BITS:
        raise ValueError(f"pdf_bits must be 16 or 8, not {pdf_bits!r}")


def _record_depth(extra: dict[str, str], pages: list[FilmPage], pdf_bits: int) -> dict[str, str]:
    """The page gray model as the pages hold it: at 8 bits a 16-bit gray page is written as `sRGB-8`.

    The writer decides the depth, so it is the one that keeps `DICOMGrayscaleModel` honest (a reader
    decodes the page's codes with it; render.tone.OutputModel.decode).
    """
    if pdf_bits == 16 or "DICOMGrayscaleModel" not in extra:
        return extra
    models = json.loads(extra["DICOMGrayscaleModel"])
    for model, page in zip(models, pages, strict=False):
        if page.raster.ndim == 2 and page.raster.dtype.itemsize == 2:
            model["encoding"] = "sRGB-8"
    return extra | {"DICOMGrayscaleModel": json.dumps(models, sort_keys=True)}


def _document(fh: BinaryIO, pages: list[FilmPage], info: dict[str, str], pdf_bits: int,
              place: Callable[[FilmPage], tuple[float, float, float, float, float, float, bytes]]) -> None:
    """Catalog, page tree, one image (and its drawing) per page, Info. `place` gives a page's
    (page width, page height, x, y, image width, image height) in points and any extra content."""
    pdf = _Writer(fh)
    root, tree, font = pdf.reserve(), pdf.reserve(), pdf.reserve()
    kids = []
    for page in pages:
        page_id, content_id, image_id = pdf.reserve(), pdf.reserve(), pdf.reserve()
        kids.append(page_id)
        pw, ph, x, y, w, h, more = place(page)
        pdf.stream(image_id, image_entries(page.raster, pdf_bits), encode_image(page.raster, pdf_bits))
        pdf.stream(content_id, b"", [b"q %.4f 0 0 %.4f %.4f %.4f cm /Im1 Do Q\n" % (w, h, x, y), more])
        pdf.obj(page_id, b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 %.4f %.4f]/Contents %d 0 R"
                         b"/Resources<</XObject<</Im1 %d 0 R>>/Font<</F1 %d 0 R>>>>>>"
                % (tree, pw, ph, content_id, image_id, font))
    pdf.obj(font, _HELVETICA)
    pdf.obj(tree, b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(kids), b" ".join(b"%d 0 R" % k for k in kids)))
    pdf.obj(root, b"<</Type/Catalog/Pages %d 0 R>>" % tree)
    info_id = pdf.reserve()
    now = _date(datetime.now().astimezone())
    entries = b"".join(_name(k) + b" " + _text(v) for k, v in info.items())
    pdf.obj(info_id, b"<<%s/CreationDate %s/ModDate %s>>" % (entries, now, now))
    pdf.finish(root, info_id)


def _info(title: str, author: str, **more: str) -> dict[str, str]:
    from printserver import __version__

    producer = f"printserver {__version__}"
    return {"Title": title, "Author": author, **more, "Creator": producer, "Producer": producer}


def write_pdf(path: Path, pages: list[FilmPage], *, title: str, author: str, subject: str,
              keywords: str, extra: dict[str, str], pdf_bits: int = 16) -> None:
    """Write `pages` atomically to `path`; `extra` become custom Info keys (e.g. DICOM attributes).

    `pdf_bits` 8 writes a 16-bit gray film at 8 bits (about 4x smaller, ~0.14 OD steps near Dmax).
    """
    _check_bits(pdf_bits)
    info = _info(title, author, Subject=subject, Keywords=keywords) | _record_depth(extra, pages, pdf_bits)

    def true_size(page: FilmPage) -> tuple[float, float, float, float, float, float, bytes]:
        w, h = page.width_mm * POINTS_PER_MM, page.height_mm * POINTS_PER_MM
        return w, h, 0.0, 0.0, w, h, b""

    with atomic_write(path) as fh:
        _document(fh, pages, info, pdf_bits, true_size)


FIT_MARGIN_MM = 8.0
FIT_CAPTION_MM = 6.0


def fit_scale(film_mm: tuple[float, float], paper_mm: tuple[float, float]) -> float:
    """Scale (at most 1:1) that fits a film into the paper's printable area, leaving a caption band."""
    avail_w = paper_mm[0] - 2 * FIT_MARGIN_MM
    avail_h = paper_mm[1] - 2 * FIT_MARGIN_MM - FIT_CAPTION_MM
    return min(1.0, avail_w / film_mm[0], avail_h / film_mm[1])


def write_fit_pdf(path: Path, pages: list[FilmPage], paper_mm: tuple[float, float], caption: str, *,
                  title: str, author: str, pdf_bits: int = 16) -> list[float]:
    """Films scaled onto paper (film->paper policy `fit`), the scale printed in the bottom margin.

    Paper is turned to the film's orientation. Returns the scale of each page.
    """
    _check_bits(pdf_bits)
    scales: list[float] = []

    def on_paper(page: FilmPage) -> tuple[float, float, float, float, float, float, bytes]:
        pw, ph = sorted(paper_mm)
        if page.width_mm > page.height_mm:
            pw, ph = ph, pw
        scale = fit_scale((page.width_mm, page.height_mm), (pw, ph))
        scales.append(scale)
        w_pt, h_pt = pw * POINTS_PER_MM, ph * POINTS_PER_MM
        iw, ih = page.width_mm * scale * POINTS_PER_MM, page.height_mm * scale * POINTS_PER_MM
        x = (w_pt - iw) / 2
        y = (FIT_MARGIN_MM + FIT_CAPTION_MM) * POINTS_PER_MM + \
            ((ph - 2 * FIT_MARGIN_MM - FIT_CAPTION_MM) * POINTS_PER_MM - ih) / 2
        margin = FIT_MARGIN_MM * POINTS_PER_MM
        text = _caption_text(f"SCALE {scale * 100:.1f} % - NOT TRUE SIZE - {caption}")
        return w_pt, h_pt, x, y, iw, ih, b"BT /F1 8 Tf %.4f %.4f Td %s Tj ET\n" % (margin, margin, text)

    with atomic_write(path) as fh:
        _document(fh, pages, _info(title, author), pdf_bits, on_paper)
    return scales
