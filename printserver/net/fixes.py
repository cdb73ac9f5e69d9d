"""Workarounds for pynetdicom 3.0 behaviours, fixed once at the layer where they occur.

- pynetdicom aborts the association, before any handler runs, when a request names a SOP class
  it has no service class for, or carries a UID longer than 64 characters. The standard expects a
  failure status (0118 No such SOP Class, 0117 Invalid SOP Instance) and the association to go
  on: both now reach the model, which answers them.
- As a requestor, pynetdicom's reactor can take a response off the DIMSE queue before the send_*()
  call that waits for it (its pause handshake has a window), log "unexpected", and leave the call
  waiting out the whole DIMSE timeout: ResponseRaceGuard.
- pynetdicom gathers a DIMSE message's data set in memory without limit. A message larger than
  any image the printers accept (plus slack) now aborts its association before it can exhaust
  memory; every other association goes on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pynetdicom.association
from pynetdicom import _config
from pynetdicom.dimse_messages import DIMSEMessage
from pynetdicom.service_class import ServiceClass
from pynetdicom.service_class_n import PrintManagementServiceClass

log = logging.getLogger(__name__)

_installed = False
#: Largest data set one DIMSE message may carry (bytes); set by the server from its printers.
max_data_set_bytes = 64 * 1024 * 1024


def install() -> None:
    """Idempotent: route unknown SOP classes to the print handlers, let over-long UIDs through."""
    global _installed
    if _installed:
        return
    original = pynetdicom.association.uid_to_service_class

    def uid_to_service_class(uid: str) -> type[ServiceClass]:
        service = original(uid)
        # Unknown class: let the print handlers answer it with 0118 instead of aborting.
        return PrintManagementServiceClass if service is ServiceClass else service

    pynetdicom.association.uid_to_service_class = uid_to_service_class

    def lenient_uid(value: Any) -> tuple[bool, str]:
        # The model checks UIDs and answers 0117; the primitive must not reject them first.
        return True, ""

    _config.VALIDATORS["UI"] = lenient_uid

    decode_msg = DIMSEMessage.decode_msg

    def bounded_decode_msg(self: DIMSEMessage, primitive: Any, assoc: Any = None) -> bool:
        done = decode_msg(self, primitive, assoc)
        data = getattr(self, "data_set", None)
        if not done and data is not None and hasattr(data, "tell") and data.tell() > max_data_set_bytes:
            log.error("A-ABORT: %s sent a DIMSE data set over %d bytes (the largest image this server accepts)",
                      getattr(getattr(assoc, "requestor", None), "ae_title", "peer"), max_data_set_bytes)
            data.seek(0)
            data.truncate()
            if assoc is not None:
                assoc.dul.event_queue.put("Evt19")  # invalid PDU: the DUL sends A-ABORT and closes
        return done

    DIMSEMessage.decode_msg = bounded_decode_msg  # type: ignore[method-assign]
    _installed = True


class ResponseRaceGuard:
    """For a requestor association: while a send_*() call waits, the reactor's polls find nothing; a
    response it took all the same (polled just before the call began) is handed back to the call.

    Events from the peer are not affected: pynetdicom serves N-EVENT-REPORTs as they arrive.
        guard = ResponseRaceGuard(assoc)
        with guard.waiting():
            status, ds = assoc.send_n_set(...)
    """

    def __init__(self, assoc: Any) -> None:
        self._waiting = threading.Event()
        dimse = assoc.dimse
        get_msg = dimse.get_msg
        serve = assoc._serve_request

        def reactor_aware_get_msg(block: bool = False) -> Any:
            if not block and self._waiting.is_set():
                return None, None
            return get_msg(block)

        def serve_request(msg: Any, context_id: int) -> None:
            if not getattr(msg, "is_valid_request", False) and self._waiting.is_set():
                dimse.msg_queue.put((context_id, msg))
                return
            serve(msg, context_id)

        dimse.get_msg = reactor_aware_get_msg
        assoc._serve_request = serve_request

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        self._waiting.set()
        try:
            yield
        finally:
            self._waiting.clear()
