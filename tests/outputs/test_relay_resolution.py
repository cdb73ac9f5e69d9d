"""Output `relay`, mode "film", key `dpi`: the films are composed at the upstream's resolution by the render
workers, chosen from the key or from what the upstream tells (Printer Configuration Retrieval), and an
upstream (DCMTK dcmprscp) receives an image of the size the film at that dpi implies, densities intact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from printserver.config import PrinterProfile
from printserver.errors import ConfigError
from printserver.layout import load_layouts, mm_to_px
from printserver.model.printer_configuration import printer_configuration
from printserver.outputs.base import RASTERS, DeliveryJob, Done, Render, Rendition, Wait
from printserver.outputs.relay_resolution import raster_rendition, upstream_dpi
from printserver.spool.paths import JobPaths
from printserver.spool.store import Spool
from printserver.spool.worker import process_job
from tests.dcmtk import DcmprscpServer, dcmtk_available
from tests.outputs.test_relay import VALUES, quad_job, quadrant_centres, relay

needs_dcmtk = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")


def test_the_dpi_key_is_checked_and_asks_the_workers_for_rasters_at_it() -> None:
    out = relay(dpi=150)
    assert (out.dpi, out.renditions()) == (150, (Rendition("rasters", dpi=150),))
    assert type(out).from_settings(out.settings()) == out
    assert relay().renditions() == (RASTERS,) and relay().dpi is None
    for bad in (0, 2000, "300", True, 300.0):
        with pytest.raises(ConfigError, match=r"^printer\[0\]\.relay\[0\]\.dpi: must be 50\.\.1200"):
            relay(dpi=bad)


def test_a_rendition_at_another_dpi_is_named_apart_and_travels_as_json() -> None:
    paths = JobPaths.of("/spool/jobs/0001.job")
    at_150 = Rendition("rasters", dpi=150)
    assert paths.rendition(at_150).name == "0001.films-150dpi.npz" and paths.rendition(RASTERS).name == "0001.films.npz"
    assert Rendition.from_json(at_150.to_json()) == at_150 and Rendition.from_json(RASTERS.to_json()) == RASTERS


def upstream_profile(dpi: int) -> PrinterProfile:
    return replace(PrinterProfile(), resolution_dpi={"STANDARD": dpi, "HIGH": 2 * dpi})


def test_the_upstreams_printer_configuration_tells_its_resolution() -> None:
    film = quad_job(dpi=300).films[0]  # 8INX10IN portrait
    config = printer_configuration(upstream_profile(150), load_layouts())  # what a printserver upstream answers
    dpi, why = upstream_dpi(config, [film])
    assert dpi == 150 and "Printer Pixel Spacing 0.169333 mm" in why
    for item in config.PrinterConfigurationSequence:  # an upstream telling only its 1,1 box's Rows x Columns
        for fmt in item.SupportedImageDisplayFormatsSequence:
            del fmt.PrinterPixelSpacing
    box = next(f for f in config.PrinterConfigurationSequence[0].SupportedImageDisplayFormatsSequence
               if f.ImageDisplayFormat == "STANDARD\\1,1" and f.FilmSizeID == "8INX10IN")
    dpi, why = upstream_dpi(config, [film])
    assert why == f"its STANDARD\\1,1 box of {box.Rows}x{box.Columns}"
    assert 140 <= dpi < 150  # the film raster (margins included) fits the box, as large as it can be
    assert mm_to_px(film.height_mm, dpi) <= box.Rows and mm_to_px(film.width_mm, dpi) <= box.Columns
    assert mm_to_px(film.width_mm, dpi + 1) > box.Columns or mm_to_px(film.height_mm, dpi + 1) > box.Rows
    assert upstream_dpi(None, [film])[0] is None
    assert raster_rendition(None, [film]) == raster_rendition(300, [film]) == RASTERS
    assert raster_rendition(150, [film]) == Rendition("rasters", dpi=150)


def spool_quad_job(tmp_path: Path, films: int = 1) -> DeliveryJob:
    """The 2x2 job spooled for real (pixels in the job file), as the render workers and delivery see it."""
    job = quad_job(dpi=100)
    job = replace(job, films=tuple(replace(job.films[0], film_number=n) for n in range(1, films + 1)))
    spool = Spool(tmp_path / "spool").open()
    path = spool.submit(job, {"printer": "PRINTSCP", "outputs": []})
    header, _ = Spool.load_header(path)
    return DeliveryJob(header, JobPaths.of(path))


def test_a_worker_composes_the_rasters_at_the_asked_dpi_from_the_pixels_kept_in_the_job_file(tmp_path: Path) -> None:
    job = spool_quad_job(tmp_path)
    process_job(str(job.paths.job), [RASTERS.to_json()])  # the first render: at our dpi, pixels released
    process_job(str(job.paths.job), [Rendition("rasters", dpi=150).to_json()])  # later, for the relay
    with np.load(job.rendition(RASTERS)) as ours, np.load(job.rendition(Rendition("rasters", dpi=150))) as theirs:
        assert ours["film0"].shape == (1000, 800) and theirs["film0"].shape == (1500, 1200)
        assert quadrant_centres(theirs["film0"]) == quadrant_centres(ours["film0"])  # same film, finer


@needs_dcmtk
def test_dcmprscp_receives_the_film_at_the_relays_dpi_with_its_densities(tmp_path: Path) -> None:
    job = spool_quad_job(tmp_path, films=2)
    with DcmprscpServer(tmp_path / "dcmprscp") as peer:
        out = relay(called_ae=peer.aetitle, port=peer.port, timeout=20, dpi=150)
        first = out.deliver(job)
        assert isinstance(first, Render) and first.rendition == Rendition("rasters", dpi=150)  # not made yet
        process_job(str(job.paths.job), [r.to_json() for r in out.renditions()])
        first = out.deliver(job)
        assert isinstance(first, Wait) and first.memo["printed"] == ["film1"]
        second = out.deliver(replace(job, memo=first.memo))
        assert isinstance(second, Done) and second.memo["printed"] == ["film1", "film2"]
        films = peer.films()
    assert len(films) == 2
    for film in films:
        hg = dcmread(film.images[0])
        assert (hg.Rows, hg.Columns) == (1500, 1200)  # 8x10 in at 150 dpi, not our 100
        assert quadrant_centres(hg.pixel_array) == pytest.approx(list(VALUES), abs=2)


@needs_dcmtk
def test_an_upstream_that_tells_nothing_gets_our_resolution_decided_once(tmp_path: Path) -> None:
    job = spool_quad_job(tmp_path)
    process_job(str(job.paths.job), [RASTERS.to_json()])
    with DcmprscpServer(tmp_path / "dcmprscp") as peer:
        out = relay(called_ae=peer.aetitle, port=peer.port, timeout=20)
        done = out.deliver(job)  # decided, and the film printed at our dpi
        assert isinstance(done, Done) and done.memo["dpi"] == 0 and done.memo["printed"] == ["film1"], done
        assert done.memo["dpi_from"] == "ours (the upstream does not offer Printer Configuration Retrieval)"
        (film,) = peer.films()
    assert (dcmread(film.images[0]).Rows, dcmread(film.images[0]).Columns) == (1000, 800)
