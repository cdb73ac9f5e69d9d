"""Transcripts as people read them: the list, one association's messages, its conformance findings.

A transcript is the JSON file net/transcript.py writes per association. Findings are read from it, so
they say what went over the wire: each refused association or presentation context, each response with
a Warning or Failure status (in plain words, with the attribute keyword), each value printserver used
in place of the one the modality asked for (a request's value that its response answers differently).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from printserver.status import MEANING, Category, Status, category
from printserver.views.previews import console_dir

CONTEXT_RESULTS = {1: "rejected by the user", 2: "rejected, no reason", 3: "abstract syntax not supported",
                   4: "transfer syntaxes not supported"}


#: Sub-folder of transcripts/ where the recorder keeps the snapshot of each association still open.
OPEN_DIR = "open"


def transcripts_dir(spool_root: Path) -> Path:
    return console_dir(spool_root) / "transcripts"


@dataclass(frozen=True)
class Finding:
    severity: str  # "failure", "warning", "note"
    message: int | None  # index of the message in the transcript, None for the association itself
    keyword: str  # the attribute concerned, "" when none
    text: str


def status_words(status: int) -> str:
    try:
        return f"0x{status:04X} {MEANING[Status(status)]}"
    except (ValueError, KeyError):
        return f"0x{status:04X} ({category(status).value})"


def _what(msg: dict[str, Any]) -> str:
    return f"{msg['message'].rsplit('-', 1)[0]} {msg.get('sop_class_name', '')}".strip()


def findings(t: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    outcome = t.get("outcome", "")
    if outcome.startswith("rejected"):
        out.append(Finding("failure", None, "", f"association {outcome}"))
    elif outcome == "aborted":
        out.append(Finding("warning", None, "", "association aborted instead of released"))
    accepted = {cx["id"] for cx in t.get("accepted", [])}
    for cx in t.get("rejected_contexts", []):
        if cx["id"] not in accepted:
            why = CONTEXT_RESULTS.get(cx.get("result") or 0, "not accepted")
            out.append(Finding("note", None, "", f"presentation context {cx['name']}: {why}"))
    requests: dict[tuple[str, Any], dict[str, Any]] = {}
    messages = t.get("messages", [])
    for i, msg in enumerate(messages):
        kind = msg.get("message", "")
        if kind.endswith("-RQ") and msg["dir"] == "in":
            requests[(kind[:-3], msg.get("message_id"))] = msg
            continue
        if not kind.endswith("-RSP") or msg["dir"] != "out" or "status" not in msg:
            continue
        status = int(msg["status"])
        request = requests.get((kind[:-4], msg.get("message_id")))
        if status != 0:
            sev = "failure" if category(status) is Category.FAILURE else "warning"
            keywords = msg.get("attributes", [])
            comment = msg.get("error_comment", "")
            text = f"{_what(request or msg)} answered {status_words(status)}" + (f": {comment}" if comment else "") \
                + (f" (attributes: {', '.join(keywords)})" if keywords else "")
            out.append(Finding(sev, i, keywords[0] if keywords else _keyword_in(comment), text))
        if request is not None and status == 0:
            out += _substitutions(request, msg, i)
    return out


def _keyword_in(comment: str) -> str:
    """The first word of an Error Comment that looks like an attribute keyword (the model writes them so)."""
    from pydicom.datadict import tag_for_keyword

    for word in comment.replace(":", " ").replace(",", " ").split():
        if word[:1].isupper() and tag_for_keyword(word) is not None:
            return word
    return ""


def _top_level(msg: dict[str, Any]) -> dict[str, str]:
    return {row[2]: row[4] for row in msg.get("data", []) if row[0] == 0 and row[3] not in ("SQ", "")}


def _substitutions(request: dict[str, Any], response: dict[str, Any], index: int) -> list[Finding]:
    asked, used = _top_level(request), _top_level(response)
    return [Finding("note", index, kw, f"{_what(request)}: {kw} '{asked[kw]}' asked, '{used[kw]}' used")
            for kw in asked if kw in used and used[kw] != asked[kw] and used[kw] != ""]


EVENT_TYPES = {1: "Pending", 2: "Printing", 3: "Done", 4: "Failure"}


def modality_told(t: dict[str, Any], job_uid: str = "") -> list[dict[str, str]]:
    """What the modality heard about its print: the N-ACTION answer, Print Job N-GETs and N-EVENT-REPORTs."""
    told = []
    for msg in t.get("messages", []):
        kind, sop = msg.get("message", ""), msg.get("sop_class_name", "")
        if msg["dir"] != "out":
            continue
        values = {row[2]: row[4] for row in msg.get("data", [])}
        if kind == "N-ACTION-RSP":
            told.append({"t": f"{msg['t']:.3f}", "what": f"Print answered {status_words(int(msg.get('status', 0)))}"})
        elif "Print Job" in sop and kind == "N-GET-RSP":
            told.append({"t": f"{msg['t']:.3f}", "what": f"Print Job N-GET: {values.get('ExecutionStatus', '?')} / "
                         f"{values.get('ExecutionStatusInfo', '')}".rstrip(" /")})
        elif "Print Job" in sop and kind == "N-EVENT-REPORT-RQ" and (not job_uid or msg.get("instance") == job_uid):
            event = EVENT_TYPES.get(int(msg.get("event_type_id", 0)), str(msg.get("event_type_id")))
            info = values.get("ExecutionStatusInfo", "")
            told.append({"t": f"{msg['t']:.3f}", "what": f"Print Job event {event}" + (f" ({info})" if info else "")})
    return told


def findings_json(t: dict[str, Any]) -> list[dict[str, Any]]:
    return [asdict(f) for f in findings(t)]


def text_table(t: dict[str, Any], *, data: bool = True) -> str:
    """The transcript as plain text (`printserver jobs show`)."""
    lines = [f"Association {t.get('calling_ae')} -> {t.get('called_ae')} from {t.get('address')}:{t.get('port')}, "
             f"{t.get('started')} .. {t.get('ended')}, {t.get('outcome')}",
             f"  implementation {t.get('implementation', '')}, max PDU {t.get('max_pdu')}"]
    accepted = {cx["id"]: cx for cx in t.get("accepted", [])}
    for cx in t.get("proposed", []):
        got = accepted.get(cx["id"])
        answer = f"accepted, {got['transfer_syntaxes'][0]}" if got else "not accepted"
        lines.append(f"  context {cx['id']:>3} {cx['name']}: {answer}")
    for msg in t.get("messages", []):
        status = f"  status {status_words(int(msg['status']))}" if "status" in msg else ""
        comment = f" - {msg['error_comment']}" if msg.get("error_comment") else ""
        lines.append(f"{msg['t']:8.3f} {'<-' if msg['dir'] == 'in' else '->'} {msg['message']:<22} "
                     f"{msg.get('sop_class_name', '')}{status}{comment}")
        if data:
            for depth, _tag, keyword, vr, value in msg.get("data", []):
                lines.append(f"{'':13}{'  ' * (depth + 1)}{keyword} {vr} {value}".rstrip())
    found = findings(t)
    if found:
        lines.append("Findings:")
        lines += [f"  [{f.severity}] {f.text}" for f in found]
    return "\n".join(lines)


class TranscriptStore:
    """The transcripts folder, with the headers (who, when, jobs) cached by file name."""

    def __init__(self, spool_root: str | Path) -> None:
        self.folder = transcripts_dir(Path(spool_root))
        self._lock = threading.Lock()
        self._headers: dict[str, dict[str, Any]] = {}

    def headers(self) -> list[dict[str, Any]]:
        """Every transcript's header (no messages), newest first; associations still open first of all
        (their snapshot in open/, marked "open": true, read afresh each time: it grows)."""
        try:
            names = sorted((p.name for p in self.folder.glob("*.json")), reverse=True)
            still_open = sorted((p.name for p in (self.folder / OPEN_DIR).glob("*.json")), reverse=True)
        except OSError:
            names, still_open = [], []
        with self._lock:
            for stale in set(self._headers) - set(names):
                del self._headers[stale]
        out = [h for name in still_open if name not in names and (h := self._header(name[:-5])) is not None]
        for name in names:
            with self._lock:
                header = self._headers.get(name)
            if header is None:
                header = self._header(name[:-5])
                if header is None:
                    continue
                with self._lock:
                    self._headers[name] = header
            out.append(header)
        return out

    def _header(self, transcript_id: str) -> dict[str, Any] | None:
        t = self.load(transcript_id)
        if t is None:
            return None
        header = {k: v for k, v in t.items() if k != "messages"}
        header["messages"] = len(t.get("messages", []))
        header["findings"] = [asdict(f) for f in findings(t)]
        return header

    def load(self, transcript_id: str) -> dict[str, Any] | None:
        """One transcript: the final file, else the snapshot of the association still open."""
        if not transcript_id or "/" in transcript_id or transcript_id.startswith("."):
            return None
        for path in (self.folder / f"{transcript_id}.json", self.folder / OPEN_DIR / f"{transcript_id}.json"):
            try:
                t = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # written meanwhile: the final file exists now
            except (OSError, ValueError):
                return None
            t["id"] = transcript_id
            return dict(t)
        return None

    def for_job(self, job_uid: str) -> list[dict[str, Any]]:
        return [h for h in self.headers() if job_uid in h.get("job_uids", [])]

    def for_calling_ae(self, calling_ae: str) -> list[dict[str, Any]]:
        """The finished associations of a calling AE (the acceptance report counts what ended)."""
        return [t for h in self.headers() if h.get("calling_ae") == calling_ae and not h.get("open")
                if (t := self.load(h["id"])) is not None]
