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
from printserver.scu.race_guard import ResponseRaceGuard, release

META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META


class SlowPrinter:
    """An SCP answering Printer N-GET after 0.6 s, sending a Printer Warning event 0.1 s into that wait."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.event_only = False  # True: the N-GET answered at once, the event 0.1 s after it
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
        time.sleep(0 if self.event_only else 0.6)
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
        release(assoc)
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
        release(assoc)
        ae.shutdown()
        server.shutdown()


def event_threads(port: int, guarded: bool) -> tuple[int, list[str]]:
    """Printer N-GET while the printer sends an event; the threads the event handler ran on."""
    ran_on: list[str] = []

    def on_event(event: Any) -> tuple[int, None]:
        ran_on.append(threading.current_thread().name)
        return 0x0000, None

    ae = AE(ae_title="WAITER")
    ae.dimse_timeout = ae.acse_timeout = 5
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", port, ae_title="SLOWPRN", evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_event)])
    guard = ResponseRaceGuard(assoc) if guarded else None
    try:
        with guard.waiting() if guard else contextlib.nullcontext():
            status, _ = assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META, msg_id=1)
        return int(status.Status), ran_on
    finally:
        release(assoc, guard)
        ae.shutdown()


@pytest.mark.parametrize("guarded", [True, False], ids=["ResponseRaceGuard", "plain pynetdicom"])
def test_an_event_during_a_call_is_served_by_the_calling_thread(slow_printer: SlowPrinter, guarded: bool) -> None:
    """pynetdicom serves an N-EVENT-REPORT-RQ on a thread of its own, which ends by resetting the reactor's
    'paused' flag under a call that waits for it (the call then spins for good); guarded, the calling
    thread serves it while it waits, and no other thread touches the flag."""
    status, ran_on = event_threads(slow_printer.port, guarded)
    assert status == 0x0000
    assert (ran_on == [threading.current_thread().name]) is guarded, ran_on


def test_a_call_starts_only_once_an_event_served_meanwhile_is_answered(slow_printer: SlowPrinter) -> None:
    """Between calls an event is served on pynetdicom's thread; the next call waits for it to finish, so
    that thread's reset of the flag cannot land inside the call's wait for the reactor."""
    order: list[str] = []
    arrived = threading.Event()

    def on_event(event: Any) -> tuple[int, None]:
        arrived.set()
        time.sleep(0.5)
        order.append("event answered")
        return 0x0000, None

    ae = AE(ae_title="WAITER")
    ae.dimse_timeout = ae.acse_timeout = 5
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", slow_printer.port, ae_title="SLOWPRN",
                         evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_event)])
    guard = ResponseRaceGuard(assoc)
    try:
        slow_printer.event_only = True  # the event 0.1 s into the N-GET, its response at once
        with guard.waiting():
            assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META, msg_id=1)
        assert arrived.wait(3)
        with guard.waiting():
            order.append("second call")
            status, _ = assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META,
                                         msg_id=2)
        assert order == ["event answered", "second call"] and status.Status == 0x0000
    finally:
        release(assoc, guard)
        ae.shutdown()


def test_a_release_whose_reactor_flag_was_reset_returns_within_its_bound() -> None:
    """The stuck state itself: the reactor paused at its checkpoint and its flag reset to False (what an event
    thread did); pynetdicom's release() would spin for ever, the bounded one goes on after `seconds`."""
    server, port = quick_printer()
    ae = AE(ae_title="WAITER")
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", port, ae_title="QUICKPRN")
    try:
        assert assoc.is_established
        assoc._reactor_checkpoint.clear()
        deadline = time.monotonic() + 3
        while not assoc._is_paused and time.monotonic() < deadline:
            time.sleep(0.001)
        assoc._is_paused = False  # the reactor waits at its checkpoint, the flag says it does not
        started = time.monotonic()
        done = threading.Thread(target=release, args=(assoc, None, 1.0), daemon=True)
        done.start()
        done.join(10)
        assert not done.is_alive() and time.monotonic() - started < 5
        assert not assoc.is_established
    finally:
        assoc._is_paused = True
        assoc._reactor_checkpoint.set()
        ae.shutdown()
        server.shutdown()
