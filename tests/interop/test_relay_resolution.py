"""A gateway printserver relaying to a printserver upstream of another resolution: the gateway learns it from
the upstream's Printer Configuration Retrieval, its render workers compose the film again at it (from the
pixels still in the job file), and the upstream receives the film at its own resolution, densities intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from printserver.spool.store import Spool
from tests import pdfcheck
from tests.dcmtk import dcmtk_available
from tests.interop.test_relay_print import ODS, dcmtk_print
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")


def test_the_upstream_receives_the_film_at_its_own_resolution(tmp_path: Path) -> None:
    config = tmp_path / "upstream.toml"
    config.write_text('[[printer]]\nae_title = "PRINTSCP"\nresolution_dpi = { STANDARD = 150, HIGH = 300 }\n')
    with ServerProcess(tmp_path / "upstream", extra=["--config", str(config)]) as upstream, \
            ServerProcess(tmp_path / "gateway", extra=["--relay", f"PRINTSCP@127.0.0.1:{upstream.port}"]) as gateway:
        dcmtk_print(tmp_path, gateway.port, "a")  # a 2x2 8x10 film; the gateway composes at 300 dpi
        gateway.wait_drained(1)
        (pdf,) = upstream.wait_drained(1)
    (received,) = (upstream.spool / "done").glob("*.job")  # what the upstream was sent (kept for re-prints)
    job, _ = Spool.load(received)
    (box,) = job.films[0].image_boxes
    assert job.films[0].attributes["ImageDisplayFormat"] == "STANDARD\\1,1"
    assert box.image is not None and box.image.pixels.shape == (1500, 1200)  # 8x10 in at 150 dpi, not 300
    (record,) = (gateway.spool / "done").glob("*.state.json")
    memo = json.loads(record.read_text())["outputs"]["relay:PRINTSCP"]["memo"]
    assert memo["dpi"] == 150 and memo["dpi_from"].startswith("the upstream (Printer Pixel Spacing")
    assert list((gateway.spool / "done").glob("*.npz")) == []  # renditions went with the job
    quadrants = [pdfcheck.od_at(pdf, fx, fy) for fy in (0.3, 0.7) for fx in (0.3, 0.7)]
    assert quadrants == pytest.approx(ODS, abs=0.03)
