"""Workarounds for pynetdicom 3.0.x (checked on 3.0.4), installed on one association at a time.

`install_acceptor(assoc, limits)` puts every server-side workaround on one accepted association,
in the one order that works (the exchange lock wraps `_serve_request` before the waiting send
captures it), with that server's limits: two servers in one process keep their own. Each can be
left out (`skip=`) so its test shows what pynetdicom does without it. The SCU's guard lives with
the SCU (scu/race_guard.py).

- STANDARD_HANDLERS: pynetdicom binds DIMSE/PDU logging handlers to every association; they
  format every PDU (hot-path work even when nothing is logged) and the N-GET summary raises on an
  empty Attribute Identifier List, logging a traceback per request. net/dump.py logs instead.
- UNKNOWN_SOP_CLASS: a request naming a SOP class pynetdicom has no service class for aborts the
  association ("No supported service class"); PS3.7 expects 0118 No Such SOP Class, which the
  model answers, and the association to go on.
- LONG_UIDS: a command UID over 64 characters fails pynetdicom's UI validation while the message
  becomes a primitive ("Received an invalid DIMSE message": A-ABORT) or while the response echoes
  it; PS3.7 expects a failure status (0117 Invalid SOP Instance) from the model.
- INCOMPLETE_REQUESTS: a request missing a required command element (a SOP Class or Instance UID,
  Action/Event Type ID) is not a "valid request" to pynetdicom: it logs "Received unexpected ...
  service message" and never answers, so the modality waits out its timeout. It is answered with
  0120 Missing Attribute naming the element.
- MALFORMED_COMMANDS: a request whose command element pydicom cannot decode (a US value of 3 bytes)
  makes pynetdicom log "Received an invalid DIMSE message" and abort the association. When the
  Message ID can still be read, the request is answered 0212 Mistyped Argument naming the element
  instead, and the association goes on; without a Message ID no response can name what it answers,
  so pynetdicom's A-ABORT stands.
- DATA_SET_LIMIT: pynetdicom gathers a DIMSE data set in memory without limit; past the largest
  image this server's printers accept (plus slack) the association is aborted before memory runs out.
- SERVE_WHILE_WAITING: a send_*() takes the next DIMSE message as its response; an SCU request
  arriving while our N-EVENT-REPORT waits for its answer makes it log "invalid response" and
  abort. The request is served and the wait goes on; an A-RELEASE-RQ meanwhile ends the wait (the
  requestor may send nothing else until answered, PS3.8 7.2.2) instead of holding the release for the
  DIMSE timeout, and the missing answer aborts nothing.
- EXCHANGE_LOCK: our own N-EVENT-REPORT never lands between a request and its response (the
  reactor is marked paused while a handler runs, so a send from another thread goes straight out).
- IDLE_WAITS: both reactor threads of an association poll every 1 ms (~40 ms CPU per association-
  second, idle or not); they wait for work instead (net/reactor.py).

Two of these are module-level lookups in pynetdicom (the UI validator in `_config.VALIDATORS`,
`association.uid_to_service_class`); they get one process-wide shim that is dormant everywhere
except on the threads serving an association that installed the workaround (a ContextVar).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pynetdicom.association
from pynetdicom import _config, evt
from pynetdicom._handlers import (
    standard_dimse_recv_handler,
    standard_dimse_sent_handler,
    standard_pdu_recv_handler,
    standard_pdu_sent_handler,
)
from pynetdicom.dimse_messages import _MSG_TO_PRIMITVE as _MSG_TO_PRIMITIVE
from pynetdicom.dimse_messages import DIMSEMessage
from pynetdicom.dimse_primitives import C_CANCEL
from pynetdicom.pdu_primitives import A_RELEASE
from pynetdicom.service_class import ServiceClass
from pynetdicom.service_class_n import PrintManagementServiceClass

from printserver.net import reactor

log = logging.getLogger(__name__)

STANDARD_HANDLERS = "standard-handlers"
UNKNOWN_SOP_CLASS = "unknown-sop-class"
LONG_UIDS = "long-uids"
INCOMPLETE_REQUESTS = "incomplete-requests"
MALFORMED_COMMANDS = "malformed-commands"
DATA_SET_LIMIT = "data-set-limit"
EXCHANGE_LOCK = "exchange-lock"
SERVE_WHILE_WAITING = "serve-while-waiting"
IDLE_WAITS = "idle-waits"
ALL = (STANDARD_HANDLERS, UNKNOWN_SOP_CLASS, LONG_UIDS, INCOMPLETE_REQUESTS, MALFORMED_COMMANDS, DATA_SET_LIMIT,
       EXCHANGE_LOCK, SERVE_WHILE_WAITING, IDLE_WAITS)
MISSING_ATTRIBUTE = 0x0120  # PS3.7 Annex C "Missing Attribute" (status.Status.MISSING_ATTRIBUTE)
MISTYPED_ARGUMENT = 0x0212  # PS3.7 Annex C "Mistyped Argument" (status.Status.MISTYPED_ARGUMENT)

_STANDARD = ((evt.EVT_DIMSE_RECV, standard_dimse_recv_handler), (evt.EVT_DIMSE_SENT, standard_dimse_sent_handler),
             (evt.EVT_PDU_RECV, standard_pdu_recv_handler), (evt.EVT_PDU_SENT, standard_pdu_sent_handler))


@dataclass(frozen=True)
class Limits:
    """One server's limits, passed to each of its associations."""

    #: Largest data set one DIMSE message may carry (bytes).
    max_data_set_bytes: int = 64 * 1024 * 1024

    @classmethod
    def for_images(cls, max_image_pixels: int) -> Limits:
        """A 16-bit image of the largest allowed size, plus room for the other attributes."""
        return cls(2 * max_image_pixels + (1 << 20))


@dataclass(frozen=True)
class _Scope:
    unknown_sop_class: bool
    long_uids: bool


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("printserver_fixes", default=None)
_shims_lock = threading.Lock()
_shims_installed = False


def _install_shims() -> None:
    """The two process-wide lookups, each deferring to pynetdicom unless the current association opted in."""
    global _shims_installed
    with _shims_lock:
        if _shims_installed:
            return
        original_lookup = pynetdicom.association.uid_to_service_class
        original_ui = _config.VALIDATORS["UI"]

        def uid_to_service_class(uid: str) -> type[ServiceClass]:
            service = original_lookup(uid)
            scope = _scope.get()
            if scope is not None and scope.unknown_sop_class and service is ServiceClass:
                return PrintManagementServiceClass  # the print handlers answer 0118
            return service

        def validate_ui(value: Any) -> tuple[bool, str]:
            scope = _scope.get()
            if scope is not None and scope.long_uids:
                return True, ""  # the model checks UIDs and answers 0117
            return original_ui(value)

        pynetdicom.association.uid_to_service_class = uid_to_service_class
        _config.VALIDATORS["UI"] = validate_ui
        _shims_installed = True


def quiet_standard_handlers(assoc_or_server: Any) -> None:
    """Unbind pynetdicom's standard logging handlers from a server (all its associations) or one association."""
    for event, handler in _STANDARD:
        assoc_or_server.unbind(event, handler)  # a no-op when not bound


def _scoped(fn: Callable[..., Any], scope: _Scope) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        token = _scope.set(scope)
        try:
            return fn(*args)
        finally:
            _scope.reset(token)

    return run


def _bound_data_sets(assoc: Any, receive: Callable[[Any], None], limit: int) -> Callable[[Any], None]:
    """DIMSEServiceProvider.receive_primitive that aborts once the message being gathered is over `limit`."""
    dimse = assoc.dimse

    def receive_primitive(primitive: Any) -> None:
        receive(primitive)
        message = dimse.message
        data = getattr(message, "data_set", None) if message is not None else None
        if data is not None and data.tell() > limit:
            log.error("A-ABORT: %s sent a DIMSE data set over %d bytes (the largest image this server accepts)",
                      getattr(assoc.requestor, "ae_title", "peer"), limit)
            data.seek(0)
            data.truncate()
            assoc.dul.event_queue.put("Evt19")  # invalid PDU: the DUL sends A-ABORT and closes

    return receive_primitive


@contextlib.contextmanager
def lenient_uids() -> Iterator[None]:
    """UI validation off on this thread: for a requestor that means to send bad UIDs (tests of an SCP)."""
    token = _scope.set(_Scope(unknown_sop_class=False, long_uids=True))
    _install_shims()
    try:
        yield
    finally:
        _scope.reset(token)


def receive_lenient_uids(assoc: Any) -> None:
    """A requestor that sends bad UIDs gets them echoed: its DUL must accept them in responses too."""
    _install_shims()
    assoc.dimse.receive_primitive = _scoped(assoc.dimse.receive_primitive, _Scope(False, True))


def install_acceptor(assoc: Any, limits: Limits, skip: frozenset[str] = frozenset()) -> None:
    """Every server-side workaround on a freshly accepted association (before its reactor starts)."""
    unknown = set(skip) - set(ALL)
    if unknown:
        raise ValueError(f"unknown workarounds: {', '.join(sorted(unknown))}")
    if STANDARD_HANDLERS not in skip:
        quiet_standard_handlers(assoc)
    scope = _Scope(UNKNOWN_SOP_CLASS not in skip, LONG_UIDS not in skip)
    if scope.unknown_sop_class or scope.long_uids:
        _install_shims()
    receive = assoc.dimse.receive_primitive
    if MALFORMED_COMMANDS not in skip:
        receive = _answer_malformed(assoc, receive)
    if DATA_SET_LIMIT not in skip:
        receive = _bound_data_sets(assoc, receive, limits.max_data_set_bytes)
    assoc.dimse.receive_primitive = _scoped(receive, scope)  # decoding a request: UI validation
    if EXCHANGE_LOCK not in skip:
        _install_exchange_lock(assoc)
    if INCOMPLETE_REQUESTS not in skip:
        assoc._serve_request = _answer_incomplete(assoc, assoc._serve_request)
    assoc._serve_request = _scoped(assoc._serve_request, scope)  # class lookup, response UIDs
    if SERVE_WHILE_WAITING not in skip:
        assoc.dimse.get_msg = wait_serving_requests(assoc, assoc.dimse.get_msg, assoc._serve_request)
    if IDLE_WAITS not in skip and reactor.ENABLED:
        reactor.install(assoc)


def _answer_incomplete(assoc: Any, serve: Callable[[Any, int], None]) -> Callable[[Any, int], None]:
    """_serve_request that answers a request missing required command elements instead of dropping it."""

    def serve_request(msg: Any, context_id: int) -> None:
        keywords = getattr(msg, "REQUEST_KEYWORDS", ())
        is_request = getattr(msg, "MessageID", None) is not None  # a response carries MessageIDBeingRespondedTo
        if not is_request or msg.is_valid_request or context_id not in assoc._accepted_cx:
            serve(msg, context_id)  # pynetdicom's way (a response taken by the reactor, a bad context: abort)
            return
        missing = [k for k in keywords if getattr(msg, k, None) is None]
        _refuse(assoc, msg, context_id, MISSING_ATTRIBUTE, f"command element {', '.join(missing)} missing")

    return serve_request


def _refuse(assoc: Any, msg: Any, context_id: int, status: int, comment: str) -> None:
    """Answer the request primitive `msg` with a failure `status` and Error Comment, then go on."""
    kind = type(msg).__name__.replace("_", "-")
    log.warning("%s-RQ %d from %s: %s: answered 0x%04X", kind, msg.MessageID,
                getattr(assoc.requestor, "ae_title", "peer"), comment, status)
    rsp = type(msg)()
    rsp.MessageIDBeingRespondedTo = msg.MessageID
    rsp.Status = status
    if hasattr(rsp, "ErrorComment"):
        rsp.ErrorComment = comment[:64]
    for name in ("AffectedSOPClassUID", "AffectedSOPInstanceUID"):
        source = getattr(msg, name, None) or getattr(msg, name.replace("Affected", "Requested"), None)
        if source is not None and hasattr(rsp, name):
            with contextlib.suppress(ValueError, TypeError):
                setattr(rsp, name, source)
    assoc.dimse.send_msg(rsp, context_id)


def _answer_malformed(assoc: Any, receive: Callable[[Any], None]) -> Callable[[Any], None]:
    """receive_primitive whose next DIMSE message, if its command cannot become a primitive, is answered
    0212 instead of aborting. The hook is an instance attribute of the message being gathered: pynetdicom
    changes the message's class once it knows the command, and instance attributes survive that."""
    dimse = assoc.dimse

    def to_primitive(message: Any) -> Any:
        try:
            return type(message).message_to_primitive(message)
        except Exception as exc:
            name = type(message).__name__
            cs = message.command_set
            try:
                msg_id = int(cs.MessageID)
            except Exception:  # no Message ID to answer: pynetdicom's A-ABORT stands
                raise exc from None
            if not name.endswith("_RQ"):
                raise
            primitive = _MSG_TO_PRIMITIVE[name[:-3]]()
            primitive.MessageID = msg_id
            for keyword in ("AffectedSOPClassUID", "RequestedSOPClassUID"):
                with contextlib.suppress(Exception):
                    setattr(primitive, keyword, cs.get(keyword))
            bad = " ".join(str(exc).split())[:40]
            _refuse(assoc, primitive, int(message.context_id), MISTYPED_ARGUMENT, f"command not decodable: {bad}")
            cancel = C_CANCEL()  # something harmless for pynetdicom to file away: nobody waits on it
            cancel.MessageIDBeingRespondedTo = msg_id
            return cancel

    def receive_primitive(primitive: Any) -> None:
        if dimse.message is None:
            message = DIMSEMessage()
            message.message_to_primitive = types.MethodType(to_primitive, message)
            dimse.message = message
        receive(primitive)

    return receive_primitive


#: How often a waiting send looks whether the peer asked to release meanwhile
RELEASE_LOOK_SECONDS = 0.05


def release_requested(assoc: Any) -> bool:
    """The peer's A-RELEASE-RQ is next in line (only looked at: the reactor takes it and answers)."""
    primitive = assoc.dul.peek_next_pdu()
    return isinstance(primitive, A_RELEASE) and primitive.result is None


def wait_serving_requests(assoc: Any, get_msg: Any, serve: Any) -> Any:
    """get_msg(block=True) that serves the peer's requests meanwhile and returns the first other message.

    It stops waiting when the peer asks to release: a requestor that sent A-RELEASE-RQ may send nothing
    else but A-ABORT (PS3.8 7.2.2), so an event it had not answered yet never will be; waiting out the
    DIMSE timeout held its release that long (and the modality aborted). The send then has no answer, and
    pynetdicom's reaction to that (an A-ABORT) is left out while the release waits for the reactor."""
    handle_no_response = assoc._handle_no_response

    def no_response() -> None:
        if not release_requested(assoc):
            handle_no_response()

    assoc._handle_no_response = no_response

    def wait(block: bool) -> Any:
        if not block:
            return get_msg(False)
        timeout = assoc.dimse.dimse_timeout
        deadline = time.monotonic() + timeout if timeout is not None else None
        while True:
            cx_id, msg = get_msg(False)
            if msg is not None:
                return cx_id, msg
            if release_requested(assoc):
                log.info("%s asked to release before answering: not waiting for the answer",
                         getattr(assoc.requestor, "ae_title", "peer"))
                return None, None
            left = RELEASE_LOOK_SECONDS if deadline is None else min(RELEASE_LOOK_SECONDS,
                                                                       deadline - time.monotonic())
            if left <= 0 or not assoc.dul.is_alive():
                return None, None
            with contextlib.suppress(queue.Empty):
                return assoc.dimse.msg_queue.get(timeout=left)

    def get_response(block: bool = False) -> Any:
        while True:
            cx_id, msg = wait(block)
            if not block or msg is None or not getattr(msg, "is_valid_request", False) \
                    or type(msg).__name__ == "C_STORE":  # C-GET/C-MOVE handle their own C-STOREs
                return cx_id, msg
            log.info("%s from %s arrived while waiting for a response: served, still waiting",
                     type(msg).__name__.replace("_", "-"), getattr(assoc.requestor, "ae_title", "peer"))
            serve(msg, cx_id)

    return get_response


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _install_exchange_lock(assoc: Any) -> None:
    lock = threading.RLock()
    serve = assoc._serve_request

    def serve_exclusively(msg: Any, context_id: int) -> None:
        """The reactor took a request just as an event sender got the lock: that sender now waits for the
        reactor to say it paused (pynetdicom's send_*() spin), and the reactor, waiting for the lock, never
        would: a deadlock that stopped the association for good (seen as a Print Job event at the Film Session
        N-DELETE). A reactor waiting for the lock takes nothing off the queue, so it counts as paused."""
        if not lock.acquire(blocking=False):
            assoc._is_paused = True
            lock.acquire()
            assoc._is_paused = False
        try:
            serve(msg, context_id)
        finally:
            lock.release()

    assoc._serve_request = serve_exclusively
    assoc._printserver_exchange_lock = lock


def exchange_lock(assoc: Any) -> Any:
    """The lock held while the association serves one request (until its response is sent).

    A thread sending its own request (an event) holds it too, so the two never interleave; it is
    reentrant because a waiting send may serve the peer's request on the same thread. Without the
    workaround installed (a test showing pynetdicom's behaviour) it is a lock that holds nothing.
    """
    return getattr(assoc, "_printserver_exchange_lock", None) or _NoLock()
