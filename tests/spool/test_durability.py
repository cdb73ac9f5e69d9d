"""Nothing accepted is lost: once N-ACTION answered Success, the film is produced even if the
server (and its render workers) are SIGKILLed right after, and it is produced exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from printserver.render.gsdf import p_to_density
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import PrintSCU
from tests.serverproc import ServerProcess

#: Kill moments after the last Success: at once, while rendering, around PDF writing.
KILL_DELAYS = (0.0, 0.05, 0.3, 0.0)


def print_one(port: int, value: int) -> int:
    """One 2x2 film of a flat 12-bit value; the N-ACTION status."""
    img = np.full((256, 256), value, np.uint16)
    with PrintSCU(port, calling_ae="CRASHTEST") as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\2,2")
        for pos in range(1, 5):
            scu.set_image(pos, img)
        return scu.print_film_box()


def test_sigkill_after_success_loses_no_film_and_duplicates_none(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "server")
    accepted: list[int] = []
    value = 100
    try:
        for round_, delay in enumerate(KILL_DELAYS):
            server.start()
            for _ in range(round_ + 1):  # 1, 2, 3, 4 films per round
                value += 100
                assert print_one(server.port, value) == Status.SUCCESS
                accepted.append(value)
            time.sleep(delay)
            server.kill()  # SIGKILL: no clean-up of any kind
        server.start()  # the survivor finishes what was accepted
        pdfs = server.wait_drained(len(accepted), timeout=120)
        time.sleep(0.5)  # nothing more may appear (no duplicates)
        pdfs = server.pdfs()
    finally:
        server.stop()
        server.kill()
    log = server.log.read_text()
    assert "left in the spool" in log, "no kill hit an unfinished job: the test proved nothing"
    assert len(pdfs) == len(accepted)
    printed = sorted(pdfcheck.od_at(p, 0.25, 0.25) for p in pdfs)
    expected = p_to_density(sorted(accepted, reverse=True), 12, min_density=0.2, max_density=3.0,
                            illumination=2000, ambient=10)
    assert printed == pytest.approx(list(expected), abs=0.02)
    leftovers = [p for p in (tmp_path / "server" / "films").rglob("*") if p.is_file() and p.suffix != ".pdf"]
    assert all(p.name.endswith(".tmp") for p in leftovers)  # a killed writer leaves only a hidden temp file
