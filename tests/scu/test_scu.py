"""The print SCU (`printserver print/status/render` and PrintClient) against printserver's own SCP
and against DCMTK's dcmprscp in three printer profiles; the preview matches what the SCP composes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from printserver.model.pixels import GrayscaleImage
from printserver.scu.client import PrintClient
from printserver.scu.films import FilmBoxOptions, FilmOptions, SessionOptions
from printserver.scu.prepare import PrepareOptions, load
from printserver.scu.transport import PrintClientError
from printserver.status import Status
from tests import pdfcheck
from tests.dcmtk import DcmprscpServer, dcmtk_available

sys.path.insert(0, str(Path(__file__).parents[2] / "samples"))
from make_samples import make_modalities

needs_dcmtk = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK not installed")


@pytest.fixture(scope="module")
def modalities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_modalities(tmp_path_factory.mktemp("modalities"))


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "printserver", *args], capture_output=True, text=True,
                          timeout=timeout)


def flat(value: int, shape: tuple[int, int] = (32, 32)) -> GrayscaleImage:
    return GrayscaleImage(np.full(shape, value, np.uint16), 12, "MONOCHROME2")


# --- against printserver's own SCP ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ct", "cr", "us", "mr"])
def test_each_modality_prints_and_the_preview_is_what_the_scp_composed(scp, modalities, tmp_path, kind) -> None:
    path = str(modalities[kind])
    film = ["--display-format", "STANDARD\\3,2", "--film-size", "11INX14IN", "--magnification", "BILINEAR"]
    out = cli("print", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP", *film, path)
    assert out.returncode == 0, out.stderr
    (printed,) = scp.wait_pdfs(1)
    preview = tmp_path / "preview.pdf"
    out = cli("render", *film, path, "-o", str(preview))
    assert out.returncode == 0, out.stderr
    assert pdfcheck.page_sizes_mm(preview) == pdfcheck.page_sizes_mm(printed)
    assert np.array_equal(pdfcheck.page_image(preview), pdfcheck.page_image(printed))
    assert pdfcheck.page_image(printed).std() > 1  # an image, not an empty film


def test_preparation_of_each_modality(modalities) -> None:
    (ct,) = load([modalities["ct"]], PrepareOptions())[0]
    assert ct.image.bits_stored == 12 and ct.image.pixels.dtype == np.uint16
    # window 1 (BRAIN, 40/400) saturates bone, window 2 (BONE, 400/2000) does not
    (ct_bone,) = load([modalities["ct"]], PrepareOptions(window_index=1))[0]
    assert (ct.image.pixels == 4095).sum() > (ct_bone.image.pixels == 4095).sum()
    (cr,) = load([modalities["cr"]], PrepareOptions(max_size=1024))[0]
    assert cr.image.photometric_interpretation == "MONOCHROME1" and cr.image.columns == 819 and cr.image.rows == 1024
    (cr_inv,) = load([modalities["cr"]], PrepareOptions(max_size=1024, invert_monochrome1=True))[0]
    assert cr_inv.image.photometric_interpretation == "MONOCHROME2"
    assert np.abs(cr_inv.image.pixels.astype(int) + cr.image.pixels - 4095).max() <= 1
    (us,) = load([modalities["us"]], PrepareOptions(bits=8, keep_color=False))[0]
    assert us.image.bits_stored == 8 and us.image.pixels.ndim == 2  # RGB -> gray for a grayscale printer
    assert us.image.pixels[240, 320] > us.image.pixels[240, 100]  # green block brighter than the ramp's start
    (us_rgb,) = load([modalities["us"]], PrepareOptions())[0]
    assert np.array_equal(us_rgb.image.pixels, dcmread(modalities["us"]).pixel_array)  # colour kept as it is
    mr, notes = load([modalities["mr"]], PrepareOptions(frames="2,4-5"))
    assert [m.source.rsplit("#", 1)[1] for m in mr] == ["2", "4", "5"] and notes == []
    assert mr[0].image.pixels.max() < mr[2].image.pixels.max()


def test_folders_non_dicom_skipped_pagination_and_json(scp, modalities, tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("not DICOM")
    folder = modalities["mr"].parent
    out = cli("print", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP", "--json",
              "--display-format", "STANDARD\\2,2", str(folder), str(tmp_path / "notes.txt"))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["ok"] and summary["images_sent"] == 9  # ct + cr + 6 MR frames + us
    assert [len(f["images"]) for f in summary["films"]] == [4, 4, 1]  # auto-paginated, last film part-empty
    assert any("notes.txt" in n and "not a DICOM file" in n for n in summary["notes"])
    assert len(scp.wait_pdfs(3)) == 3


def test_python_api_session_print_and_copies(scp) -> None:
    options = FilmOptions(SessionOptions(NumberOfCopies=2, FilmSessionLabel="API"),
                          FilmBoxOptions("STANDARD\\1,1", FilmSizeID="8INX10IN"))
    with PrintClient.connect("127.0.0.1", scp.port, "PRINTSCP", "APITEST") as client:
        assert client.printer_status()["PrinterStatus"] == "NORMAL"
        result = client.print_images([flat(0), flat(4095)], options, session_print=True)
    assert result.ok and [f.status for f in result.films] == [Status.SUCCESS, Status.SUCCESS]
    (pdf,) = scp.wait_pdfs(1)  # one collated job: both films in one PDF
    meta = pdfcheck.metadata(pdf)
    assert meta["DICOMFilmSessionLabel"] == "API" and '"NumberOfCopies": 2' in meta["DICOMFilmSession"]
    assert [pdfcheck.sample(pdfcheck.lightness(pdf, i), 0.5, 0.5) for i in (0, 1)] == [0, 255]


def test_12_bit_refused_falls_back_to_8_bit(scp_factory) -> None:
    server = scp_factory(supports_12_bit=False)
    with PrintClient.connect("127.0.0.1", server.port, "PRINTSCP") as client:
        result = client.print_images([flat(4095), flat(2048)], FilmOptions(film_box=FilmBoxOptions("STANDARD\\2,1")))
    assert result.ok, result.films
    img = pdfcheck.lightness(server.wait_pdfs(1)[0])
    assert pdfcheck.sample(img, 0.25, 0.5) == 255 and 0 < pdfcheck.sample(img, 0.75, 0.5) < 255


def test_printer_failure_stops_warning_prints(scp_factory, modalities) -> None:
    down = scp_factory(printer_status="FAILURE", printer_status_info="PRINTER DOWN")
    out = cli("print", "--host", "127.0.0.1", "--port", str(down.port), "--called-ae", "PRINTSCP",
              str(modalities["ct"]))
    assert out.returncode == 1 and "FAILURE (PRINTER DOWN)" in out.stderr
    assert down.pdfs() == []
    low = scp_factory(printer_status="WARNING", printer_status_info="SUPPLY LOW")
    out = cli("print", "--host", "127.0.0.1", "--port", str(low.port), "--called-ae", "PRINTSCP",
              str(modalities["ct"]))
    assert out.returncode == 0 and "WARNING (SUPPLY LOW)" in out.stderr
    low.wait_pdfs(1)


def test_refused_film_box_reports_status_comment_and_exit_code(scp, modalities) -> None:
    out = cli("print", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP",
              "--film-size", "99INX99IN", str(modalities["ct"]))
    assert out.returncode == 1
    assert "FAILED 0x0106" in out.stderr and "FilmSizeID" in out.stderr


def test_status_command(scp) -> None:
    out = cli("status", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP", "--json")
    assert out.returncode == 0, out.stderr
    values = json.loads(out.stdout)
    assert values["PrinterStatus"] == "NORMAL" and values["PrinterName"] == "printserver"
    out = cli("status", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP")
    assert "Status:" in out.stdout and "NORMAL" in out.stdout


def test_wrong_called_ae_is_a_clear_error(scp) -> None:
    with pytest.raises(PrintClientError, match="rejected"):
        PrintClient.connect("127.0.0.1", scp.port, "NOTAPRINTER")


# --- against DCMTK's dcmprscp ----------------------------------------------------------------------


def ihe_restricted_profile() -> dict[str, str]:
    """[IHERESTRICTED] of Debian's /etc/dcmtk/printers.cfg, without its network keys."""
    section: dict[str, str] = {}
    inside = False
    for line in Path("/etc/dcmtk/printers.cfg").read_text().splitlines():
        if line.startswith("["):
            inside = line.strip() == "[IHERESTRICTED]"
        elif inside and "=" in line and not line.lstrip().startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            if key.lower() not in ("aetitle", "description", "hostname", "port", "type"):
                section[key] = value
    assert section["ImplicitOnly"] == "true" and section["DisplayFormat"] == "1,1"
    return section


PROFILES = {
    "permissive-12-bit": ({}, "STANDARD\\2,2", 12),
    "8-bit-only": ({"Supports12Bit": "false"}, "STANDARD\\2,2", 8),
    "ihe-restricted": ("ihe", "STANDARD\\1,1", 12),
}


@needs_dcmtk
@pytest.mark.parametrize("name", list(PROFILES))
def test_prints_on_dcmprscp(tmp_path, modalities, name) -> None:
    overrides, layout, bits = PROFILES[name]
    profile = ihe_restricted_profile() if overrides == "ihe" else overrides
    with DcmprscpServer(tmp_path / "dcmprscp", profile=profile) as peer:
        out = cli("print", "--host", "127.0.0.1", "--port", str(peer.port), "--called-ae", peer.aetitle,
                  "--display-format", layout, "--film-size", "14INX17IN", "--max-size", "1024",
                  str(modalities["ct"]), str(modalities["cr"]), str(modalities["us"]))
        assert out.returncode == 0, out.stdout + out.stderr + peer.log()
        films = peer.films()
    boxes = 4 if layout.endswith("2,2") else 1
    assert len(films) == (1 if boxes == 4 else 3)  # one Stored Print per film
    for film in films:
        assert film.image_display_format == layout
    images = [p for film in films for p in film.images if p is not None]
    assert len(images) == 3  # one Hardcopy Grayscale image per image box with an image
    stored = [dcmread(p) for p in images]
    # the CT, the CR downsampled from 2560 x 2048 to the 1024 maximum, the US
    assert sorted((d.Rows, d.Columns) for d in stored) == [(480, 640), (512, 512), (1024, 819)]
    assert {int(d.BitsStored) for d in stored} == {bits}


class _NeverPause:
    """A reactor checkpoint that never blocks: pynetdicom's reactor keeps polling the DIMSE queue
    while send_n_*() waits, which is the race made certain instead of occasional."""

    def __init__(self) -> None:
        pass

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def is_set(self) -> bool:
        return True

    def wait(self, timeout: float | None = None) -> bool:
        time.sleep(0.0005)  # long enough for send_n_*() to see the reactor "paused", which it is not
        return True


def test_responses_taken_by_the_reactor_reach_the_waiting_call(scp) -> None:
    images = [flat(100 * i) for i in range(20)]
    with PrintClient.connect("127.0.0.1", scp.port, "PRINTSCP", timeout=5) as client:
        client.transport.assoc._reactor_checkpoint = _NeverPause()
        result = client.print_images(images, FilmOptions(film_box=FilmBoxOptions("STANDARD\\4,5")))
    assert result.ok and result.images_sent == 20
    scp.wait_pdfs(1)


def test_compressed_images_decode_or_name_the_extra(scp, modalities, tmp_path) -> None:
    from pydicom import dcmread
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLosslessSV1, RLELossless

    ds = dcmread(modalities["ct"])
    ds.compress(RLELossless)  # pydicom decodes RLE by itself
    ds.save_as(tmp_path / "rle.dcm")
    out = cli("print", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP",
              str(tmp_path / "rle.dcm"))
    assert out.returncode == 0, out.stderr
    ds = dcmread(modalities["ct"])
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xc3" + bytes(64)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1  # no lossless JPEG decoder is installed here (JPEG-LS is)
    ds.save_as(tmp_path / "lossless.dcm")
    out = cli("print", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP",
              str(tmp_path / "lossless.dcm"))
    assert out.returncode == 1 and "printserver[codecs]" in out.stderr and "JPEG Lossless" in out.stderr


def test_color_images_print_in_color_where_the_color_meta_is_accepted(scp, modalities) -> None:
    out = cli("print", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP",
              "--display-format", "STANDARD\\2,1", "--film-size", "8INX10IN", "--orientation", "LANDSCAPE",
              str(modalities["us"]), str(modalities["ct"]))
    assert out.returncode == 0, out.stderr
    img = pdfcheck.page_image(scp.wait_pdfs(1)[0])
    assert img.ndim == 3 and img.shape[2] == 3  # a DeviceRGB film
    h, w, _ = img.shape
    # the US image in box 1 (left half): its green block in the middle, its red ramp bright at the right edge
    r, g, b = (int(v) for v in img[h // 2, w // 4])
    assert g > 150 and g > r + 50 and b < 30
    # the CT in box 2 is gray on the colour film: R = G = B
    ct = img[h // 4: 3 * h // 4, w // 2 + w // 8: w - w // 8]
    assert np.array_equal(ct[..., 0], ct[..., 1]) and np.array_equal(ct[..., 1], ct[..., 2]) and ct.std() > 1


def test_color_images_print_in_gray_where_only_grayscale_is_accepted(scp_factory, modalities) -> None:
    server = scp_factory(supports_color=False)  # a grayscale-only imager: colour contexts are rejected
    out = cli("print", "--host", "127.0.0.1", "--port", str(server.port), "--called-ae", "PRINTSCP", "--json",
              str(modalities["us"]))
    assert out.returncode == 0, out.stderr
    assert any("printed in gray" in n for n in json.loads(out.stdout)["notes"])
    assert pdfcheck.page_image(server.wait_pdfs(1)[0]).ndim == 2
    with PrintClient.connect("127.0.0.1", server.port, "PRINTSCP") as client:
        accepted = {cx.abstract_syntax for cx in client.transport.assoc.accepted_contexts}
    assert "1.2.840.10008.5.1.1.18" not in accepted and "1.2.840.10008.5.1.1.9" in accepted
