"""Association acceptance rules without a socket: which called / calling AE titles are refused with which
A-ASSOCIATE-RJ reason, and which abstract syntaxes each printer negotiates."""

from __future__ import annotations

from printserver import uids
from printserver.config import PrinterProfile, ServerConfig
from printserver.net import acceptance
from printserver.net.scp import SUPPORTED_ABSTRACT_SYNTAXES

CONFIG = ServerConfig(printers=(PrinterProfile(ae_title="CT_LASER", allowed_calling_aes=("CT1",)),
                                PrinterProfile(ae_title="ANY", supports_color=False)))


def test_unknown_called_ae_is_reason_7_naming_the_printers() -> None:
    reason, why = acceptance.refusal(CONFIG, "NOSUCH", "CT1")
    assert reason == acceptance.REASON_CALLED_AE_NOT_RECOGNIZED == 7 and "CT_LASER, ANY" in why


def test_a_calling_ae_not_allowed_is_reason_3_and_an_allowed_one_passes() -> None:
    reason, _ = acceptance.refusal(CONFIG, "CT_LASER", "MR2")
    assert reason == acceptance.REASON_CALLING_AE_NOT_RECOGNIZED == 3
    assert acceptance.refusal(CONFIG, "CT_LASER", "CT1") is None
    assert acceptance.refusal(CONFIG, " ANY ", "WHOEVER") is None  # padded titles are compared stripped


def test_a_grayscale_only_printer_negotiates_no_color_classes() -> None:
    gray = acceptance.printer_abstract_syntaxes(CONFIG.printers[1], SUPPORTED_ABSTRACT_SYNTAXES)
    assert uids.BASIC_COLOR_PRINT_MANAGEMENT_META not in gray and uids.BASIC_COLOR_IMAGE_BOX not in gray
    assert uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META in gray and uids.PRINT_JOB in gray
    color = acceptance.printer_abstract_syntaxes(CONFIG.printers[0], SUPPORTED_ABSTRACT_SYNTAXES)
    assert color == tuple(SUPPORTED_ABSTRACT_SYNTAXES)
