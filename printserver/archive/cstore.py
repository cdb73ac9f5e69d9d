"""printserver as a Storage SCU: send DICOM files to an archive with C-STORE, and say what went wrong.

Outcomes are sorted for the caller's retry loop: `StoreUnavailable` (association rejected or aborted,
network error, a status that may pass later: out of resources, processing failure) is worth another
try after a pause; `StoreRefused` (the archive does not take this SOP class, or says the object is
wrong: A9xx, Cxxx, 0122, 0124) will not change by waiting. Warnings B000/B006/B007 mean stored.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from printserver.scu.race_guard import release
from printserver.uids import ENCAPSULATED_PDF_STORAGE, SECONDARY_CAPTURE_IMAGE_STORAGE

log = logging.getLogger(__name__)

SUCCESS = 0x0000
STORED_WITH_WARNING = (0xB000, 0xB006, 0xB007)
#: Failures that waiting does not cure (PS3.4 B.2.3, PS3.7 C): wrong object or class, not authorised.
PERMANENT = (0x0122, 0x0124, 0x0117)
TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
#: What the Storage SCU proposes (the conformance statement lists them).
STORED_SOP_CLASSES = (SECONDARY_CAPTURE_IMAGE_STORAGE, ENCAPSULATED_PDF_STORAGE)
#: The classes whose pixels may travel compressed (archive/syntaxes.py).
IMAGE_SOP_CLASSES = (SECONDARY_CAPTURE_IMAGE_STORAGE,)


@dataclass(frozen=True)
class Destination:
    """One archive: where to send and who we say we are."""

    called_ae: str
    host: str
    port: int
    calling_ae: str = "PRINTSERVER"
    #: Seconds for the association, each DIMSE exchange and network silence.
    timeout: float = 30.0

    def __str__(self) -> str:
        return f"{self.called_ae}@{self.host}:{self.port}"


class StoreUnavailable(Exception):
    """Not stored now; may work later."""


class StoreRefused(Exception):
    """Not stored, and retrying will not help."""


def _permanent(status: int) -> bool:
    return status in PERMANENT or 0xA900 <= status <= 0xA9FF or 0xC000 <= status <= 0xCFFF


def _ae(dest: Destination) -> AE:
    ae = AE(ae_title=dest.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = dest.timeout
    ae.connection_timeout = dest.timeout  # pynetdicom's default None waits for the OS (minutes) on a silent host
    return ae


def _associate(ae: AE, dest: Destination, tls: ssl.SSLContext | None):  # type: ignore[no-untyped-def]
    from printserver.net.tls import handshake_problem

    assoc = ae.associate(dest.host, dest.port, ae_title=dest.called_ae,
                         tls_args=(tls, dest.host) if tls is not None else None)
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        primitive = assoc.acceptor.primitive
        result = f"result {primitive.result}, source {primitive.result_source}, reason {primitive.diagnostic}" \
            if primitive is not None else "rejected"
        raise StoreUnavailable(f"{dest} rejected the association ({result})")
    if assoc.is_aborted and assoc.rejected_contexts and not assoc.accepted_contexts:
        names = ", ".join(sorted({cx.abstract_syntax.name for cx in assoc.rejected_contexts}))
        raise StoreRefused(f"{dest} does not accept {names} (every presentation context rejected)")
    if handshake_problem(tls):
        raise StoreUnavailable(f"{dest}: TLS: {handshake_problem(tls)}")
    raise StoreUnavailable(f"{dest} cannot be reached (association {'aborted' if assoc.is_aborted else 'failed'})")


def echo(dest: Destination, tls: ssl.SSLContext | None = None) -> str | None:
    """None when the archive answers C-ECHO, else why not (for printer health). `tls`: a fresh client
    context (net/tls.py) to speak DICOM TLS."""
    ae = _ae(dest)
    ae.add_requested_context(Verification)
    try:
        assoc = _associate(ae, dest, tls)
    except (StoreUnavailable, StoreRefused) as exc:
        return str(exc)
    try:
        status = assoc.send_c_echo()
        if not status or status.Status != SUCCESS:
            return f"{dest} did not answer C-ECHO"
        return None
    finally:
        release(assoc)  # bounded (scu/race_guard.py)
        ae.shutdown()


def store(dest: Destination, objects: Iterable[Dataset | Path], *, stored: Callable[[Dataset | Path], None] =
          lambda p: None, tls: ssl.SSLContext | None = None, syntaxes: Sequence[str] = ()) -> list[UID]:
    """C-STORE each object (a Dataset with file meta, or a DICOM file) on one association; `stored(obj)` after
    each success (the caller records it, so a retry after a crash sends only the rest); `tls` as for echo;
    `syntaxes`: the transfer syntaxes (archive/syntaxes.py names) an uncompressed image Dataset may be
    compressed to, in our order of preference. Returns the transfer syntax each object went in.
    Raises StoreUnavailable or StoreRefused."""
    from printserver.archive.syntaxes import choose, encode, proposed

    paths = list(objects)
    if not paths:
        return []
    ae = _ae(dest)
    for sop_class in STORED_SOP_CLASSES:
        for offer in proposed(syntaxes) if sop_class in IMAGE_SOP_CLASSES else [TRANSFER_SYNTAXES]:
            ae.add_requested_context(sop_class, offer)
    assoc = _associate(ae, dest, tls)
    sent: list[UID] = []
    try:
        for path in paths:
            ds = path if isinstance(path, Dataset) else dcmread(path)
            syntax = ds.file_meta.TransferSyntaxUID
            if isinstance(path, Dataset) and "PixelData" in ds and syntax in TRANSFER_SYNTAXES and syntaxes:
                accepted = [cx.transfer_syntax[0] for cx in assoc.accepted_contexts
                            if cx.abstract_syntax == ds.SOPClassUID]
                syntax = choose(syntaxes, accepted)
                if syntax not in TRANSFER_SYNTAXES:  # JPEG-LS, RLE, Deflate; else pynetdicom sends it as it is
                    try:
                        ds = encode(ds, syntax)
                    except Exception as exc:  # an encoder's bug must not hold the film back: send it uncompressed
                        log.warning("%s: cannot encode %s in %s (%s), sending it uncompressed", dest,
                                    ds.SOPInstanceUID, syntax.name, exc)
                        syntax = ds.file_meta.TransferSyntaxUID
            try:
                status = assoc.send_c_store(ds)
            except ValueError as exc:  # no accepted presentation context for this SOP class
                raise StoreRefused(f"{dest} does not accept {ds.SOPClassUID.name}: {exc}") from exc
            if not status or "Status" not in status:
                raise StoreUnavailable(f"{dest}: no C-STORE response (association lost)")
            code = int(status.Status)
            comment = f" ({status.ErrorComment})" if "ErrorComment" in status else ""
            if code == SUCCESS or code in STORED_WITH_WARNING:
                if code != SUCCESS:
                    log.warning("%s stored %s with warning 0x%04X%s", dest, ds.SOPInstanceUID, code, comment)
                stored(path)
                sent.append(syntax)
                continue
            message = f"{dest} answered C-STORE of {ds.SOPClassUID.name} with 0x{code:04X}{comment}"
            raise (StoreRefused if _permanent(code) else StoreUnavailable)(message)
    finally:
        release(assoc)
        ae.shutdown()
    return sent
