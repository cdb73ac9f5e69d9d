"""Films composed in bands of rows (render.compose.compose_bands) and what takes the bands as they come
(the PDF writer, the previews, the rasters file): each must give what the whole film gives, bit for bit."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import AnnotationBoxJob, FilmJob, ImageBoxJob
from printserver.render import pdfimage
from printserver.render.annotate import annotation_rect
from printserver.render.compose import compose_bands, compose_film, raster_format
from printserver.render.pdf import FilmPage, fit_document, true_size_document, write_fit_pdf, write_pdf
from printserver.spool.rendering import PdfPages, RasterArchive, render_films
from printserver.views.previews import PreviewReducer

BAND_ROWS = [1, 2, 7, 33, 128, None]  # None: the composer's default (~1 MB per band)
KERNELS = [("CUBIC", ""), ("BILINEAR", ""), ("REPLICATE", ""), ("NONE", ""), ("CUBIC", "LANCZOS"),
           ("CUBIC", "HAMMING")]


def film(color: bool = False, trim: str = "YES", border: str = "BLACK") -> FilmJob:
    """3x3 boxes of odd-sized images through every magnification (one empty, one REVERSE), trim lines
    around them, and annotations: one in the top margin, one across image boxes that a band edge cuts."""
    rng = np.random.default_rng(5)
    boxes = []
    for i in range(9):
        mag, kernel = KERNELS[i % len(KERNELS)]
        if i == 4:
            boxes.append(ImageBoxJob(i + 1, "NORMAL", mag, "", 20, 300, "", None))
            continue
        image = ColorImage(rng.integers(0, 256, (23 + i, 31, 3), dtype=np.uint8)) if color else \
            GrayscaleImage(rng.integers(0, 4096, (29 + 3 * i, 19 + i), dtype=np.uint16), 12, "MONOCHROME2")
        boxes.append(ImageBoxJob(i + 1, "REVERSE" if i == 2 else "NORMAL", mag, "", 20 + 10 * (i % 3), 300, "", image,
                                 smoothing_kernel=kernel))
    attrs = {"ImageDisplayFormat": "STANDARD\\3,3", "BorderDensity": border, "EmptyImageDensity": "WHITE",
             "MinDensity": 20, "MaxDensity": 300, "Trim": trim}
    notes = (AnnotationBoxJob(1, "PATIENT^NAME  12345  Ünïcode", 3.0, 0.5, 50.0, 3.0, 8.0, "LEFT"),
             AnnotationBoxJob(2, "across two boxes", 10.0, 24.3, 40.0, 9.0, 14.0, "CENTER"))
    return FilmJob(1, "1.2", attrs, 60.3, 80.1, 100, 2.5, 1.3, tuple(boxes), annotations=notes)


FILMS = {"gray": film(), "colour": film(color=True), "no trim, white border": film(trim="NO", border="WHITE")}


@pytest.mark.parametrize("name", FILMS)
@pytest.mark.parametrize("rows", BAND_ROWS)
def test_a_film_composed_in_bands_is_the_whole_film_bit_for_bit(name: str, rows: int | None) -> None:
    f = FILMS[name]
    whole = compose_film(f)
    bands = list(compose_bands(f, rows))
    assert np.array_equal(np.concatenate(bands), whole)
    assert all(b.dtype == whole.dtype and b.shape[1:] == whole.shape[1:] for b in bands)
    assert (whole.shape, whole.dtype) == raster_format(f)
    if rows is not None and rows < 40:
        # bands are `rows` high but where an annotation box would be cut: there one band holds all of it
        spans = [r[1::2] for a in f.annotations if (r := annotation_rect(a, f.dpi, whole.shape[1], whole.shape[0]))]
        edges = np.cumsum([len(b) for b in bands])[:-1]
        assert not any(a < e < b for e in edges for a, b in spans)
        assert sum(len(b) != rows for b in bands[:-1]) >= 1  # the annotation across boxes was kept whole


def test_an_annotation_across_a_band_edge_is_inked_by_its_whole_box() -> None:
    """The ink (white or black) is chosen from the mean of the whole annotation box: a band holding half
    of it would choose by half (here the box straddles a black border and white image)."""
    f = FILMS["gray"]
    whole = compose_film(f)
    x0, y0, x1, y1 = annotation_rect(f.annotations[1], f.dpi, whole.shape[1], whole.shape[0])
    text = whole[y0:y1, x0:x1]
    assert text.min() < 1000 or text.max() > 64000  # something was drawn
    assert np.array_equal(np.concatenate(list(compose_bands(f, (y0 + y1) // 2))), whole)


def _no_dates(pdf: bytes) -> bytes:
    return re.sub(rb"D:\d{14}[^)]*", b"D:", pdf)


@pytest.mark.parametrize("bits", [16, 8])
def test_a_pdf_written_band_by_band_is_the_pdf_of_the_whole_films(tmp_path, monkeypatch, bits: int) -> None:
    """Strips of a few rows (so bands and strips cut the film at different rows): the same bytes, whatever
    the bands' heights, as the whole rasters written at once; pages of gray and colour films."""
    monkeypatch.setattr(pdfimage, "_STRIP_BYTES", 5000)
    films = [FILMS["gray"], FILMS["colour"]]
    pages = [FilmPage(compose_film(f), f.width_mm, f.height_mm) for f in films]
    meta = dict(title="T", author="A", subject="S", keywords="K",
                extra={"DICOMGrayscaleModel": '[{"encoding": "sRGB"}, {"encoding": "sRGB"}]'})
    write_pdf(tmp_path / "whole.pdf", pages, **meta, pdf_bits=bits)
    write_fit_pdf(tmp_path / "fit.pdf", pages, (210.0, 297.0), "A4", title="T", author="A", pdf_bits=bits)
    expected = _no_dates((tmp_path / "whole.pdf").read_bytes())
    expected_fit = _no_dates((tmp_path / "fit.pdf").read_bytes())
    assert b"sRGB-8" in expected if bits == 8 else b"sRGB-8" not in expected  # the gray page's record
    for rows in (1, 3, 50):
        out, out_fit = io.BytesIO(), io.BytesIO()
        documents = [true_size_document(out, **meta, pdf_bits=bits),
                     fit_document(out_fit, (210.0, 297.0), "A4", title="T", author="A", pdf_bits=bits)]
        for f in films:
            for doc in documents:
                doc.begin_page(f.width_mm, f.height_mm, *raster_format(f))
            for band in compose_bands(f, rows):
                for doc in documents:
                    doc.write(band)
            for doc in documents:
                doc.end_page()
        for doc in documents:
            doc.close()
        assert _no_dates(out.getvalue()) == expected
        assert _no_dates(out_fit.getvalue()) == expected_fit


def _pillow_preview(raster: np.ndarray, height: int) -> np.ndarray:
    """views.previews as it was: decimate, top byte, Pillow's resize with reducing_gap 1.5, all at once."""
    step = max(1, raster.shape[0] // (2 * height))
    small = raster[::step, ::step]
    small = (small >> 8).astype(np.uint8) if small.dtype == np.uint16 else np.ascontiguousarray(small)
    image = Image.fromarray(small)
    if image.height <= height:
        return np.asarray(image)
    width = max(1, round(image.width * height / image.height))
    return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=1.5))


@pytest.mark.parametrize(("shape", "height"), [
    ((5101, 4203), 1400),  # 14x17 in at 300 dpi (+1): box-reduced by 2, partial last block row and column
    ((351, 277), 100),  # reduced by 2 as well, small
    ((1203, 999), 100),  # decimated by 6 first, then Lanczos alone
    ((351, 277, 3), 100),  # colour
    ((90, 70), 100),  # smaller than the preview: the top byte as it is
])
def test_previews_from_bands_are_the_previews_of_the_whole_film(shape: tuple[int, ...], height: int) -> None:
    rng = np.random.default_rng(11)
    coarse = rng.integers(0, 65536, (shape[0] // 7 + 1, shape[1] // 7 + 1, *shape[2:]), dtype=np.uint16)
    raster = np.repeat(np.repeat(coarse, 7, 0), 7, 1)[:shape[0], :shape[1]]  # edges and flat areas
    raster = raster + rng.integers(0, 300, shape).astype(np.uint16)
    if len(shape) == 3:
        raster = (raster >> 8).astype(np.uint8)
    expected = _pillow_preview(raster, height)
    for rows in (1, 2, 5, 301, shape[0]):
        reducer = PreviewReducer(raster.shape, height)
        for r0 in range(0, shape[0], rows):
            reducer.write(raster[r0:r0 + rows])
        assert np.array_equal(np.asarray(reducer.image()), expected), rows


def test_the_rasters_file_written_band_by_band_is_what_savez_writes(tmp_path) -> None:
    """outputs/pacs.py and relay.py read the `rasters` rendition with np.load: same arrays, same entries."""
    films = [FILMS["gray"], FILMS["colour"]]
    with open(tmp_path / "films.npz", "wb") as fh:
        render_films(films, [RasterArchive(fh)])
    np.savez(tmp_path / "savez.npz", **{f"film{i}": compose_film(f) for i, f in enumerate(films)})
    with np.load(tmp_path / "films.npz") as ours, np.load(tmp_path / "savez.npz") as theirs:
        assert list(ours) == list(theirs) == ["film0", "film1"]
        for key in ours:
            assert ours[key].dtype == theirs[key].dtype and np.array_equal(ours[key], theirs[key])
    with zipfile.ZipFile(tmp_path / "films.npz") as ours, zipfile.ZipFile(tmp_path / "savez.npz") as theirs:
        for a, b in zip(ours.infolist(), theirs.infolist(), strict=True):
            assert ours.read(a) == theirs.read(b)  # the .npy bytes, header included
            assert a.compress_type == b.compress_type == zipfile.ZIP_STORED


def test_render_films_hands_every_band_to_every_sink_film_by_film(tmp_path) -> None:
    out = io.BytesIO()
    with open(tmp_path / "r.npz", "wb") as fh:
        pdf = PdfPages(true_size_document(out, title="T", author="A", subject="S", keywords="K", extra={}))
        render_films([FILMS["gray"], FILMS["colour"]], [pdf, RasterArchive(fh)])
    with np.load(tmp_path / "r.npz") as rasters:
        assert np.array_equal(rasters["film1"], compose_film(FILMS["colour"]))
    assert out.getvalue().count(b"/Type/Page/") == 2 and out.getvalue().endswith(b"%%EOF\n")
