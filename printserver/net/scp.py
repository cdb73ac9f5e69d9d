"""The print SCP: one pynetdicom AE serving the configured printer, wired to model, spool, workers."""

from __future__ import annotations

import faulthandler
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from pynetdicom import AE, evt

from printserver import __version__, uids
from printserver.config import ServerConfig
from printserver.net import acceptance, allocator, dump, fixes, listener, sockets, tls
from printserver.net.events import PrintJobs
from printserver.net.gate import ConnectionGate, GateLimits
from printserver.net.handlers import PrintHandlers
from printserver.net.limits import AssociationLimits, Occupancy
from printserver.net.printer_events import PrinterMonitor
from printserver.outputs.plan import check_outputs, outputs_of
from printserver.spool.admin import AdminRequests
from printserver.spool.delivery import Delivery
from printserver.spool.records import JobBook
from printserver.spool.store import Spool
from printserver.spool.worker import Dispatcher
from printserver.status import Status
from printserver.web.server import Console

log = logging.getLogger(__name__)

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

    def __init__(self, config: ServerConfig, *, debug: bool = False, web: str | None = None,
                 skip_workarounds: frozenset[str] = frozenset()) -> None:
        self.config = config
        self.debug = debug
        #: This server's limits for the pynetdicom workarounds (net/fixes.py); each association gets them.
        self.limits = fixes.Limits.for_images(max(p.max_image_pixels for p in config.printers))
        self.skip_workarounds = skip_workarounds  # tests only: show what pynetdicom does without one
        self.spool = Spool(config.spool_dir, keep_printed=config.keep_printed_days > 0)  # for re-prints
        self.book = JobBook()
        self.delivery = Delivery(self.spool, self.book, config)
        self.dispatcher = Dispatcher(self.spool, workers=config.workers, book=self.book, delivery=self.delivery)
        self.admin = AdminRequests(self.spool, self.book, self.dispatcher, self.delivery, config)
        self.print_jobs = PrintJobs(self.book)
        self.handlers = PrintHandlers(config, self.spool, self.dispatcher, self.print_jobs)
        self.printer_events = PrinterMonitor(config, self.handlers.health)
        self.console = Console(config, self, web)  # transcripts of every association; the web console if `web`
        self.occupancy = Occupancy(AssociationLimits(config.max_associations, config.max_associations_per_calling_ae,
                                                     config.max_associations_per_address))
        self.gate: ConnectionGate | None = None
        self._servers: list[listener.GatedAssociationServer] = []

    def _build_ae(self) -> AE:
        ae = AE(ae_title=self.config.printers[0].ae_title)
        ae.implementation_class_uid = uids.IMPLEMENTATION_CLASS_UID
        ae.implementation_version_name = uids.implementation_version_name(__version__)
        ae.require_called_aet = False  # several printers: net/acceptance.py checks called and calling AE
        ae.maximum_pdu_size = self.config.max_pdu
        # net/limits.py decides (with a log line); pynetdicom's count of live threads is only a backstop
        ae.maximum_associations = 2 * self.config.max_associations + 16
        ae.network_timeout = self.config.network_timeout
        ae.dimse_timeout = self.config.dimse_timeout
        ae.acse_timeout = self.config.acse_timeout
        for syntax in SUPPORTED_ABSTRACT_SYNTAXES:
            ae.add_supported_context(syntax, TRANSFER_SYNTAXES)
        return ae

    def _evt_handlers(self) -> list[Any]:
        h = self.handlers
        handlers: list[Any] = [
            *self.console.evt_handlers(),  # first: they record the association even when it is refused
            (evt.EVT_CONN_OPEN, self._on_conn_open),
            (evt.EVT_REQUESTED, lambda e: acceptance.on_requested(self.config, self.occupancy, e)),
            (evt.EVT_ACCEPTED, self.printer_events.on_accepted),
            (evt.EVT_N_CREATE, h.on_n_create),
            (evt.EVT_N_SET, h.on_n_set),
            (evt.EVT_N_GET, h.on_n_get),
            (evt.EVT_N_ACTION, h.on_n_action),
            (evt.EVT_N_DELETE, h.on_n_delete),
            (evt.EVT_N_EVENT_REPORT, self._on_n_event_report),
            (evt.EVT_DIMSE_SENT, self.print_jobs.on_sent),
            (evt.EVT_RELEASED, h.on_closed),
            (evt.EVT_ABORTED, h.on_closed),
            (evt.EVT_CONN_CLOSE, h.on_closed),
            (evt.EVT_RELEASED, self.printer_events.on_closed),
            (evt.EVT_ABORTED, self.printer_events.on_closed),
            (evt.EVT_CONN_CLOSE, self.printer_events.on_closed),
            (evt.EVT_RELEASED, self._on_closed),
            (evt.EVT_ABORTED, self._on_closed),
            (evt.EVT_CONN_CLOSE, self._on_closed),
        ]
        if self.debug:
            handlers += [(evt.EVT_DIMSE_RECV, dump.on_dimse_recv), (evt.EVT_DIMSE_SENT, dump.on_dimse_sent)]
        return handlers

    def _on_conn_open(self, event: Any) -> None:
        """A fresh acceptor, before its reactor runs: socket options, then the pynetdicom workarounds."""
        sockets.tune(event.assoc)
        fixes.install_acceptor(event.assoc, self.limits, self.skip_workarounds)

    @staticmethod
    def _on_n_event_report(event: Any) -> tuple[int, None]:
        """An SCU's N-EVENT-REPORT: no print SOP class has the SCP receive events (pynetdicom answers 0110)."""
        log.warning("N-EVENT-REPORT from %s answered 0x%04X: the print SCP receives no events",
                    event.assoc.requestor.ae_title, Status.UNRECOGNIZED_OPERATION)
        return Status.UNRECOGNIZED_OPERATION, None

    def _on_closed(self, event: Any) -> None:
        self.occupancy.leave(event.assoc)

    def start(self) -> None:
        check_outputs(self.config)  # an output that can never deliver stops us here (ConfigError: exit 2)
        self.spool.open()
        self.console.start()
        self.delivery.start()
        self.dispatcher.start()
        self.admin.start()
        self.printer_events.start()
        ae = self._build_ae()
        c = self.config
        tls_context = tls.server_context(c.tls_cert, c.tls_key, c.tls_ca, c.tls_require_client_cert) \
            if c.tls_cert else None
        self.gate = ConnectionGate(GateLimits(c.association_request_timeout, c.max_pending, c.max_pending_per_address))
        handlers = self._evt_handlers()
        self._servers = [listener.start(ae, (c.host, c.port), self.gate, handlers)]
        if tls_context is not None:
            self._servers.append(listener.start(ae, (c.host, c.tls_port), self.gate, handlers, tls_context))
        log.info("printserver listening on %s:%d%s; spool %s", c.host, self.port,
                 f", DICOM TLS on port {self.tls_port}" + (" (client certificates required)"
                                                          if c.tls_require_client_cert else "")
                 if tls_context else "", Path(c.spool_dir).resolve())
        for i, p in enumerate(self.config.printers):
            outs = [o.describe() for o in outputs_of(p, f"printer[{i}]")]
            log.info("printer %s (%s): %s%s%s", p.ae_title, p.printer_name, ", ".join(outs),
                     f"; callers {', '.join(p.allowed_calling_aes)}" if p.allowed_calling_aes else "",
                     "; TLS only" if p.tls_only else "")

    @property
    def port(self) -> int:
        """The plain listener's bound port (useful with port 0 in tests)."""
        return int(self._servers[0].server_address[1])

    @property
    def tls_port(self) -> int | None:
        return int(self._servers[1].server_address[1]) if len(self._servers) > 1 else None

    def stop(self, wait_for_jobs: float = 0) -> None:
        for server in self._servers:
            server.shutdown()
        self._servers = []
        if self.gate is not None:
            self.gate.stop()
            self.gate = None
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
        allocator.tune()  # this long-running process only, before its threads start (net/allocator.py)
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        # `kill -USR1 <pid>`: every thread's stack to stderr (code lines only, no values), for a stuck delivery
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        self.start()
        done.wait()
        log.info("stopping")
        self.stop(wait_for_jobs=30)
