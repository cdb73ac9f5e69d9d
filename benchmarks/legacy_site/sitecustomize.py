"""Benchmarks only: a printserver process started with this folder on PYTHONPATH (and its render
workers, spawned with the same environment) renders with the code path from before issue 12, so
bench_load.py measures its baseline in the same run: the reportlab + zlib writer
(benchmarks/legacy_pdf.py) and a GSDF table computed per image box.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import legacy_pdf

import printserver.render.compose as _compose
import printserver.render.pdf as _pdf
from printserver.render.tone import stored_to_density


def write_pdf(path: Path, pages: list, *, pdf_bits: int = 16, **meta: object) -> None:
    legacy_pdf.write_pdf(path, pages, **meta)


def gray_lut(bits_stored: int, *, invert: bool, min_density: int, max_density: int, model: object,
             plut: dict | None = None) -> object:
    return model.encode(stored_to_density(bits_stored, invert=invert, min_density=min_density,
                                          max_density=max_density, illumination=model.illumination,
                                          ambient=model.reflected_ambient_light, plut=plut))


_pdf.write_pdf = write_pdf
_compose.gray_lut = gray_lut
