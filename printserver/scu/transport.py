"""Where the SCU's DIMSE requests go: a print SCP over the network, or the local model (preview).

Both answer the same calls with the same `Reply`, so `printserver render` walks the very same
conversation as `printserver print` and composes what the SCP would.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, evt

from printserver import __version__, uids
from printserver.config import PrinterProfile
from printserver.layout import load_layouts
from printserver.model.messages import Op, Request
from printserver.model.session import PrintSession
from printserver.model.spooled_job import PrintJob
from printserver.net import fixes, sockets
from printserver.scu.race_guard import RELEASE_SECONDS, ResponseRaceGuard, release
from printserver.status import Category, Status, category

log = logging.getLogger(__name__)

META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META
COLOR_META = uids.BASIC_COLOR_PRINT_MANAGEMENT_META
COMPONENTS = (uids.BASIC_FILM_SESSION, uids.BASIC_FILM_BOX, uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.PRINTER)
COLOR_COMPONENTS = (uids.BASIC_FILM_SESSION, uids.BASIC_FILM_BOX, uids.BASIC_COLOR_IMAGE_BOX, uids.PRINTER)
#: What `printserver print` / `status` propose: both meta classes, and each component on its own context.
PROPOSED_CONTEXTS = (META, COLOR_META, *COMPONENTS, uids.BASIC_COLOR_IMAGE_BOX)
#: What the relay output proposes besides: the Print Job it follows (outputs/relay_job.py) and the printer's
#: configuration it maps values to (outputs/relay_mapping.py); each on its own context.
RELAY_CONTEXTS = (uids.PRINT_JOB, uids.PRINTER_CONFIGURATION_RETRIEVAL)
TRANSFER_SYNTAXES = [uids.EXPLICIT_VR_LITTLE_ENDIAN, uids.IMPLICIT_VR_LITTLE_ENDIAN]


class PrintClientError(Exception):
    """The conversation cannot go on (association refused or lost, printer down)."""


class PrintRefused(PrintClientError):
    """The printer refused the film session itself (e.g. 0106 for a Medium Type it does not have)."""

    def __init__(self, message: str, status: int, error_comment: str = "") -> None:
        super().__init__(message)
        self.status, self.error_comment = status, error_comment


@dataclass
class Reply:
    status: int
    dataset: Dataset | None = None
    error_comment: str = ""

    @property
    def category(self) -> Category:
        return category(self.status)

    @property
    def ok(self) -> bool:
        return self.category is not Category.FAILURE


@dataclass
class EventReport:
    sop_class_uid: str
    event_type_id: int
    information: Dataset | None = None
    sop_instance_uid: str = ""


class NetworkTransport:
    """One association to a print SCP, working around pynetdicom's SCU traps."""

    def __init__(self, host: str, port: int, called_ae: str, calling_ae: str = "PRINTSERVER", *,
                 timeout: float = 60.0, max_pdu: int = 65536, tls: ssl.SSLContext | None = None,
                 presentation_lut: bool = False, also_propose: tuple[str, ...] = ()) -> None:
        """`tls`: a client context (net/tls.py client_context) to speak DICOM TLS to the printer.
        `presentation_lut`: propose Presentation LUT too, for a film box carrying Illumination and
        Reflected Ambient Light (printers accept those only then; some then insist images match the LUT).
        `also_propose`: optional SOP classes on their own contexts (RELAY_CONTEXTS, Basic Annotation Box for a
        relayed layout); with Print Job the printer may send its events here, which `_on_event` confirms, also
        while a call waits (race_guard); `accepted` tells which the printer took."""
        self.events: list[EventReport] = []
        self._ids = itertools.count(1)
        ae = AE(ae_title=calling_ae)
        ae.implementation_class_uid = uids.IMPLEMENTATION_CLASS_UID
        ae.implementation_version_name = uids.implementation_version_name(__version__)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
        ae.connection_timeout = min(timeout, 30)
        extra = ((uids.PRESENTATION_LUT,) if presentation_lut else ()) + also_propose
        for sop_class in PROPOSED_CONTEXTS + tuple(c for c in dict.fromkeys(extra) if c not in PROPOSED_CONTEXTS):
            ae.add_requested_context(sop_class, TRANSFER_SYNTAXES)
        self.ae = ae
        self.assoc = ae.associate(host, port, ae_title=called_ae, max_pdu=max_pdu,
                                  evt_handlers=[(evt.EVT_N_EVENT_REPORT, self._on_event)],
                                  tls_args=(tls, host) if tls is not None else None)
        fixes.quiet_standard_handlers(self.assoc)
        if not self.assoc.is_established:
            ae.shutdown()
            why = "rejected" if self.assoc.is_rejected else "aborted" if self.assoc.is_aborted else "not established"
            if tls is not None and not self.assoc.is_rejected:
                from printserver.net.tls import handshake_problem

                why += f" (TLS: {handshake_problem(tls)})" if handshake_problem(tls) else \
                    " (TLS: is it a TLS port, and does --tls-ca trust its certificate? --debug shows the handshake)"
            raise PrintClientError(f"association with {called_ae} at {host}:{port} {why}")
        accepted = {cx.abstract_syntax: cx for cx in self.assoc.accepted_contexts}
        self.accepted = frozenset(accepted)
        self.meta_uid: str | None = META if META in accepted else None
        self.supports_color = COLOR_META in accepted or all(c in accepted for c in COLOR_COMPONENTS)
        missing = [c for c in COMPONENTS if self.meta_uid is None and c not in accepted]
        if missing:
            self.release()
            raise PrintClientError(f"{called_ae} accepted neither the Basic Grayscale Print Management Meta class "
                                   f"nor {', '.join(missing)}")
        sockets.tune(self.assoc)  # ACK the printer's split responses at once (see net/sockets.py)
        cx = accepted.get(META) or accepted[uids.BASIC_GRAYSCALE_IMAGE_BOX]
        self.big_endian = cx.transfer_syntax[0] == uids.EXPLICIT_VR_BIG_ENDIAN
        self._race_guard = ResponseRaceGuard(self.assoc)

    def _on_event(self, event: Any) -> tuple[int, None]:
        """Printer / Print Job events: record them and confirm (an unbound pynetdicom SCU answers 0110)."""
        r = event.request
        info = None
        with contextlib.suppress(Exception):  # an undecodable event still gets its confirmation
            info = event.event_information
        self.events.append(EventReport(str(r.AffectedSOPClassUID), int(r.EventTypeID), info,
                                       str(r.AffectedSOPInstanceUID or "")))
        return Status.SUCCESS, None

    def use_color(self, color: bool) -> None:
        """Work on the colour meta class (film session, film boxes, colour image boxes) or the grayscale one."""
        if color:
            self.meta_uid = COLOR_META if COLOR_META in self.accepted else None
        else:
            self.meta_uid = META if META in self.accepted else None

    def _meta(self, sop_class: str) -> str | None:
        return self.meta_uid if sop_class in (*COMPONENTS, uids.BASIC_COLOR_IMAGE_BOX) else None

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Reply:
        if not self.assoc.is_established:
            raise PrintClientError("the association is gone (released or aborted by the printer)")
        with self._race_guard.waiting():
            result = fn(*args, msg_id=next(self._ids), **kwargs)
        status, data = result if isinstance(result, tuple) else (result, None)
        if status is None or "Status" not in status:
            raise PrintClientError("no response from the printer (timeout or association aborted)")
        return Reply(int(status.Status), data if data is not None and len(data) else None,
                     str(status.get("ErrorComment", "") or ""))

    def n_create(self, sop_class: str, uid: str, ds: Dataset | None) -> Reply:
        return self._call(self.assoc.send_n_create, ds, sop_class, uid, meta_uid=self._meta(sop_class))

    def n_set(self, sop_class: str, uid: str, ds: Dataset) -> Reply:
        return self._call(self.assoc.send_n_set, ds, sop_class, uid, meta_uid=self._meta(sop_class))

    def n_get(self, sop_class: str, uid: str, tags: list[int]) -> Reply:
        return self._call(self.assoc.send_n_get, tags, sop_class, uid, meta_uid=self._meta(sop_class))

    def n_action(self, sop_class: str, uid: str, action_type: int) -> Reply:
        return self._call(self.assoc.send_n_action, None, action_type, sop_class, uid, meta_uid=self._meta(sop_class))

    def n_delete(self, sop_class: str, uid: str) -> Reply:
        return self._call(self.assoc.send_n_delete, sop_class, uid, meta_uid=self._meta(sop_class))

    def release(self) -> None:
        """Release, bounded (race_guard.release): at most RELEASE_SECONDS for the reactor, the same for the answer."""
        release(self.assoc, self._race_guard, RELEASE_SECONDS)
        self.ae.shutdown()


@dataclass
class LocalTransport:
    """The SCP's own model in-process: what `printserver serve` would do, without network or spool."""

    profile: PrinterProfile = field(default_factory=PrinterProfile)
    calling_ae: str = "PRINTSERVER"
    big_endian: bool = False
    jobs: list[PrintJob] = field(default_factory=list)
    events: list[EventReport] = field(default_factory=list)

    supports_color: bool = True

    def __post_init__(self) -> None:
        self.model = PrintSession(self.profile, load_layouts(), calling_ae=self.calling_ae,
                                      called_ae=self.profile.ae_title, negotiated=frozenset({META, COLOR_META}))
        self.context = META

    def use_color(self, color: bool) -> None:
        self.context = COLOR_META if color else META

    def _call(self, op: Op, sop_class: str, uid: str | None, ds: Dataset | None = None, **kw: Any) -> Reply:
        rsp = self.model.handle(Request(op, sop_class, uid, self.context, ds, **kw))
        if rsp.job is not None:
            self.jobs.append(rsp.job)
        return Reply(int(rsp.status), rsp.dataset, rsp.error_comment or "")

    def n_create(self, sop_class: str, uid: str, ds: Dataset | None) -> Reply:
        return self._call(Op.N_CREATE, sop_class, uid, ds)

    def n_set(self, sop_class: str, uid: str, ds: Dataset) -> Reply:
        # Through the wire encoding and back, so the model sees what an SCP would receive.
        from pynetdicom.dsutils import decode, encode

        raw = encode(ds, False, True, False)
        assert raw is not None
        from io import BytesIO

        return self._call(Op.N_SET, sop_class, uid, decode(BytesIO(raw), False, True))

    def n_get(self, sop_class: str, uid: str, tags: list[int]) -> Reply:
        return self._call(Op.N_GET, sop_class, uid, attribute_identifiers=tuple(tags))

    def n_action(self, sop_class: str, uid: str, action_type: int) -> Reply:
        return self._call(Op.N_ACTION, sop_class, uid, action_type_id=action_type)

    def n_delete(self, sop_class: str, uid: str) -> Reply:
        return self._call(Op.N_DELETE, sop_class, uid)

    def release(self) -> None:
        self.model.release()
