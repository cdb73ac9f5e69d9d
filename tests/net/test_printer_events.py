"""Printer N-EVENT-REPORT over a real association when the PDF folder breaks and is repaired."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pynetdicom import AE, evt

from printserver import uids
from printserver.net.scp import PrintServer
from printserver.scu.race_guard import ResponseRaceGuard, release
from tests.conftest import make_server
from tests.printscu import META


class Modality:
    """A print SCU that records Printer events; its event handler can be made slow."""

    def __init__(self, port: int, handler_delay: float = 0.0) -> None:
        self.events: list[tuple[int, str, float]] = []
        self.handler_started = threading.Event()
        self.delay = handler_delay
        self.ae = AE(ae_title="MODALITY")
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = 10
        self.ae.add_requested_context(META)
        self.assoc = self.ae.associate("127.0.0.1", port, ae_title="PRINTSCP",
                                       evt_handlers=[(evt.EVT_N_EVENT_REPORT, self.on_event)])
        assert self.assoc.is_established
        self.guard = ResponseRaceGuard(self.assoc)

    def on_event(self, event: Any) -> tuple[int, None]:
        self.handler_started.set()
        time.sleep(self.delay)
        info = event.event_information
        assert event.request.AffectedSOPClassUID == uids.PRINTER
        assert event.request.AffectedSOPInstanceUID == uids.PRINTER_INSTANCE
        self.events.append((event.request.EventTypeID, str(info.get("PrinterStatusInfo", "")), time.monotonic()))
        return 0x0000, None

    def wait_events(self, count: int, timeout: float = 5) -> list[tuple[int, str]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [(t, i) for t, i, _ in self.events]

    def printer_status(self, during_event: bool = False) -> str:
        """`during_event`: ask while our own event handler still runs, as an SCU without the guard's wait does
        (the guard otherwise holds a call until the event served meanwhile is answered)."""
        with contextlib.nullcontext() if during_event else self.guard.waiting():
            status, ds = self.assoc.send_n_get([0x21100010], uids.PRINTER, uids.PRINTER_INSTANCE, meta_uid=META,
                                               msg_id=2)
        assert status.Status == 0x0000
        return str(ds.PrinterStatus)

    def close(self) -> None:
        release(self.assoc, self.guard)  # bounded: Printer events go on arriving
        self.ae.shutdown()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PrintServer]:
    base = make_server(tmp_path)
    srv = PrintServer(replace(base.config, printer_event_interval=0.1))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def break_folder(films: Path) -> None:
    """Root writes anywhere whatever the mode bits, so the folder is replaced by a regular file."""
    films.rename(films.with_name("films.saved"))
    films.write_text("not a folder")


def repair_folder(films: Path) -> None:
    films.unlink()
    films.with_name("films.saved").rename(films)


def test_printer_events_follow_the_pdf_folder(server: PrintServer, tmp_path: Path) -> None:
    films = tmp_path / "films"
    modality = Modality(server.port)
    try:
        assert modality.printer_status() == "NORMAL"
        break_folder(films)
        assert modality.wait_events(1) == [(3, "PRINTER DOWN")]
        assert modality.printer_status() == "FAILURE"
        repair_folder(films)
        assert modality.wait_events(2) == [(3, "PRINTER DOWN"), (1, "")]
        assert modality.printer_status() == "NORMAL"
        time.sleep(0.3)
        assert len(modality.events) == 2  # no change, no event
    finally:
        modality.close()


def test_a_request_sent_while_the_event_waits_for_its_answer_is_served(server: PrintServer, tmp_path: Path) -> None:
    """The modality answers the event slowly and meanwhile asks for the printer status: the server serves
    that request while its event waits, then gets the event's answer; the association goes on."""
    modality = Modality(server.port, handler_delay=0.8)
    try:
        break_folder(tmp_path / "films")
        assert modality.handler_started.wait(5)
        asked = time.monotonic()
        assert modality.printer_status(during_event=True) == "FAILURE"
        answered = time.monotonic()
        assert modality.wait_events(1) == [(3, "PRINTER DOWN")]
        assert answered - asked < 0.6 and answered < modality.events[0][2]  # not held up behind the event
        repair_folder(tmp_path / "films")
        assert modality.wait_events(2)[1] == (1, "")
        assert modality.assoc.is_established and modality.printer_status() == "NORMAL"
    finally:
        modality.close()


def test_a_release_asked_while_an_event_waits_for_its_answer_is_answered_at_once(server: PrintServer,
                                                                                   tmp_path: Path) -> None:
    """PS3.8 7.2.2: a requestor that asked to release sends nothing but A-ABORT until it is answered, so the
    Printer event it had not answered yet never will be: the server stops waiting for that answer and
    releases at once (it used to wait out its DIMSE timeout, 60 s, and the modality aborted)."""
    modality = Modality(server.port, handler_delay=4.0)  # answers the event only after 4 s
    try:
        break_folder(tmp_path / "films")
        assert modality.handler_started.wait(5)
        modality.assoc.acse_timeout = 3  # the modality's patience: it aborts after 3 s
        asked = time.monotonic()
        modality.assoc.release()  # plain pynetdicom: the A-RELEASE-RQ goes while the event is unanswered
        assert modality.assoc.is_released and not modality.assoc.is_aborted
        assert time.monotonic() - asked < 1.5
    finally:
        modality.close()


def test_event_message_ids_are_us_values_that_go_round() -> None:
    """PS3.7: Message ID is US; the server's N-EVENT-REPORT-RQs count 1..65535 and then start again."""
    from printserver.net import events

    first = events.next_message_id()
    seen = [first] + [events.next_message_id() for _ in range(0x10000)]
    assert all(1 <= i <= 0xFFFF for i in seen)
    assert len(set(seen[:0xFFFF])) == 0xFFFF and seen[0xFFFF] == first  # every value once, then round again
