"""A small pynetdicom print SCU for driving the SCP in tests, request by request.

Deliberately low level (each DIMSE message is one call, any data set can be sent) so tests can
send malformed requests too; it avoids pynetdicom's known SCU traps: meta_uid on every meta
member, never an empty Dataset, increasing message IDs, a bound N-EVENT-REPORT handler.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import AE, evt

from printserver import uids
from printserver.net import fixes
from printserver.scu.race_guard import ResponseRaceGuard, release

META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META
TS_ALL = [uids.IMPLICIT_VR_LITTLE_ENDIAN, uids.EXPLICIT_VR_LITTLE_ENDIAN, uids.EXPLICIT_VR_BIG_ENDIAN]


def image_item(pixels: np.ndarray, *, bits: int = 12, photometric: str = "MONOCHROME2",
               aspect: tuple[int, int] | None = None, vr: str | None = None, big_endian: bool = False) -> Dataset:
    """A Basic Grayscale Image Sequence item for `pixels` (uint8 for 8-bit, uint16 for 12-bit).

    pydicom writes OB/OW bytes as given, so for a big endian transfer syntax the words are swapped here.
    """
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = photometric
    item.Rows, item.Columns = pixels.shape
    item.BitsAllocated, item.BitsStored, item.HighBit = (8, 8, 7) if bits == 8 else (16, 12, 11)
    item.PixelRepresentation = 0
    if aspect:
        item.PixelAspectRatio = list(aspect)
    vr = vr or ("OB" if bits == 8 else "OW")
    data = pixels.astype(np.uint8 if bits == 8 else "<u2").tobytes()
    if len(data) % 2:
        data += b"\0"
    if big_endian and vr == "OW":
        data = np.frombuffer(data, "<u2").astype(">u2").tobytes()
    item.add_new(0x7FE00010, vr, data)
    return item


def image_box_dataset(position: int, pixels: np.ndarray | None, **kwargs: Any) -> Dataset:
    ds = Dataset()
    ds.ImageBoxPosition = position
    polarity = kwargs.pop("polarity", None)
    if polarity:
        ds.Polarity = polarity
    ds.BasicGrayscaleImageSequence = Sequence([image_item(pixels, **kwargs)] if pixels is not None else [])
    return ds


class PrintSCU:
    """One association to a print SCP; every call returns (status code, response data set)."""

    def __init__(self, port: int, *, called_ae: str = "PRINTSCP", calling_ae: str = "TESTSCU",
                 transfer_syntaxes: list[str] | None = None, contexts: list[str] | None = None) -> None:
        self.ae = AE(ae_title=calling_ae)
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = 20
        for ctx in contexts or [META]:
            self.ae.add_requested_context(ctx, transfer_syntaxes or TS_ALL)
        self.port = port
        self.called_ae = called_ae
        self.assoc: Any = None
        self._ids = itertools.count(1)
        self.session_uid: str | None = None
        self.film_box_uid: str | None = None
        self.image_box_uids: list[str] = []
        self.meta = META

    def __enter__(self) -> PrintSCU:
        self.assoc = self.ae.associate("127.0.0.1", self.port, ae_title=self.called_ae,
                                       evt_handlers=[(evt.EVT_N_EVENT_REPORT, lambda e: (0x0000, None))])
        if not self.assoc.is_established:
            raise ConnectionError("association not established")
        fixes.receive_lenient_uids(self.assoc)  # tests send bad UIDs on purpose and get them echoed
        self._guard = ResponseRaceGuard(self.assoc)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.assoc is not None:
            release(self.assoc, self._guard)  # bounded: events still arriving must not hold a test's release
        self.ae.shutdown()

    @staticmethod
    def _status(result: tuple[Any, Any]) -> tuple[int, Dataset | None]:
        status, ds = result
        if status is None or "Status" not in status:
            raise ConnectionError("no response (association aborted or timed out)")
        return int(status.Status), ds

    def status_dataset(self, result: tuple[Any, Any]) -> Dataset:
        return result[0]

    # --- raw DIMSE ---------------------------------------------------------------------------------

    def n_create(self, ds: Dataset | None, sop_class: str, uid: str | None = None, meta: str | None = "") -> Any:
        with self._guard.waiting(), fixes.lenient_uids():
            return self.assoc.send_n_create(ds, sop_class, uid, meta_uid=self.meta if meta == "" else meta,
                                            msg_id=next(self._ids))

    def n_set(self, ds: Dataset, sop_class: str, uid: str, meta: str | None = "") -> Any:
        with self._guard.waiting(), fixes.lenient_uids():
            return self.assoc.send_n_set(ds, sop_class, uid, meta_uid=self.meta if meta == "" else meta,
                                         msg_id=next(self._ids))

    def n_get(self, tags: list[int] | None, sop_class: str = uids.PRINTER,
              uid: str = uids.PRINTER_INSTANCE) -> Any:
        with self._guard.waiting(), fixes.lenient_uids():
            return self.assoc.send_n_get(tags or [], sop_class, uid, meta_uid=self.meta, msg_id=next(self._ids))

    def n_action(self, action: int, sop_class: str, uid: str) -> Any:
        with self._guard.waiting(), fixes.lenient_uids():
            return self.assoc.send_n_action(None, action, sop_class, uid, meta_uid=self.meta,
                                            msg_id=next(self._ids))

    def n_delete(self, sop_class: str, uid: str) -> Any:
        with self._guard.waiting(), fixes.lenient_uids():
            return self.assoc.send_n_delete(sop_class, uid, meta_uid=self.meta, msg_id=next(self._ids))

    def raw_n_set(self, sop_class: str, uid: str, encoded: bytes) -> Any:
        """An N-SET whose Modification List is `encoded` as is (malformed data sets); the response primitive."""
        import time
        from io import BytesIO

        from pynetdicom.dimse_primitives import N_SET

        req = N_SET()
        req.MessageID = next(self._ids)
        req.RequestedSOPClassUID, req.RequestedSOPInstanceUID = sop_class, uid
        req.ModificationList = BytesIO(encoded)
        with self._guard.waiting(), fixes.lenient_uids():  # first: no event served meanwhile (race_guard.py)
            self.assoc._reactor_checkpoint.clear()  # pause the reactor as pynetdicom's own send_*() do
            while not self.assoc._is_paused:
                time.sleep(0.0001)
            try:
                self.assoc.dimse.send_msg(req, self.assoc.accepted_contexts[0].context_id)
                return self.assoc.dimse.get_msg(block=True)[1]
            finally:
                self.assoc._reactor_checkpoint.set()

    # --- the usual flow ----------------------------------------------------------------------------

    def create_session(self, ds: Dataset | None = None, uid: str | None = None) -> int:
        self.session_uid = uid or uids.new_uid()
        status, _ = self._status(self.n_create(ds, uids.BASIC_FILM_SESSION, self.session_uid))
        return status

    def create_film_box(self, display_format: str = "STANDARD\\1,1", **attrs: Any) -> tuple[int, Dataset | None]:
        ds = Dataset()
        ds.ImageDisplayFormat = display_format
        for k, v in attrs.items():
            setattr(ds, k, v)
        ref = Dataset()
        ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
        ref.ReferencedSOPInstanceUID = self.session_uid
        ds.ReferencedFilmSessionSequence = Sequence([ref])
        self.film_box_uid = uids.new_uid()
        status, rsp = self._status(self.n_create(ds, uids.BASIC_FILM_BOX, self.film_box_uid))
        self.image_box_uids = [i.ReferencedSOPInstanceUID for i in rsp.ReferencedImageBoxSequence] \
            if rsp is not None and "ReferencedImageBoxSequence" in rsp else []
        return status, rsp

    def set_image(self, position: int, pixels: np.ndarray | None, **kwargs: Any) -> int:
        ts = self.assoc.accepted_contexts[0].transfer_syntax[0]
        ds = image_box_dataset(position, pixels, big_endian=ts == uids.EXPLICIT_VR_BIG_ENDIAN, **kwargs)
        status, _ = self._status(self.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, self.image_box_uids[position - 1]))
        return status

    def print_film_box(self) -> int:
        return self._status(self.n_action(1, uids.BASIC_FILM_BOX, self.film_box_uid))[0]

    def print_session(self) -> int:
        return self._status(self.n_action(1, uids.BASIC_FILM_SESSION, self.session_uid))[0]

    def delete_film_box(self) -> int:
        return self._status((self.n_delete(uids.BASIC_FILM_BOX, self.film_box_uid), None))[0]


class JobSCU(PrintSCU):
    """A print SCU that negotiates Print Job: records the N-EVENT-REPORTs it receives, asks Print Job N-GET."""

    def __init__(self, port: int, **kw: Any) -> None:
        super().__init__(port, contexts=[META, uids.PRINT_JOB], **kw)
        self.events: list[tuple[int, str]] = []
        self.event_message_ids: list[int] = []
        self._got = threading.Condition()

    def __enter__(self) -> JobSCU:
        super().__enter__()
        self.assoc.bind(evt.EVT_N_EVENT_REPORT, self._on_event)
        return self

    def _on_event(self, event: Any) -> tuple[int, None]:
        with self._got:
            self.events.append((int(event.request.EventTypeID), str(event.event_information.ExecutionStatusInfo)))
            self.event_message_ids.append(int(event.request.MessageID))
            self._got.notify_all()
        return 0x0000, None

    def wait_event(self, type_id: int, info: str | None = None, timeout: float = 30) -> list[tuple[int, str]]:
        """Wait for an event; N-GETs are sent only between events (a pynetdicom SCU waiting for a response
        takes an N-EVENT-REPORT-RQ arriving then for the response and aborts)."""
        with self._got:
            assert self._got.wait_for(lambda: any(e[0] == type_id and info in (None, e[1]) for e in self.events),
                                      timeout), self.events
            return list(self.events)

    def job_status(self, job_uid: str) -> tuple[str, str]:
        """The Print Job's (Execution Status, Execution Status Info) as an N-GET answers them now."""
        status, ds = self.assoc.send_n_get([], uids.PRINT_JOB, job_uid, msg_id=next(self._ids))
        assert int(status.Status) == 0x0000, status
        return str(ds.ExecutionStatus), str(ds.ExecutionStatusInfo)


def print_film(port: int, images: list[np.ndarray | None], display_format: str = "STANDARD\\1,1", *,
               bits: int = 12, session: Dataset | None = None, film_box: dict[str, Any] | None = None,
               calling_ae: str = "TESTSCU", called_ae: str = "PRINTSCP", **image_kwargs: Any) -> list[int]:
    """Print one film over one association; returns every status in order."""
    statuses = []
    with PrintSCU(port, calling_ae=calling_ae, called_ae=called_ae) as scu:
        statuses.append(scu.create_session(session))
        st, _ = scu.create_film_box(display_format, **(film_box or {}))
        statuses.append(st)
        for pos, img in enumerate(images, start=1):
            if img is not None:
                statuses.append(scu.set_image(pos, img, bits=bits, **image_kwargs))
        statuses.append(scu.print_film_box())
        statuses.append(scu.delete_film_box())
    return statuses
