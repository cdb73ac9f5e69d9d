"""Association acceptance for several virtual printers on one port.

pynetdicom can check one called AE title (`require_called_aet`) and one global list of calling AE
titles; a department server has several printers, each with its own allowed callers. So the check
runs in an EVT_REQUESTED handler, before pynetdicom negotiates, and answers with the A-ASSOCIATE-RJ
reasons of PS3.8 7.1.1.9: rejected-permanent, source service-user, reason 7 (called AE title not
recognized) or 3 (calling AE title not recognized), or 1 (no reason given) for a TLS-only printer
called over the plain port. Then the limits on concurrent associations (net/limits.py).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable
from typing import Any

from pynetdicom import evt

from printserver import uids
from printserver.config import PrinterProfile, ServerConfig
from printserver.net import limits

log = logging.getLogger(__name__)

REJECTED_PERMANENT = 0x01
SOURCE_SERVICE_USER = 0x01
REASON_NO_REASON_GIVEN = 0x01
REASON_CALLING_AE_NOT_RECOGNIZED = 0x03
REASON_CALLED_AE_NOT_RECOGNIZED = 0x07


def refusal(config: ServerConfig, called_ae: str, calling_ae: str, tls: bool = False) -> tuple[int, str] | None:
    """(A-ASSOCIATE-RJ reason, why) when the association must be refused, else None."""
    printer = config.printer(called_ae.strip())
    if printer is None:
        known = ", ".join(p.ae_title for p in config.printers)
        return REASON_CALLED_AE_NOT_RECOGNIZED, f"called AE '{called_ae}' is no printer here (printers: {known})"
    if printer.allowed_calling_aes and calling_ae.strip() not in printer.allowed_calling_aes:
        return REASON_CALLING_AE_NOT_RECOGNIZED, f"calling AE '{calling_ae}' may not print to {printer.ae_title}"
    if printer.tls_only and not tls:
        return REASON_NO_REASON_GIVEN, f"{printer.ae_title} is reachable over TLS only (port {config.tls_port})"
    return None


def over_tls(assoc: Any) -> bool:
    return isinstance(getattr(assoc.dul.socket, "socket", None), ssl.SSLSocket)


COLOR_CLASSES = frozenset({uids.BASIC_COLOR_PRINT_MANAGEMENT_META, uids.BASIC_COLOR_IMAGE_BOX})


def printer_abstract_syntaxes(printer: PrinterProfile, supported: Iterable[str]) -> tuple[str, ...]:
    """What this printer negotiates of the server's classes: colour only where the printer offers it."""
    return tuple(s for s in supported if printer.supports_color or s not in COLOR_CLASSES)


def on_requested(config: ServerConfig, occupancy: limits.Occupancy, event: Any) -> None:
    """EVT_REQUESTED: refuse unknown called / disallowed calling AE titles and associations over the
    limits, else route to the printer."""
    assoc = event.assoc
    rq = assoc.requestor.primitive
    called, calling = str(rq.called_ae_title).strip(), str(rq.calling_ae_title).strip()
    refused = refusal(config, called, calling, over_tls(assoc))
    if refused is None:
        address = str(assoc.requestor.address)
        full = occupancy.enter(assoc, calling, address)
        if full is not None:
            log.warning("association from %s (%s) to %s refused, transient (local limit exceeded): %s",
                        calling, address, called, full)
            _reject(assoc, limits.REJECTED_TRANSIENT, limits.SOURCE_SERVICE_PROVIDER_PRESENTATION,
                    limits.REASON_LOCAL_LIMIT_EXCEEDED)
            return
        assoc.acceptor.ae_title = called  # the handlers pick the printer profile by this title
        printer = config.printer(called)
        assert printer is not None
        offered = printer_abstract_syntaxes(printer, [cx.abstract_syntax for cx in assoc.acceptor.supported_contexts])
        assoc.acceptor.supported_contexts = [cx for cx in assoc.acceptor.supported_contexts
                                             if cx.abstract_syntax in offered]
        return
    reason, why = refused
    log.warning("association from %s (%s) to %s refused: %s", calling, assoc.requestor.address, called, why)
    _reject(assoc, REJECTED_PERMANENT, SOURCE_SERVICE_USER, reason)


def _reject(assoc: Any, result: int, source: int, reason: int) -> None:
    assoc.acse.send_reject(result, source, reason)
    evt.trigger(assoc, evt.EVT_REJECTED, {})
    assoc.kill()
