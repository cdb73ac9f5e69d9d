"""pynetdicom event handlers: DIMSE-N request -> model Request -> Response -> status + data set.

Each handler only translates. The one thing done here besides translation is the durable hand-off:
a Print that produced a job is answered Success only after the spool has the job on disk.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from printserver import uids
from printserver.config import ServerConfig
from printserver.errors import PrintError, SpoolError
from printserver.layout import load_layouts
from printserver.model.association import PrintAssociation
from printserver.model.messages import Op, Request, Response
from printserver.net.events import PrintJobs, has_print_job_context, referenced_print_job
from printserver.outputs.health import HealthCache
from printserver.outputs.plan import job_outputs
from printserver.spool.records import JobRecord
from printserver.spool.store import Spool
from printserver.spool.worker import Dispatcher
from printserver.status import Category, Status, describe

log = logging.getLogger(__name__)

ERROR_COMMENT_MAX = 64  # Error Comment (0000,0902) is LO


class PrintHandlers:
    """Holds one PrintAssociation per association; binds to EVT_N_* and lifecycle events."""

    def __init__(self, config: ServerConfig, spool: Spool, dispatcher: Dispatcher,
                 print_jobs: PrintJobs | None = None) -> None:
        self.config = config
        self.spool = spool
        self.dispatcher = dispatcher
        self.print_jobs = print_jobs
        self.health = HealthCache()
        self.layouts = load_layouts(config.layouts_dir)
        self._states: dict[Any, PrintAssociation] = {}
        self._lock = threading.Lock()

    # --- association lifecycle ---------------------------------------------------------------------

    def state(self, assoc: Any) -> PrintAssociation:
        with self._lock:
            st = self._states.get(assoc)
            if st is None:
                called = assoc.acceptor.ae_title
                profile = self.config.printer(called) or self.config.printers[0]
                negotiated = frozenset(str(cx.abstract_syntax) for cx in assoc.accepted_contexts)
                st = PrintAssociation(profile, self.layouts, calling_ae=assoc.requestor.ae_title,
                                      called_ae=called, negotiated=negotiated)
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
            if req.sop_class_uid == uids.PRINTER and req.op is Op.N_GET:
                configured = self.config.printer(st.called_ae) or st.profile
                status, info, why = self.health.get(configured)  # the outputs' truth, not just the config
                if why and status != "NORMAL":
                    log.info("printer %s reports %s/%s: %s", st.profile.ae_title, status, info, why)
                st.profile = replace(st.profile, printer_status=status, printer_status_info=info)
            if req.sop_class_uid == uids.PRINT_JOB and self.print_jobs is not None:
                rsp = self._print_job(req)
            else:
                rsp = st.handle(req)
            if rsp.job is not None:
                rsp = self._spool(st, req, rsp, event.assoc)
        except Exception as exc:  # never let one bad message end the association
            log.exception("%s from %s failed", op.value, st.calling_ae)
            rsp = Response(Status.PROCESSING_FAILURE, error_comment=f"processing failure: {exc}")
        return self._encode(rsp, event)

    def _print_job(self, req: Request) -> Response:
        assert self.print_jobs is not None
        try:
            return self.print_jobs.n_get(req)
        except PrintError as exc:
            log.warning("%s Print Job %s: 0x%04X %s", req.op.value, req.sop_instance_uid, exc.status, exc.comment)
            return Response(exc.status, error_comment=exc.comment)

    def _spool(self, st: PrintAssociation, req: Request, rsp: Response, assoc: Any = None) -> Response:
        job = rsp.job
        assert job is not None
        try:
            path = self.spool.submit(job, job_outputs(st.profile))
        except SpoolError as exc:
            log.error("print job from %s not accepted: %s", st.calling_ae, exc)
            session = req.sop_class_uid == uids.BASIC_FILM_SESSION
            status = (Status.PRINT_QUEUE_FULL_SESSION if session else Status.PRINT_QUEUE_FULL_FILM_BOX) \
                if exc.queue_full else Status.PROCESSING_FAILURE
            return Response(status, error_comment=str(exc))
        log.info("print job %s accepted from %s: %d film(s), %s copies%s", path.name, st.calling_ae,
                 len(job.films), job.copies, "; " + "; ".join(rsp.notes) if rsp.notes else "")
        if self.print_jobs is not None and assoc is not None and has_print_job_context(assoc):
            self.print_jobs.watch(assoc, job.job_uid)  # Pending, Printing, Done/Failure follow the response
            data = rsp.dataset if rsp.dataset is not None else Dataset()
            data.add_new(0x21000500, "SQ", [referenced_print_job(job.job_uid)])
            rsp.dataset = data
        self.dispatcher.book.create(path, JobRecord.for_job(job, st.profile.ae_title))
        self.dispatcher.submit(path)
        rsp.job = None
        return rsp

    @staticmethod
    def _encode(rsp: Response, event: Any) -> tuple[Dataset, Dataset | None]:
        status = Dataset()
        status.Status = int(rsp.status)
        if rsp.error_comment:
            status.ErrorComment = rsp.error_comment.replace("\\", "/")[:ERROR_COMMENT_MAX]
        if rsp.attribute_identifiers and hasattr(event.request, "AttributeIdentifierList"):
            status.AttributeIdentifierList = list(rsp.attribute_identifiers)
        data = rsp.dataset
        if rsp.created_instance_uid:
            # pynetdicom puts a minted UID into the command only from the data set, and only on
            # Success; from the status data set it does so for every status.
            status.AffectedSOPInstanceUID = rsp.created_instance_uid
            if rsp.status is Status.SUCCESS:
                data = data if data is not None else Dataset()
                data.AffectedSOPInstanceUID = rsp.created_instance_uid
        if rsp.status.category is Category.FAILURE:
            data = None
        log.debug("response %s", describe(rsp.status))
        return status, data
