"""Lenient printers on the wire with a peer nobody here wrote: DCMTK's `--smoothing NONE` (an ordinary
option) prints on the embedded default printer, whose Smoothing Types are SMOOTH/MEDIUM/SHARP, with a
0116 warning and the substitution logged, instead of a refused film."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dcmtk import DcmtkPrintScu, PrintOptions, dcmtk_available, write_test_image
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed (see README)")


def test_dcmtk_smoothing_none_prints_with_the_printer_default_and_a_warning(tmp_path: Path) -> None:
    image = write_test_image(tmp_path / "img.dcm", 64, 64, 2048)
    options = PrintOptions(extra_config={"SmoothingType": "NONE"}, dcmpsprt_args=("--smoothing", "NONE"))
    with ServerProcess(tmp_path / "server") as server:
        result = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=options).print_film([image])
        assert result.ok, result.stdout + result.stderr
        (pdf,) = server.wait_drained(1)
        log = server.log.read_text()
    assert pdf.stat().st_size > 0
    assert "0x0116" in log and "SmoothingType 'NONE' is unknown to this printer" in log
