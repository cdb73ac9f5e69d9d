"""The films the benchmarks print: 4x5 on 14INX17IN at 300 dpi, CUBIC, twenty 512x512 12-bit images.

`phantom`: CT-like phantoms with white noise (samples/make_samples.py), the worst case for deflate.
`real`: a real CT slice (pydicom's test file 693_J2KI.dcm, 512x512, 14-bit, JPEG 2000 decoded by
Pillow's OpenJPEG) windowed five ways (soft tissue, bone, lung, brain, full range) as a modality
sends it, each in four orientations, with two annotation boxes (patient line, date).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "samples"))

from printserver.model.job import AnnotationBoxJob, FilmJob, ImageBoxJob  # noqa: E402
from printserver.model.pixels import GrayscaleImage  # noqa: E402

COLUMNS, ROWS, SIZE = 4, 5, 512
WINDOWS = ((40, 400), (300, 1500), (-600, 1500), (40, 80), (500, 3000))  # HU centre, width


def real_ct() -> list[np.ndarray]:
    """Twenty 12-bit windowed views of one real CT slice."""
    import pydicom
    import pydicom.data
    from PIL import Image
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(pydicom.data.get_testdata_file("693_J2KI.dcm"))
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    # Pillow returns the signed 14-bit samples offset by 2^15
    hu = np.asarray(Image.open(io.BytesIO(frame))).astype(np.int32) - 32768 + int(ds.RescaleIntercept)
    views = []
    for centre, width in WINDOWS:
        v = np.rint(np.clip((hu - (centre - width / 2)) / width, 0, 1) * 4095).astype(np.uint16)
        views += [v, v[::-1].copy(), v[:, ::-1].copy(), v.T.copy()]
    return views


def phantoms() -> list[np.ndarray]:
    from make_samples import phantom  # imports pydicom and the DCMTK test helpers: only when needed

    return [phantom(i) for i in range(COLUMNS * ROWS)]


def film(images: list[np.ndarray], annotated: bool = False) -> FilmJob:
    boxes = tuple(ImageBoxJob(i + 1, "NORMAL", "CUBIC", "", 20, 300, "", GrayscaleImage(img, 12, "MONOCHROME2"))
                  for i, img in enumerate(images))
    fb = {"ImageDisplayFormat": f"STANDARD\\{COLUMNS},{ROWS}", "BorderDensity": "BLACK",
          "EmptyImageDensity": "BLACK", "MinDensity": 20, "MaxDensity": 300, "Trim": "NO"}
    notes = (AnnotationBoxJob(1, "PHANTOM^PRINT  PS0001  CT ABDOMEN  W400 L40", 4.0, 0.5, 240.0, 3.0, 8.0, "LEFT"),
             AnnotationBoxJob(2, "2026-12-01 01:30  printserver", 250.0, 0.5, 100.0, 3.0, 8.0, "RIGHT")) \
        if annotated else ()
    return FilmJob(1, "1.2.3", fb, 355.6, 431.8, 300, 4.0, 2.0, boxes, annotations=notes)
