"""Output `relay` on its own: the film's densities survive the trip as P-values (in memory), and delivery
steps print on a real upstream (DCMTK dcmprscp): 12-bit and 8-bit-only profiles, upstream down."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread

from printserver.config import PrinterProfile
from printserver.errors import ConfigError
from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import FilmJob, ImageBoxJob, PrintJob
from printserver.outputs.base import RASTERS, DeliveryJob, Done, Failed, Retry, Wait
from printserver.outputs.relay import DicomRelay, film_p_values, parse_relay
from printserver.render.compose import compose_film
from printserver.spool.paths import JobPaths
from tests.dcmtk import LOCALHOST, DcmprscpServer, dcmtk_available, free_port

needs_dcmtk = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")
ATTRS = {"ImageDisplayFormat": "STANDARD\\2,2", "BorderDensity": "BLACK", "EmptyImageDensity": "WHITE",
         "MinDensity": 20, "MaxDensity": 300, "Trim": "NO", "FilmSizeID": "8INX10IN", "FilmOrientation": "PORTRAIT"}
VALUES = (0, 1365, 2730, 4095)


def quad_job(dpi: int = 100) -> PrintJob:
    boxes = tuple(ImageBoxJob(n + 1, "NORMAL", "REPLICATE", "", 20, 300, "",
                              GrayscaleImage(np.full((8, 8), v, np.uint16), 12, "MONOCHROME2"))
                  for n, v in enumerate(VALUES))
    film = FilmJob(1, "1.2.3", ATTRS, 203.2, 254.0, dpi, 4.0, 2.0, boxes)
    return PrintJob("2.25.5", "2026-11-24T10:00:00.000000+00:00", "CT_1", "PRINTSCP", "printserver", "1.2.3.4",
                    {"FilmSessionLabel": "relay test", "NumberOfCopies": 1}, (film,))


def quadrant_centres(pixels: np.ndarray) -> list[int]:
    rows, cols = pixels.shape
    return [int(pixels[int(rows * fy), int(cols * fx)]) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]


def test_the_page_gray_goes_back_to_the_p_values_the_modality_sent() -> None:
    job = quad_job()
    image = film_p_values(compose_film(job.films[0]), job.films[0])
    assert image.bits_stored == 12 and image.pixels.dtype == np.uint16
    assert quadrant_centres(image.pixels) == pytest.approx(list(VALUES), abs=2)


def relay(**table: Any) -> DicomRelay:
    p = replace(PrinterProfile(), ae_title="FILMS",
                output_tables={"relay": [{"called_ae": "LASER", "host": LOCALHOST, "port": 104} | table]})
    (out,) = DicomRelay.from_profile(p, "printer[0]")
    return out


def test_configuration() -> None:
    out = relay()
    assert (out.id, out.calling_ae, out.renditions()) == ("relay:LASER", "FILMS", (RASTERS,))
    assert DicomRelay.from_settings(out.settings()) == out
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.relay\[0\]\.port:"):
        relay(port=0)
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.relay\[0\]\.mode:"):
        relay(mode="layout")
    assert parse_relay("LASER1@127.0.0.1:104") == {"called_ae": "LASER1", "host": "127.0.0.1", "port": 104}


def spooled(tmp_path: Path, films: int = 1) -> DeliveryJob:
    job = quad_job()
    job = replace(job, films=tuple(replace(job.films[0], film_number=n) for n in range(1, films + 1)))
    paths = JobPaths.of(tmp_path / "spool" / "0001.job")
    paths.job.parent.mkdir(parents=True, exist_ok=True)
    np.savez(paths.rendition(RASTERS), **{f"film{i}": compose_film(f) for i, f in enumerate(job.films)})
    return DeliveryJob(job, paths)


@needs_dcmtk
@pytest.mark.parametrize(("profile", "bits"), [({}, 12), ({"Supports12Bit": "false"}, 8)])
def test_each_film_prints_upstream_as_standard_1_1_with_the_densities(tmp_path: Path, profile: dict[str, str],
                                                                       bits: int) -> None:
    with DcmprscpServer(tmp_path / "dcmprscp", profile=profile) as peer:
        out = relay(called_ae=peer.aetitle, port=peer.port, timeout=20)
        job = spooled(tmp_path, films=2)
        first = out.deliver(job)
        assert isinstance(first, Wait) and first.memo["printed"] == ["film1"], first
        second = out.deliver(replace(job, memo=first.memo))
        assert isinstance(second, Done) and second.memo["printed"] == ["film1", "film2"]
        assert "jobs" not in second.memo  # dcmprscp has no Print Job: its Print answer is the truth
        again = out.deliver(replace(job, memo=second.memo))  # nothing left: nothing printed twice
        assert isinstance(again, Done)
        films = peer.films()
    assert len(films) == 2
    for film in films:
        assert (film.image_display_format, film.film_size) == ("STANDARD\\1,1", "8INX10IN")
        hg = dcmread(film.images[0])
        assert int(hg.BitsStored) == bits and (hg.Rows, hg.Columns) == (1000, 800)
        expected = [v >> 4 for v in VALUES] if bits == 8 else list(VALUES)
        assert quadrant_centres(hg.pixel_array) == pytest.approx(expected, abs=2 if bits == 12 else 1)


@needs_dcmtk
def test_an_upstream_down_is_a_retry_and_its_health_says_offline(tmp_path: Path) -> None:
    out = relay(port=free_port(), timeout=3)
    step = out.deliver(spooled(tmp_path))
    assert isinstance(step, Retry) and step.memo["printed"] == []
    assert out.health()[:2] == ("WARNING", "PRINTER OFFLINE")  # films still accepted: they wait


@needs_dcmtk
def test_a_permanent_refusal_fails_with_the_upstream_status(tmp_path: Path) -> None:
    with DcmprscpServer(tmp_path / "dcmprscp", profile={"FilmSizeID": "14INX17IN"}) as peer:
        step = relay(called_ae=peer.aetitle, port=peer.port, timeout=20).deliver(spooled(tmp_path))
        health = relay(called_ae=peer.aetitle, port=peer.port, timeout=20).health()
    assert isinstance(step, Failed) and "0x0106" in step.reason, step
    assert health[0] == "NORMAL"


def test_the_conformance_statement_names_the_print_scu_role() -> None:
    from printserver.config import ServerConfig
    from printserver.conformance import statement

    p = replace(PrinterProfile(), ae_title="FILMS",
                output_tables={"relay": {"called_ae": "LASER", "host": "h", "port": 104}})
    assert "| FILMS | Print SCU (relays its films) | ephemeral | FILMS: DICOM printer LASER at h:104" in \
        statement(ServerConfig(printers=(p,)))
