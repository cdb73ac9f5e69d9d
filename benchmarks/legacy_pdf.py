"""PDF output: one page per film, page size = the film, raster embedded losslessly.

reportlab writes the document; the page image is handed to it already Flate-compressed at zlib
level 1 (a raw 8- or 16-bit DeviceGray XObject, 16-bit samples big endian as PDF 1.5 wants; an
8-bit DeviceRGB one for a colour film), because reportlab's own drawImage path recompresses at the
default level and, with its defaults, ASCII85-encodes: several seconds and +25 % size for a
21-megapixel film, where level 1 takes a fraction of a second and stays bit-exact.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from printserver.outputs.files import atomic_write

POINTS_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class FilmPage:
    raster: np.ndarray  # (rows, columns) uint8/uint16 gray or (rows, columns, 3) uint8 RGB, row 0 at the top
    width_mm: float
    height_mm: float


class _FilmInfo(pdfdoc.PDFInfo):
    """The document Info dictionary with printserver's own keys beside the standard ones."""

    def __init__(self, extra: dict[str, str]) -> None:
        super().__init__()
        self.extra = extra

    def format(self, document: Any) -> bytes:
        d = {
            "Title": pdfdoc.PDFString(self.title),
            "Author": pdfdoc.PDFString(self.author),
            "Subject": pdfdoc.PDFString(self.subject),
            "Keywords": pdfdoc.PDFString(self.keywords),
            "Creator": pdfdoc.PDFString(self.creator),
            "Producer": pdfdoc.PDFString(self.producer),
            "CreationDate": pdfdoc.PDFDate(ts=document._timeStamp),
            "ModDate": pdfdoc.PDFDate(ts=document._timeStamp),
        }
        d.update({key: pdfdoc.PDFString(value) for key, value in self.extra.items()})
        return pdfdoc.PDFDictionary(d).format(document)


def _image_xobject(name: str, raster: np.ndarray) -> pdfdoc.PDFImageXObject:
    rows, cols = raster.shape[:2]
    xobj = pdfdoc.PDFImageXObject(name)
    xobj.width, xobj.height = cols, rows
    if raster.dtype.itemsize == 2:
        xobj.bitsPerComponent = 16
        samples = np.ascontiguousarray(raster, dtype=">u2")  # PDF samples are big endian
    else:
        xobj.bitsPerComponent = 8
        samples = np.ascontiguousarray(raster, dtype=np.uint8)
    xobj.colorSpace = "DeviceRGB" if raster.ndim == 3 else "DeviceGray"  # RGB: samples interleaved per pixel
    xobj.streamContent = zlib.compress(samples.data, 1)
    xobj._filters = ("FlateDecode",)
    xobj.mask = None
    return xobj


def _draw_raster(canvas: Canvas, name: str, raster: np.ndarray, x: float, y: float, w: float, h: float) -> None:
    """Place the pre-compressed raster as an image XObject at (x, y) sized w x h points.

    This is reportlab's drawImage registration (canvas internals) without its recompression.
    """
    reg_name = canvas._doc.getXObjectName(name)
    xobj = _image_xobject(name, raster)
    canvas._setXObjects(xobj)
    canvas._doc.Reference(xobj, reg_name)
    canvas._doc.addForm(name, xobj)
    canvas._formsinuse.append(name)
    canvas._code.append(f"q {w:.4f} 0 0 {h:.4f} {x:.4f} {y:.4f} cm /{reg_name} Do Q")


def write_pdf(path: Path, pages: list[FilmPage], *, title: str, author: str, subject: str,
              keywords: str, extra: dict[str, str]) -> None:
    """Write `pages` atomically to `path`; `extra` become custom Info keys (e.g. DICOM attributes)."""
    with atomic_write(path) as fh:
        canvas = Canvas(fh, pageCompression=1, pdfVersion=(1, 5))  # 1.5: 16-bit image samples
        info = _FilmInfo(extra)
        info.title, info.author, info.subject, info.keywords = title, author, subject, keywords
        from printserver import __version__

        info.creator = f"printserver {__version__}"
        canvas._doc.info = info
        for number, page in enumerate(pages, start=1):
            w_pt, h_pt = page.width_mm * POINTS_PER_MM, page.height_mm * POINTS_PER_MM
            canvas.setPageSize((w_pt, h_pt))
            _draw_raster(canvas, f"film{number}", page.raster, 0, 0, w_pt, h_pt)
            canvas.showPage()
        canvas.save()


FIT_MARGIN_MM = 8.0
FIT_CAPTION_MM = 6.0


def fit_scale(film_mm: tuple[float, float], paper_mm: tuple[float, float]) -> float:
    """Scale (at most 1:1) that fits a film into the paper's printable area, leaving a caption band."""
    avail_w = paper_mm[0] - 2 * FIT_MARGIN_MM
    avail_h = paper_mm[1] - 2 * FIT_MARGIN_MM - FIT_CAPTION_MM
    return min(1.0, avail_w / film_mm[0], avail_h / film_mm[1])


def write_fit_pdf(path: Path, pages: list[FilmPage], paper_mm: tuple[float, float], caption: str, *,
                  title: str, author: str) -> list[float]:
    """Films scaled onto paper (film->paper policy `fit`), the scale printed in the bottom margin.

    Paper is turned to the film's orientation. Returns the scale of each page.
    """
    scales = []
    with atomic_write(path) as fh:
        canvas = Canvas(fh, pageCompression=1, pdfVersion=(1, 5))  # 1.5: 16-bit image samples
        canvas.setTitle(title)
        canvas.setAuthor(author)
        for number, page in enumerate(pages, start=1):
            pw, ph = sorted(paper_mm)
            if page.width_mm > page.height_mm:
                pw, ph = ph, pw
            scale = fit_scale((page.width_mm, page.height_mm), (pw, ph))
            scales.append(scale)
            w_pt, h_pt = pw * POINTS_PER_MM, ph * POINTS_PER_MM
            canvas.setPageSize((w_pt, h_pt))
            iw, ih = page.width_mm * scale * POINTS_PER_MM, page.height_mm * scale * POINTS_PER_MM
            x = (w_pt - iw) / 2
            y = (FIT_MARGIN_MM + FIT_CAPTION_MM) * POINTS_PER_MM + \
                ((ph - 2 * FIT_MARGIN_MM - FIT_CAPTION_MM) * POINTS_PER_MM - ih) / 2
            _draw_raster(canvas, f"film{number}", page.raster, x, y, iw, ih)
            canvas.setFont("Helvetica", 8)
            canvas.drawString(FIT_MARGIN_MM * POINTS_PER_MM, FIT_MARGIN_MM * POINTS_PER_MM,
                              f"SCALE {scale * 100:.1f} % - NOT TRUE SIZE - {caption}")
            canvas.showPage()
        canvas.save()
    return scales
