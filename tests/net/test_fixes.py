"""Each pynetdicom workaround (net/fixes.py), on and off: on, the standard's answer; off, what pynetdicom
3.0.x does by itself. A case that stops failing without its workaround means pynetdicom was fixed and
the workaround can go."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt

from printserver import uids
from printserver.net import fixes
from printserver.net.scp import PrintServer
from printserver.scu.race_guard import release
from printserver.status import Status
from tests.conftest import make_server
from tests.printscu import META, PrintSCU

Start = Callable[..., PrintServer]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """start(skip=..., **printer): a PrintServer with some workarounds left out; all stopped after the test."""
    servers: list[PrintServer] = []

    def run(skip: frozenset[str] = frozenset(), **printer: object) -> PrintServer:
        base = make_server(tmp_path / f"s{len(servers)}", **printer)
        server = PrintServer(base.config, skip_workarounds=skip)
        server.start()
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.stop()


def gone(assoc: Any, timeout: float = 3) -> bool:
    """True once the association has ended (an A-ABORT takes a moment to arrive)."""
    deadline = time.monotonic() + timeout
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.02)
    return not assoc.is_established


def answer(scu: PrintSCU, result: tuple[Any, Any]) -> int | None:
    """The status on the wire, or None when the association was aborted instead."""
    status = result[0]
    return int(status.Status) if status is not None and "Status" in status and scu.assoc.is_established else None


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_unknown_sop_class(start: Start, on: bool) -> None:
    server = start(skip=frozenset() if on else {fixes.UNKNOWN_SOP_CLASS})
    ds = Dataset()
    ds.Trim = "YES"
    with PrintSCU(server.port) as scu:
        got = answer(scu, scu.n_set(ds, "1.2.3.4.5.6.7", uids.new_uid()))
    assert got == (Status.NO_SUCH_SOP_CLASS if on else None)


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_long_uid(start: Start, on: bool) -> None:
    # without: MALFORMED_COMMANDS would answer the undecodable command 0212; pynetdicom alone aborts
    server = start(skip=frozenset() if on else {fixes.LONG_UIDS, fixes.MALFORMED_COMMANDS})
    with PrintSCU(server.port) as scu:
        got = answer(scu, scu.n_create(None, uids.BASIC_FILM_SESSION, "1." + "2" * 70))
    assert got == (Status.INVALID_OBJECT_INSTANCE if on else None)


def test_two_servers_in_one_process_keep_their_own_data_set_limit(start: Start) -> None:
    """Server A accepts images of 1000 pixels (limit ~1 MiB), server B 25 Mpixel; 1.5 MiB to each."""
    small = start(max_image_pixels=1000)
    large = start()
    assert small.limits.max_data_set_bytes < 1_500_000 < large.limits.max_data_set_bytes
    big = b"\0" * 1_500_000
    for server, aborted in ((small, True), (large, False), (small, True)):  # order: no "last one wins"
        with PrintSCU(server.port) as scu:
            rsp = scu.raw_n_set(uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.new_uid(), big)
            assert (rsp is None) is aborted  # the large server answers (a failure status)
            assert gone(scu.assoc, 3 if aborted else 0.3) is aborted


def test_without_the_data_set_limit_pynetdicom_gathers_it_all(start: Start) -> None:
    server = start(skip={fixes.DATA_SET_LIMIT}, max_image_pixels=1000)
    with PrintSCU(server.port) as scu:
        rsp = scu.raw_n_set(uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.new_uid(), b"\0" * 1_500_000)
        assert rsp is not None and scu.assoc.is_established


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_standard_handlers(start: Start, on: bool, caplog: pytest.LogCaptureFixture) -> None:
    """pynetdicom's standard N-GET summary raises on an empty Attribute Identifier List: a traceback per request."""
    server = start(skip=frozenset() if on else {fixes.STANDARD_HANDLERS})
    with caplog.at_level(logging.DEBUG, logger="pynetdicom"), PrintSCU(server.port) as scu:
        fixes.quiet_standard_handlers(scu.assoc)  # only the server's handlers are under test
        assert answer(scu, scu.n_get([])) == Status.SUCCESS
        time.sleep(0.2)
    tracebacks = [r for r in caplog.records if r.name.startswith("pynetdicom") and r.exc_info]
    assert bool(tracebacks) is not on


class RecordingSCU:
    """A pynetdicom SCU that records the order in which DIMSE messages reach it."""

    def __init__(self, port: int) -> None:
        self.received: list[str] = []
        self.ae = AE(ae_title="ORDER")
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = 10
        self.ae.add_requested_context(META)
        self.assoc = self.ae.associate("127.0.0.1", port, ae_title="PRINTSCP", evt_handlers=[
            (evt.EVT_N_EVENT_REPORT, lambda e: (0x0000, None)),
            (evt.EVT_DIMSE_RECV, lambda e: self.received.append(type(e.message).__name__))])
        assert self.assoc.is_established

    def close(self) -> None:
        release(self.assoc)  # bounded: Printer events may be arriving
        self.ae.shutdown()


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_exchange_lock_keeps_an_event_out_of_a_request_and_its_response(tmp_path: Path, on: bool) -> None:
    """A Printer event raised while a (slow) N-GET is being answered goes out after the N-GET response."""
    base = make_server(tmp_path)
    server = PrintServer(base.config, skip_workarounds=frozenset() if on else {fixes.EXCHANGE_LOCK})
    n_get = server.handlers.on_n_get

    def slow_n_get(event: Any) -> Any:
        printer = server.config.printers[0]
        threading.Thread(target=server.printer_events._send, args=(event.assoc, printer, "FAILURE", "PRINTER DOWN"),
                         daemon=True).start()
        time.sleep(0.4)  # the event is ready to go while this response is due
        return n_get(event)

    server.handlers.on_n_get = slow_n_get  # type: ignore[method-assign]
    server.start()
    scu = RecordingSCU(server.port)
    try:
        status, _ = scu.assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META, msg_id=1)
        assert status.Status == 0x0000
        deadline = time.monotonic() + 5
        while "N_EVENT_REPORT_RQ" not in scu.received and time.monotonic() < deadline:
            time.sleep(0.02)
        order = [m for m in scu.received if m in ("N_GET_RSP", "N_EVENT_REPORT_RQ")]
        assert order == (["N_GET_RSP", "N_EVENT_REPORT_RQ"] if on else ["N_EVENT_REPORT_RQ", "N_GET_RSP"])
    finally:
        scu.close()
        server.stop()


def test_a_request_the_reactor_took_as_an_event_sender_got_the_lock_is_served_after_the_event(
        tmp_path: Path) -> None:
    """The deadlock the exchange lock had: the reactor takes the modality's N-GET just as a Printer event's
    sender holds the lock; the sender waits for the reactor to pause, the reactor for the lock. Now the event
    goes out and is answered, then the N-GET is, on the same association, within seconds (before: neither,
    until the modality's DIMSE timeout aborted)."""
    from printserver.scu.transport import NetworkTransport

    server = PrintServer(make_server(tmp_path).config)
    server.start()
    modality = NetworkTransport("127.0.0.1", server.port, "PRINTSCP", "CT_1", timeout=8)
    sender_done, replies = threading.Event(), []
    try:
        (assoc,) = server._servers[0].active_associations
        lock = fixes.exchange_lock(assoc)

        def event_sender() -> None:
            with lock:  # got the lock; the reactor now takes the N-GET and waits for it
                time.sleep(0.5)
                server.printer_events._send(assoc, server.config.printers[0], "WARNING", "FILM TRANSP NRDY")
            sender_done.set()

        sender = threading.Thread(target=event_sender, daemon=True)
        sender.start()
        time.sleep(0.1)
        started = time.monotonic()
        replies.append(modality.n_get(uids.PRINTER, uids.PRINTER_INSTANCE, []))
        took = time.monotonic() - started
        assert sender_done.wait(2), "the event sender never got past the reactor"
        assert replies[0].status == Status.SUCCESS and took < 5, (replies, took)
        assert [(e.sop_class_uid, e.event_type_id) for e in modality.events] == [(uids.PRINTER, 2)]  # WARNING
        assert assoc.is_established
    finally:
        if not sender_done.is_set():
            assoc._is_paused = True  # free a sender stuck in pynetdicom's spin, so it does not burn the CPU
        modality.release()
        server.stop()


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_request_arriving_while_an_event_waits_for_its_answer(tmp_path: Path, on: bool) -> None:
    """The modality answers the Printer event slowly and meanwhile asks for the printer status."""
    from tests.net.test_printer_events import Modality, break_folder

    base = make_server(tmp_path)
    from dataclasses import replace

    server = PrintServer(replace(base.config, printer_event_interval=0.1),
                         skip_workarounds=frozenset() if on else {fixes.SERVE_WHILE_WAITING})
    server.start()
    modality = Modality(server.port, handler_delay=0.8)
    try:
        break_folder(tmp_path / "films")
        assert modality.handler_started.wait(5)
        if on:
            assert modality.printer_status() == "FAILURE"
            assert modality.wait_events(1) == [(3, "PRINTER DOWN")]  # answered before we release
            assert modality.assoc.is_established
        else:  # the server's event takes the N-GET-RQ for its response: "invalid response", A-ABORT
            with pytest.raises(AttributeError):
                modality.printer_status(during_event=True)  # no status data set: the association is gone
            assert gone(modality.assoc)
    finally:
        modality.close()
        server.stop()


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_incomplete_request(start: Start, on: bool) -> None:
    """An N-DELETE without its Requested SOP Instance UID: 0120 with the fix, pynetdicom drops it silently."""
    from tests.net.test_bad_commands import build, send_raw

    server = start(skip=frozenset() if on else {fixes.INCOMPLETE_REQUESTS})
    with PrintSCU(server.port) as scu:
        rsp = send_raw(scu, build("N-DELETE", RequestedSOPInstanceUID=None), timeout=2)
        assert (rsp.Status if rsp is not None else None) == (Status.MISSING_ATTRIBUTE if on else None)


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_malformed_command(start: Start, on: bool) -> None:
    """A command element pydicom cannot decode: 0212 with the fix, pynetdicom's A-ABORT without."""
    from tests.net.test_bad_commands import send_malformed_action

    server = start(skip=frozenset() if on else {fixes.MALFORMED_COMMANDS})
    with PrintSCU(server.port) as scu:
        rsp = send_malformed_action(scu, timeout=3)
        assert (rsp.Status if rsp is not None else None) == (Status.MISTYPED_ARGUMENT if on else None)
        assert gone(scu.assoc, 0.3 if on else 3) is not on


@pytest.mark.parametrize("on", [True, False], ids=["with", "without"])
def test_idle_association_reactors_wait_for_work(start: Start, on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle association's two server threads wake a few tens of times a second (net/reactor.py), not
    every millisecond; the association still answers at once and releases cleanly."""
    import pynetdicom.association
    import pynetdicom.dul
    from pynetdicom.association import Association

    from printserver.net import reactor

    monkeypatch.setattr(reactor, "ENABLED", True)  # off by default (net/reactor.py): tested switched on
    server = start(skip=frozenset() if on else {fixes.IDLE_WAITS})
    counts = {"server": 0}

    class Counting:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def sleep(self, seconds: float) -> None:
            t = threading.current_thread()
            assoc = t if isinstance(t, Association) else getattr(t, "assoc", None)
            if assoc is not None and assoc.is_acceptor and counting.is_set():
                counts["server"] += 1
            self.inner.sleep(seconds)

    counting = threading.Event()
    ae = AE(ae_title="IDLE")
    ae.add_requested_context(uids.VERIFICATION)
    assoc = ae.associate("127.0.0.1", server.port, ae_title="PRINTSCP")
    try:
        assert assoc.is_established
        for module in (pynetdicom.dul, pynetdicom.association):  # whatever `time` they have now (reactor's shim)
            monkeypatch.setattr(module, "time", Counting(module.time))
        time.sleep(0.3)  # negotiation over
        counting.set()
        time.sleep(1.0)
        counting.clear()
        assert int(assoc.send_c_echo().Status) == 0
    finally:
        release(assoc)
    assert gone(assoc)
    if on:
        assert counts["server"] <= 2 * (1.0 / reactor.WAIT_S) + 20  # two threads, each at most every WAIT_S
    else:
        assert counts["server"] > 200  # pynetdicom: each thread sleeps 1 ms between looks
