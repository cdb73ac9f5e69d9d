"""fit_image: how big an image prints in its box, and what the SCU is told (B604, B609, B60A, C603)."""

from __future__ import annotations

from printserver.model.sizing import fit_image
from printserver.status import Status


def test_an_image_fills_its_box_keeping_its_aspect() -> None:
    f = fit_image(100, 50, 1.0, 400, 400, magnification="CUBIC")
    assert (f.width, f.height, f.used_columns, f.used_rows, f.status) == (400, 200, 100, 50, None)


def test_non_square_pixels_are_printed_at_their_physical_aspect() -> None:
    f = fit_image(100, 100, 2.0, 400, 400, magnification="CUBIC")  # pixels twice as tall as wide
    assert (f.width, f.height) == (200, 400)


def test_magnification_none_prints_one_image_pixel_per_printer_pixel() -> None:
    f = fit_image(100, 50, 1.0, 400, 400, magnification="NONE")
    assert (f.width, f.height, f.status) == (100, 50, None)


def test_requested_image_size_sets_the_printed_width() -> None:
    f = fit_image(100, 50, 1.0, 400, 400, magnification="CUBIC", requested_width_px=300)
    assert (f.width, f.height, f.status) == (300, 150, None)


def test_too_big_is_demagnified_b604_unless_a_behaviour_was_asked() -> None:
    f = fit_image(100, 100, 1.0, 400, 400, magnification="CUBIC", requested_width_px=800)
    assert (f.width, f.height, f.status) == (400, 400, Status.IMAGE_DEMAGNIFIED)
    f = fit_image(100, 100, 1.0, 400, 400, magnification="CUBIC", requested_width_px=800, behavior="DECIMATE")
    assert (f.width, f.status) == (400, Status.IMAGE_DECIMATED)


def test_crop_keeps_the_scale_and_prints_the_centre_that_fits() -> None:
    f = fit_image(100, 100, 1.0, 400, 400, magnification="CUBIC", requested_width_px=800, behavior="CROP")
    assert (f.used_columns, f.used_rows, f.width, f.height, f.status) == (50, 50, 400, 400, Status.IMAGE_CROPPED)


def test_fail_refuses_with_c603_and_half_a_pixel_of_rounding_still_fits() -> None:
    assert fit_image(100, 100, 1.0, 400, 400, magnification="NONE", requested_width_px=401,
                     behavior="FAIL").status is Status.IMAGE_LARGER_THAN_BOX
    assert fit_image(100, 100, 1.0, 400, 400, magnification="NONE", requested_width_px=400.4,
                     behavior="FAIL").status is None
    assert fit_image(500, 10, 1.0, 400, 400, magnification="NONE", behavior="FAIL").status is \
        Status.IMAGE_LARGER_THAN_BOX
