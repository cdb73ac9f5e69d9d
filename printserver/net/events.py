"""Print Job N-EVENT-REPORTs to the modality (the model answers Print Job N-GET and adds the N-ACTION's
Referenced Print Job Sequence; its WatchPrintJob effect brings the job here).

Events go over the association that created the job, only while it is open, only if it negotiated
the Print Job SOP class, and never before the N-ACTION response (a job's events wait behind a gate
that EVT_DIMSE_SENT opens once that response is on the wire). One sender thread sends them in
order; send_n_event_report from a thread is safe in pynetdicom (it pauses the reactor).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from typing import Any

from pydicom.dataset import Dataset

from printserver import uids
from printserver.model.print_job import event_information
from printserver.net import fixes
from printserver.spool.records import DONE, EVENT_TYPE_ID, FAILURE, JobBook, JobRecord

log = logging.getLogger(__name__)

GATE_TIMEOUT = 30.0  # seconds an event waits for its N-ACTION response to be sent


_MESSAGE_IDS = itertools.cycle(range(1, 0x10000))
_MESSAGE_IDS_LOCK = threading.Lock()


def next_message_id() -> int:
    """The Message ID of the next N-EVENT-REPORT-RQ the server sends (Print Job and Printer events alike):
    1..65535 (US), then round again. Each request gets its own, so a modality or a transcript can tell the
    events apart (pynetdicom's default is 1 for every one); one request at a time per association
    (fixes.exchange_lock) keeps them unique among the outstanding ones, as PS3.7 9.3.1.1 asks."""
    with _MESSAGE_IDS_LOCK:
        return next(_MESSAGE_IDS)


class PrintJobs:
    """Watches the jobs an association created and sends their events."""

    def __init__(self, book: JobBook) -> None:
        self.book = book
        self._lock = threading.Lock()
        self._watch: dict[str, tuple[Any, threading.Event]] = {}  # job UID -> (association, response sent)
        self._unsent: dict[Any, list[threading.Event]] = {}  # association -> gates of its unanswered prints
        self._told: dict[str, tuple[str, str]] = {}  # job UID -> (Execution Status, Info) last put out
        self._outbox: queue.Queue[tuple[Any, threading.Event, str, int, Dataset] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send_loop, name="print-job-events", daemon=True)
        self._thread.start()
        book.listen(self._on_change)

    def watch(self, assoc: Any, job_uid: str) -> None:
        """Called before the N-ACTION response: the job's events wait for it."""
        gate = threading.Event()
        with self._lock:
            self._watch[job_uid] = (assoc, gate)
            self._unsent.setdefault(assoc, []).append(gate)

    def unwatch(self, job_uid: str) -> None:
        """The job was not accepted after all (the spool refused it): no events."""
        with self._lock:
            watched = self._watch.pop(job_uid, None)
            self._told.pop(job_uid, None)
            if watched is not None:
                assoc, gate = watched
                gates = self._unsent.get(assoc, [])
                if gate in gates:
                    gates.remove(gate)

    def on_sent(self, event: Any) -> None:
        """EVT_DIMSE_SENT: an N-ACTION response left, so the events of its job may follow."""
        if type(event.message).__name__ != "N_ACTION_RSP":
            return
        with self._lock:
            gates = self._unsent.pop(event.assoc, [])
        for gate in gates:
            gate.set()

    def forget(self, assoc: Any) -> None:
        """The association ended: no more events for its jobs (the jobs themselves go on)."""
        with self._lock:
            for uid in [u for u, (a, _) in self._watch.items() if a is assoc]:
                del self._watch[uid]
                self._told.pop(uid, None)
            for gate in self._unsent.pop(assoc, []):
                gate.set()

    def _on_change(self, record: JobRecord) -> None:
        """An event when Execution Status or Info changed (PS3.4 H.4.5.1.2), not on every record change:
        a job retrying an output rewrites its record each attempt, and an event storm keeps the SCU's
        release waiting (the reactor is paused while each event waits for its answer)."""
        told = (record.execution_status, record.execution_status_info)
        with self._lock:
            watched = self._watch.get(record.job_uid)
            if watched is None or self._told.get(record.job_uid) == told:
                return
            self._told[record.job_uid] = told
            if record.execution_status in (DONE, FAILURE):
                del self._watch[record.job_uid]
                del self._told[record.job_uid]
        assoc, gate = watched
        self._outbox.put((assoc, gate, record.job_uid, EVENT_TYPE_ID[record.execution_status],
                          event_information(record)))

    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            assoc, gate, job_uid, event_type, info = item
            gate.wait(GATE_TIMEOUT)
            if not assoc.is_established:
                continue
            try:
                with fixes.exchange_lock(assoc):  # never between a request and its response
                    if not assoc.is_established:
                        continue
                    status, _ = assoc.send_n_event_report(info, event_type, uids.PRINT_JOB, job_uid,
                                                          msg_id=next_message_id())
                code = int(status.Status) if status is not None and "Status" in status else None
                log.info("Print Job %s event %d (%s) sent to %s: reply %s", job_uid, event_type,
                         info.ExecutionStatusInfo, assoc.requestor.ae_title,
                         f"0x{code:04X}" if code is not None else "none")
            except Exception:  # the SCU went away meanwhile; the job goes on regardless
                log.warning("Print Job %s event %d not delivered", job_uid, event_type, exc_info=True)

    def stop(self) -> None:
        self._outbox.put(None)
        self._thread.join(timeout=5)
