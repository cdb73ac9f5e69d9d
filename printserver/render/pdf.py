"""PDF output: one page per film, page size = the film, raster embedded losslessly.

The document is written here, object by object, straight to the file, page by page: each page's
image is an XObject streamed as the film's bands of rows come from the composer, so a worker holds a
band and a strip, never the film (reportlab, used before, built the whole document in memory: ~220 MB
for a 14x17 in 16-bit film). render.pdfimage compresses the image (PNG Up predictor, ISA-L deflate).
Samples: 16-bit DeviceGray (big endian, PDF 1.5), or 8-bit when the printer's `pdf_bits` is 8 (the
recorded grayscale model then says so, see `_record_depth`); an 8-bit DeviceRGB for a colour film.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from printserver.outputs.files import atomic_write
from printserver.render.pdfimage import ImageEncoder, image_entries, strips

POINTS_PER_MM = 72 / 25.4
PDF_BITS = (16, 8)


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
        self.put(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")  # 1.5: 16-bit image samples; binary marker for transfer tools

    def put(self, data: bytes) -> None:
        self.fh.write(data)
        self.pos += len(data)

    def reserve(self) -> int:
        self.count += 1
        return self.count

    def obj(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.pos
        self.put(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def begin_stream(self, number: int, entries: bytes) -> tuple[int, int]:
        """Open a stream whose length is known only once written: /Length is an indirect object after it.
        Returns (its length object, the offset of its first byte) for end_stream."""
        length_ref = self.reserve()
        self.offsets[number] = self.pos
        self.put(b"%d 0 obj\n<<%s/Length %d 0 R>>\nstream\n" % (number, entries, length_ref))
        return length_ref, self.pos

    def end_stream(self, opened: tuple[int, int]) -> None:
        length_ref, start = opened
        length = self.pos - start
        self.put(b"\nendstream\nendobj\n")
        self.obj(length_ref, b"%d" % length)

    def stream(self, number: int, entries: bytes, chunks: Iterable[bytes]) -> None:
        opened = self.begin_stream(number, entries)
        for chunk in chunks:
            if chunk:
                self.put(chunk)
        self.end_stream(opened)

    def finish(self, root: int, info: int) -> None:
        xref = self.pos
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % (self.count + 1)]
        lines += [b"%010d 00000 n \n" % self.offsets[n] for n in range(1, self.count + 1)]
        self.put(b"".join(lines))
        self.put(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
                  % (self.count + 1, root, info, xref))


# -- documents --------------------------------------------------------------------------------------------------

_HELVETICA = b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"


def _caption_text(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _check_bits(pdf_bits: int) -> None:
    if pdf_bits not in PDF_BITS:
        raise ValueError(f"pdf_bits must be 16 or 8, not {pdf_bits!r}")


def _record_depth(info: dict[str, str], gray_16: list[bool], pdf_bits: int) -> dict[str, str]:
    """The page gray model as the pages hold it: at 8 bits a 16-bit gray page is written as `sRGB-8`.

    The writer decides the depth, so it is the one that keeps `DICOMGrayscaleModel` honest (a reader
    decodes the page's codes with it; render.tone.OutputModel.decode). `gray_16`: per page, whether its
    raster is 16-bit page gray.
    """
    if pdf_bits == 16 or "DICOMGrayscaleModel" not in info:
        return info
    models = json.loads(info["DICOMGrayscaleModel"])
    for model, is_gray_16 in zip(models, gray_16, strict=False):
        if is_gray_16:
            model["encoding"] = "sRGB-8"
    return info | {"DICOMGrayscaleModel": json.dumps(models, sort_keys=True)}


#: A page's placement from the film's (width, height) in mm: (page width, page height, x, y, image
#: width, image height) in points and any extra content.
Place = Callable[[float, float], tuple[float, float, float, float, float, float, bytes]]


@dataclass(frozen=True)
class _OpenPage:
    page_id: int
    content_id: int
    image_id: int
    placement: tuple[float, float, float, float, float, float, bytes]
    opened: tuple[int, int]  # _Writer.begin_stream
    encoder: ImageEncoder


class PdfDocument:
    """A PDF written page by page, each page's image as its bands of rows come (render.compose.compose_bands):
    the writer holds one strip of rows, never the film. Pages: begin_page, write (bands, top down),
    end_page; then close once (the Info dictionary, the cross-reference table)."""

    def __init__(self, fh: BinaryIO, info: dict[str, str], pdf_bits: int, place: Place) -> None:
        _check_bits(pdf_bits)
        self.pdf = _Writer(fh)
        self.info, self.bits, self.place = info, pdf_bits, place
        self.root, self.tree, self.font = self.pdf.reserve(), self.pdf.reserve(), self.pdf.reserve()
        self.kids: list[int] = []
        self.gray_16: list[bool] = []
        self._page: _OpenPage | None = None

    def begin_page(self, width_mm: float, height_mm: float, shape: tuple[int, ...], dtype: np.dtype) -> None:
        """A page for a film of `width_mm` x `height_mm` whose raster has this shape and dtype."""
        page_id, content_id, image_id = self.pdf.reserve(), self.pdf.reserve(), self.pdf.reserve()
        self.kids.append(page_id)
        self.gray_16.append(len(shape) == 2 and dtype.itemsize == 2)
        placement = self.place(width_mm, height_mm)
        opened = self.pdf.begin_stream(image_id, image_entries(shape, dtype, self.bits))
        self._page = _OpenPage(page_id, content_id, image_id, placement, opened, ImageEncoder(shape, dtype, self.bits))

    def write(self, band: np.ndarray) -> None:
        assert self._page is not None, "write before begin_page"
        for chunk in self._page.encoder.push(band):
            self.pdf.put(chunk)

    def end_page(self) -> None:
        assert self._page is not None, "end_page before begin_page"
        page = self._page
        pw, ph, x, y, w, h, more = page.placement
        for chunk in page.encoder.finish():
            self.pdf.put(chunk)
        self.pdf.end_stream(page.opened)
        self.pdf.stream(page.content_id, b"", [b"q %.4f 0 0 %.4f %.4f %.4f cm /Im1 Do Q\n" % (w, h, x, y), more])
        self.pdf.obj(page.page_id, b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 %.4f %.4f]/Contents %d 0 R"
                                   b"/Resources<</XObject<</Im1 %d 0 R>>/Font<</F1 %d 0 R>>>>>>"
                     % (self.tree, pw, ph, page.content_id, page.image_id, self.font))
        self._page = None

    def add_page(self, page: FilmPage) -> None:
        """A whole raster as one page."""
        self.begin_page(page.width_mm, page.height_mm, page.raster.shape, page.raster.dtype)
        for strip in strips(page.raster):
            self.write(strip)
        self.end_page()

    def close(self) -> None:
        """Font, page tree, catalog and Info (the grayscale model as the pages were written), then the xref."""
        pdf = self.pdf
        pdf.obj(self.font, _HELVETICA)
        pdf.obj(self.tree, b"<</Type/Pages/Count %d/Kids[%s]>>"
                % (len(self.kids), b" ".join(b"%d 0 R" % k for k in self.kids)))
        pdf.obj(self.root, b"<</Type/Catalog/Pages %d 0 R>>" % self.tree)
        info_id = pdf.reserve()
        now = _date(datetime.now().astimezone())
        info = _record_depth(self.info, self.gray_16, self.bits)
        entries = b"".join(_name(k) + b" " + _text(v) for k, v in info.items())
        pdf.obj(info_id, b"<<%s/CreationDate %s/ModDate %s>>" % (entries, now, now))
        pdf.finish(self.root, info_id)


def _info(title: str, author: str, **more: str) -> dict[str, str]:
    from printserver import __version__

    producer = f"printserver {__version__}"
    return {"Title": title, "Author": author, **more, "Creator": producer, "Producer": producer}


def true_size_document(fh: BinaryIO, *, title: str, author: str, subject: str, keywords: str,
                       extra: dict[str, str], pdf_bits: int = 16) -> PdfDocument:
    """One page per film, the page the film's size (write_pdf, page by page)."""
    info = _info(title, author, Subject=subject, Keywords=keywords) | extra

    def true_size(width_mm: float, height_mm: float) -> tuple[float, float, float, float, float, float, bytes]:
        w, h = width_mm * POINTS_PER_MM, height_mm * POINTS_PER_MM
        return w, h, 0.0, 0.0, w, h, b""

    return PdfDocument(fh, info, pdf_bits, true_size)


def write_pdf(path: Path, pages: list[FilmPage], *, title: str, author: str, subject: str,
              keywords: str, extra: dict[str, str], pdf_bits: int = 16) -> None:
    """Write `pages` atomically to `path`; `extra` become custom Info keys (e.g. DICOM attributes).

    `pdf_bits` 8 writes a 16-bit gray film at 8 bits (about 4x smaller, ~0.14 OD steps near Dmax).
    """
    _check_bits(pdf_bits)
    with atomic_write(path) as fh:
        doc = true_size_document(fh, title=title, author=author, subject=subject, keywords=keywords, extra=extra,
                                 pdf_bits=pdf_bits)
        for page in pages:
            doc.add_page(page)
        doc.close()


FIT_MARGIN_MM = 8.0
FIT_CAPTION_MM = 6.0


def fit_scale(film_mm: tuple[float, float], paper_mm: tuple[float, float]) -> float:
    """Scale (at most 1:1) that fits a film into the paper's printable area, leaving a caption band."""
    avail_w = paper_mm[0] - 2 * FIT_MARGIN_MM
    avail_h = paper_mm[1] - 2 * FIT_MARGIN_MM - FIT_CAPTION_MM
    return min(1.0, avail_w / film_mm[0], avail_h / film_mm[1])


def fit_document(fh: BinaryIO, paper_mm: tuple[float, float], caption: str, *, title: str, author: str,
                 pdf_bits: int = 16, scales: list[float] | None = None) -> PdfDocument:
    """Films scaled onto paper (film->paper policy `fit`), the scale printed in the bottom margin.

    Paper is turned to the film's orientation. Each page's scale is appended to `scales`.
    """
    def on_paper(width_mm: float, height_mm: float) -> tuple[float, float, float, float, float, float, bytes]:
        pw, ph = sorted(paper_mm)
        if width_mm > height_mm:
            pw, ph = ph, pw
        scale = fit_scale((width_mm, height_mm), (pw, ph))
        if scales is not None:
            scales.append(scale)
        w_pt, h_pt = pw * POINTS_PER_MM, ph * POINTS_PER_MM
        iw, ih = width_mm * scale * POINTS_PER_MM, height_mm * scale * POINTS_PER_MM
        x = (w_pt - iw) / 2
        y = (FIT_MARGIN_MM + FIT_CAPTION_MM) * POINTS_PER_MM + \
            ((ph - 2 * FIT_MARGIN_MM - FIT_CAPTION_MM) * POINTS_PER_MM - ih) / 2
        margin = FIT_MARGIN_MM * POINTS_PER_MM
        text = _caption_text(f"SCALE {scale * 100:.1f} % - NOT TRUE SIZE - {caption}")
        return w_pt, h_pt, x, y, iw, ih, b"BT /F1 8 Tf %.4f %.4f Td %s Tj ET\n" % (margin, margin, text)

    return PdfDocument(fh, _info(title, author), pdf_bits, on_paper)


def write_fit_pdf(path: Path, pages: list[FilmPage], paper_mm: tuple[float, float], caption: str, *,
                  title: str, author: str, pdf_bits: int = 16) -> list[float]:
    """`fit_document` of whole rasters, written atomically to `path`. Returns the scale of each page."""
    _check_bits(pdf_bits)
    scales: list[float] = []
    with atomic_write(path) as fh:
        doc = fit_document(fh, paper_mm, caption, title=title, author=author, pdf_bits=pdf_bits, scales=scales)
        for page in pages:
            doc.add_page(page)
        doc.close()
    return scales
