"""Read PDFs the way a user's tools do: page size in mm, the page image decoded, pdftoppm output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from pypdf import PdfReader

from printserver.render.tone import OutputModel

MM_PER_POINT = 25.4 / 72


def page_sizes_mm(path: Path) -> list[tuple[float, float]]:
    reader = PdfReader(path)
    return [(float(p.mediabox.width) * MM_PER_POINT, float(p.mediabox.height) * MM_PER_POINT) for p in reader.pages]


def page_image(path: Path, page: int = 0) -> np.ndarray:
    """The (single) image of a page, decoded: what the film raster was (uint16 for 16-bit gray,
    (rows, columns, 3) uint8 for an RGB film)."""
    resources = PdfReader(path).pages[page]["/Resources"]
    xobjects = [x.get_object() for x in resources["/XObject"].values()]
    images = [x for x in xobjects if x.get("/Subtype") == "/Image"]
    assert len(images) == 1, f"expected one image on page {page}, found {len(images)}"
    xobj = images[0]
    bits, w, h = int(xobj["/BitsPerComponent"]), int(xobj["/Width"]), int(xobj["/Height"])
    space = xobj["/ColorSpace"]
    assert (space, bits) in (("/DeviceGray", 8), ("/DeviceGray", 16), ("/DeviceRGB", 8)), (space, bits)
    shape = (h, w, 3) if space == "/DeviceRGB" else (h, w)
    return np.frombuffer(xobj.get_data(), ">u2" if bits == 16 else np.uint8).reshape(shape).astype(
        np.uint16 if bits == 16 else np.uint8)


def grayscale_model(path: Path, page: int = 0) -> OutputModel:
    """The page's gray -> OD model, as the PDF records it (DICOMGrayscaleModel)."""
    return OutputModel(**json.loads(metadata(path)["DICOMGrayscaleModel"])[page])


def page_od(path: Path, page: int = 0) -> np.ndarray:
    """Optical density everywhere on the page: the page gray through the documented inverse mapping."""
    return grayscale_model(path, page).decode(page_image(path, page))


def lightness(path: Path, page: int = 0) -> np.ndarray:
    """A grayscale page as 0..255 linear in optical density: Max Density 0, Min Density 255 (its film box's).

    For tests about where things land (black, white, text), independent of the page gray encoding.
    """
    film_box = json.loads(metadata(path)["DICOMFilmBoxes"])[page]
    dmin, dmax = int(film_box["MinDensity"]) / 100, int(film_box["MaxDensity"]) / 100
    od = page_od(path, page)
    return np.clip(np.rint(255 * (dmax - od) / (dmax - dmin)), 0, 255).astype(np.uint8)


def od_at(path: Path, fx: float, fy: float, page: int = 0) -> float:
    """OD at a fractional position, read as a densitometer would (the mean of a 5x5 pixel spot)."""
    img = page_image(path, page)
    h, w = img.shape
    y, x = min(h - 3, max(2, int(fy * h))), min(w - 3, max(2, int(fx * w)))
    model = grayscale_model(path, page)
    return float(model.decode(img[y - 2:y + 3, x - 2:x + 3]).mean())


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


def rasterize_mupdf(path: Path, dpi: int = 20, page: int = 1) -> np.ndarray:
    """Render a page with MuPDF (Debian mupdf-tools), a reader independent of poppler (grayscale)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page.pgm"
        subprocess.run(["mutool", "draw", "-q", "-r", str(dpi), "-c", "gray", "-o", str(out), str(path), str(page)],
                       capture_output=True, check=True, timeout=60)
        return np.asarray(Image.open(out))


def image_dictionary(path: Path, page: int = 0) -> dict[str, object]:
    """The page image's XObject dictionary as written (filter, predictor, depth)."""
    resources = PdfReader(path).pages[page]["/Resources"]
    xobj = next(x.get_object() for x in resources["/XObject"].values())
    return {str(k): v for k, v in xobj.items()}
