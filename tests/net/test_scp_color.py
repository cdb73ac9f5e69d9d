"""Basic Color Print Management over real associations: RGB films read back from the PDF."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pypdf import PdfReader

from printserver import uids
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import PrintSCU

COLOR_META = uids.BASIC_COLOR_PRINT_MANAGEMENT_META
GRAY_META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META
QUADRANTS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def color_item(rgb: np.ndarray, *, planar: int | None = 1, vr: str = "OB", big_endian: bool = False,
               **overrides: object) -> Dataset:
    """A Basic Color Image Sequence item for `rgb` (rows, columns, 3) uint8."""
    item = Dataset()
    item.SamplesPerPixel = 3
    item.PhotometricInterpretation = "RGB"
    if planar is not None:
        item.PlanarConfiguration = planar
    item.Rows, item.Columns = rgb.shape[:2]
    item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation = 8, 8, 7, 0
    data = (rgb.transpose(2, 0, 1) if planar == 1 else rgb).astype(np.uint8).tobytes()
    if len(data) % 2:
        data += b"\0"
    if big_endian and vr == "OW":
        data = np.frombuffer(data, "<u2").astype(">u2").tobytes()
    item.add_new(0x7FE00010, vr, data)
    for k, v in overrides.items():
        setattr(item, k, v)
    return item


def gray_profile() -> bytes:
    """A real ICC profile of a gray space (littleCMS's own), for a colour item that must name RGB."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[16:20] = b"GRAY"
    return bytes(data)


def color_box(position: int, item: Dataset | None, **attrs: object) -> Dataset:
    ds = Dataset()
    ds.ImageBoxPosition = position
    ds.BasicColorImageSequence = Sequence([item] if item is not None else [])
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def solid(rgb: tuple[int, int, int], shape: tuple[int, int] = (32, 48)) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (*shape, 3)).copy()


def set_color(scu: PrintSCU, position: int, ds: Dataset) -> tuple[int, Dataset]:
    status, _ = scu.n_set(ds, uids.BASIC_COLOR_IMAGE_BOX, scu.image_box_uids[position - 1])
    return int(status.Status), status


@pytest.fixture
def color_scu(scp):
    scu = PrintSCU(scp.port, contexts=[COLOR_META])
    scu.meta = COLOR_META
    with scu:
        assert scu.create_session() == Status.SUCCESS
        yield scu


def test_2x2_color_film_quadrants_read_back_from_the_pdf_as_device_rgb(scp, color_scu) -> None:
    status, rsp = color_scu.create_film_box("STANDARD\\2,2", FilmSizeID="8INX10IN")
    assert status == Status.SUCCESS
    assert [i.ReferencedSOPClassUID for i in rsp.ReferencedImageBoxSequence] == [uids.BASIC_COLOR_IMAGE_BOX] * 4
    for pos, rgb in enumerate(QUADRANTS, start=1):
        assert set_color(color_scu, pos, color_box(pos, color_item(solid(rgb))))[0] == Status.SUCCESS
    assert color_scu.print_film_box() == Status.SUCCESS
    (pdf,) = scp.wait_pdfs(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (203.2, 254.0)
    xobjects = PdfReader(pdf).pages[0]["/Resources"]["/XObject"]
    assert [x.get_object()["/ColorSpace"] for x in xobjects.values()] == ["/DeviceRGB"]
    img = pdfcheck.page_image(pdf)
    assert img.shape == (3000, 2400, 3)
    seen = [tuple(int(c) for c in img[int(fy * 3000), int(fx * 2400)]) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]
    assert seen == QUADRANTS
    r, g, b = (int(v) for v in img[3, 3])
    assert r == g == b <= 30  # BLACK border around color images: Max Density's page gray, neutral


@pytest.mark.parametrize(("planar", "vr", "syntax"), [
    (1, "OB", uids.EXPLICIT_VR_LITTLE_ENDIAN),
    (1, "OW", uids.EXPLICIT_VR_BIG_ENDIAN),
    (0, "OB", uids.IMPLICIT_VR_LITTLE_ENDIAN),
])
def test_color_pixels_arrive_bit_exact(scp, planar: int, vr: str, syntax: str) -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (33, 47, 3), dtype=np.uint8)  # odd sizes: odd byte count, pad byte
    scu = PrintSCU(scp.port, contexts=[COLOR_META], transfer_syntaxes=[syntax])
    scu.meta = COLOR_META
    with scu:
        scu.create_session()
        status, _ = scu.create_film_box("STANDARD\\1,1", MagnificationType="NONE", FilmSizeID="8INX10IN")
        assert status == Status.SUCCESS
        item = color_item(rgb, planar=planar, vr=vr, big_endian=syntax == uids.EXPLICIT_VR_BIG_ENDIAN)
        assert set_color(scu, 1, color_box(1, item))[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.page_image(scp.wait_pdfs(1)[0])
    h, w = img.shape[:2]
    top, left = (h - 33) // 2, (w - 47) // 2
    assert np.array_equal(img[top:top + 33, left:left + 47], rgb)


def test_reverse_polarity_inverts_rgb(scp, color_scu) -> None:
    color_scu.create_film_box("STANDARD\\2,1", FilmSizeID="8INX10IN")
    assert set_color(color_scu, 1, color_box(1, color_item(solid((255, 0, 0)))))[0] == Status.SUCCESS
    assert set_color(color_scu, 2, color_box(2, color_item(solid((255, 0, 0))), Polarity="REVERSE"))[0] == 0
    assert color_scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.page_image(scp.wait_pdfs(1)[0])
    h, w = img.shape[:2]
    assert tuple(img[h // 2, w // 4]) == (255, 0, 0)
    assert tuple(img[h // 2, 3 * w // 4]) == (0, 255, 255)


@pytest.mark.parametrize(("item_kwargs", "box_attrs", "status", "keyword"), [
    ({"SamplesPerPixel": 1}, {}, Status.INVALID_ATTRIBUTE_VALUE, "SamplesPerPixel"),
    ({"PhotometricInterpretation": "YBR_FULL"}, {}, Status.INVALID_ATTRIBUTE_VALUE, "PhotometricInterpretation"),
    ({"planar": 2}, {}, Status.INVALID_ATTRIBUTE_VALUE, "PlanarConfiguration"),
    ({"planar": None}, {}, Status.MISSING_ATTRIBUTE, "PlanarConfiguration"),
    ({"BitsStored": 12}, {}, Status.INVALID_ATTRIBUTE_VALUE, "BitsStored"),
    ({}, {"MinDensity": 20}, Status.NO_SUCH_ATTRIBUTE, "MinDensity"),  # no densities for colour
    ({}, {"ImageBoxPosition": 2}, Status.INVALID_ATTRIBUTE_VALUE, "ImageBoxPosition"),
    ({"ICCProfile": b"not a profile"}, {}, Status.INVALID_ATTRIBUTE_VALUE, "ICCProfile"),
    ({"ICCProfile": gray_profile()}, {}, Status.INVALID_ATTRIBUTE_VALUE, "ICCProfile"),  # not an RGB space
])
def test_bad_color_image_box_is_refused_naming_the_attribute(color_scu, item_kwargs, box_attrs, status,
                                                             keyword) -> None:
    color_scu.create_film_box("STANDARD\\2,1", FilmSizeID="8INX10IN")
    kwargs = dict(item_kwargs)
    planar = kwargs.pop("planar", 1)
    ds = color_box(1, color_item(solid((1, 2, 3)), planar=planar, **kwargs))
    for k, v in box_attrs.items():
        setattr(ds, k, v)
    code, st = set_color(color_scu, 1, ds)
    assert code == status
    assert keyword in str(st.ErrorComment)
    # the association goes on: the same box accepts a good image, the film prints
    assert set_color(color_scu, 1, color_box(1, color_item(solid((1, 2, 3)))))[0] == Status.SUCCESS
    assert color_scu.print_film_box() == Status.SUCCESS


def test_grayscale_image_box_class_is_not_a_member_of_the_color_meta(color_scu) -> None:
    color_scu.create_film_box("STANDARD\\1,1")
    ds = Dataset()
    ds.ImageBoxPosition = 1
    status, _ = color_scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, color_scu.image_box_uids[0])
    assert status.Status == Status.NO_SUCH_SOP_CLASS


def test_with_both_metas_the_image_box_class_follows_the_film_box_context(scp) -> None:
    with PrintSCU(scp.port, contexts=[GRAY_META, COLOR_META]) as scu:
        assert scu.create_session() == Status.SUCCESS  # on the grayscale meta
        status, rsp = scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")
        assert status == Status.SUCCESS
        assert rsp.ReferencedImageBoxSequence[0].ReferencedSOPClassUID == uids.BASIC_GRAYSCALE_IMAGE_BOX
        assert scu.print_film_box() == Status.EMPTY_PAGE_FILM_BOX
        scu.meta = COLOR_META
        status, rsp = scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")
        assert status == Status.SUCCESS
        assert rsp.ReferencedImageBoxSequence[0].ReferencedSOPClassUID == uids.BASIC_COLOR_IMAGE_BOX
        # the box is a color image box: the grayscale class on it is a class-instance conflict
        scu.meta = GRAY_META
        ds = Dataset()
        ds.ImageBoxPosition = 1
        status_ds, _ = scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[0])
        assert status_ds.Status == Status.CLASS_INSTANCE_CONFLICT
        scu.meta = COLOR_META
        assert set_color(scu, 1, color_box(1, color_item(solid((0, 128, 255)))))[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.page_image(scp.wait_pdfs(1)[0])
    assert tuple(img[img.shape[0] // 2, img.shape[1] // 2]) == (0, 128, 255)


def test_an_icc_profile_is_honoured_the_page_shows_its_colours_in_srgb(scp, color_scu) -> None:
    """PS3.3 C.11.15: the item's ICC Profile says what the RGB values mean. The same values print as sent
    without one, and converted from Adobe RGB to the page's sRGB with one (littleCMS: (0,200,0) -> (0,201,0),
    (180,120,60) -> (199,121,53), as with ghostscript's a98.icc)."""
    from tests.iccprofile import rgb_profile

    color_scu.create_film_box("STANDARD\\2,2", FilmSizeID="8INX10IN")
    for position, colour, icc in ((1, (180, 120, 60), None), (2, (180, 120, 60), rgb_profile()),
                                  (3, (0, 200, 0), rgb_profile()), (4, (0, 200, 0), None)):
        extra = {"ICCProfile": icc} if icc else {}
        assert set_color(color_scu, position, color_box(position, color_item(solid(colour), **extra)))[0] == 0
    assert color_scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.page_image(scp.wait_pdfs(1)[0])
    h, w = img.shape[:2]
    seen = [tuple(int(c) for c in img[int(fy * h), int(fx * w)]) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]
    assert seen == [(180, 120, 60), (199, 121, 53), (0, 201, 0), (0, 200, 0)]

