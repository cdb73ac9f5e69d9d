"""Image pixels held by film sessions are bounded in bytes, per association and for the server (C605), in memory."""

from __future__ import annotations

import numpy as np

from printserver import uids
from printserver.model.memory import MB, ImagePool
from printserver.status import Status
from tests.model.modality import Modality

HALF_MB = np.full((512, 512), 1000, np.uint16)  # 512 x 512 x 2 bytes = 0.5 MB
GRAY_SEQUENCE = 0x20200110


def _film_of_four(m: Modality) -> None:
    if m.session.film_session is None:
        assert m.create_session() == Status.SUCCESS
    assert m.create_film_box("STANDARD\\2,2").status == Status.SUCCESS


def test_an_association_over_its_bound_gets_c605_naming_the_image_and_goes_on_printing() -> None:
    m = Modality(max_held_image_mb=1)
    _film_of_four(m)
    assert m.set_image(1, HALF_MB) == Status.SUCCESS
    assert m.set_image(2, HALF_MB) == Status.SUCCESS  # 1 MB: at the bound, not over it
    assert m.set_image(3, HALF_MB) == Status.INSUFFICIENT_MEMORY
    rsp = m.responses[-1]
    assert rsp.offending_elements == (GRAY_SEQUENCE,)
    assert rsp.error_comment == "association would hold 1.5 MB of images, limit 1 MB"
    assert m.session.film_session.film_boxes[0].image_boxes[2].image is None  # refused: not kept
    assert m.set_image(2, HALF_MB) == Status.SUCCESS  # replacing an image counts it once
    small = np.full((8, 8), 5, np.uint16)
    assert m.set_image(3, small) == Status.INSUFFICIENT_MEMORY  # 1 MB + 128 bytes
    assert m.set_image(2, small) == Status.SUCCESS  # a smaller image in box 2 makes room for ...
    assert m.set_image(3, small) == Status.SUCCESS  # ... box 3
    rsp = m.print_film_box()
    assert rsp.status == Status.SUCCESS and rsp.job is not None  # what it holds prints
    assert m.n_delete(uids.BASIC_FILM_BOX, m.film_box_uid).status == Status.SUCCESS
    _film_of_four(m)  # deleting made room: the association goes on
    assert m.set_image(1, HALF_MB) == Status.SUCCESS
    assert m.set_image(2, HALF_MB) == Status.SUCCESS


def test_the_server_bound_counts_every_association_and_frees_what_an_ended_one_held() -> None:
    pool = ImagePool(1 * MB)
    first, second = Modality(pool=pool), Modality(pool=pool)
    _film_of_four(first)
    _film_of_four(second)
    assert first.set_image(1, HALF_MB) == Status.SUCCESS
    assert second.set_image(1, HALF_MB) == Status.SUCCESS
    assert pool.total() == 1 * MB
    assert second.set_image(2, HALF_MB) == Status.INSUFFICIENT_MEMORY
    rsp = second.responses[-1]
    assert rsp.error_comment == "printer holds 0.5 MB of images, +1.0 MB > limit 1 MB"
    assert rsp.offending_elements == (GRAY_SEQUENCE,)
    first.session.release()  # the first association ends: what it held is no longer counted
    assert pool.total() == MB // 2
    assert second.set_image(2, HALF_MB) == Status.SUCCESS
    assert pool.total() == 1 * MB


def test_film_boxes_that_let_go_of_their_pixels_stop_counting() -> None:
    """Printing film after film without N-DELETE (session printing off): each superseded printed box lets
    go of its pixels (film_box._make_room), so the association never reaches its byte bound."""
    pool = ImagePool(2 * MB)
    m = Modality(pool=pool, session_print=False, max_held_image_mb=1)
    assert m.create_session() == Status.SUCCESS
    for _ in range(10):
        assert m.create_film_box().status == Status.SUCCESS
        assert m.set_image(1, HALF_MB) == Status.SUCCESS
        assert m.print_film_box().status == Status.SUCCESS
    assert pool.total() == MB // 2
