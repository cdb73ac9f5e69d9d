"""The print-management model on its own: requests in, responses out, no network."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.config import PrinterProfile
from printserver.layout import load_layouts
from printserver.model.messages import Op, Request
from printserver.model.session import PrintSession
from printserver.status import Status
from tests.printscu import image_box_dataset

META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META


def req(op: Op, cls: str, uid: str | None, ds: Dataset | None = None, **kw: object) -> Request:
    return Request(op, cls, uid, META, ds, **kw)


def new_assoc(**profile: object) -> PrintSession:
    return PrintSession(PrinterProfile(**profile), load_layouts(), calling_ae="UNIT")


def film_box(pa: PrintSession, fmt: str = "STANDARD\\1,1", **attrs: object):
    ds = Dataset()
    ds.ImageDisplayFormat = fmt
    for k, v in attrs.items():
        setattr(ds, k, v)
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = pa.film_session.sop_instance_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    return pa.handle(req(Op.N_CREATE, uids.BASIC_FILM_BOX, None, ds))


def test_full_flow_produces_a_job_with_effective_values() -> None:
    pa = new_assoc()
    session = Dataset()
    session.NumberOfCopies = 3
    rsp = pa.handle(req(Op.N_CREATE, uids.BASIC_FILM_SESSION, None, session))
    assert rsp.status is Status.SUCCESS and rsp.created_instance_uid
    rsp = film_box(pa, "STANDARD\\2,1", MagnificationType="BILINEAR", FilmOrientation="LANDSCAPE")
    boxes = [i.ReferencedSOPInstanceUID for i in rsp.dataset.ReferencedImageBoxSequence]
    ds = image_box_dataset(2, np.full((8, 8), 7, np.uint16))
    ds.MagnificationType = "REPLICATE"
    assert pa.handle(req(Op.N_SET, uids.BASIC_GRAYSCALE_IMAGE_BOX, boxes[1], ds)).status is Status.SUCCESS
    rsp = pa.handle(req(Op.N_ACTION, uids.BASIC_FILM_BOX, rsp.created_instance_uid, action_type_id=1))
    assert rsp.status is Status.SUCCESS
    job = rsp.job
    assert job.copies == 3 and job.calling_ae == "UNIT" and len(job.films) == 1
    film = job.films[0]
    assert (film.width_mm, film.height_mm, film.dpi) == (431.8, 355.6, 300)
    assert film.image_boxes[0].image is None
    assert film.image_boxes[0].magnification_type == "BILINEAR"  # from the film box
    assert film.image_boxes[1].magnification_type == "REPLICATE"  # the image box overrides
    assert int(film.image_boxes[1].image.pixels[0, 0]) == 7


def test_release_forgets_everything() -> None:
    pa = new_assoc()
    pa.handle(req(Op.N_CREATE, uids.BASIC_FILM_SESSION, None))
    pa.release()
    assert pa.film_session is None
    assert pa.handle(req(Op.N_CREATE, uids.BASIC_FILM_SESSION, None)).status is Status.SUCCESS


def test_film_box_delete_removes_its_image_boxes() -> None:
    pa = new_assoc()
    pa.handle(req(Op.N_CREATE, uids.BASIC_FILM_SESSION, None))
    rsp = film_box(pa)
    box_uid = rsp.dataset.ReferencedImageBoxSequence[0].ReferencedSOPInstanceUID
    assert pa.handle(req(Op.N_DELETE, uids.BASIC_FILM_BOX, rsp.created_instance_uid)).status is Status.SUCCESS
    ds = image_box_dataset(1, np.zeros((2, 2), np.uint16))
    assert pa.handle(req(Op.N_SET, uids.BASIC_GRAYSCALE_IMAGE_BOX, box_uid, ds)).status is \
        Status.NO_SUCH_OBJECT_INSTANCE


def test_min_density_clipped_with_b605_and_echoed() -> None:
    pa = new_assoc(min_density_range=(10, 30))
    pa.handle(req(Op.N_CREATE, uids.BASIC_FILM_SESSION, None))
    rsp = film_box(pa, MinDensity=5)
    assert rsp.status is Status.DENSITY_OUT_OF_PRINTER_RANGE and rsp.dataset.MinDensity == 10


def test_big_endian_8_bit_ow_is_unswapped() -> None:
    from printserver.model.pixels import parse_grayscale_item
    from tests.printscu import image_item

    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    item = image_item(pixels, bits=8, vr="OW", big_endian=True)
    image = parse_grayscale_item(item, PrinterProfile(), little_endian=False, where="test")
    assert np.array_equal(image.pixels, pixels)
    item = image_item(np.array([[1, 4095]], np.uint16), big_endian=True)
    assert image_item is not None
    assert parse_grayscale_item(item, PrinterProfile(), little_endian=False, where="t").pixels.tolist() == [[1, 4095]]


def test_the_lifecycle_table_in_the_docs_is_the_one_the_code_uses() -> None:
    from pathlib import Path

    from printserver.model.session import state_table

    docs = (Path(__file__).parents[2] / "docs" / "house-model.md").read_text(encoding="utf-8")
    assert state_table() in docs, "regenerate with: python -m printserver.model.session"
