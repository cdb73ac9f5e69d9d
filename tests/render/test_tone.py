"""The grayscale chain on its own: PS3.14 GSDF, P-value -> OD, the page encoding and its inverse."""

from __future__ import annotations

import numpy as np
import pytest

from printserver.render import gsdf
from printserver.render.tone import CODE_MAX, OutputModel, gray_lut, stored_to_density

VECTOR = dict(min_density=0.20, max_density=3.00, illumination=2000, ambient=10)


def test_gsdf_end_points_and_jnd_of_the_light_box() -> None:
    assert gsdf.luminance([1, 1023]) == pytest.approx([0.05, 3993], rel=0.01)
    assert gsdf.jnd_index(12.0) == pytest.approx(233.32, abs=0.01)  # Lmin = 10 + 2000·10^-3
    assert gsdf.jnd_index(gsdf.film_luminance(0.20, 2000, 10)) == pytest.approx(847.19, abs=0.01)


def test_digest_test_vector_8_bit() -> None:
    """PS3.14 §7.2 with L0 2000, La 10, Dmin 0.20, Dmax 3.00 (digest §6.5)."""
    d = gsdf.p_to_density([0, 64, 128, 192, 255], 8, **VECTOR)
    assert d == pytest.approx([3.00, 1.70, 1.12, 0.64, 0.20], abs=0.005)


def test_equal_p_steps_are_equal_jnd_steps_on_the_light_box() -> None:
    d = gsdf.p_to_density(np.arange(0, 4096, 256), 12, **VECTOR)
    j = gsdf.jnd_index(gsdf.film_luminance(d, 2000, 10))
    assert np.diff(j) == pytest.approx(np.full(len(j) - 1, np.diff(j).mean()), rel=0.01)


@pytest.mark.parametrize("model", [OutputModel(2000, 10, 0.20), OutputModel(150, 0, 0.10), OutputModel(4000, 40, 0.3)])
def test_page_gray_inverse_resolves_a_hundredth_of_od_up_to_4_od(model: OutputModel) -> None:
    d = np.linspace(model.reference_density, 4.0, 500)
    codes = model.encode(d)
    assert codes.dtype == np.uint16 and codes[0] == CODE_MAX
    assert model.decode(codes) == pytest.approx(d, abs=0.01)
    assert np.all(np.diff(codes.astype(int)) < 0)  # every density step is a distinct, darker gray


def test_8_bit_page_gray_could_not_meet_the_qa_tolerance() -> None:
    """Why 16 bits: one 8-bit sRGB code step near Dmax 3.0 is far more than 0.02 OD."""
    model = OutputModel(2000, 10, 0.20)
    code = model.encode(3.0) / CODE_MAX * 255
    step_od = float(model.decode((np.floor(code) + 1) / 255 * CODE_MAX) - model.decode(np.floor(code) / 255 * CODE_MAX))
    assert abs(step_od) > 0.1


def test_lin_od_and_tables_and_curves() -> None:
    lin = stored_to_density(12, invert=False, min_density=20, max_density=300, illumination=2000, ambient=10,
                            plut={"shape": "LIN OD"})
    assert lin[[0, 4095]] == pytest.approx([0.20, 3.00]) and np.all(np.diff(lin) > 0)
    table = {"bits": 12, "data": list(range(4095, -1, -1))}  # an inverting table
    inv = stored_to_density(12, invert=False, min_density=20, max_density=300, illumination=2000, ambient=10,
                            plut=table)
    ident = stored_to_density(12, invert=True, min_density=20, max_density=300, illumination=2000, ambient=10)
    assert inv == pytest.approx(ident)
    # a 4096-entry table used for an 8-bit image is rescaled onto 0..255
    eight = stored_to_density(8, invert=False, min_density=20, max_density=300, illumination=2000, ambient=10,
                              plut={"bits": 12, "data": list(range(4096))})
    assert eight[[0, 255]] == pytest.approx([3.00, 0.20], abs=0.005)
    gamma = stored_to_density(8, invert=False, min_density=20, max_density=300, illumination=2000, ambient=10,
                              plut={"gamma": 2.0})
    plain = stored_to_density(8, invert=False, min_density=20, max_density=300, illumination=2000, ambient=10)
    assert gamma[[0, 255]] == pytest.approx(plain[[0, 255]]) and gamma[128] > plain[128]


def test_gray_lut_is_monotonic_16_bit() -> None:
    lut = gray_lut(12, invert=False, min_density=20, max_density=300, model=OutputModel(2000, 10, 0.20))
    assert lut.dtype == np.uint16 and np.all(np.diff(lut.astype(int)) >= 0)
