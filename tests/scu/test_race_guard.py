"""ResponseRaceGuard (scu/race_guard.py): a waiting requestor gets its response, and serves an N-EVENT-REPORT first.

The peer is a plain pynetdicom SCP whose N-GET handler is slow; meanwhile a thread on its side puts an
N-EVENT-REPORT-RQ on the wire (as a printer whose status changes would), ahead of the N-GET response.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import encode

from printserver import uids
from printserver.scu.race_guard import ResponseRaceGuard

META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META


class SlowPrinter:
    """An SCP answering Printer N-GET after 0.6 s, sending a Printer Warning event 0.1 s into that wait."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.ae = AE(ae_title="SLOWPRN")
        self.ae.add_supported_context(META)
        handlers = [(evt.EVT_N_GET, self.on_n_get),
                    (evt.EVT_DIMSE_RECV, lambda e: self.received.append(type(e.message).__name__))]
        self.server = self.ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        self.port = self.server.server_address[1]

    def on_n_get(self, event: Any) -> tuple[int, Dataset]:
        assoc, cx_id = event.assoc, event.context.context_id

        def send_event() -> None:
            time.sleep(0.1)
            info = Dataset()
            info.PrinterStatusInfo = "FILM JAM"
            req = N_EVENT_REPORT()
            req.MessageID, req.EventTypeID = 7, 2
            req.AffectedSOPClassUID, req.AffectedSOPInstanceUID = uids.PRINTER, uids.PRINTER_INSTANCE
            req.EventInformation = BytesIO(encode(info, True, True))
            assoc.dimse.send_msg(req, cx_id)  # on the wire before the N-GET response

        threading.Thread(target=send_event, daemon=True).start()
        time.sleep(0.6)
        ds = Dataset()
        ds.PrinterStatus = "WARNING"
        return 0x0000, ds

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def slow_printer() -> Iterator[SlowPrinter]:
    printer = SlowPrinter()
    try:
        yield printer
    finally:
        printer.stop()


def ask_status(port: int, guarded: bool) -> tuple[Any, list[int], bool]:
    events: list[int] = []

    def on_event(event: Any) -> tuple[int, None]:
        events.append(event.request.EventTypeID)
        return 0x0000, None

    ae = AE(ae_title="WAITER")
    ae.dimse_timeout = ae.acse_timeout = 5
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", port, ae_title="SLOWPRN", evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_event)])
    try:
        assert assoc.is_established
        if guarded:
            guard = ResponseRaceGuard(assoc)
            with guard.waiting():
                status, ds = assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META,
                                              msg_id=1)
        else:
            status, ds = assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META, msg_id=1)
        alive = assoc.is_established
        return (status.get("Status"), ds), events, alive
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()


@pytest.mark.parametrize("guarded", [True, False], ids=["ResponseRaceGuard", "plain pynetdicom"])
def test_waiting_requestor_serves_the_event_and_keeps_waiting(slow_printer: SlowPrinter, guarded: bool) -> None:
    """pynetdicom 3.0.4 serves an N-EVENT-REPORT-RQ on its own thread as it arrives (dimse.receive_primitive),
    so a waiting requestor is not disturbed; the guard must keep it so."""
    (status, ds), events, alive = ask_status(slow_printer.port, guarded=guarded)
    assert status == 0x0000 and ds.PrinterStatus == "WARNING"
    assert events == [2] and alive
    deadline = time.monotonic() + 2
    while "N_EVENT_REPORT_RSP" not in slow_printer.received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "N_EVENT_REPORT_RSP" in slow_printer.received  # the printer got its answer


class LateCheckpoint(threading.Event):
    """The reactor's pause checkpoint, made to linger after the reactor passed it until a message is queued:
    the window in which a send_*() sees the reactor 'paused' while the reactor is about to poll once more."""

    def __init__(self, queue: Any) -> None:
        super().__init__()
        self.queue = queue

    def wait(self, timeout: float | None = None) -> bool:
        passed = super().wait(timeout)
        deadline = time.monotonic() + 3
        while self.queue.empty() and time.monotonic() < deadline:
            time.sleep(0.002)
        return passed


def quick_printer() -> tuple[Any, int]:
    ae = AE(ae_title="QUICKPRN")
    ae.add_supported_context(META)

    def on_n_get(event: Any) -> tuple[int, Dataset]:
        ds = Dataset()
        ds.PrinterStatus = "NORMAL"
        return 0x0000, ds

    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_N_GET, on_n_get)])
    return server, server.server_address[1]


@pytest.mark.parametrize("guarded", [True, False], ids=["ResponseRaceGuard", "plain pynetdicom"])
def test_a_response_the_reactor_polls_first_still_reaches_the_call(guarded: bool) -> None:
    """pynetdicom 3.0.4: the reactor takes the N-GET response, logs 'unexpected' and drops it; the call
    waits out its DIMSE timeout and returns an empty status. The guard hands the response back."""
    server, port = quick_printer()
    ae = AE(ae_title="WAITER")
    ae.dimse_timeout = ae.acse_timeout = 2
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", port, ae_title="QUICKPRN")
    try:
        assert assoc.is_established
        guard = ResponseRaceGuard(assoc) if guarded else None
        checkpoint = LateCheckpoint(assoc.dimse.msg_queue)
        checkpoint.set()
        assoc._reactor_checkpoint = checkpoint
        send_msg = assoc.dimse.send_msg

        def send_then_dawdle(*args: Any) -> None:
            send_msg(*args)
            time.sleep(0.3)  # the response arrives meanwhile and the lingering reactor polls first

        assoc.dimse.send_msg = send_then_dawdle
        time.sleep(0.2)  # the reactor is now lingering in the checkpoint: 'paused' but about to poll
        with guard.waiting() if guard else contextlib.nullcontext():
            status, _ = assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META,
                                         msg_id=1)
        assert (status.get("Status") == 0x0000) is guarded
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()
        server.shutdown()
