"""pynetdicom event handlers: DIMSE-N request -> model Request -> Response -> status + data set.

Each handler only translates; the model (model/session.py) decides. Two things happen here besides
translation: a Response's effects are carried out (`_execute`: the job is on disk before a Print is
answered Success, the Print Job's events are watched), and one encoder writes every status field the
standard names for the status (`encode`). Anything unexpected is 0110, logged with its traceback, and
the association goes on.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from printserver.config import ServerConfig
from printserver.errors import SpoolError
from printserver.layout import load_layouts
from printserver.model.memory import MB, ImagePool
from printserver.model.messages import Op, Request, Response, SpoolJob, WatchPrintJob
from printserver.model.session import PrintSession
from printserver.net import status_fields
from printserver.net.events import PrintJobs
from printserver.outputs.health import HealthCache
from printserver.outputs.plan import job_outputs
from printserver.spool.records import JobRecord
from printserver.spool.store import Spool
from printserver.spool.worker import Dispatcher
from printserver.status import Category, Field, Status, describe, fields

log = logging.getLogger(__name__)

ERROR_COMMENT_MAX = 64  # Error Comment (0000,0902) is LO


class PrintHandlers:
    """Holds one PrintSession per association; binds to EVT_N_* and lifecycle events."""

    def __init__(self, config: ServerConfig, spool: Spool, dispatcher: Dispatcher,
                 print_jobs: PrintJobs | None = None) -> None:
        status_fields.install()
        self.config = config
        self.spool = spool
        self.dispatcher = dispatcher
        self.print_jobs = print_jobs
        self.health = HealthCache()
        self.pool = ImagePool(config.max_held_image_mb * MB)
        self.layouts = load_layouts(config.layouts_dir)
        self._states: dict[Any, PrintSession] = {}
        self._lock = threading.Lock()

    # --- association lifecycle ---------------------------------------------------------------------

    def state(self, assoc: Any) -> PrintSession:
        with self._lock:
            st = self._states.get(assoc)
            if st is None:
                called = assoc.acceptor.ae_title
                profile = self.config.printer(called) or self.config.printers[0]
                negotiated = frozenset(str(cx.abstract_syntax) for cx in assoc.accepted_contexts)
                st = PrintSession(profile, self.layouts, calling_ae=assoc.requestor.ae_title, called_ae=called,
                                  negotiated=negotiated, health=self.health,
                                  jobs=self.print_jobs.book if self.print_jobs is not None else None,
                                  pool=self.pool)
                self._states[assoc] = st
            return st

    def on_closed(self, event: Any) -> None:
        """Release, abort or lost connection: implicit N-DELETE of the association's objects."""
        with self._lock:
            st = self._states.pop(event.assoc, None)
        if st is not None:
            st.release()
        if self.print_jobs is not None:
            self.print_jobs.forget(event.assoc)

    # --- DIMSE-N -----------------------------------------------------------------------------------

    def on_n_create(self, event: Any) -> tuple[Dataset, Dataset | None]:
        r = event.request
        return self._serve(event, Op.N_CREATE, r.AffectedSOPClassUID, r.AffectedSOPInstanceUID,
                           lambda: event.attribute_list)

    def on_n_set(self, event: Any) -> tuple[Dataset, Dataset | None]:
        r = event.request
        return self._serve(event, Op.N_SET, r.RequestedSOPClassUID, r.RequestedSOPInstanceUID,
                           lambda: event.modification_list)

    def on_n_get(self, event: Any) -> tuple[Dataset, Dataset | None]:
        r = event.request
        ids = r.AttributeIdentifierList or []
        if not isinstance(ids, list):
            ids = [ids]
        return self._serve(event, Op.N_GET, r.RequestedSOPClassUID, r.RequestedSOPInstanceUID, lambda: None,
                           attribute_identifiers=tuple(int(t) for t in ids))

    def on_n_action(self, event: Any) -> tuple[Dataset, Dataset | None]:
        r = event.request
        return self._serve(event, Op.N_ACTION, r.RequestedSOPClassUID, r.RequestedSOPInstanceUID,
                           lambda: event.action_information, action_type_id=r.ActionTypeID)

    def on_n_delete(self, event: Any) -> Dataset:
        r = event.request
        status, _ = self._serve(event, Op.N_DELETE, r.RequestedSOPClassUID, r.RequestedSOPInstanceUID,
                                lambda: None)
        return status

    # --- translation -------------------------------------------------------------------------------

    def _serve(self, event: Any, op: Op, sop_class: Any, sop_instance: Any, get_dataset: Any,
               **extra: Any) -> tuple[Dataset, Dataset | None]:
        st = self.state(event.assoc)
        try:
            ds = get_dataset()
            if ds is not None:
                for _ in ds:  # pydicom decodes lazily: surface malformed data here, not in the model
                    pass
            req = Request(
                op=op,
                sop_class_uid=str(sop_class or ""),
                sop_instance_uid=str(sop_instance) if sop_instance else None,
                context_sop_class_uid=str(event.context.abstract_syntax),
                dataset=ds if ds is not None and len(ds) else None,
                little_endian=UID(event.context.transfer_syntax).is_little_endian,
                **extra,
            )
            rsp = self._execute(st, st.handle(req), event.assoc)
        except Exception as exc:  # never let one bad message end the association
            log.exception("%s from %s failed", op.value, st.calling_ae)
            rsp = Response(Status.PROCESSING_FAILURE, error_comment=f"processing failure: {exc}")
        return encode(rsp)

    def _execute(self, st: PrintSession, rsp: Response, assoc: Any) -> Response:
        """Carry out the response's effects; a spool that refuses the job turns the answer into a failure."""
        watch = [e.job_uid for e in rsp.effects if isinstance(e, WatchPrintJob)]
        if self.print_jobs is not None:
            for job_uid in watch:  # before the job exists: its first event must not be missed
                self.print_jobs.watch(assoc, job_uid)
        for effect in rsp.effects:
            if isinstance(effect, SpoolJob):
                try:
                    self._spool(st, effect)
                except SpoolError as exc:
                    log.error("print job from %s not accepted: %s", st.calling_ae, exc)
                    if self.print_jobs is not None:
                        for job_uid in watch:
                            self.print_jobs.unwatch(job_uid)
                    return Response(effect.queue_full if exc.queue_full else Status.PROCESSING_FAILURE,
                                    error_comment=str(exc))
        return rsp

    def _spool(self, st: PrintSession, effect: SpoolJob) -> None:
        """The durable hand-off: the job is on disk (and booked, and queued) when this returns."""
        job = effect.job
        path = self.spool.submit(job, job_outputs(st.profile))
        log.info("print job %s accepted from %s: %d film(s), %s copies%s", path.name, st.calling_ae,
                 len(job.films), job.copies, "; " + "; ".join(effect.notes) if effect.notes else "")
        self.dispatcher.book.create(path, JobRecord.for_job(job, st.profile.ae_title))
        self.dispatcher.submit(path)


def encode(rsp: Response) -> tuple[Dataset, Dataset | None]:
    """The status data set (every field PS3.7 names for the status: status.fields) and the response data set."""
    status = Dataset()
    status.Status = int(rsp.status)
    wanted = fields(rsp.status)
    if Field.ERROR_COMMENT in wanted and rsp.error_comment:
        status.ErrorComment = rsp.error_comment.replace("\\", "/")[:ERROR_COMMENT_MAX]
    if Field.OFFENDING_ELEMENT in wanted and rsp.offending_elements:
        status.OffendingElement = list(rsp.offending_elements)
    if Field.ATTRIBUTE_IDENTIFIER_LIST in wanted and rsp.attribute_identifiers:
        status.AttributeIdentifierList = list(rsp.attribute_identifiers)
    data = rsp.dataset
    if rsp.created_instance_uid:
        # pynetdicom puts a minted UID into the command only from the data set, and only on
        # Success; from the status data set it does so for every status.
        status.AffectedSOPInstanceUID = rsp.created_instance_uid
        if rsp.status is Status.SUCCESS:
            data = Dataset(data) if data is not None else Dataset()  # a copy: the response is a value
            data.AffectedSOPInstanceUID = rsp.created_instance_uid
    if rsp.status.category is Category.FAILURE:
        data = None
    log.debug("response %s", describe(rsp.status))
    return status, data
