"""The conversation: every association recorded as a transcript, for the console and `printserver jobs show`.

Recorded from pynetdicom events (EVT_REQUESTED / ACCEPTED / REJECTED / DIMSE_RECV / DIMSE_SENT /
RELEASED / ABORTED / CONN_CLOSE). On the association's hot path a handler only appends a reference
(the command set and the data set's bytes, which `BytesIO.getvalue()` hands over without copying) to
a queue; one background thread decodes each message into rows (pixel data and other long values
summarised, never dumped) and writes the transcript as one JSON file, mode 0600, when the
association ends. While it is open, the same thread keeps a snapshot of the rows decoded so far in
transcripts/open/ (rewritten at most every OPEN_FLUSH_SECONDS, removed when the final file is written;
one left by a crash is finished at the next start), so the console shows an association in progress
without ever touching a live association object. A transcript names the jobs it produced: the spool's
job book tells its listeners of a new job in the association's own thread, so `on_job` links it to that
thread's association.

Transcripts of associations that produced no job (refused, aborted, only a Printer N-GET) are kept
for `transcript_keep_days`; those with a job stay with the job.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydicom.datadict import keyword_for_tag
from pynetdicom import evt

from printserver.config import ServerConfig
from printserver.net import acceptance
from printserver.net.dataset_rows import dataset_rows
from printserver.views.transcripts import OPEN_DIR

log = logging.getLogger(__name__)

REJECT_REASONS = {acceptance.REASON_CALLED_AE_NOT_RECOGNIZED: "called AE title not recognized",
                  acceptance.REASON_CALLING_AE_NOT_RECOGNIZED: "calling AE title not recognized"}
SWEEP_SECONDS = 3600.0
OPEN_FLUSH_SECONDS = 1.0  # an open association's snapshot is at most this old (when it has new rows)
CLOSE_GRACE_SECONDS = 2.0  # how long after the close an association's own thread may still report its end

# --- the recorder -----------------------------------------------------------------------------------

def _name(t: dict[str, Any]) -> str:
    """A transcript's file name (the same while open and once written): start time, then a tie-breaker."""
    return f"{t['started_ns']:020d}-{id(t) & 0xFFFFFF:06x}.json"


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="milliseconds")


def _contexts(contexts: Any) -> list[dict[str, Any]]:
    out = []
    for cx in contexts:
        syntax = str(cx.abstract_syntax)
        out.append({"id": cx.context_id, "abstract_syntax": syntax, "name": _uid_name(syntax),
                    "transfer_syntaxes": [str(ts) for ts in cx.transfer_syntax],
                    "result": getattr(cx, "result", None)})
    return out


def _uid_name(uid: str) -> str:
    from pydicom.uid import UID

    return UID(uid).name


class TranscriptRecorder:
    """Records every association of a server into `folder` (one JSON file per association)."""

    def __init__(self, folder: str | Path, config: ServerConfig, *, keep_days: float = 7.0) -> None:
        self.folder = Path(folder)
        self.config = config
        self.keep_days = keep_days
        self._open: dict[int, dict[str, Any]] = {}  # id(association) -> transcript being recorded
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._last_sweep = 0.0
        self._dirty: dict[int, dict[str, Any]] = {}  # open transcripts with rows not in their snapshot yet
        self._closing: dict[int, dict[str, Any]] = {}  # connection closed, waiting for how the association ended

    def evt_handlers(self) -> list[tuple[Any, Callable[[Any], None]]]:
        """Bind these first: notification handlers run in bind order, and a refusal happens in EVT_REQUESTED."""
        return [(evt.EVT_REQUESTED, self.on_requested), (evt.EVT_ACCEPTED, self.on_accepted),
                (evt.EVT_REJECTED, self.on_rejected), (evt.EVT_DIMSE_RECV, self.on_recv),
                (evt.EVT_DIMSE_SENT, self.on_sent), (evt.EVT_RELEASED, self.on_released),
                (evt.EVT_ABORTED, self.on_aborted), (evt.EVT_CONN_CLOSE, self.on_closed)]

    def start(self) -> None:
        from printserver.views.previews import private_dir

        private_dir(self.folder, levels=2)  # transcripts/ and the console folder
        private_dir(self.folder / OPEN_DIR)
        self._finish_left_open()
        self._thread = threading.Thread(target=self._run, name="transcripts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is recorded (associations still open are written as they are)."""
        with self._lock:
            still_open = list(self._open.values())
            self._open.clear()
            self._closing.clear()
        for transcript in still_open:
            transcript["outcome"] = transcript.get("outcome") or ("connection closed" if "_closed" in transcript
                                                                  else "open at server stop")
            self._queue.put((self._write, (transcript,)))
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    # --- event handlers: cheap, never raise (a raising notification handler stops the ones after it)

    def _guard(fn: Callable[..., None]) -> Callable[..., None]:  # type: ignore[misc]
        def wrapper(self: TranscriptRecorder, event: Any) -> None:
            try:
                fn(self, event)
            except Exception:
                log.exception("transcript: %s handler failed", fn.__name__)
        wrapper.__name__ = fn.__name__
        return wrapper

    @_guard
    def on_requested(self, event: Any) -> None:
        rq = event.assoc.requestor
        primitive = rq.primitive
        transcript = {
            "started": _now(), "started_ns": time.time_ns(), "t0": time.monotonic(),
            "calling_ae": str(primitive.calling_ae_title).strip(), "called_ae": str(primitive.called_ae_title).strip(),
            "address": rq.address, "port": rq.port, "max_pdu": rq.maximum_length,
            "implementation": f"{rq.implementation_class_uid} {rq.implementation_version_name or ''}".strip(),
            "proposed": _contexts(primitive.presentation_context_definition_list),
            "accepted": [], "rejected_contexts": [], "outcome": "", "job_uids": [], "messages": [],
        }
        with self._lock:
            self._open[id(event.assoc)] = transcript

    @_guard
    def on_accepted(self, event: Any) -> None:
        t = self._get(event)
        if t is not None:
            t["accepted"] = _contexts(event.assoc.accepted_contexts)
            t["rejected_contexts"] = _contexts(event.assoc.rejected_contexts)
            t["syntax"] = {cx.context_id: str(cx.transfer_syntax[0]) for cx in event.assoc.accepted_contexts}
            self._queue.put((self._snapshot, (t,)))  # visible as open from the start

    @_guard
    def on_rejected(self, event: Any) -> None:
        t = self._get(event)
        if t is not None:
            t["outcome"] = self._rejected(t)

    def _rejected(self, t: dict[str, Any]) -> str:
        refused = acceptance.refusal(self.config, t["called_ae"], t["calling_ae"])
        return "rejected" + (f": {REJECT_REASONS.get(refused[0], refused[0])} ({refused[1]})" if refused else "")

    @_guard
    def on_recv(self, event: Any) -> None:
        self._message(event, "in")

    @_guard
    def on_sent(self, event: Any) -> None:
        self._message(event, "out")

    @_guard
    def on_released(self, event: Any) -> None:
        t = self._get(event)
        if t is not None and not t["outcome"]:
            t["outcome"] = "released"

    @_guard
    def on_aborted(self, event: Any) -> None:
        t = self._get(event)
        if t is not None and not t["outcome"]:
            t["outcome"] = "aborted"

    @_guard
    def on_closed(self, event: Any) -> None:
        """The connection is gone; the association's own thread may still be about to report how it ended
        (EVT_RELEASED / REJECTED / ABORTED run there, the close in the network thread): the background
        thread writes the transcript once that arrives, or after CLOSE_GRACE_SECONDS."""
        with self._lock:
            t = self._open.get(id(event.assoc))
            if t is not None:
                t["_closed"] = time.monotonic()
                self._closing[id(event.assoc)] = t
        if t is not None:
            self._queue.put((self._reap, ()))

    def on_job(self, record: Any) -> None:
        """Job book listener: a job created in an association's thread is that association's job."""
        with self._lock:
            t = self._open.get(id(threading.current_thread()))
        if t is not None and record.job_uid not in t["job_uids"]:
            t["job_uids"].append(record.job_uid)

    def _get(self, event: Any) -> dict[str, Any] | None:
        with self._lock:
            return self._open.get(id(event.assoc))

    def _message(self, event: Any, direction: str) -> None:
        t = self._get(event)
        if t is None:
            return
        msg = event.message
        data = getattr(msg, "data_set", None)
        raw = data.getvalue() if data is not None else b""  # no copy (CPython shares the buffer)
        entry = [time.monotonic() - t["t0"], direction, type(msg).__name__, msg.context_id, msg.command_set, raw]
        t["messages"].append(entry)
        self._queue.put((self._decode, (t, entry)))

    # --- the background thread ---------------------------------------------------------------------

    def _run(self) -> None:
        self.sweep()
        while True:
            try:
                item = self._queue.get(timeout=CLOSE_GRACE_SECONDS / 4 if self._closing
                                       else OPEN_FLUSH_SECONDS if self._dirty else None)
            except queue.Empty:
                self._reap()
                item = (self._flush_open, ())
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:
                log.exception("transcript: %s failed", fn.__name__)
            if time.monotonic() - self._last_sweep > SWEEP_SECONDS:
                self.sweep()

    def _decode(self, t: dict[str, Any], entry: list[Any]) -> None:
        when, direction, kind, context_id, command, raw = entry
        syntax = t.get("syntax", {}).get(context_id, "1.2.840.10008.1.2")
        row: dict[str, Any] = {"t": round(when, 3), "dir": direction, "message": kind.replace("_", "-"),
                               "context_id": context_id}
        for key, attr in (("sop_class", "AffectedSOPClassUID"), ("sop_class", "RequestedSOPClassUID"),
                          ("instance", "AffectedSOPInstanceUID"), ("instance", "RequestedSOPInstanceUID"),
                          ("message_id", "MessageID"), ("message_id", "MessageIDBeingRespondedTo"),
                          ("status", "Status"), ("error_comment", "ErrorComment"),
                          ("action_type_id", "ActionTypeID"), ("event_type_id", "EventTypeID")):
            value = command.get(attr)
            if value is not None and value != "":
                row[key] = int(value) if isinstance(value, int) else str(value)
        for attr in ("AttributeIdentifierList", "OffendingElement"):
            value = command.get(attr)
            if value:
                tags = value if isinstance(value, list) else [value]
                row.setdefault("attributes", []).extend(keyword_for_tag(int(tag)) or f"{int(tag):08X}" for tag in tags)
        if "sop_class" in row:
            row["sop_class_name"] = _uid_name(row["sop_class"])
        if raw:
            row["data"] = dataset_rows(raw, syntax == "1.2.840.10008.1.2", syntax != "1.2.840.10008.1.2.2")
        entry[:] = [row]  # drop the references to the command and the bytes
        if not t.get("_written"):
            self._dirty[id(t)] = t
            self._flush_open()

    def _reap(self) -> None:
        """Write the transcripts whose association has ended and said how (or had its grace time)."""
        now = time.monotonic()
        for key, t in list(self._closing.items()):
            if not t["outcome"] and now - t["_closed"] < CLOSE_GRACE_SECONDS:
                continue
            with self._lock:
                if self._closing.pop(key, None) is None:
                    continue  # taken by stop()
                self._open.pop(key, None)
            if not t["outcome"] and not t["accepted"] and acceptance.refusal(self.config, t["called_ae"],
                                                                             t["calling_ae"]):
                t["outcome"] = self._rejected(t)  # refused, and EVT_REJECTED never came
            t["outcome"] = t["outcome"] or "connection closed"
            self._write(t)

    # --- snapshots of open associations (the background thread only) --------------------------------

    def _flush_open(self) -> None:
        """Rewrite the snapshot of each open association with new rows, if its last one is old enough."""
        now = time.monotonic()
        for key, t in list(self._dirty.items()):
            if now - t.get("_flushed", 0.0) >= OPEN_FLUSH_SECONDS:
                del self._dirty[key]
                self._snapshot(t)

    def _snapshot(self, t: dict[str, Any]) -> None:
        if t.get("_written"):
            return
        t["_flushed"] = time.monotonic()
        decoded = [entry[0] for entry in list(t["messages"]) if len(entry) == 1]  # decoded so far, in order
        out = {k: v for k, v in dict(t).items() if k not in ("messages", "t0", "syntax") and not k.startswith("_")}
        out["outcome"] = out.get("outcome") or "open"
        self._dump(self.folder / OPEN_DIR / _name(t), out | {"open": True, "messages": decoded})

    def _finish_left_open(self) -> None:
        """Snapshots left by a server that died with associations open: they become transcripts."""
        for path in (self.folder / OPEN_DIR).glob("*.json"):
            try:
                t = json.loads(path.read_text(encoding="utf-8"))
                t["outcome"] = "open when the server stopped" if t.get("outcome") in ("", "open") else t["outcome"]
                t.pop("open", None)
                self._dump(self.folder / path.name, t)
                path.unlink()
            except (OSError, ValueError):
                log.warning("transcript snapshot %s unreadable; left in place", path.name)

    def _write(self, t: dict[str, Any]) -> None:
        t["_written"] = True  # no snapshot from now on
        self._dirty.pop(id(t), None)
        for entry in t["messages"]:
            if len(entry) > 1:  # not decoded yet (stop): decode now
                self._decode(t, entry)
        out = {k: v for k, v in t.items() if k not in ("messages", "t0", "syntax") and not k.startswith("_")}
        out["ended"] = _now()
        out["messages"] = [entry[0] for entry in t["messages"]]
        self._dump(self.folder / _name(t), out)
        (self.folder / OPEN_DIR / _name(t)).unlink(missing_ok=True)  # after: never a moment with neither

    @staticmethod
    def _dump(path: Path, data: dict[str, Any]) -> None:
        """Write atomically, owner-only (transcripts name patients' studies)."""
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, separators=(",", ":")))  # dumps: C encoder (json.dump is pure Python)
        os.replace(tmp, path)

    def sweep(self) -> int:
        """Delete transcripts without a job older than keep_days; return how many."""
        self._last_sweep = time.monotonic()
        cutoff = time.time() - self.keep_days * 86400
        removed = 0
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if not json.loads(path.read_text(encoding="utf-8")).get("job_uids"):
                    path.unlink()
                    removed += 1
            except (OSError, ValueError):
                continue
        return removed
