"""Printer N-EVENT-REPORT: tell every open association of a printer when its outputs' health changes.

A monitor thread polls each printer's health (outputs/health.py) every `printer_event_interval`
seconds; on a change of Printer Status or Printer Status Info it sends the Printer event (1 Normal,
2 Warning, 3 Failure; PS3.4 H.4.6.1.1) on the meta context of every open association to that printer.
Each send holds the association's exchange lock (net/fixes.py), so it never lands between a request
and its response; a request that arrives while the event waits for its answer is served meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from printserver import uids
from printserver.config import PrinterProfile, ServerConfig
from printserver.model.printer import PRINTER_EVENT_TYPE_ID, printer_event_information
from printserver.net import fixes
from printserver.net.events import next_message_id
from printserver.outputs import health

log = logging.getLogger(__name__)

Health = tuple[str, str, str]


def meta_context(assoc: Any) -> str | None:
    """The meta SOP class the Printer lives on for this association (grayscale first), if any."""
    accepted = {str(cx.abstract_syntax) for cx in assoc.accepted_contexts}
    return next((m for m in uids.META_MEMBERS if m in accepted), None)


class PrinterMonitor:
    def __init__(self, config: ServerConfig, cache: health.HealthCache | None = None,
                 check: Callable[[PrinterProfile], Health] = health.check) -> None:
        self.config = config
        self.cache = cache
        self.check = check
        self._lock = threading.Lock()
        self._open: dict[Any, str] = {}  # association -> called AE title (printer)
        self._last: dict[str, tuple[str, str]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- association lifecycle (pynetdicom events) -------------------------------------------------

    def on_accepted(self, event: Any) -> None:
        """EVT_ACCEPTED: remember the association's printer (its exchange lock came with net/fixes.py)."""
        assoc = event.assoc
        with self._lock:
            self._open[assoc] = str(assoc.acceptor.ae_title).strip()

    def on_closed(self, event: Any) -> None:
        with self._lock:
            self._open.pop(event.assoc, None)

    # --- polling -----------------------------------------------------------------------------------

    def start(self) -> None:
        for p in self.config.printers:
            status, info, _ = self.check(p)
            self._last[p.ae_title] = (status, info)
        self._thread = threading.Thread(target=self._run, name="printer-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.config.printer_event_interval):
            try:
                self.poll()
            except Exception:  # the monitor must outlive any one failed check or send
                log.exception("printer health poll failed")

    def poll(self) -> None:
        for p in self.config.printers:
            status, info, why = result = self.check(p)
            if self.cache is not None:
                self.cache.put(p, result)
            if self._last.get(p.ae_title) == (status, info):
                continue
            self._last[p.ae_title] = (status, info)
            log.warning("printer %s is now %s/%s%s", p.ae_title, status, info, f": {why}" if why else "")
            with self._lock:
                targets = [a for a, ae in self._open.items() if ae == p.ae_title]
            for assoc in targets:
                self._send(assoc, p, status, info)

    def _send(self, assoc: Any, printer: PrinterProfile, status: str, info: str) -> None:
        meta = meta_context(assoc)
        event_type = PRINTER_EVENT_TYPE_ID.get(status)
        if meta is None or event_type is None:
            return  # e.g. a Verification-only association: the Printer is not on it
        data = printer_event_information(status, info, printer.printer_name)
        with fixes.exchange_lock(assoc):
            if not assoc.is_established:
                return
            try:
                reply, _ = assoc.send_n_event_report(data, event_type, uids.PRINTER, uids.PRINTER_INSTANCE,
                                                     msg_id=next_message_id(), meta_uid=meta)
                code = reply.get("Status")
                log.info("Printer event %d (%s/%s) sent to %s: reply %s", event_type, status, info,
                         assoc.requestor.ae_title, f"0x{code:04X}" if code is not None else "none")
            except Exception:  # the SCU went away meanwhile
                log.warning("Printer event %d not delivered to %s", event_type, assoc.requestor.ae_title,
                            exc_info=True)
