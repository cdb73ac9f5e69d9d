"""The dispatcher: leftovers are finished at start, unrenderable jobs are kept aside, not lost."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from printserver.spool.store import Spool
from printserver.spool.worker import Dispatcher
from tests.spool.test_store import job


def test_leftover_job_is_finished_and_a_corrupt_one_kept_with_its_reason(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    spool = Spool(tmp_path / "spool").open()
    good = spool.submit(job(), {"pdf_dir": str(tmp_path / "films")})
    bad = spool.jobs / "00000000000000000001-000000-1.job"
    bad.write_bytes(b"PSJOB1\n\x00\x00\x00\x00\x00\x00\x00\x02{}")  # a header without films
    dispatcher = Dispatcher(spool, workers=1)
    dispatcher.start()
    try:
        assert dispatcher.wait_idle(60)
    finally:
        dispatcher.stop()
    assert spool.pending() == []
    assert not good.exists() and len(list((tmp_path / "films").rglob("*.pdf"))) == 1
    assert (spool.failed / bad.name).exists()
    assert "left in the spool" in caplog.text and "failed" in caplog.text


def test_a_worker_composes_once_and_writes_every_rendition_asked_for(tmp_path: Path) -> None:
    from printserver.outputs.base import RASTERS, TRUE_SIZE_PDF, Rendition
    from printserver.render.compose import compose_film, film_size_px
    from printserver.spool.paths import JobPaths
    from printserver.spool.worker import process_job
    from tests.pdfcheck import page_sizes_mm

    spool = Spool(tmp_path).open()
    path = spool.submit(job(), {"printer": "P", "outputs": []})
    fit = Rendition("fit-pdf", (210.0, 297.0), "14x17 on A4")
    process_job(str(path), [r.to_json() for r in (TRUE_SIZE_PDF, fit, RASTERS)])
    paths = JobPaths.of(path)
    film = job().films[0]
    assert page_sizes_mm(paths.pdf)[0] == pytest.approx((film.width_mm, film.height_mm), abs=0.1)
    assert page_sizes_mm(paths.rendition(fit))[0] == pytest.approx((210, 297), abs=0.1)
    with np.load(paths.rasters) as rasters:
        assert list(rasters) == ["film0"]
        raster = rasters["film0"]
    assert raster.shape[:2] == film_size_px(film)[::-1] and np.array_equal(raster, compose_film(film))


def test_a_job_spooled_by_the_previous_release_is_still_delivered(tmp_path: Path) -> None:
    """Old job snapshot ({"pdf_dir", ...}) and old record (stage, history) with its rendered .film.pdf."""
    import json

    from printserver.spool.paths import JobPaths
    from printserver.spool.records import read_record

    spool = Spool(tmp_path / "spool").open()
    films = tmp_path / "films"
    path = spool.submit(job(), {"printer": "PRINTSCP", "pdf_dir": str(films), "pdf_name": "{job}.pdf"})
    paths = JobPaths.of(path)
    paths.pdf.write_bytes(b"%PDF-1.5 rendered by the old release")
    paths.state.write_text(json.dumps({
        "job_uid": "2.25.1", "printer": "PRINTSCP", "printer_name": "p", "originator": "CT", "films": 1,
        "created": "2026-11-24T10:00:00.000000+00:00", "print_priority": "MED", "film_session_label": "",
        "copies": 2, "execution_status": "PRINTING", "execution_status_info": "NORMAL", "stage": "delivering",
        "outputs_written": [], "cups_job_id": None, "attempts": 0, "next_attempt": 0.0, "first_failure": None,
        "warnings": [], "history": ["2026-11-24 10:00:01 rendered; to CUPS"]}))
    dispatcher = Dispatcher(spool, workers=1)
    dispatcher.start()
    try:
        assert dispatcher.wait_idle(30)
    finally:
        dispatcher.stop()
    assert [p.read_bytes() for p in films.iterdir()] == [b"%PDF-1.5 rendered by the old release"]
    record = read_record(spool.done / path.name)
    assert record is not None and record.state == "done" and record.outputs["pdf"].state == "done"
    assert record.timeline[0]["detail"] == "2026-11-24 10:00:01 rendered; to CUPS"


def test_a_render_worker_never_loads_pydicom(tmp_path: Path) -> None:
    """pydicom (~16 MB per process) is for parsing requests in the server; a render worker that imports
    the worker module and renders a job with every rendition must not load it."""
    import json
    import subprocess
    import sys

    from printserver.outputs.base import RASTERS, TRUE_SIZE_PDF, Rendition

    spool = Spool(tmp_path).open()
    path = spool.submit(job(), {"printer": "P", "outputs": []})
    renditions = json.dumps([r.to_json() for r in (TRUE_SIZE_PDF, Rendition("fit-pdf", (210.0, 297.0), "A4"),
                                                     RASTERS)])
    code = ("import json, sys; from printserver.spool.worker import process_job; "
            f"written = process_job({str(path)!r}, json.loads({renditions!r})); "
            "print(json.dumps([len(written), sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pydicom', 'pynetdicom'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == [3, []]


def test_previews_keep_the_top_byte_and_look_like_a_full_size_lanczos() -> None:
    """views.previews.to_8bit (called by the worker for every film) reduces before filtering and never
    copies the film at 16 bits: the result must still be the film's top byte, filtered as before."""
    from PIL import Image

    from printserver.views.previews import to_8bit

    rng = np.random.default_rng(3)
    raster = np.repeat(np.repeat(rng.integers(0, 65536, (51, 42), dtype=np.uint16), 100, 0), 100, 1)  # 5100x4200
    small = to_8bit(raster[:300, :200], 400)  # no scaling: exactly the top byte
    assert np.array_equal(np.asarray(small), (raster[:300, :200] >> 8).astype(np.uint8))
    preview = np.asarray(to_8bit(raster, 1400)).astype(int)
    full = np.asarray(Image.fromarray((raster >> 8).astype(np.uint8)).resize((1153, 1400), Image.Resampling.LANCZOS))
    assert preview.shape == full.shape
    diff = np.abs(preview - full)
    assert diff.mean() < 0.5 and np.percentile(diff, 99) <= 8  # differences only right at block edges


def test_a_job_without_pixels_keeps_what_the_previews_and_the_pdf_read(tmp_path: Path) -> None:
    """After composing, the worker lets the job's pixels go (spool.worker.without_pixels): the grayscale
    model (page white = the lowest Min Density of a box holding an image), colour and the boxes stay, and
    no image keeps a reference to the job file's bytes."""
    import json
    from dataclasses import replace

    from printserver.model.color import ColorImage
    from printserver.spool.worker import pdf_metadata, without_pixels

    spool = Spool(tmp_path).open()
    loaded, _ = Spool.load(spool.submit(job(), {"printer": "P", "outputs": []}))
    light = without_pixels(loaded)
    assert pdf_metadata(light) == pdf_metadata(loaded)
    assert json.loads(pdf_metadata(light)["extra"]["DICOMGrayscaleModel"])[0]["reference_density"] == 0.10
    images = [b.image for f in light.films for b in f.image_boxes if b.image is not None]
    assert len(images) == 2 and all(i.pixels.size == 0 and i.pixels.base is None for i in images)
    rgb = ColorImage(np.zeros((2, 2, 3), np.uint8))
    film = loaded.films[0]
    colour = replace(loaded, films=(replace(film, image_boxes=(replace(film.image_boxes[0], image=rgb),)),))
    assert without_pixels(colour).films[0].color and not light.films[0].color


def test_a_collated_job_is_rendered_film_by_film_to_every_rendition_and_preview(tmp_path: Path) -> None:
    """Two films (gray, colour) of one job: each PDF page and raster is the film composed whole, the
    previews those of the whole films; at 8 bits only the gray page's model says sRGB-8."""
    import json
    from dataclasses import replace

    from PIL import Image

    from printserver.model.color import ColorImage
    from printserver.outputs.base import RASTERS, TRUE_SIZE_PDF
    from printserver.render.compose import compose_film
    from printserver.spool.paths import JobPaths
    from printserver.spool.worker import process_job
    from printserver.views.previews import preview_dir, to_8bit
    from tests import pdfcheck

    gray = job().films[0]
    rgb = ColorImage(np.random.default_rng(4).integers(0, 256, (40, 30, 3), dtype=np.uint8))
    colour = replace(gray, film_number=5, film_box_uid="1.2.4", image_boxes=tuple(
        replace(b, image=rgb if b.image is not None else None) for b in gray.image_boxes))
    spool = Spool(tmp_path).open()
    path = spool.submit(replace(job(), films=(gray, colour)), {"printer": "P", "outputs": [], "pdf_bits": 8})
    process_job(str(path), [TRUE_SIZE_PDF.to_json(), RASTERS.to_json()])
    paths = JobPaths.of(path)
    wholes = [compose_film(gray), compose_film(colour)]
    assert np.array_equal(pdfcheck.page_image(paths.pdf, 1), wholes[1])
    assert pdfcheck.page_image(paths.pdf, 0).dtype == np.uint8  # the gray page at 8 bits
    assert [m["encoding"] for m in json.loads(pdfcheck.metadata(paths.pdf)["DICOMGrayscaleModel"])] == \
        ["sRGB-8", "sRGB-16"]  # the colour page keeps its record
    with np.load(paths.rasters) as rasters:
        assert all(np.array_equal(rasters[f"film{i}"], whole) for i, whole in enumerate(wholes))
    folder = preview_dir(tmp_path, path.stem)
    for number, whole in zip((4, 5), wholes, strict=True):
        assert np.array_equal(np.asarray(Image.open(folder / f"film-{number}.png")), np.asarray(to_8bit(whole, 1400)))
        assert (folder / f"thumb-{number}.png").exists()
    assert [f["film_number"] for f in json.loads((folder / "films.json").read_text())] == [4, 5]


def test_a_render_worker_never_holds_a_whole_film(tmp_path: Path) -> None:
    """The worker composes in bands and hands them on (spool/rendering.py): while it writes a 14x17 in
    film (5100x4200 16-bit: 43 MB) to every rendition and the previews, the arrays it allocates at once
    (tracemalloc sees numpy's buffers) stay far below one film raster."""
    import tracemalloc

    from printserver.outputs.base import RASTERS, TRUE_SIZE_PDF, Rendition
    from printserver.render.compose import raster_format
    from printserver.spool.worker import process_job

    spool = Spool(tmp_path).open()
    path = spool.submit(job(), {"printer": "P", "outputs": []})
    film_bytes = int(np.prod(raster_format(job().films[0])[0])) * 2
    renditions = [r.to_json() for r in (TRUE_SIZE_PDF, Rendition("fit-pdf", (210.0, 297.0), "A4"), RASTERS)]
    tracemalloc.start()
    try:
        process_job(str(path), renditions)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert film_bytes > 40e6 and peak < film_bytes / 3, peak


def test_a_render_worker_of_the_printserver_command_does_not_import_the_command_line() -> None:
    """A spawned render worker first re-runs the script that started the server, as multiprocessing's
    spawn does it (runpy.run_path(script, run_name="__mp_main__")): for the installed `printserver`
    command that must not import the CLI (pydicom, pynetdicom: ~20 MB per worker)."""
    import json
    import shutil
    import subprocess
    import sys

    script = Path(sys.executable).parent / "printserver"
    if not script.exists():
        script = Path(shutil.which("printserver") or "printserver")
    assert script.exists(), "the printserver command is installed with the package (./run)"
    code = ("import json, runpy, sys; runpy.run_path(sys.argv[1], run_name='__mp_main__'); "
            "import printserver.spool.worker; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pydicom', 'pynetdicom') or m == 'printserver.cli')))")
    out = subprocess.run([sys.executable, "-c", code, str(script)], capture_output=True, text=True, timeout=60,
                         check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == []
