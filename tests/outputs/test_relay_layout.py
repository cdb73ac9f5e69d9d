"""Output `relay`, mode "layout": the modality's film box and image boxes forwarded as laid out. The render
workers keep each box's original pixels (rendition "source"); delivery prints them on a real upstream
(DCMTK dcmprscp), which stores the film box with the original format and the boxes with their attributes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from printserver.errors import ConfigError
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.outputs.base import DeliveryJob, Done, Failed, Render, Wait
from printserver.outputs.relay_layout import SOURCE, layout_request, source_images
from printserver.spool.paths import JobPaths
from printserver.spool.store import Spool
from printserver.spool.worker import process_job
from tests.dcmtk import DcmprscpServer, dcmtk_available
from tests.outputs.test_relay import ATTRS, relay

needs_dcmtk = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed")
RAMP = np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) % 4096  # every box different, not flat


def box(position: int, image: GrayscaleImage | ColorImage | None, **kw: object) -> ImageBoxJob:
    values = {"polarity": "NORMAL", "magnification_type": "REPLICATE", "smoothing_type": "", "min_density": 20,
              "max_density": 300, "configuration_information": ""} | kw
    return ImageBoxJob(position, image=image, **values)  # type: ignore[arg-type]


def mixed_job(films: int = 1, *, fourth: GrayscaleImage | ColorImage | None = None) -> PrintJob:
    """A 2x2 film: 12-bit NORMAL, 12-bit REVERSE, 8-bit MONOCHROME1 magnified BILINEAR with a requested size,
    and a fourth box (empty unless given)."""
    boxes = (box(1, GrayscaleImage(RAMP, 12, "MONOCHROME2")),
             box(2, GrayscaleImage(4095 - RAMP[:, ::-1], 12, "MONOCHROME2"), polarity="REVERSE"),
             box(3, GrayscaleImage((RAMP % 256).astype(np.uint8), 8, "MONOCHROME1", (2, 1)),
                 magnification_type="BILINEAR", requested_image_size=60.0),
             box(4, fourth))
    film = FilmJob(1, "1.2.3", ATTRS | {"MagnificationType": "REPLICATE", "RequestedResolutionID": "STANDARD",
                                        "SmoothingType": "", "ConfigurationInformation": ""},
                   203.2, 254.0, 100, 4.0, 2.0, boxes)
    return PrintJob("2.25.7", "2026-12-01T10:00:00.000000+00:00", "CT_1", "PRINTSCP", "printserver", "1.2.3.4",
                    {"FilmSessionLabel": "layout test", "NumberOfCopies": 1},
                    tuple(replace(film, film_number=n) for n in range(1, films + 1)))


def spooled(tmp_path: Path, job: PrintJob) -> DeliveryJob:
    path = Spool(tmp_path / "spool").open().submit(job, {"printer": "PRINTSCP", "outputs": []})
    return DeliveryJob(Spool.load_header(path)[0], JobPaths.of(path))


def test_mode_layout_is_configured_and_checked() -> None:
    out = relay(mode="layout")
    assert (out.mode, out.renditions()) == ("layout", (SOURCE,))
    assert type(out).from_settings(out.settings()) == out and "each film with its layout" in out.describe()
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.relay\[0\]\.mode: must be one of film, layout, got 'x'"):
        relay(mode="x")
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.relay\[0\]\.dpi: only for mode \"film\""):
        relay(mode="layout", dpi=300)


def test_the_workers_keep_every_boxs_original_pixels_and_delivery_reads_them_back(tmp_path: Path) -> None:
    from tests.iccprofile import rgb_profile

    colour = ColorImage(np.dstack([RAMP % 256, RAMP // 16, 255 - RAMP % 256]).astype(np.uint8),
                        icc_profile=rgb_profile())  # its colour space goes along too
    job = spooled(tmp_path, mixed_job(2, fourth=colour))
    process_job(str(job.paths.job), [SOURCE.to_json()])
    original = mixed_job(2, fourth=colour)
    for index in (0, 1):
        images = source_images(job.rendition(SOURCE), index)
        assert sorted(images) == [1, 2, 3, 4]
        for b in original.films[index].image_boxes:
            got, sent = images[b.position], b.image
            assert type(got) is type(sent) and np.array_equal(got.pixels, sent.pixels)
            assert getattr(got, "icc_profile", None) == getattr(sent, "icc_profile", None)
            assert got.pixels.dtype == sent.pixels.dtype and got.pixel_aspect_ratio == sent.pixel_aspect_ratio
            assert (got.bits_stored, got.photometric_interpretation) == (sent.bits_stored,
                                                                       sent.photometric_interpretation)


def test_the_request_is_the_films_layout_with_each_boxs_own_attributes() -> None:
    from printserver import uids
    from printserver.scu.films import FilmOptions

    film = replace(mixed_job().films[0], annotations=(AnnotationBoxJob(1, "R L", 0, 0, 10, 5, 10, "LEFT"),))
    film = replace(film, attributes=film.attributes | {"AnnotationDisplayFormatID": "LABEL"})
    images = {p: GrayscaleImage(RAMP, 12, "MONOCHROME2") for p in (1, 2, 3)}
    sent, options, notes = layout_request(film, images, FilmOptions(), frozenset())
    assert notes == [] and options.presentation_lut is None
    assert sent[:3] == [images[1], images[2], images[3]] and sent[3] is None  # the empty box stays empty
    fb = options.film_box
    assert (fb.ImageDisplayFormat, fb.FilmSizeID, fb.MagnificationType, fb.MaxDensity, fb.SmoothingType) == \
        ("STANDARD\\2,2", "8INX10IN", "REPLICATE", 300, None)
    assert fb.AnnotationDisplayFormatID is None and options.annotations == ()  # the upstream has no annotations
    assert [o.Polarity for o in options.image_boxes] == ["NORMAL", "REVERSE", "NORMAL", "NORMAL"]
    assert [o.MagnificationType for o in options.image_boxes] == [None, None, "BILINEAR", None]  # apart only
    assert options.box_options(3).RequestedImageSize == 60.0 and options.boxes_per_film == 4
    _, options, _ = layout_request(film, images, FilmOptions(), frozenset({uids.BASIC_ANNOTATION_BOX}))
    assert (options.film_box.AnnotationDisplayFormatID, options.annotations) == ("LABEL", ((1, "R L"),))


def test_the_films_presentation_lut_goes_along_when_the_upstream_takes_it() -> None:
    from printserver import uids
    from printserver.scu.films import FilmOptions

    table = {"bits": 12, "data": [4095 - v for v in range(4096)]}
    film = mixed_job().films[0]
    film = replace(film, attributes=film.attributes | {"Illumination": 2000, "ReflectedAmbientLight": 10},
                   image_boxes=tuple(replace(b, presentation_lut=table) for b in film.image_boxes))
    images = {p: GrayscaleImage(RAMP, 12, "MONOCHROME2") for p in (1, 2, 3)}
    film = replace(film, image_boxes=tuple(replace(b, image=None) for b in film.image_boxes))  # as delivery sees it
    _, options, notes = layout_request(film, images, FilmOptions(), frozenset())
    assert options.presentation_lut is None and options.film_box.Illumination is None
    assert notes == ["film1: the upstream does not accept Presentation LUT; the modality's is not forwarded"]
    _, options, notes = layout_request(film, images, FilmOptions(), frozenset({uids.PRESENTATION_LUT}))
    assert notes == [] and (options.film_box.Illumination, options.film_box.ReflectedAmbientLight) == (2000, 10)
    item = options.presentation_lut.PresentationLUTSequence[0]
    assert list(item.LUTDescriptor) == [4096, 0, 12] and list(item.LUTData) == table["data"]
    lin_od = {"shape": "LIN OD"}
    shaped = replace(film, image_boxes=tuple(replace(b, presentation_lut=lin_od) for b in film.image_boxes))
    assert layout_request(shaped, images, FilmOptions(), frozenset({uids.PRESENTATION_LUT}))[1] \
        .presentation_lut.PresentationLUTShape == "LIN OD"


def test_image_boxes_with_different_presentation_luts_each_reference_their_own() -> None:
    """PS3.4 H.4.3.1: an image box's Referenced Presentation LUT overrides the film box's; boxes sharing a LUT
    share one instance; a colour box has none; Illumination goes with box LUTs too."""
    from printserver import uids
    from printserver.scu.films import FilmOptions

    table = {"bits": 12, "data": [4095 - v for v in range(4096)]}
    lin_od = {"shape": "LIN OD"}
    film = mixed_job().films[0]
    film = replace(film, attributes=film.attributes | {"Illumination": 2000, "ReflectedAmbientLight": 10})
    luts = (None, table, lin_od, table)
    film = replace(film, image_boxes=tuple(replace(b, presentation_lut=lut, image=None)
                                           for b, lut in zip(film.image_boxes, luts, strict=True)))
    images: dict[int, GrayscaleImage | ColorImage] = {p: GrayscaleImage(RAMP, 12, "MONOCHROME2") for p in (1, 2, 3, 4)}
    _, options, notes = layout_request(film, images, FilmOptions(), frozenset({uids.PRESENTATION_LUT}))
    assert notes == [] and options.presentation_lut is None and options.film_box.Illumination == 2000
    first, second, third, fourth = options.box_presentation_luts
    assert first is None and second is fourth and third is not second  # one instance per distinct LUT
    assert list(second.PresentationLUTSequence[0].LUTData) == table["data"] and third.PresentationLUTShape == "LIN OD"
    images[4] = ColorImage(np.zeros((8, 8, 3), np.uint8))  # a colour box: no Presentation LUT
    _, options, _ = layout_request(film, images, FilmOptions(), frozenset({uids.PRESENTATION_LUT}))
    assert options.box_presentation_luts[3] is None and options.box_presentation_luts[1] is not None
    assert layout_request(film, images, FilmOptions(), frozenset())[2] == \
        ["film1: the upstream does not accept Presentation LUT; the modality's is not forwarded"]


@needs_dcmtk
def test_dcmprscp_stores_the_original_layout_and_pixels(tmp_path: Path) -> None:
    job = spooled(tmp_path, mixed_job(2))
    with DcmprscpServer(tmp_path / "dcmprscp") as peer:
        out = relay(called_ae=peer.aetitle, port=peer.port, timeout=20, mode="layout")
        first = out.deliver(job)
        assert isinstance(first, Render) and first.rendition == SOURCE
        process_job(str(job.paths.job), [r.to_json() for r in out.renditions()])
        first = out.deliver(job)
        assert isinstance(first, Wait) and first.memo["printed"] == ["film1"], first
        second = out.deliver(replace(job, memo=first.memo))
        assert isinstance(second, Done) and second.memo["printed"] == ["film1", "film2"]
        films = peer.films()
    assert len(films) == 2
    original = mixed_job().films[0].image_boxes
    for film in films:
        assert (film.image_display_format, film.film_size) == ("STANDARD\\2,2", "8INX10IN")
        sp = dcmread(film.stored_print)
        fb = sp.FilmBoxContentSequence[0]
        assert (fb.MagnificationType, fb.BorderDensity, int(fb.MaxDensity)) == ("REPLICATE", "BLACK", 300)
        items = {int(i.ImageBoxPosition): i for i in sp.ImageBoxContentSequence}
        assert [items[p].get("Polarity", "NORMAL") for p in (1, 2, 3)] == ["NORMAL", "REVERSE", "NORMAL"]
        assert items[3].MagnificationType == "BILINEAR" and float(items[3].RequestedImageSize) == 60.0
        assert film.images[3:] in ((), (None,))  # box 4 stayed empty
        for b, path in zip(original[:3], film.images[:3], strict=True):
            hg = dcmread(path)
            assert b.image is not None and np.array_equal(hg.pixel_array, b.image.pixels)  # bit-exact
            assert (int(hg.BitsStored), str(hg.PhotometricInterpretation)) == (b.image.bits_stored,
                                                                               b.image.photometric_interpretation)


@needs_dcmtk
def test_a_format_the_upstream_does_not_have_fails_with_its_status_and_comment(tmp_path: Path) -> None:
    job = spooled(tmp_path, mixed_job())
    process_job(str(job.paths.job), [SOURCE.to_json()])
    with DcmprscpServer(tmp_path / "dcmprscp", profile={"DisplayFormat": "1,1\\2,1"}) as peer:
        step = relay(called_ae=peer.aetitle, port=peer.port, timeout=20, mode="layout").deliver(job)
        assert peer.films() == []
    assert isinstance(step, Failed) and "0x0106" in step.reason and "Film Box N-CREATE" in step.reason, step
