"""Printer Configuration Retrieval over the wire: the printer profile, as N-GET of the well-known instance."""

from __future__ import annotations

from typing import Any

import numpy as np

from printserver import uids
from printserver.status import Status
from tests.printscu import META, PrintSCU

PCR = uids.PRINTER_CONFIGURATION_RETRIEVAL


def get_configuration(scu: PrintSCU, instance: str = uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE,
                      tags: list[int] | None = None) -> tuple[int, Any]:
    with scu._guard.waiting():
        status, ds = scu.assoc.send_n_get(tags or [], PCR, instance, msg_id=99)
    return int(status.Status), ds


def test_configuration_answers_from_the_profile_and_its_offers_print(scp_factory: Any) -> None:
    server = scp_factory(film_sizes=("8INX10IN", "14INX17IN"), default_film_size="8INX10IN",
                         magnification_types=("REPLICATE", "CUBIC"), default_magnification_type="REPLICATE",
                         medium_types=("PAPER", "BLUE FILM"), default_medium_type="PAPER",
                         display_format_kinds=("STANDARD", "SLIDE", "CUSTOM"), supports_12_bit=False,
                         session_print=False)
    with PrintSCU(server.port, contexts=[META, PCR]) as scu:
        assert {cx.abstract_syntax for cx in scu.assoc.accepted_contexts} == {META, PCR}
        status, ds = get_configuration(scu)
        assert status == Status.SUCCESS
        items = ds.PrinterConfigurationSequence
        assert [i.SOPClassesSupported[0] for i in items] == [META, uids.BASIC_COLOR_PRINT_MANAGEMENT_META]
        gray = items[0]
        assert uids.BASIC_GRAYSCALE_IMAGE_BOX in gray.SOPClassesSupported and PCR in gray.SOPClassesSupported
        assert gray.MaximumMemoryAllocation == 0 and gray.MemoryBitDepth == 8 and gray.MaximumCollatedFilms == 0
        assert gray.DefaultMagnificationType == "REPLICATE" and gray.OtherMagnificationTypesAvailable == "CUBIC"
        media = [(m.ItemNumber, m.MediumType, m.FilmSizeID) for m in gray.MediaInstalledSequence]
        assert media[0] == (1, "PAPER", "8INX10IN")
        assert sorted(m[1:] for m in media) == sorted((m, s) for m in ("PAPER", "BLUE FILM")
                                                      for s in ("8INX10IN", "14INX17IN"))
        formats = {(f.ImageDisplayFormat, f.FilmSizeID) for f in gray.SupportedImageDisplayFormatsSequence}
        assert ("STANDARD\\1,1", "8INX10IN") in formats and ("SLIDE", "14INX17IN") in formats
        assert ("CUSTOM\\1", "14INX17IN") in formats and not any(f[0].startswith("ROW") for f in formats)
        slide = next(f for f in gray.SupportedImageDisplayFormatsSequence if f.ImageDisplayFormat == "SLIDE")
        assert (slide.Rows, slide.Columns) == (round(24 * 300 / 25.4), round(36 * 300 / 25.4))  # 36x24 mm at 300 dpi
        # every offered combination is accepted by the same server (the answer is the truth)
        for f in gray.SupportedImageDisplayFormatsSequence:
            if (f.ImageDisplayFormat, f.FilmSizeID) not in {("CUSTOM\\2", "8INX10IN"), ("SLIDE", "14INX17IN")}:
                continue
            with PrintSCU(server.port) as printer:
                assert printer.create_session() == Status.SUCCESS
                st, _ = printer.create_film_box(f.ImageDisplayFormat, FilmSizeID=f.FilmSizeID)
                assert st == Status.SUCCESS
                assert printer.set_image(1, np.full((32, 32), 100, np.uint8), bits=8) == Status.SUCCESS


def test_configuration_refusals_keep_the_association(scp: Any) -> None:
    with PrintSCU(scp.port, contexts=[META, PCR]) as scu:
        status, _ = get_configuration(scu, instance=uids.PRINTER_INSTANCE)
        assert status == Status.NO_SUCH_OBJECT_INSTANCE
        status, ds = get_configuration(scu, tags=[0x2000001E, 0x00100010])
        assert status == Status.ATTRIBUTE_LIST_ERROR and "PrinterConfigurationSequence" in ds
        assert "PatientName" not in ds
        assert scu.assoc.is_established
