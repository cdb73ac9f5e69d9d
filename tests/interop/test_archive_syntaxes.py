"""The PACS output's transfer syntaxes (issue 9): films go losslessly compressed in the first syntax of our
list the archive accepts, else uncompressed. Judged by the real peers: Orthanc stores the object and decodes
it to our pixels (its REST API), dciodvfy passes what Orthanc stored, storescp shows the fallback and that
our order wins over the acceptor's."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

from printserver.archive.objects import instance_uid
from printserver.config import PrinterProfile
from printserver.errors import ConfigError
from printserver.outputs.base import RASTERS, DeliveryJob, Done
from printserver.outputs.pacs import PacsArchive
from printserver.render.compose import compose_film
from printserver.spool.paths import JobPaths
from tests.archive.test_objects import make_job
from tests.dcmtk import LOCALHOST
from tests.orthanc import Orthanc, StoreSCP, dciodvfy, orthanc_available, storescp_available


def pacs(port: int, called_ae: str, **table: Any) -> PacsArchive:
    profile = replace(PrinterProfile(), ae_title="FILMS", output_tables={"pacs": [
        {"called_ae": called_ae, "host": LOCALHOST, "port": port, "timeout": 20} | table]})
    (out,) = PacsArchive.from_profile(profile, "printer[0]")
    return out


def spooled(tmp_path: Path, color: bool = False) -> tuple[DeliveryJob, np.ndarray]:
    job = make_job(color=color)
    paths = JobPaths.of(tmp_path / "spool" / "0001.job")
    paths.job.parent.mkdir(parents=True)
    raster = compose_film(job.films[0])
    np.savez(paths.rendition(RASTERS), film0=raster)
    return DeliveryJob(job, paths), raster


def stored_pixels(raster: np.ndarray) -> np.ndarray:
    """What the SC carries: 12 bits of the 16-bit page gray (archive/objects.py), RGB as it is."""
    return raster if raster.ndim == 3 else raster >> 4


def test_the_default_prefers_jpeg_ls_then_rle_and_names_are_checked() -> None:
    assert pacs(1, "A").transfer_syntax == ("jpeg-ls", "rle", "explicit")
    assert pacs(1, "A", transfer_syntax="rle").transfer_syntax == ("rle",)
    for bad in ("jpeg2000", ["rle", "rle"], [], 5):
        with pytest.raises(ConfigError, match=r"^printer\[0\]\.pacs\[0\]\.transfer_syntax:"):
            pacs(1, "A", transfer_syntax=bad)
    out = pacs(1, "A", transfer_syntax=["deflate", "explicit"])
    assert PacsArchive.from_settings(out.settings()) == out
    assert out.check() is None, "every encoder of the default is installed (pyproject dependencies)"


def test_a_missing_encoder_stops_serve_naming_the_key_and_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydicom.pixels.encoders import JPEGLSLosslessEncoder

    monkeypatch.setattr(JPEGLSLosslessEncoder, "_available", {})  # as if pyjpegls were not installed
    problem = pacs(1, "A").check()
    assert problem is not None and problem.startswith("printer[0].pacs[0].transfer_syntax:") and "pyjpegls" in problem
    assert pacs(1, "A", transfer_syntax=["rle"]).check() is None


# --- Orthanc: stored, decoded to our pixels, valid ------------------------------------------------------

@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    if not orthanc_available():
        pytest.skip("orthanc not installed")
    with Orthanc(tmp_path / "orthanc") as server:
        yield server


def valid(path: Path, tmp_path: Path) -> list[str]:
    """dciodvfy's errors; a deflated file is inflated by DCMTK first (dicom3tools cannot read Deflate)."""
    if dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian:
        inflated = tmp_path / "inflated.dcm"
        subprocess.run(["dcmconv", "+te", str(path), str(inflated)], check=True, capture_output=True, timeout=60)
        path = inflated
    return dciodvfy(path)[0]


@pytest.mark.parametrize("color", [False, True], ids=["gray-12bit", "rgb"])
@pytest.mark.parametrize(("names", "syntax"), [
    (["jpeg-ls", "rle", "explicit"], JPEGLSLossless),
    (["rle"], RLELossless),
    (["deflate"], DeflatedExplicitVRLittleEndian),
    (["explicit"], ExplicitVRLittleEndian),
])
def test_orthanc_stores_each_syntax_and_decodes_our_pixels(orthanc: Orthanc, tmp_path: Path, names: list[str],
                                                           syntax: str, color: bool) -> None:
    if shutil.which("dciodvfy") is None or shutil.which("dcmconv") is None:
        pytest.skip("dicom3tools / DCMTK not installed")
    job, raster = spooled(tmp_path, color)
    step = pacs(orthanc.dicom_port, orthanc.aet, transfer_syntax=names).deliver(job)
    assert isinstance(step, Done), step
    assert step.memo["transfer_syntax"] == {"film3": syntax.name}
    (instance,) = orthanc.instances()
    assert orthanc._open(f"/instances/{instance}/metadata/TransferSyntax").decode() == syntax
    path = orthanc.file(instance, tmp_path / "stored.dcm")
    meta = dcmread(path, stop_before_pixels=True)
    assert meta.file_meta.TransferSyntaxUID == syntax
    assert meta.SOPInstanceUID == instance_uid(job.job, "film", 3), "compressing keeps the derived UID"
    decoded = np.load(io.BytesIO(orthanc._open(f"/instances/{instance}/numpy")))  # Orthanc's own decoder
    expected = stored_pixels(raster)
    assert decoded.shape[1:3] == expected.shape[:2]
    assert np.array_equal(decoded.reshape(expected.shape).astype(np.int64), expected.astype(np.int64))
    assert np.array_equal(dcmread(path).pixel_array, expected), "pydicom decodes it to the same pixels"
    assert valid(path, tmp_path) == []


# --- storescp: the fallback, and our order over the acceptor's ----------------------------------------

@pytest.mark.parametrize(("args", "names", "syntax"), [
    ((), ["jpeg-ls", "rle", "explicit"], ExplicitVRLittleEndian),  # storescp takes uncompressed only by default
    (("+xa",), ["jpeg-ls", "rle", "explicit"], JPEGLSLossless),
    (("+xa",), ["rle", "jpeg-ls"], RLELossless),  # storescp prefers neither: our list decides
    (("+xt",), ["rle", "jpeg-ls"], JPEGLSLossless),  # JPEG-LS (and uncompressed) only: our second choice
    (("+xr",), ["jpeg-ls", "deflate"], ExplicitVRLittleEndian),  # RLE only: none of ours, so uncompressed
])
def test_storescp_gets_the_first_syntax_it_accepts_in_our_order(tmp_path: Path, args: tuple[str, ...],
                                                                names: list[str], syntax: str) -> None:
    if not storescp_available():
        pytest.skip("DCMTK storescp not installed")
    job, raster = spooled(tmp_path)
    with StoreSCP(tmp_path / "scp", args=args) as scp:
        step = pacs(scp.port, scp.aet, transfer_syntax=names).deliver(job)
        (path,) = scp.files()
    assert isinstance(step, Done) and step.memo["transfer_syntax"] == {"film3": syntax.name}, step
    ds = dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(ds.pixel_array, stored_pixels(raster))
    assert dciodvfy(path)[0] == []


def test_an_encoder_failure_sends_the_film_uncompressed_instead_of_holding_it(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A codec's bug (simulated: the one fault no real input here provokes) must not keep a film from the PACS."""
    if not storescp_available():
        pytest.skip("DCMTK storescp not installed")
    import printserver.archive.syntaxes as syntaxes

    def broken(ds: Any, syntax: Any) -> Any:
        raise RuntimeError("codec exploded")

    monkeypatch.setattr(syntaxes, "encode", broken)
    job, raster = spooled(tmp_path)
    with StoreSCP(tmp_path / "scp", args=("+xa",)) as scp:
        step = pacs(scp.port, scp.aet).deliver(job)
        (path,) = scp.files()
    assert isinstance(step, Done) and step.memo["transfer_syntax"] == {"film3": ExplicitVRLittleEndian.name}, step
    assert np.array_equal(dcmread(path).pixel_array, stored_pixels(raster))
