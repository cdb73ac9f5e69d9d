"""Read PDFs the way a user's tools do: page size in mm, the page image decoded, pdftoppm output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from pypdf import PdfReader

MM_PER_POINT = 25.4 / 72


def page_sizes_mm(path: Path) -> list[tuple[float, float]]:
    reader = PdfReader(path)
    return [(float(p.mediabox.width) * MM_PER_POINT, float(p.mediabox.height) * MM_PER_POINT) for p in reader.pages]


def page_image(path: Path, page: int = 0) -> np.ndarray:
    """The (single) image of a page, decoded: what the film raster was."""
    images = PdfReader(path).pages[page].images
    assert len(images) == 1, f"expected one image on page {page}, found {len(images)}"
    return np.asarray(images[0].image)


def metadata(path: Path) -> dict[str, str]:
    return {k.lstrip("/"): str(v) for k, v in (PdfReader(path).metadata or {}).items()}


def rasterize(path: Path, dpi: int = 20, page: int = 1) -> np.ndarray:
    """Render a page with poppler, as a viewer would (grayscale)."""
    out = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", str(path)],
                         capture_output=True, check=True, timeout=60).stdout
    from io import BytesIO

    return np.asarray(Image.open(BytesIO(out)))


def pdfinfo_page_size(path: Path) -> str:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=30).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Page size"))


def sample(img: np.ndarray, fx: float, fy: float) -> int:
    """Gray at a fractional position (0..1 across, 0..1 down)."""
    h, w = img.shape[:2]
    return int(img[min(h - 1, int(fy * h)), min(w - 1, int(fx * w))])
