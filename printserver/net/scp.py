"""The print SCP: one pynetdicom AE serving the configured printer, wired to model, spool, workers."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.transport import ThreadedAssociationServer

from printserver import uids
from printserver.config import ServerConfig
from printserver.net import acceptance, dump, fixes, sockets
from printserver.net.events import PrintJobs
from printserver.net.handlers import PrintHandlers
from printserver.net.printer_events import PrinterMonitor
from printserver.outputs.plan import check_outputs, outputs_of
from printserver.spool.admin import AdminRequests
from printserver.spool.delivery import Delivery
from printserver.spool.records import JobBook
from printserver.spool.store import Spool
from printserver.spool.worker import Dispatcher
from printserver.web.server import Console

log = logging.getLogger(__name__)

ACSE_TIMEOUT = 30  # seconds for association negotiation and release
TRANSFER_SYNTAXES = [uids.IMPLICIT_VR_LITTLE_ENDIAN, uids.EXPLICIT_VR_LITTLE_ENDIAN, uids.EXPLICIT_VR_BIG_ENDIAN]

#: What the SCP accepts: only what it implements (a context accepted and then failed is worse).
SUPPORTED_ABSTRACT_SYNTAXES = (
    uids.VERIFICATION,
    uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META,
    uids.BASIC_FILM_SESSION,
    uids.BASIC_FILM_BOX,
    uids.BASIC_GRAYSCALE_IMAGE_BOX,
    uids.PRINTER,
    uids.BASIC_COLOR_PRINT_MANAGEMENT_META,
    uids.BASIC_COLOR_IMAGE_BOX,
    uids.BASIC_ANNOTATION_BOX,
    uids.PRINT_JOB,
    uids.PRESENTATION_LUT,  # optional class: its own context, its messages carry no meta
    uids.PRINTER_CONFIGURATION_RETRIEVAL,  # optional, own context: N-GET of the printer's profile
)


class PrintServer:
    """Start, serve, stop. `port` is the bound port (useful with port 0 in tests)."""

    def __init__(self, config: ServerConfig, *, debug: bool = False, web: str | None = None) -> None:
        self.config = config
        self.debug = debug
        self.spool = Spool(config.spool_dir)
        self.book = JobBook()
        self.delivery = Delivery(self.spool, self.book, config)
        self.dispatcher = Dispatcher(self.spool, workers=config.workers, book=self.book, delivery=self.delivery)
        self.admin = AdminRequests(self.spool, self.book, self.dispatcher, self.delivery)
        self.print_jobs = PrintJobs(self.book)
        self.handlers = PrintHandlers(config, self.spool, self.dispatcher, self.print_jobs)
        self.printer_events = PrinterMonitor(config, self.handlers.health)
        self.console = Console(config, self, web)  # transcripts of every association; the web console if `web`
        self._server: ThreadedAssociationServer | None = None

    def _build_ae(self) -> AE:
        fixes.install()
        # a 16-bit image of the largest allowed size, plus room for the other attributes
        fixes.max_data_set_bytes = 2 * max(p.max_image_pixels for p in self.config.printers) + (1 << 20)
        ae = AE(ae_title=self.config.printers[0].ae_title)
        ae.require_called_aet = False  # several printers: net/acceptance.py checks called and calling AE
        ae.maximum_pdu_size = self.config.max_pdu
        ae.maximum_associations = self.config.max_associations
        ae.network_timeout = self.config.network_timeout
        ae.dimse_timeout = self.config.dimse_timeout
        ae.acse_timeout = ACSE_TIMEOUT
        for syntax in SUPPORTED_ABSTRACT_SYNTAXES:
            ae.add_supported_context(syntax, TRANSFER_SYNTAXES)
        return ae

    def _evt_handlers(self) -> list[Any]:
        h = self.handlers
        handlers: list[Any] = [
            *self.console.evt_handlers(),  # first: they record the association even when it is refused
            (evt.EVT_CONN_OPEN, lambda e: sockets.tune(e.assoc)),
            (evt.EVT_REQUESTED, lambda e: acceptance.on_requested(self.config, e)),
            (evt.EVT_ACCEPTED, self.printer_events.on_accepted),
            (evt.EVT_N_CREATE, h.on_n_create),
            (evt.EVT_N_SET, h.on_n_set),
            (evt.EVT_N_GET, h.on_n_get),
            (evt.EVT_N_ACTION, h.on_n_action),
            (evt.EVT_N_DELETE, h.on_n_delete),
            (evt.EVT_DIMSE_SENT, self.print_jobs.on_sent),
            (evt.EVT_RELEASED, h.on_closed),
            (evt.EVT_ABORTED, h.on_closed),
            (evt.EVT_CONN_CLOSE, h.on_closed),
            (evt.EVT_RELEASED, self.printer_events.on_closed),
            (evt.EVT_ABORTED, self.printer_events.on_closed),
            (evt.EVT_CONN_CLOSE, self.printer_events.on_closed),
        ]
        if self.debug:
            handlers += [(evt.EVT_DIMSE_RECV, dump.on_dimse_recv), (evt.EVT_DIMSE_SENT, dump.on_dimse_sent)]
        return handlers

    def start(self) -> None:
        check_outputs(self.config)  # an output that can never deliver stops us here (ConfigError: exit 2)
        self.spool.open()
        self.console.start()
        self.delivery.start()
        self.dispatcher.start()
        self.admin.start()
        self.printer_events.start()
        ae = self._build_ae()
        self._server = ae.start_server((self.config.host, self.config.port), block=False,
                                       evt_handlers=self._evt_handlers())
        log.info("printserver listening on %s:%d; spool %s", self.config.host, self.port,
                 Path(self.config.spool_dir).resolve())
        for i, p in enumerate(self.config.printers):
            outs = [o.describe() for o in outputs_of(p, f"printer[{i}]")]
            log.info("printer %s (%s): %s%s", p.ae_title, p.printer_name, ", ".join(outs),
                     f"; callers {', '.join(p.allowed_calling_aes)}" if p.allowed_calling_aes else "")

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def stop(self, wait_for_jobs: float = 0) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if wait_for_jobs:
            self.dispatcher.wait_idle(wait_for_jobs)
        self.admin.stop()
        self.dispatcher.stop(wait=True)
        self.delivery.stop()
        self.printer_events.stop()
        self.print_jobs.stop()
        self.console.stop()
        self.spool.close()

    def serve_forever(self) -> None:
        """Run until SIGINT/SIGTERM; jobs not finished stay in the spool for the next start."""
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        self.start()
        done.wait()
        log.info("stopping")
        self.stop(wait_for_jobs=30)
