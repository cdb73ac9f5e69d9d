"""Re-print: a job's films once more, as a new job, on the same printer or another one.

It needs the job file (the pixels as accepted): a queued or failed job has it, a delivered one keeps it in
done/ for server.keep_printed_days (spool/retention.py). The re-print is a new Print Job (new UID, new job
ID) with the films exactly as accepted (film size, layout, densities, annotations: the same film, not a
new interpretation of the modality's request), spooled with the target printer's outputs as configured
now, like an accepted print, so it is rendered and goes to every one of them. Its timeline says what it
re-prints and who asked; the original's timeline says where it was re-printed.

A target printer must be able to print the films as they are: film size, display format kind, colour,
number of image boxes, annotation format, copies. Otherwise the answer names what it lacks: a film is
never silently changed to fit (the QA lead re-printing on another imager wants that imager's film of the
same request, or a clear no).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from printserver import uids
from printserver.errors import SpoolError
from printserver.layout import parse_display_format
from printserver.model.spooled_job import PrintJob
from printserver.outputs.plan import job_outputs
from printserver.spool.lifecycle import now_iso
from printserver.spool.records import JobRecord, read_record, write_record
from printserver.spool.store import Spool

if TYPE_CHECKING:
    from printserver.config import PrinterProfile, ServerConfig
    from printserver.spool.records import JobBook

REPRINT_EVENT = "re-print"


def unsupported(job: PrintJob, profile: PrinterProfile) -> str | None:
    """Why `profile`'s printer cannot print `job`'s films as they are (None: it can)."""
    def no(what: str, offered: tuple[str, ...] | list[str]) -> str:
        return f"printer {profile.ae_title} does not support {what} (supported: {', '.join(offered) or 'none'})"

    if job.copies > profile.max_copies:
        return f"printer {profile.ae_title} prints at most {profile.max_copies} copies, the job has {job.copies}"
    for film in job.films:
        a = film.attributes
        size = str(a.get("FilmSizeID", ""))
        if size and size not in profile.film_sizes:
            return no(f"film size {size}", profile.film_sizes)
        layout = str(a.get("ImageDisplayFormat", ""))
        if layout:
            try:
                kind = parse_display_format(layout, profile.max_image_boxes).kind
            except ValueError as exc:
                return f"printer {profile.ae_title} cannot lay out {layout}: {exc}"
            if kind not in profile.display_format_kinds:
                return no(f"display format {layout}", profile.display_format_kinds)
        if len(film.image_boxes) > profile.max_image_boxes:
            return (f"printer {profile.ae_title} takes at most {profile.max_image_boxes} image boxes per film, "
                    f"film {film.film_number} has {len(film.image_boxes)}")
        if film.color and not profile.supports_color:
            return f"printer {profile.ae_title} prints grayscale only, film {film.film_number} is in colour"
        annotation = str(a.get("AnnotationDisplayFormatID", ""))
        if film.annotations and annotation and annotation not in profile.annotation_display_format_ids:
            return no(f"annotation format {annotation}", profile.annotation_display_format_ids)
    return None


def source(spool: Spool, job_id: str) -> Path:
    """The job file to re-print from (queued, failed, or a delivered one still kept)."""
    from printserver.spool.admin import find

    path = find(spool, job_id)
    if not path.exists():
        raise SpoolError(f"job {path.stem}: its films are no longer kept (a delivered job's pixels stay "
                         "server.keep_printed_days days); nothing to re-print")
    return path


def reprint(spool: Spool, book: JobBook, config: ServerConfig, job_id: str, printer: str = "",
            who: str = "") -> Path:
    """Spool a new job with `job_id`'s films for `printer` (default: the job's own); returns its job file.

    The caller starts it (the server's dispatcher, or the next server start)."""
    path = source(spool, job_id)
    job, _ = Spool.load(path)
    old = read_record(path)
    target = printer or (old.printer if old is not None else job.called_ae)
    profile = config.printer(target)
    if profile is None:
        known = ", ".join(p.ae_title for p in config.printers)
        raise SpoolError(f"job {path.stem}: no printer {target} is configured here (printers: {known})")
    why = unsupported(job, profile)
    if why is not None:
        raise SpoolError(f"job {path.stem} not re-printed: {why}")
    again = replace(job, job_uid=uids.new_uid(), created=now_iso_utc(), called_ae=profile.ae_title,
                    printer_name=profile.printer_name)
    new = spool.submit(again, job_outputs(profile))
    record = JobRecord.for_job(again, profile.ae_title)
    record.timeline[0]["detail"] = (f"re-print of {path.stem} ({len(job.films)} film(s) from "
                                    f"{job.calling_ae or 'unknown AE'}){f' by {who}' if who else ''}")
    record.timeline[0]["event"] = REPRINT_EVENT
    book.create(new, record)
    note = {"at": now_iso(), "event": "re-printed", "output": "",
            "detail": f"as {new.stem} on {profile.ae_title}{f' by {who}' if who else ''}"}
    if old is not None and path.parent == spool.jobs:
        book.change(path, lambda r: r.timeline.append(note))  # queued: in step with its other changes
    elif old is not None:
        _append(path, note)
    return new


def _append(path: Path, note: dict[str, str]) -> None:
    """A note on a finished job's record (done/ or failed/: nothing else changes it now)."""
    record = read_record(path)
    if record is not None:
        record.timeline.append(note)
        write_record(path, record)


def now_iso_utc() -> str:
    """The new job's creation time, in the Print Job's ISO 8601 form with offset (as the SCP writes it)."""
    from datetime import datetime

    return datetime.now().astimezone().isoformat(timespec="microseconds")
