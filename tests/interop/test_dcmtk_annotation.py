"""DCMTK's print SCU with annotation: it proposes Basic Annotation Box, and sends the annotation N-SET only
because the film box N-CREATE response carries Referenced Basic Annotation Box Sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import pdfcheck
from tests.dcmtk import DcmtkPrintScu, PrintOptions, dcmtk_available, write_test_image
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed (see README)")

PX = 300 / 25.4


@pytest.mark.parametrize(("annotation", "band"), [("1\\LABEL", "bottom"), ("2\\ANNOTATION", "top")])
def test_dcmtk_annotation_is_drawn_on_the_film(tmp_path: Path, annotation: str, band: str) -> None:
    image = write_test_image(tmp_path / "img.dcm", 64, 64, 2048)
    options = PrintOptions(columns=1, rows=1, film_size="8INX10IN", annotation=annotation,
                           dcmpsprt_args=("--annotation", "DCMTK ANNOTATION TEXT", "-pd", "-pn", "-pl"))
    with ServerProcess(tmp_path / "server", extra=["--debug"]) as server:
        result = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=options).print_film([image])
        assert result.ok, result.stdout + result.stderr
        (pdf,) = server.wait_drained(1)
        log = server.log.read_text()
    assert "Requested SOP Class UID             UI: Basic Annotation Box SOP Class" in log  # the N-SET arrived
    assert "Text String                         LO: 'DCMTK ANNOTATION TEXT'" in log
    img = pdfcheck.lightness(pdf)
    height_mm = 254.0
    if band == "bottom":  # LABEL: 10 mm strip above the bottom margin, centred
        strip = img[round((height_mm - 14) * PX):round((height_mm - 4) * PX)]
    else:  # ANNOTATION position 2: top strip, right half, right aligned
        strip = img[round(4 * PX):round(12 * PX)]
    _, xs = np.nonzero(strip > 128)  # white text on the default BLACK border
    assert len(xs) > 500
    if band == "bottom":
        assert abs((xs.min() + xs.max()) / 2 / PX - 203.2 / 2) < 2
    else:
        assert xs.min() / PX > 203.2 / 2 and abs(xs.max() / PX - (203.2 - 4)) < 1.5
