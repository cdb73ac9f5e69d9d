"""The console's one window on print jobs: list, filter and page them; one job's detail and timeline.

The spool stays the durable truth (each job's record, spool/records.py, in jobs/, failed/ or done/);
this module keeps an index of it in SQLite (<spool>/console/index.sqlite) so a page of 10,000 jobs is
one indexed query, not 10,000 file reads. `refresh()` brings the index up to date by comparing each
record file's mtime with what it indexed (one `scandir` per folder), so jobs changed by any process
(the server, `printserver jobs retry` from a shell) appear; a lost or damaged index is rebuilt from the
records. Everything that knows the shape of a job record (spool/records.py: state, per-output states, the
timeline; docs/house-jobs.md) is in this module: the one place the console adapts when it changes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from printserver.config import ServerConfig
from printserver.spool.lifecycle import JobState
from printserver.spool.records import JobRecord
from printserver.views.previews import console_dir, preview_dir, private_dir

SCHEMA_VERSION = 6
RECORD_SUFFIX = ".state.json"
FOLDERS = (("queued", "jobs"), ("failed", "failed"), ("done", "done"))
#: A job's states, in lifecycle order (the filter offers them).
STATES = tuple(s.value for s in JobState)
REFRESH_SECONDS = 0.5  # at most one scan per this many seconds, however many pages poll

_SCHEMA = """
CREATE TABLE jobs (
  id TEXT PRIMARY KEY, job_uid TEXT, created TEXT, day TEXT, printer TEXT, printer_name TEXT, calling_ae TEXT,
  films INTEGER, copies INTEGER, film_size TEXT, layout TEXT, orientation TEXT, label TEXT,
  status TEXT, status_info TEXT, state TEXT, location TEXT, mtime INTEGER, record TEXT, patient_id TEXT);
CREATE INDEX jobs_created ON jobs(created DESC);
CREATE INDEX jobs_printer ON jobs(printer, created DESC);
CREATE INDEX jobs_calling ON jobs(calling_ae, created DESC);
CREATE INDEX jobs_state ON jobs(state, created DESC);
CREATE INDEX jobs_uid ON jobs(job_uid);
"""


@dataclass(frozen=True)
class JobFilter:
    printer: str = ""
    calling_ae: str = ""
    date: str = ""  # YYYY-MM-DD (the job's local date)
    state: str = ""  # one of STATES
    text: str = ""  # part of the job ID, UID or film session label
    identity: str = ""  # part of the Patient ID an output recorded (never sent in a URL: POST /api/jobs/query)
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class JobPage:
    jobs: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    version: int


def read_job_record(text: str) -> dict[str, Any]:
    """A record file's JSON in today's shape (spool/records.py translates records written before the lifecycle)."""
    return asdict(JobRecord.from_json(json.loads(text)))


def output_states(record: dict[str, Any]) -> list[dict[str, str]]:
    """Each output of the job and where the job stands with it (the lifecycle's per-output records)."""
    out = []
    for name, o in record.get("outputs", {}).items():
        memo = o.get("memo") or {}
        detail = " ".join(str(x) for x in (o.get("info", ""), o.get("reason", ""),
                                            Path(str(memo["path"])).name if "path" in memo else "",
                                            f"job {memo['job_id']}" if "job_id" in memo else "") if x)
        out.append({"output": str(o.get("kind") or name).upper(), "state": str(o.get("state", "")), "detail": detail})
    return out


def identity(record: dict[str, Any]) -> dict[str, Any]:
    """Who the film belongs to, as an output recorded it (the PACS output's memo: patient_id, and where each
    value came from); {} when no output identified the patient."""
    for o in record.get("outputs", {}).values():
        memo = o.get("memo") or {}
        if memo.get("patient_id") or memo.get("identity"):
            return {"patient_id": str(memo.get("patient_id") or ""), "sources": dict(memo.get("identity") or {})}
    return {}


def pdf_paths(record: dict[str, Any]) -> list[str]:
    """The PDF films the job's outputs wrote (to open or download in the console)."""
    paths = [str((o.get("memo") or {}).get("path", "")) for o in record.get("outputs", {}).values()]
    return [p for p in paths if p.endswith(".pdf")]


def timeline(record: dict[str, Any]) -> list[dict[str, str]]:
    """Accepted, rendered, each output's changes, retries with reasons, the end; then where it is now."""
    events = []
    for e in record.get("timeline", []):
        what = f"{e.get('event', '')}{' (' + e['output'] + ')' if e.get('output') else ''}"
        events.append({"time": str(e.get("at", ""))[:19].replace("T", " "),
                       "what": f"{what}: {e['detail']}" if e.get("detail") else what})
    events.append({"time": "now", "what": f"{record.get('state', '?')}: Execution Status "
                   f"{record.get('execution_status', '?')} / {record.get('execution_status_info', '?')}"})
    return events


def read_films(spool_root: Path, job_id: str, job_file: Path | None) -> list[dict[str, Any]]:
    """Film size / layout of each film: from the previews' films.json, else the job file's header."""
    try:
        return list(json.loads((preview_dir(spool_root, job_id) / "films.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    if job_file is None or not job_file.exists():
        return []
    try:
        with open(job_file, "rb") as fh:
            magic = fh.read(7)
            size = int.from_bytes(fh.read(8), "big")
            if magic != b"PSJOB1\n" or size > 64 << 20:
                return []
            header = json.loads(fh.read(size))
    except (OSError, ValueError):
        return []
    films = [(f.get("film_number"), f.get("attributes", {})) for f in header.get("films", [])]
    return [{"film_number": n, "film_size": a.get("FilmSizeID", ""), "layout": a.get("ImageDisplayFormat", ""),
             "orientation": a.get("FilmOrientation", "")} for n, a in films]


class JobIndex:
    """SQLite index over the spool's job records; thread-safe; rebuilt from the records when lost."""

    def __init__(self, spool_root: str | Path, config: ServerConfig | None = None, *,
                 db_path: str | Path | None = None) -> None:
        self.root = Path(spool_root)
        self.config = config
        self.db_path = Path(db_path) if db_path else console_dir(self.root) / "index.sqlite"
        self._lock = threading.RLock()
        self._known: dict[str, tuple[str, int]] = {}  # job ID -> (location, record mtime) as indexed
        self._last_refresh = 0.0
        self.version = 0  # grows with every change seen: pages poll it
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if str(self.db_path) != ":memory:":
            private_dir(self.db_path.parent)
        for attempt in (1, 2):
            try:
                db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
                if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    db.executescript("DROP TABLE IF EXISTS jobs;" + _SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
                db.execute("PRAGMA journal_mode=WAL")
                self._known = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, location, mtime FROM jobs")}
                if str(self.db_path) != ":memory:":
                    os.chmod(self.db_path, 0o600)
                return db
            except sqlite3.DatabaseError:
                if attempt == 2:
                    raise
                for suffix in ("", "-wal", "-shm"):  # damaged: the records are the truth, start again
                    Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- keeping up with the spool -------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> int:
        """Index records that are new or changed since the last look; forget vanished ones. Returns changes."""
        with self._lock:
            if not force and time.monotonic() - self._last_refresh < REFRESH_SECONDS:
                return 0
            self._last_refresh = time.monotonic()
            seen: dict[str, tuple[str, int, str]] = {}
            for location, folder in FOLDERS:
                try:
                    with os.scandir(self.root / folder) as entries:
                        for entry in entries:
                            if entry.name.endswith(RECORD_SUFFIX) and not entry.name.startswith("."):
                                job_id = entry.name[:-len(RECORD_SUFFIX)]
                                seen[job_id] = (location, entry.stat().st_mtime_ns, entry.path)
                except FileNotFoundError:
                    continue
            changed = [(k, v) for k, v in seen.items() if self._known.get(k) != v[:2]]
            gone = [k for k in self._known if k not in seen]
            if not changed and not gone:
                return 0
            self._db.execute("BEGIN")
            try:
                for job_id, (location, mtime, path) in changed:
                    self._upsert(job_id, location, mtime, Path(path))
                for job_id in gone:
                    self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
                    self._known.pop(job_id, None)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.version += 1
            return len(changed) + len(gone)

    def _upsert(self, job_id: str, location: str, mtime: int, record_path: Path) -> None:
        try:
            record = read_job_record(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return  # being replaced right now: the next refresh sees the new one
        job_file = record_path.with_name(job_id + ".job") if location != "done" else None
        films = read_films(self.root, job_id, job_file)
        created = str(record.get("created", ""))
        first = films[0] if films else {}
        sizes = sorted({f.get("film_size", "") for f in films} - {""})
        layouts = sorted({f.get("layout", "") for f in films} - {""})
        self._db.execute(
            "INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "patient_id=excluded.patient_id, status=excluded.status, status_info=excluded.status_info, "
            "state=excluded.state, "
            "location=excluded.location, mtime=excluded.mtime, record=excluded.record, "
            "film_size=COALESCE(NULLIF(excluded.film_size, ''), jobs.film_size), "
            "layout=COALESCE(NULLIF(excluded.layout, ''), jobs.layout), "
            "orientation=COALESCE(NULLIF(excluded.orientation, ''), jobs.orientation)",
            (job_id, record.get("job_uid", ""), created, created[:10], record.get("printer", ""),
             record.get("printer_name", ""), record.get("originator", ""), int(record.get("films", 0)),
             int(record.get("copies", 1)), ", ".join(sizes), ", ".join(layouts), first.get("orientation", ""),
             record.get("film_session_label", ""), record.get("execution_status", ""),
             record.get("execution_status_info", ""), record.get("state", ""), location, mtime,
             json.dumps(record), identity(record).get("patient_id", "")))
        self._known[job_id] = (location, mtime)

    # --- reading ---------------------------------------------------------------------------------

    def _row(self, r: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
        (job_id, job_uid, created, _day, printer, printer_name, calling_ae, films, copies, film_size, layout,
         orientation, label, status, status_info, state, location, _mtime, record_json, patient_id) = r
        record = json.loads(record_json)
        steps = timeline(record)
        return {"id": job_id, "job_uid": job_uid, "created": created, "printer": printer,
                "printer_name": printer_name, "calling_ae": calling_ae, "films": films, "copies": copies,
                "film_size": film_size, "layout": layout, "orientation": orientation, "label": label,
                "status": status, "status_info": status_info, "state": state, "location": location,
                "outputs": output_states(record), "patient_id": patient_id,
                "last_note": steps[-2]["what"] if len(steps) > 1 else ""}

    def list(self, f: JobFilter) -> JobPage:
        self.refresh()
        where, args = [], []
        for column, value in (("printer", f.printer), ("calling_ae", f.calling_ae), ("day", f.date),
                              ("state", f.state)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if f.identity:
            where.append("patient_id LIKE ?")
            args.append(f"%{f.identity}%")
        if f.text:
            where.append("(id LIKE ? OR job_uid LIKE ? OR label LIKE ?)")
            args += [f"%{f.text}%"] * 3
        sql_where = f" WHERE {' AND '.join(where)}" if where else ""
        per_page = max(1, min(f.per_page, 500))
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM jobs{sql_where}", args).fetchone()[0]
            pages = max(1, -(-total // per_page))
            page = max(1, min(f.page, pages))
            rows = self._db.execute(f"SELECT * FROM jobs{sql_where} ORDER BY created DESC, id DESC LIMIT ? OFFSET ?",
                                    [*args, per_page, (page - 1) * per_page]).fetchall()
            version = self.version
        return JobPage([self._row(r) for r in rows], total, page, pages, version)

    def facets(self) -> dict[str, list[str]]:
        """The values the filters offer: printers, calling AEs, days, states."""
        self.refresh()
        with self._lock:
            def distinct(column: str) -> list[str]:
                return [r[0] for r in self._db.execute(f"SELECT DISTINCT {column} FROM jobs ORDER BY 1")]
            printers = sorted(set(distinct("printer")) | {p.ae_title for p in (self.config.printers
                                                                              if self.config else ())})
            return {"printers": printers, "calling_aes": distinct("calling_ae"),
                    "days": distinct("day")[::-1][:60], "states": list(STATES)}

    def get(self, job_id: str) -> dict[str, Any] | None:
        """One job: its row, full record, films, timeline, PDFs, previews (None if unknown)."""
        self.refresh()
        with self._lock:
            r = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if r is None:
            return None
        job = self._row(r)
        record = json.loads(r[18])  # the record column
        folder = self.root / dict(FOLDERS)[job["location"]]
        job["record"] = record
        job["films_detail"] = read_films(self.root, job_id, folder / f"{job_id}.job")
        job["kept"] = (folder / f"{job_id}.job").exists()  # its pixels are here: it can be re-printed
        job["timeline"] = timeline(record)
        job["pdfs"] = pdf_paths(record)
        job["identity"] = identity(record)
        previews = preview_dir(self.root, job_id)
        job["previews"] = sorted(int(p.stem.split("-")[1]) for p in previews.glob("thumb-*.png")) \
            if previews.is_dir() else []
        job["warnings"] = record.get("warnings", [])
        return job

    def counters(self, day: str) -> dict[str, dict[str, int]]:
        """Per printer: films and jobs on `day`, failed jobs (ever), jobs waiting now."""
        self.refresh()
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for printer, films, jobs in self._db.execute(
                    "SELECT printer, SUM(films * copies), COUNT(*) FROM jobs WHERE day = ? GROUP BY printer", (day,)):
                out.setdefault(printer, {})
                out[printer].update(films_today=films or 0, jobs_today=jobs)
            ended_badly = (JobState.FAILED.value, JobState.CANCELED.value)
            for printer, state, n in self._db.execute("SELECT printer, state, COUNT(*) FROM jobs GROUP BY 1, 2"):
                c = out.setdefault(printer, {})
                if state in ended_badly:
                    c["failed"] = c.get("failed", 0) + n
                elif state != JobState.DONE.value:
                    c["waiting"] = c.get("waiting", 0) + n
            return out

    def list_ids(self, prefix: str) -> list[str]:
        """Job IDs starting with `prefix` (or equal to a Print Job UID), as `printserver jobs` accepts them."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs WHERE substr(id, 1, ?) = ? OR job_uid = ?",
                                    (len(prefix), prefix, prefix)).fetchall()
        return [r[0] for r in rows]

    def job_id_for_uid(self, job_uid: str) -> str | None:
        with self._lock:
            r = self._db.execute("SELECT id FROM jobs WHERE job_uid = ?", (job_uid,)).fetchone()
        return r[0] if r else None
