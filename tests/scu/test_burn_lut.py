"""A box's own Presentation LUT applied to its pixels (scu/burn_lut.py) prints as the LUT would: the density
the renderer gives the burnt P-values through IDENTITY is the density of the original through the table."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver.model.pixels import GrayscaleImage
from printserver.render.tone import stored_to_density
from printserver.scu.burn_lut import DensityModel, burn

DENSITY = {"min_density": 20, "max_density": 300, "illumination": 2000, "ambient": 10}


def table_lut(data: list[int], bits: int) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, "US", [len(data) % 65536, 0, bits])
    item.add_new(0x00283006, "US", data)
    ds = Dataset()
    ds.PresentationLUTSequence = Sequence([item])
    return ds


def shape_lut(shape: str) -> Dataset:
    ds = Dataset()
    ds.PresentationLUTShape = shape
    return ds


@pytest.mark.parametrize(("bits", "photometric", "polarity"), [
    (12, "MONOCHROME2", "NORMAL"), (12, "MONOCHROME2", "REVERSE"), (12, "MONOCHROME1", "NORMAL"),
    (12, "MONOCHROME1", "REVERSE"), (8, "MONOCHROME2", None), (8, "MONOCHROME1", "REVERSE")])
@pytest.mark.parametrize("table_bits", [12, 16])
def test_the_burnt_pixels_print_at_the_density_the_table_gives(bits: int, photometric: str, polarity: str | None,
                                                                table_bits: int) -> None:
    top = (1 << table_bits) - 1
    table = [round(top * (v / 4095) ** 1.7) for v in range(4096)]
    pixels = np.arange(1 << bits, dtype=np.uint16 if bits == 12 else np.uint8).reshape(-1, 16)
    image = GrayscaleImage(pixels, bits, photometric, (1, 2))
    burnt, sent_polarity = burn(image, polarity, table_lut(table, table_bits))
    assert (burnt.bits_stored, burnt.photometric_interpretation, sent_polarity) == (12, "MONOCHROME2", "NORMAL")
    assert burnt.pixel_aspect_ratio == (1, 2) and burnt.pixels.shape == pixels.shape
    invert = (photometric == "MONOCHROME1") != (polarity == "REVERSE")
    wanted = stored_to_density(bits, invert=invert, plut={"bits": table_bits, "data": table}, **DENSITY)[pixels]
    got = stored_to_density(12, invert=False, plut=None, **DENSITY)[burnt.pixels]
    assert np.abs(got - wanted).max() < 0.01  # a 16-bit table loses 4 bits: well under a QA reading's 0.02 OD


def test_identity_needs_nothing_and_lin_od_needs_the_densities_sent() -> None:
    image = GrayscaleImage(np.full((4, 4), 700, np.uint16), 12, "MONOCHROME2")
    assert burn(image, "REVERSE", shape_lut("IDENTITY")) == (image, "REVERSE")
    assert burn(image, "NORMAL", shape_lut("LIN OD")) is None  # the printer's own densities are unknown


@pytest.mark.parametrize(("bits", "photometric", "polarity"), [(12, "MONOCHROME2", "NORMAL"),
                                                                (12, "MONOCHROME1", "NORMAL"),
                                                                (8, "MONOCHROME2", "REVERSE")])
def test_lin_od_burnt_prints_linear_in_od_on_a_printer_told_the_same_densities(bits: int, photometric: str,
                                                                               polarity: str) -> None:
    pixels = np.arange(1 << bits, dtype=np.uint16 if bits == 12 else np.uint8).reshape(-1, 16)
    model = DensityModel(min_density=15, max_density=320, illumination=2500, ambient=12)
    burnt, sent_polarity = burn(GrayscaleImage(pixels, bits, photometric), polarity, shape_lut("LIN OD"), model)
    assert (burnt.bits_stored, burnt.photometric_interpretation, sent_polarity) == (12, "MONOCHROME2", "NORMAL")
    density = {"min_density": 15, "max_density": 320, "illumination": 2500, "ambient": 12}
    invert = (photometric == "MONOCHROME1") != (polarity == "REVERSE")
    wanted = stored_to_density(bits, invert=invert, plut={"shape": "LIN OD"}, **density)[pixels]
    got = stored_to_density(12, invert=False, plut=None, **density)[burnt.pixels]
    assert np.abs(got - wanted).max() < 0.01
