"""Workarounds for pynetdicom 3.0 behaviours, fixed once at the layer where they occur.

- pynetdicom aborts the association, before any handler runs, when a request names a SOP class
  it has no service class for, or carries a UID longer than 64 characters. The standard expects a
  failure status (0118 No such SOP Class, 0117 Invalid SOP Instance) and the association to go
  on: both now reach the model, which answers them.
- As a requestor, pynetdicom's reactor can take a response off the DIMSE queue before the send_*()
  call that waits for it (its pause handshake has a window), log "unexpected", and leave the call
  waiting out the whole DIMSE timeout: ResponseRaceGuard.
- A send_*() call takes the next DIMSE message as its response. A request from the peer that arrives
  first (an N-EVENT-REPORT while an SCU waits; an SCU's next request while the SCP waits for an event's
  response) makes it log "invalid response" and abort: serve_requests_while_waiting() serves such a
  request and goes on waiting. exchange_lock() keeps a server's own event out of the middle of a
  request/response exchange (pynetdicom's reactor pause has a window).
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


def quiet_standard_handlers() -> None:
    """pynetdicom binds its own DIMSE/PDU logging handlers to every association: they format every PDU
    (work on the hot path even when nothing is logged) and its N-GET summary raises on an empty
    Attribute Identifier List (3.0.4), which breaks the EVT_DIMSE_RECV chain. net/dump.py logs DIMSE
    messages instead (--debug)."""
    _config.LOG_HANDLER_LEVEL = "none"


def install() -> None:
    """Idempotent: route unknown SOP classes to the print handlers, let over-long UIDs through."""
    global _installed
    if _installed:
        return
    quiet_standard_handlers()
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


def _wait_serving_requests(assoc: Any, get_msg: Any, serve: Any) -> Any:
    """get_msg(block=True) that serves the peer's requests meanwhile and returns the first other message."""

    def get_response(block: bool = False) -> Any:
        while True:
            cx_id, msg = get_msg(block)
            if not block or msg is None or not getattr(msg, "is_valid_request", False) \
                    or type(msg).__name__ == "C_STORE":  # C-GET/C-MOVE handle their own C-STOREs
                return cx_id, msg
            log.info("%s from %s arrived while waiting for a response: served, still waiting",
                     type(msg).__name__.replace("_", "-"), getattr(assoc.requestor, "ae_title", "peer"))
            serve(msg, cx_id)

    return get_response


def serve_requests_while_waiting(assoc: Any) -> None:
    """Let a waiting send_*() serve requests from the peer instead of aborting on them (idempotent)."""
    if getattr(assoc, "_printserver_serves_while_waiting", False):
        return
    assoc.dimse.get_msg = _wait_serving_requests(assoc, assoc.dimse.get_msg, assoc._serve_request)
    assoc._printserver_serves_while_waiting = True


def exchange_lock(assoc: Any) -> threading.RLock:
    """The lock held while the association serves one request (until its response is sent).

    A thread sending its own request (an event) holds it too, so the two never interleave; it is
    reentrant because a waiting send may serve the peer's request on the same thread.
    """
    lock = getattr(assoc, "_printserver_exchange_lock", None)
    if lock is None:
        lock = threading.RLock()
        serve = assoc._serve_request

        def serve_exclusively(msg: Any, context_id: int) -> None:
            with lock:
                serve(msg, context_id)

        assoc._serve_request = serve_exclusively
        assoc._printserver_exchange_lock = lock
    return lock


class ResponseRaceGuard:
    """For a requestor association: while a send_*() call waits, the reactor's polls find nothing; a
    response it took all the same (polled just before the call began) is handed back to the call.

    An N-EVENT-REPORT arriving while the call waits is served (answered) and the call goes on waiting;
    between calls pynetdicom's reactor serves them as usual.
        guard = ResponseRaceGuard(assoc)
        with guard.waiting():
            status, ds = assoc.send_n_set(...)
    """

    def __init__(self, assoc: Any) -> None:
        self._waiting = threading.Event()
        dimse = assoc.dimse
        get_msg = dimse.get_msg
        serve = assoc._serve_request

        get_response = _wait_serving_requests(assoc, get_msg, serve)

        def reactor_aware_get_msg(block: bool = False) -> Any:
            if not block and self._waiting.is_set():
                return None, None
            return get_response(block)

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
