"""`printserver print` with files it cannot decode: one line per file naming the transfer syntax; the
install hint only when a decoder is what is missing; no third-party traceback unless --debug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import JPEG2000, JPEGLosslessSV1

sys.path.insert(0, str(Path(__file__).parents[2] / "samples"))
from make_samples import make_modalities


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("undecodable")
    ct = make_modalities(folder)["ct"]
    out = {"ct": ct}
    for name, ts, payload in (("lossless", JPEGLosslessSV1, b"\xff\xd8\xff\xc3"),
                              ("j2k", JPEG2000, b"\xff\x4f\xff\x51")):
        ds = dcmread(ct)
        ds.PixelData = encapsulate([payload + bytes(64)])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = ts
        ds.save_as(folder / f"{name}.dcm")
        out[name] = folder / f"{name}.dcm"
    return out


def run_print(*args: str) -> subprocess.CompletedProcess[str]:
    # port 9 (discard) is never reached: the images are prepared before any association
    return subprocess.run([sys.executable, "-m", "printserver", "print", "--host", "127.0.0.1", "--port", "9",
                           "--called-ae", "PRINTSCP", *args], capture_output=True, text=True, timeout=120)


def test_one_line_per_undecodable_file_and_nothing_printed(files: dict[str, Path]) -> None:
    # JPEG-LS decodes since pyjpegls is a dependency (the pacs output's encoder); lossless JPEG needs the extra
    assert get_decoder(JPEG2000).is_available and not get_decoder(JPEGLosslessSV1).is_available  # this machine
    out = run_print(str(files["lossless"]), str(files["j2k"]), str(files["ct"]))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2, out.stderr
    lossless, j2k = lines
    assert str(files["lossless"]) in lossless and "JPEG Lossless" in lossless and "1.2.840.10008.1.2.4.70" in lossless
    assert "pip install 'printserver[codecs]'" in lossless  # no decoder installed: say what would decode it
    assert str(files["j2k"]) in j2k and "JPEG 2000" in j2k and "1.2.840.10008.1.2.4.91" in j2k
    assert "install" not in j2k  # a decoder is installed, the data is what is wrong
    assert "Traceback" not in out.stderr


def test_debug_shows_the_decoders_own_words(files: dict[str, Path]) -> None:
    out = run_print("--debug", str(files["j2k"]))
    assert out.returncode == 1 and "Traceback" in out.stderr
