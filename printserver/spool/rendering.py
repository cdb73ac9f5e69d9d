"""One pass over each film's bands of rows feeding every rendition a render worker writes.

The composer hands a film over in bands (render.compose.compose_bands); each band goes to every sink —
the PDF documents, the rasters file, the console's previews — before the next is composed, and a job's
films are composed one after the other. So a worker holds a band, the image tiles the band crosses and
each sink's own small state, never a film raster (43 MB for 14x17 in at 300 dpi, each film of a
collated session before).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from typing import BinaryIO, Protocol

import numpy as np

from printserver.model.spooled_job import FilmJob
from printserver.render.compose import compose_bands, raster_format
from printserver.render.pdf import PdfDocument


class FilmSink(Protocol):
    """Takes films band by band: begin(film, its raster's shape and dtype), write each band top down, end;
    close once after the last film."""

    def begin(self, film: FilmJob, shape: tuple[int, ...], dtype: np.dtype) -> None: ...

    def write(self, band: np.ndarray) -> None: ...

    def end(self) -> None: ...

    def close(self) -> None: ...


class PdfPages:
    """A PDF document (render.pdf) as a sink: one page per film."""

    def __init__(self, document: PdfDocument) -> None:
        self.document = document

    def begin(self, film: FilmJob, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.document.begin_page(film.width_mm, film.height_mm, shape, dtype)

    def write(self, band: np.ndarray) -> None:
        self.document.write(band)

    def end(self) -> None:
        self.document.end_page()

    def close(self) -> None:
        self.document.close()


class RasterArchive:
    """The `rasters` rendition: the films as arrays in one .npz (entries film0, film1, ...; np.load reads
    it, outputs/pacs.py and relay.py do), in np.savez's format — a stored zip of .npy files — but each
    entry written as its bands come instead of from a whole array."""

    def __init__(self, fh: BinaryIO) -> None:
        self.zip = zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self.films = 0
        self.entry: BinaryIO | None = None

    def begin(self, film: FilmJob, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.entry = self.zip.open(f"film{self.films}.npy", "w", force_zip64=True)  # size unknown yet: as savez
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self.entry, header)

    def write(self, band: np.ndarray) -> None:
        assert self.entry is not None
        self.entry.write(np.ascontiguousarray(band).tobytes())

    def end(self) -> None:
        assert self.entry is not None
        self.entry.close()
        self.entry = None
        self.films += 1

    def close(self) -> None:
        self.zip.close()


def render_films(films: Iterable[FilmJob], sinks: list[FilmSink]) -> None:
    """Compose each film in bands and hand every band to every sink; close the sinks after the last film."""
    for film in films:
        shape, dtype = raster_format(film)
        for sink in sinks:
            sink.begin(film, shape, dtype)
        for band in compose_bands(film):
            for sink in sinks:
                sink.write(band)
        for sink in sinks:
            sink.end()
    for sink in sinks:
        sink.close()
