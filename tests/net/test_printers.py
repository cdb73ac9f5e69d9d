"""Several virtual printers on one port: routing by called AE, refusals, per-printer profiles and outputs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE

from printserver import config
from printserver.errors import ConfigError
from printserver.net.scp import PrintServer
from printserver.scu.race_guard import release
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import META, PrintSCU, print_film


def two_printer_config(tmp_path: Path) -> config.ServerConfig:
    return config.from_dict({
        "server": {"host": "127.0.0.1", "spool_dir": str(tmp_path / "spool"), "workers": 1},
        "printer": [
            {"ae_title": "CT_LASER", "printer_name": "CT laser", "pdf_dir": str(tmp_path / "ct"),
             "film_sizes": ["14INX17IN"], "default_film_size": "14INX17IN",
             "pdf_name": "{printer}/{calling_ae}/{label}_{job}.pdf"},
            {"ae_title": "MAMMO", "printer_name": "Mammo printer", "pdf_dir": str(tmp_path / "mammo"),
             "film_sizes": ["8INX10IN", "A4"], "default_film_size": "8INX10IN",
             "medium_types": ["MAMMO CLEAR FILM", "MAMMO BLUE FILM"], "default_medium_type": "MAMMO BLUE FILM",
             "allowed_calling_aes": ["MAMMO_MOD"], "magnification_types": ["REPLICATE"],
             "default_magnification_type": "REPLICATE"},
        ],
    })


@pytest.fixture
def two_printers(tmp_path: Path) -> Iterator[PrintServer]:
    from dataclasses import replace

    server = PrintServer(replace(two_printer_config(tmp_path), port=0))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def associate(port: int, called: str, calling: str) -> object:
    ae = AE(ae_title=calling)
    ae.acse_timeout = 10
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    try:
        return assoc
    finally:
        release(assoc)
        ae.shutdown()


def rejection(assoc: object) -> tuple[int, int, int]:
    rj = assoc.acceptor.primitive  # the A-ASSOCIATE-RJ as received
    return rj.result, rj.result_source, rj.diagnostic


def test_each_printer_gets_its_own_films_and_profile(two_printers: PrintServer, tmp_path: Path) -> None:
    port = two_printers.port
    img = np.full((64, 64), 2000, np.uint16)
    session = Dataset()
    session.FilmSessionLabel = "Chest 1"
    with PrintSCU(port, called_ae="CT_LASER", calling_ae="CT_MOD") as scu:
        assert scu.create_session(session) == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\1,1")[0] == Status.SUCCESS
        assert scu.set_image(1, img) == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
        # the CT printer has no 8INX10IN
        st, _ = scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")
        assert st == Status.INVALID_ATTRIBUTE_VALUE
        _, ds = scu.n_get(None)
        assert ds.PrinterName == "CT laser"
    assert print_film(port, [img], calling_ae="MAMMO_MOD", called_ae="MAMMO") == [0] * 5
    with PrintSCU(port, called_ae="MAMMO", calling_ae="MAMMO_MOD") as scu:
        assert scu.create_session() == Status.SUCCESS
        st, _ = scu.create_film_box("STANDARD\\1,1", FilmSizeID="14INX17IN")
        assert st == Status.INVALID_ATTRIBUTE_VALUE  # ... and the mammo printer no 14INX17IN
        st, rsp = scu.create_film_box("STANDARD\\1,1")
        assert st == Status.SUCCESS and rsp.FilmSizeID == "8INX10IN" and rsp.MagnificationType == "REPLICATE"
        _, ds = scu.n_get(None)
        assert ds.PrinterName == "Mammo printer"

    two_printers.dispatcher.wait_idle(60)
    ct = sorted((tmp_path / "ct").rglob("*.pdf"))
    mammo = sorted((tmp_path / "mammo").rglob("*.pdf"))
    assert len(ct) == 1 and len(mammo) == 1
    # the pattern {printer}/{calling_ae}/{label}_{job}.pdf, sanitised
    assert ct[0].relative_to(tmp_path / "ct").parts[:2] == ("CT_laser", "CT_MOD")
    assert ct[0].name.startswith("Chest_1_")
    assert [round(v) for v in pdfcheck.page_sizes_mm(ct[0])[0]] == [356, 432]
    assert [round(v) for v in pdfcheck.page_sizes_mm(mammo[0])[0]] == [203, 254]
    assert pdfcheck.metadata(mammo[0])["DICOMCalledAE"] == "MAMMO"


def test_unknown_called_ae_and_disallowed_calling_ae_are_refused(two_printers: PrintServer) -> None:
    port = two_printers.port
    unknown = associate(port, "NOPRINTER", "CT_MOD")
    assert unknown.is_rejected and rejection(unknown) == (1, 1, 7)  # called AE title not recognized
    wrong_caller = associate(port, "MAMMO", "CT_MOD")
    assert wrong_caller.is_rejected and rejection(wrong_caller) == (1, 1, 3)  # calling AE not recognized
    # the same caller may use the CT printer (no caller list), and the mammo modality MAMMO
    for called, calling in (("CT_LASER", "CT_MOD"), ("MAMMO", "MAMMO_MOD")):
        ok = associate(port, called, calling)
        assert not ok.is_rejected and ok.is_released


def test_config_errors_for_printers_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"printer\[1\]\.allowed_calling_aes"):
        config.from_dict({"printer": [{"ae_title": "A"}, {"ae_title": "B", "allowed_calling_aes": ["BAD\\AE"]}]})
    with pytest.raises(ConfigError, match=r"printer\[0\]\.pdf_name"):
        config.from_dict({"printer": [{"pdf_name": "{date}/{patient}.pdf"}]})
    with pytest.raises(ConfigError, match=r"printer\[0\]\.pdf_dir: a printer needs an output"):
        config.from_dict({"printer": [{"pdf_dir": ""}]})
    with pytest.raises(ConfigError, match=r"printer\[0\]\.paper_policy"):
        config.from_dict({"printer": [{"paper_policy": "shrink"}]})


def test_check_config_prints_what_it_understood(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[printer]]\nae_title = "CT_LASER"\nallowed_calling_aes = ["CT1"]\n'
                    '[[printer]]\nae_title = "MAMMO"\npdf_dir = ""\ncups_queue = "film"\npaper_policy = "fit"\n')
    out = subprocess.run([sys.executable, "-m", "printserver", "check-config", str(good)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "printer[0]: called AE 'CT_LASER'" in out.stdout and "callers: CT1" in out.stdout
    assert "output: CUPS queue film" in out.stdout and "paper policy fit" in out.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[[printer]]\nae_title = "X"\nfilm_sizes = ["HUGE"]\n')
    out = subprocess.run([sys.executable, "-m", "printserver", "check-config", str(bad)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "printer[0].film_sizes" in out.stderr
