"""Store and forward with `mode = "layout"`: a modality prints a 2x2 film with mixed polarity and magnification
to printserver, which forwards the film box and image boxes as they were to DCMTK dcmprscp and to a second
printserver at once: dcmprscp stores STANDARD\\2,2 with the four boxes and their original pixels, the second
printserver's PDF shows the same film as the gateway's own PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.render.gsdf import p_to_density
from printserver.spool.records import read_record
from printserver.spool.store import Spool
from tests import pdfcheck
from tests.dcmtk import DcmprscpServer, StoredFilm, dcmtk_available
from tests.printscu import PrintSCU, image_box_dataset
from tests.serverproc import ServerProcess, wait_until

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")
RAMP = (np.arange(64 * 64).reshape(64, 64) * 3 % 4096).astype(np.uint16)
#: Per box: pixels, Polarity, Magnification Type (None: the film box's REPLICATE)
BOXES = [(RAMP // 4 + 400, "NORMAL", None),
         (np.full((64, 64), 1000, np.uint16), "REVERSE", None),
         (np.full((64, 64), 3000, np.uint16), "NORMAL", "BILINEAR"),
         (4095 - RAMP // 2, "REVERSE", "CUBIC")]


LUT = [round(4095 * (v / 4095) ** 0.8) for v in range(4096)]  # the modality's Presentation LUT, a table


@dataclass(frozen=True)
class Relayed:
    ours: Path  # the gateway's own PDF
    theirs: Path  # the printserver upstream's PDF
    stored: StoredFilm  # what dcmprscp stored
    upstream_spool: Path
    warnings: list[str]  # the gateway job's


def relay_to_both(tmp_path: Path, modality: Callable[[int], None]) -> Relayed:
    """`modality` prints one film to a gateway relaying in mode "layout" to dcmprscp and to a printserver."""
    config = tmp_path / "gateway.toml"
    with DcmprscpServer(tmp_path / "dcmprscp") as dcmprscp, ServerProcess(tmp_path / "upstream") as upstream:
        config.write_text("\n".join([
            "[server]", "delivery_retry_initial = 0.2", "delivery_retry_max = 1.0",
            "[[printer]]", 'ae_title = "PRINTSCP"',
            "[[printer.relay]]", f'called_ae = "{dcmprscp.aetitle}"', 'host = "127.0.0.1"', f"port = {dcmprscp.port}",
            'mode = "layout"', "timeout = 20.0",
            "[[printer.relay]]", 'called_ae = "PRINTSCP"', 'host = "127.0.0.1"', f"port = {upstream.port}",
            'mode = "layout"', "timeout = 20.0"]) + "\n")
        with ServerProcess(tmp_path / "gateway", extra=["--config", str(config)]) as gateway:
            modality(gateway.port)
            (ours,) = gateway.wait_drained(1)
            (theirs,) = upstream.wait_drained(1)
            wait_until(lambda: len(dcmprscp.films()) == 1, 30, "the film in dcmprscp")
            (gateway_job,) = (gateway.spool / "done").glob("*.job")
            record = read_record(gateway_job)
        (stored,) = dcmprscp.films()
    return Relayed(ours, theirs, stored, upstream.spool, list(record.warnings) if record else [])


def modality_prints_the_film(port: int) -> None:
    with PrintSCU(port, calling_ae="CT_1", contexts=[uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META,
                                                     uids.PRESENTATION_LUT]) as scu:
        assert scu.create_session() == 0
        lut_uid, item, table = uids.new_uid(), Dataset(), Dataset()
        item.add_new(0x00283002, "US", [4096, 0, 12])
        item.add_new(0x00283006, "US", LUT)
        table.PresentationLUTSequence = Sequence([item])
        assert scu._status(scu.n_create(table, uids.PRESENTATION_LUT, lut_uid, meta=None))[0] == 0
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = uids.PRESENTATION_LUT, lut_uid
        status, _ = scu.create_film_box("STANDARD\\2,2", FilmSizeID="8INX10IN", MagnificationType="REPLICATE",
                                        BorderDensity="WHITE", MaxDensity=280,
                                        ReferencedPresentationLUTSequence=Sequence([ref]))
        assert status == 0
        for position, (pixels, polarity, magnification) in enumerate(BOXES, start=1):
            ds = image_box_dataset(position, pixels, polarity=polarity)
            if magnification:
                ds.MagnificationType = magnification
            status, _ = scu._status(scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[position - 1]))
            assert status == 0
        assert scu.print_film_box() == 0


def test_the_original_layout_reaches_dcmprscp_and_a_printserver_upstream(tmp_path: Path) -> None:
    relayed = relay_to_both(tmp_path, modality_prints_the_film)
    ours, theirs, stored = relayed.ours, relayed.theirs, relayed.stored

    # dcmprscp: the film box as the modality made it, each box with its attributes and original pixels
    assert (stored.image_display_format, stored.film_size) == ("STANDARD\\2,2", "8INX10IN")
    sp = dcmread(stored.stored_print)
    assert (sp.FilmBoxContentSequence[0].BorderDensity, int(sp.FilmBoxContentSequence[0].MaxDensity)) == ("WHITE", 280)
    items = {int(i.ImageBoxPosition): i for i in sp.ImageBoxContentSequence}
    assert [items[p].Polarity for p in (1, 2, 3, 4)] == [polarity for _, polarity, _ in BOXES]
    assert [items[p].get("MagnificationType") for p in (3, 4)] == ["BILINEAR", "CUBIC"]
    for (pixels, _, _), path in zip(BOXES, stored.images, strict=True):
        assert path is not None and np.array_equal(dcmread(path).pixel_array, pixels)
    (lut,) = sp.PresentationLUTContentSequence  # the modality's table went along
    data = lut.PresentationLUTSequence[0].LUTData  # DCMTK keeps it as OW
    assert (np.frombuffer(data, "<u2") if isinstance(data, bytes) else np.array(data)).tolist() == LUT

    # printserver upstream: the same film box and boxes, and its PDF shows the film the gateway composed
    (job_file,) = (relayed.upstream_spool / "done").glob("*.job")
    job, _ = Spool.load(job_file)
    film = job.films[0]
    assert (film.attributes["ImageDisplayFormat"], film.attributes["BorderDensity"]) == ("STANDARD\\2,2", "WHITE")
    assert [(b.polarity, b.magnification_type) for b in film.image_boxes] == \
        [("NORMAL", "REPLICATE"), ("REVERSE", "REPLICATE"), ("NORMAL", "BILINEAR"), ("REVERSE", "CUBIC")]
    for (pixels, _, _), b in zip(BOXES, film.image_boxes, strict=True):
        assert b.image is not None and np.array_equal(b.image.pixels, pixels)
        assert b.presentation_lut == {"bits": 12, "data": LUT}
    assert pdfcheck.page_sizes_mm(theirs) == pdfcheck.page_sizes_mm(ours)
    assert job.calling_ae == "PRINTSCP"  # the gateway prints as its printer
    for fx, fy in ((0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7), (0.5, 0.02)):  # box centres, the border
        assert pdfcheck.od_at(theirs, fx, fy) == pytest.approx(pdfcheck.od_at(ours, fx, fy), abs=0.02), (fx, fy)
    reversed_1000 = float(p_to_density([LUT[4095 - 1000]], 12, min_density=0.2, max_density=2.8, illumination=2000,
                                       ambient=10)[0])
    assert pdfcheck.od_at(theirs, 0.7, 0.3) == pytest.approx(reversed_1000, abs=0.05)  # box 2 printed REVERSE



#: Per box a Presentation LUT of its own: a table (boxes 1 and 3 share it), LIN OD, none (the film box has none)
GAMMA_12 = [round(4095 * (v / 4095) ** 1.25) for v in range(4096)]
OWN_LUTS: list[list[int] | str | None] = [GAMMA_12, "LIN OD", GAMMA_12, None]
FLAT = [1000, 2000, 3000, 1500]
POLARITY = ["NORMAL", "REVERSE", "NORMAL", "NORMAL"]


def modality_prints_boxes_with_their_own_luts(port: int) -> None:
    """Each image box references a Presentation LUT of its own, the film box none (PS3.4 H.4.3.1)."""
    with PrintSCU(port, calling_ae="CT_1", contexts=[uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META,
                                                     uids.PRESENTATION_LUT]) as scu:
        assert scu.create_session() == 0
        created: dict[int, str] = {}
        for lut in OWN_LUTS:
            if lut is None or id(lut) in created:
                continue
            ds, item = Dataset(), Dataset()
            if isinstance(lut, str):
                ds.PresentationLUTShape = lut
            else:
                item.add_new(0x00283002, "US", [4096, 0, 12])
                item.add_new(0x00283006, "US", lut)
                ds.PresentationLUTSequence = Sequence([item])
            created[id(lut)] = uids.new_uid()
            assert scu._status(scu.n_create(ds, uids.PRESENTATION_LUT, created[id(lut)], meta=None))[0] == 0
        status, _ = scu.create_film_box("STANDARD\\2,2", FilmSizeID="8INX10IN", MagnificationType="REPLICATE",
                                        BorderDensity="WHITE", MaxDensity=280, Illumination=2000,
                                        ReflectedAmbientLight=10)
        assert status == 0
        for position, (value, lut, polarity) in enumerate(zip(FLAT, OWN_LUTS, POLARITY, strict=True), start=1):
            ds = image_box_dataset(position, np.full((64, 64), value, np.uint16), polarity=polarity)
            if lut is not None:
                ref = Dataset()
                ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = uids.PRESENTATION_LUT, created[id(lut)]
                ds.ReferencedPresentationLUTSequence = Sequence([ref])
            status, _ = scu._status(scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[position - 1]))
            assert status == 0
        assert scu.print_film_box() == 0


def test_image_boxes_with_presentation_luts_of_their_own_keep_them_upstream(tmp_path: Path) -> None:
    """A printserver upstream gets one Presentation LUT per distinct box LUT, each box referencing its own,
    and prints every box at the density the gateway printed it; dcmprscp, which refuses the reference
    (0105), gets each box's table applied to its pixels, and the job's warnings say so."""
    relayed = relay_to_both(tmp_path, modality_prints_boxes_with_their_own_luts)
    ours, theirs, stored, warnings = relayed.ours, relayed.theirs, relayed.stored, relayed.warnings

    # printserver upstream: each box with its own LUT, every box as dense as on the gateway's film
    (job_file,) = (relayed.upstream_spool / "done").glob("*.job")
    film = Spool.load(job_file)[0].films[0]
    assert [b.presentation_lut for b in film.image_boxes] == \
        [{"bits": 12, "data": GAMMA_12}, {"shape": "LIN OD"}, {"bits": 12, "data": GAMMA_12}, None]
    assert [b.polarity for b in film.image_boxes] == POLARITY and film.attributes["Illumination"] == 2000
    for fx, fy in ((0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)):  # box centres, each through its own LUT
        assert pdfcheck.od_at(theirs, fx, fy) == pytest.approx(pdfcheck.od_at(ours, fx, fy), abs=0.02), (fx, fy)
    box_3 = float(p_to_density([GAMMA_12[3000]], 12, min_density=0.2, max_density=2.8, illumination=2000,
                               ambient=10)[0])
    assert pdfcheck.od_at(theirs, 0.3, 0.7) == pytest.approx(box_3, abs=0.05)

    # dcmprscp: no box references, the LUTs in the pixels (box 2 reversed first), Polarity NORMAL
    sp = dcmread(stored.stored_print)
    items = {int(i.ImageBoxPosition): i for i in sp.ImageBoxContentSequence}
    assert all("ReferencedPresentationLUTSequence" not in items[p] for p in (1, 2, 3, 4))
    assert [items[p].get("Polarity", "NORMAL") for p in (1, 2, 3, 4)] == ["NORMAL"] * 4
    values = [int(dcmread(path).pixel_array[0, 0]) for path in stored.images]
    assert [values[0], values[2], values[3]] == [GAMMA_12[1000], GAMMA_12[3000], 1500]
    fb = sp.FilmBoxContentSequence[0]  # box 2: the P-value dcmprscp maps to box 2's LIN OD density
    dmin, dmax = int(fb.get("MinDensity", 20)) / 100, int(fb.MaxDensity) / 100
    lin_od = dmin + (dmax - dmin) * (4095 - 2000) / 4095
    assert float(p_to_density([values[1]], 12, min_density=dmin, max_density=dmax, illumination=2000,
                              ambient=10)[0]) == pytest.approx(lin_od, abs=0.01)
    assert any("no Presentation LUT per image box (0x0105)" in w for w in warnings), warnings


def test_a_colour_image_keeps_its_icc_profile_upstream(tmp_path: Path) -> None:
    """A modality's colour image in Adobe RGB (its ICC Profile in the item) reaches a printserver upstream with
    its profile, and both films show it converted to sRGB ((180,120,60) -> (199,121,53))."""
    from tests.iccprofile import rgb_profile
    from tests.net.test_scp_color import COLOR_META, color_box, color_item, solid

    with ServerProcess(tmp_path / "upstream") as upstream:
        config = tmp_path / "gateway.toml"
        config.write_text("\n".join([
            "[server]", "delivery_retry_initial = 0.2", "delivery_retry_max = 1.0", "[[printer]]",
            'ae_title = "PRINTSCP"', "[[printer.relay]]", 'called_ae = "PRINTSCP"', 'host = "127.0.0.1"',
            f"port = {upstream.port}", 'mode = "layout"', "timeout = 20.0"]) + "\n")
        with ServerProcess(tmp_path / "gateway", extra=["--config", str(config)]) as gateway:
            scu = PrintSCU(gateway.port, calling_ae="US_1", contexts=[COLOR_META])
            scu.meta = COLOR_META
            with scu:
                assert scu.create_session() == 0
                assert scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")[0] == 0
                box = color_box(1, color_item(solid((180, 120, 60)), ICCProfile=rgb_profile()))
                assert scu._status(scu.n_set(box, uids.BASIC_COLOR_IMAGE_BOX, scu.image_box_uids[0]))[0] == 0
                assert scu.print_film_box() == 0
            (ours,) = gateway.wait_drained(1)
            (theirs,) = upstream.wait_drained(1)
    (job_file,) = (upstream.spool / "done").glob("*.job")
    (b,) = Spool.load(job_file)[0].films[0].image_boxes
    assert b.image is not None and b.image.icc_profile == rgb_profile()  # type: ignore[union-attr]
    for pdf in (ours, theirs):
        img = pdfcheck.page_image(pdf)
        assert tuple(int(c) for c in img[img.shape[0] // 2, img.shape[1] // 2]) == (199, 121, 53)
