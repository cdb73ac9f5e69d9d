"""Interop with a peer nobody here wrote: DCMTK's print SCU (dcmpsprt + dcmprscu) prints to
`printserver serve`, and the PDF is what the film should be."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from printserver.render.gsdf import p_to_density
from tests import pdfcheck
from tests.dcmtk import DcmtkPrintScu, PrintOptions, dcmtk_available, write_test_image
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed (see README)")

VALUES = (0, 1365, 2730, 4095)  # 12-bit P-values
#: their PS3.14 densities with the printer defaults (Dmin 0.20, Dmax 3.00, L0 2000, La 10)
ODS = [round(float(d), 2) for d in p_to_density(VALUES, 12, min_density=0.2, max_density=3.0, illumination=2000,
                                                 ambient=10)]


@pytest.fixture
def server(tmp_path: Path):
    with ServerProcess(tmp_path / "server") as srv:
        yield srv


def images(folder: Path, values: tuple[int, ...], bits: int = 12) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_test_image(folder / f"img{i}.dcm", 128, 128, v, bits=bits) for i, v in enumerate(values)]


def quadrants(pdf: Path) -> list[float]:
    """Optical density at the centre of each quadrant."""
    return [round(pdfcheck.od_at(pdf, fx, fy), 2) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]


def test_dcmtk_prints_a_12_bit_2x2_14x17_film(server: ServerProcess, tmp_path: Path) -> None:
    scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=PrintOptions(columns=2, rows=2))
    result = scu.print_film(images(tmp_path / "img", VALUES))
    assert result.ok, result.stdout + result.stderr
    (pdf,) = server.wait_drained(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (355.6, 431.8)
    assert quadrants(pdf) == pytest.approx(ODS, abs=0.02)
    assert pdfcheck.metadata(pdf)["DICOMCallingAE"] == "DCMTKSCU"


def test_dcmtk_session_print_8_bit_landscape_with_options(server: ServerProcess, tmp_path: Path) -> None:
    options = PrintOptions(columns=2, rows=2, supports_12bit=False, session_print=True, orientation="LANDSCAPE",
                           film_size="8INX10IN", magnification="REPLICATE", border_density="WHITE")
    scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=options)
    result = scu.print_film(images(tmp_path / "img", VALUES))
    assert result.ok, result.stdout + result.stderr
    (pdf,) = server.wait_drained(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (254.0, 203.2)
    # 8-bit transmission: dcmprscu sends v >> 4, so 1365 -> 85 (8-bit P-values)
    eight = p_to_density([v >> 4 for v in VALUES], 8, min_density=0.2, max_density=3.0, illumination=2000,
                         ambient=10)
    assert quadrants(pdf) == pytest.approx(eight, abs=0.02)
    assert pdfcheck.od_at(pdf, 0.002, 0.002) == pytest.approx(0.20, abs=0.01)  # WHITE border = Min Density


def test_dcmtk_four_films_in_a_row(server: ServerProcess, tmp_path: Path) -> None:
    scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=PrintOptions(columns=1, rows=1))
    films = [scu.render(images(tmp_path / f"img{v}", (v,))) for v in VALUES]
    result = scu.send(films)
    assert result.ok, result.stdout + result.stderr
    pdfs = server.wait_drained(4)
    assert sorted(pdfcheck.od_at(p, 0.5, 0.5) for p in pdfs) == pytest.approx(sorted(ODS), abs=0.02)


class LutScu(DcmtkPrintScu):
    """DCMTK's SCU with a [[LUT]] section: `--plut GAMMA12` prints with the gamma table made by dcmmklut."""

    def write_config(self) -> Path:
        path = super().write_config()
        lines = path.read_text().splitlines()
        for key in self.options.extra_config:  # an extra key replaces the default written before it
            same = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
            for i in reversed(same[:-1]):
                del lines[i]
        path.write_text("\n".join(lines) + "\n")
        with path.open("a") as fh:
            fh.write("[[LUT]]\n[GAMMA12]\ndescription = gamma 2.2 (4096 entries)\nfilename = gamma4096.lut\n")
        return path


def gamma_table(lut_dir: Path) -> list[int]:
    """A 4096-entry, 12-bit gamma 2.2 Presentation LUT made by DCMTK's own dcmmklut; its LUT Data."""
    lut_dir.mkdir(parents=True, exist_ok=True)
    path = lut_dir / "gamma4096.lut"
    subprocess.run(["dcmmklut", "+Tp", "+Cg", "2.2", "-b", "12", "-e", "4096", str(path)], check=True, timeout=30,
                   capture_output=True)
    item = dcmread(path).PresentationLUTSequence[0]
    data = item.LUTData
    return list(np.frombuffer(data, "<u2")) if isinstance(data, bytes) else [int(v) for v in data]


@pytest.mark.parametrize(("scp_rendering", "in_session"), [(True, False), (False, False), (True, True)])
def test_dcmtk_prints_a_4096_entry_gamma_presentation_lut(server: ServerProcess, tmp_path: Path,
                                                          scp_rendering: bool, in_session: bool) -> None:
    """PresentationLUTPreferSCPRendering true: DCMTK sends the table (N-CREATE) and references it from the
    film box (or, pre-CP-173, from the film session); false: DCMTK burns it into the pixels and sends
    IDENTITY. Either way the film shows PS3.14 densities of LUT[v]."""
    table = gamma_table(tmp_path / "dcmtk" / "lut")
    assert len(table) == 4096 and table[0] == 0 and table[-1] == 4095
    options = PrintOptions(columns=2, rows=2, presentation_lut=True, dcmpsprt_args=("--plut", "GAMMA12"),
                           extra_config={"PresentationLUTPreferSCPRendering": "true" if scp_rendering else "false",
                                         "PresentationLUTinFilmSession": "true" if in_session else "false"})
    scu = LutScu(tmp_path / "dcmtk", server.port, options=options)
    result = scu.print_film(images(tmp_path / "img", VALUES))
    assert result.ok, result.stdout + result.stderr
    (pdf,) = server.wait_drained(1)
    expected = p_to_density([table[v] for v in VALUES], 12, min_density=0.2, max_density=3.0, illumination=2000,
                            ambient=10)
    assert quadrants(pdf) == pytest.approx(expected, abs=0.02)
    log = server.log.read_text()
    assert ("Presentation LUT" in log and "table of 4096 entries" in log) == scp_rendering, log[-2000:]
