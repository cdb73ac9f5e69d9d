"""Store and forward to a real DICOM printer: a DCMTK print to printserver is relayed with printserver's own
SCU to DCMTK dcmprscp, or to a second printserver (whose PDF shows the densities survived), through an
upstream outage and a kill -9."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydicom import dcmread

from printserver.render.gsdf import p_to_density
from tests import pdfcheck
from tests.dcmtk import DcmprscpServer, DcmtkPrintScu, PrintOptions, dcmtk_available, free_port, write_test_image
from tests.printscu import PrintSCU
from tests.serverproc import ServerProcess, wait_until

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")
VALUES = (0, 1365, 2730, 4095)
ODS = [round(float(d), 2) for d in p_to_density(VALUES, 12, min_density=0.2, max_density=3.0, illumination=2000,
                                                 ambient=10)]


def relay_config(tmp_path: Path, called_ae: str, port: int, mode: str = "film") -> list[str]:
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join([
        "[server]", "delivery_retry_initial = 0.2", "delivery_retry_max = 1.0", "printer_event_interval = 0.5",
        "[[printer]]", 'ae_title = "PRINTSCP"', "[[printer.relay]]", f'called_ae = "{called_ae}"',
        'host = "127.0.0.1"', f"port = {port}", "timeout = 10.0", f'mode = "{mode}"']) + "\n")
    return ["--config", str(path)]


def dcmtk_print(tmp_path: Path, port: int, name: str, layout: tuple[int, int] = (2, 2),
                values: tuple[int, ...] = VALUES) -> None:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    images = [write_test_image(folder / f"img{i}.dcm", 64, 64, v) for i, v in enumerate(values)]
    options = PrintOptions(columns=layout[0], rows=layout[1], film_size="8INX10IN")
    result = DcmtkPrintScu(folder / "dcmtk", port, options=options).print_film(images)
    assert result.ok, result.stdout + result.stderr


def jobs(server: ServerProcess) -> str:
    return subprocess.run([sys.executable, "-m", "printserver", "jobs", "--spool", str(server.spool), "list"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def printer_status(port: int) -> tuple[str, str]:
    with PrintSCU(port) as scu:
        _, ds = scu.n_get(None)
    return str(ds.PrinterStatus), str(ds.PrinterStatusInfo)


def test_relayed_through_printserver_to_another_printserver_the_densities_survive(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "upstream") as upstream, \
            ServerProcess(tmp_path / "gateway", extra=["--relay", f"PRINTSCP@127.0.0.1:{upstream.port}"]) as gateway:
        dcmtk_print(tmp_path, gateway.port, "a")
        gateway.wait_drained(1)
        (pdf,) = upstream.wait_drained(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (203.2, 254.0)
    film_box = json.loads(pdfcheck.metadata(pdf)["DICOMFilmBoxes"])[0]
    assert film_box["ImageDisplayFormat"] == "STANDARD\\1,1"
    quadrants = [pdfcheck.od_at(pdf, fx, fy) for fy in (0.3, 0.7) for fx in (0.3, 0.7)]
    assert quadrants == pytest.approx(ODS, abs=0.03)
    assert pdfcheck.metadata(pdf)["DICOMCallingAE"] == "PRINTSCP"  # the gateway prints as its printer


def test_upstream_down_the_job_waits_the_printer_says_so_then_it_prints_once(tmp_path: Path) -> None:
    upstream = DcmprscpServer(tmp_path / "dcmprscp", port=free_port())
    with ServerProcess(tmp_path / "gateway", extra=relay_config(tmp_path, upstream.aetitle, upstream.port)) as gw:
        dcmtk_print(tmp_path, gw.port, "a")
        wait_until(lambda: "retrying" in jobs(gw), 60, "the job to wait for the upstream")
        assert f"relay:{upstream.aetitle}:retrying(PRINTER OFFLINE)" in jobs(gw)
        wait_until(lambda: printer_status(gw.port) == ("WARNING", "PRINTER OFFLINE"), 30, "the printer to say so")
        with upstream:
            wait_until(lambda: not gw.pending_jobs(), 60, "the film relayed after the upstream came back")
            films = upstream.films()
    assert [(f.image_display_format, f.film_size) for f in films] == [("STANDARD\\1,1", "8INX10IN")]


#: Films queued at the gateway before its kill -9 (the upstream is started only once all are accepted, so
#: they are all waiting when the first goes: the modality, slower than layout mode's relay, sets no pace).
FILMS_IN_FLIGHT = 8
#: After the first film is upstream, before the kill: past its Print's answer, short of the last film (a film
#: goes in ~0.15 s in film mode, ~0.04 s in layout mode: 1 and 2-3 films were upstream at the kill)
SETTLE = {"film": 0.3, "layout": 0.1}


def centre(path: Path) -> int:
    """The value at the middle of an image the upstream stored (a 1x1 film: its one image)."""
    pixels = dcmread(path).pixel_array
    return int(pixels[pixels.shape[0] // 2, pixels.shape[1] // 2])


@pytest.mark.parametrize("mode", ["film", "layout"])
def test_sigkill_during_relay_loses_and_duplicates_nothing(tmp_path: Path, mode: str) -> None:
    """Each film's image has its own value: the upstream ends with every value, each once (the journal of
    relay.py is shared by both modes; layout mode reads its pixels from rendition `source` after the restart).

    The one exception is the film whose Print was on the wire at the kill: whether the upstream printed it
    cannot be known, so the relay prints it again rather than lose it, and says so in its log. With one job
    at a time per upstream that is at most one film, and it is the only duplicate allowed."""
    upstream = DcmprscpServer(tmp_path / "dcmprscp", port=free_port())
    extra = relay_config(tmp_path, upstream.aetitle, upstream.port, mode)
    gateway = ServerProcess(tmp_path / "gateway", extra=extra)
    with contextlib.ExitStack() as running:
        with gateway:
            for n in range(FILMS_IN_FLIGHT):
                dcmtk_print(tmp_path, gateway.port, f"p{n}", layout=(1, 1), values=(500 * n,))
            running.enter_context(upstream)
            wait_until(lambda: len(upstream.files().stored_print) >= 1, 120, "the first film upstream")
            time.sleep(SETTLE[mode])  # a kill between a Print and its answer would be undecidable
            gateway.kill()
        at_kill = len(upstream.files().stored_print)
        assert at_kill < FILMS_IN_FLIGHT, "every film was relayed before the kill: the test proved nothing"
        with ServerProcess(tmp_path / "gateway", port=gateway.port, extra=extra) as again:
            wait_until(lambda: not again.pending_jobs(), 180, "the rest after the restart")
        centres = sorted(centre(f.images[0]) for f in upstream.films() if f.images[0])
    reprinted = gateway.log.read_text().count("may have been printed on")  # the undecidable Print, said
    assert reprinted <= 1 and len(upstream.files().stored_print) == FILMS_IN_FLIGHT + reprinted
    assert len(set(centres)) == FILMS_IN_FLIGHT and len(centres) == FILMS_IN_FLIGHT + reprinted, centres
