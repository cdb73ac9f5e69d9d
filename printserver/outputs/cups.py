"""Output `cups`: print every film on a CUPS queue through pycups (keys cups_queue, cups_server, cups_media,
cups_medium_type, cups_film_destination, cups_options, paper_policy).

Film -> media, copies, priority, title, options (outputs/paper.py); one CUPS job per run of films of one
size (a collated session of 14x17 and 8x10 films goes on both media, `page-ranges` of the one document),
followed until printed. Their ids are the output's memo in the job record, so a restart polls them instead
of printing twice, and each CUPS job carries a token (spool job, times sent, run), so one sent just before
a kill -9, before its id was recorded, is found and adopted. Queue health for the Printer SOP instance.
pycups is imported lazily (`printserver[cups]`): a server without CUPS printers never needs it, and one
that has them refuses to start without it (`check`). Errors are sorted into what delivery can wait out
(`CupsUnavailable`: cupsd unreachable, queue missing, stopped or not accepting) and what it cannot
(`CupsRejected`: the job itself was refused). With paper_policy "fit" on paper other than the film's, the
render workers make the scaled document for the queue's paper (a `Render` step).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from printserver.errors import ConfigError
from printserver.outputs.base import (
    TRUE_SIZE_PDF,
    DeliveryJob,
    Done,
    Failed,
    Health,
    Output,
    Render,
    Rendition,
    Retry,
    Step,
    Wait,
)
from printserver.outputs.paper import choose_media, film_runs, fitted_scale, job_options, smaller

if TYPE_CHECKING:
    from pathlib import Path

    from printserver.config import PrinterProfile
    from printserver.model.spooled_job import FilmJob

log = logging.getLogger(__name__)

# IPP job-state (RFC 8011 5.3.7)
JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED, JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = range(3, 10)
# IPP printer-state
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
_lock = threading.Lock()  # cups.setServer is process-global
#: What cupsd and its ipp backend say (C locale) while the printer behind a queue cannot be reached. CUPS 2.4 sets
#: no printer-state-reasons keyword for it (the queue stays "processing", the job is held with
#: resources-are-not-ready between attempts), so the message is the only sign while the job is processing.
_UNREACHABLE = ("may not exist or is unavailable", "is not responding", "unable to connect", "unable to locate printer")


class CupsUnavailable(Exception):
    """Delivery must wait: cupsd unreachable, queue missing, stopped or not accepting jobs."""

    def __init__(self, message: str, status_info: str = "PRINTER DOWN") -> None:
        super().__init__(message)
        self.status_info = status_info


class CupsRejected(Exception):
    """CUPS refused this job for good (bad document, bad option)."""


def available() -> bool:
    try:
        import cups  # noqa: F401
    except ImportError:
        return False
    return True


def _module() -> Any:
    try:
        import cups
    except ImportError:
        raise CupsUnavailable("pycups is not installed (pip install 'printserver[cups]')",
                              "PRINTER DOWN") from None
    return cups


def resolve_server(server: str) -> str:
    """The configured server, else CUPS_SERVER, else the system default ('' = libcups decides)."""
    return server or os.environ.get("CUPS_SERVER", "")


@contextmanager
def connection(server: str) -> Iterator[Any]:
    """A pycups Connection to `server` (setServer must precede Connection, notes: cups-testbed)."""
    cups = _module()
    with _lock:
        target = resolve_server(server)
        if target:
            cups.setServer(target)
        try:
            conn = cups.Connection()
        except RuntimeError as exc:
            raise CupsUnavailable(f"cupsd {target or '(default)'} unreachable: {exc}", "PRINTER DOWN") from None
    yield conn


def queue_attributes(conn: Any, queue: str) -> dict[str, Any]:
    cups = _module()
    try:
        return conn.getPrinterAttributes(queue)
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS queue {queue}: {_ipp_text(exc)}", "PRINTER OFFLINE") from None


def check_queue(attrs: dict[str, Any], queue: str) -> None:
    """Raise CupsUnavailable when the queue cannot take a job now."""
    if not attrs.get("printer-is-accepting-jobs", True):
        raise CupsUnavailable(f"CUPS queue {queue} is not accepting jobs", "PRINTER OFFLINE")


def submit(conn: Any, queue: str, document: str, title: str, options: dict[str, str]) -> int:
    cups = _module()
    try:
        return int(conn.printFile(queue, document, title, options))
    except cups.IPPError as exc:
        status = exc.args[0] if exc.args else None
        if status in (cups.IPP_NOT_ACCEPTING, cups.IPP_NOT_FOUND, cups.IPP_SERVICE_UNAVAILABLE,
                      getattr(cups, "IPP_NOT_POSSIBLE", -1)):
            raise CupsUnavailable(f"CUPS queue {queue}: {_ipp_text(exc)}", "PRINTER OFFLINE") from None
        raise CupsRejected(f"CUPS refused the job: {_ipp_text(exc)}") from None


@dataclass(frozen=True)
class JobStatus:
    state: int
    #: The printer behind the queue cannot be reached while CUPS holds the job (it retries, notes: cups-testbed)
    device_unreachable: bool


def device_unreachable(message: str) -> bool:
    return any(m in message.lower() for m in _UNREACHABLE)


def job_status(conn: Any, job_id: int) -> JobStatus:
    cups = _module()
    try:
        attrs = conn.getJobAttributes(job_id)
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS job {job_id}: {_ipp_text(exc)}", "PRINTER DOWN") from None
    state = int(attrs["job-state"])
    reasons = attrs.get("job-state-reasons", [])
    reasons = [reasons] if isinstance(reasons, str) else list(reasons)
    unreachable = (state == JOB_HELD and "resources-are-not-ready" in reasons) or \
        (state == JOB_PROCESSING and device_unreachable(str(attrs.get("job-printer-state-message", ""))))
    return JobStatus(state, unreachable)


#: A job attribute CUPS keeps with each job printserver sends (any name it does not know, it stores): the
#: spool job and how many times it was sent before, so a job sent just before a kill -9 is found, not sent again.
TOKEN_ATTRIBUTE = "printserver-job"


def submitted(conn: Any, token: str) -> int | None:
    """The CUPS job printserver sent with `token` that is not canceled or aborted, if any (newest)."""
    cups = _module()
    try:
        # pycups keys the answer by job-id only when job-id is asked for; without it the dict comes back empty
        jobs = conn.getJobs(which_jobs="all", requested_attributes=["job-id", "job-state", TOKEN_ATTRIBUTE])
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS jobs: {_ipp_text(exc)}", "PRINTER DOWN") from None
    ours = [jid for jid, attrs in jobs.items() if attrs.get(TOKEN_ATTRIBUTE) == token
            and attrs.get("job-state") not in (JOB_CANCELED, JOB_ABORTED)]
    return max(ours) if ours else None


def cancel_job(conn: Any, job_id: int) -> int:
    """Cancel a CUPS job that has not started printing; its job-state afterwards (7 = canceled)."""
    cups = _module()
    try:
        if job_status(conn, job_id).state in (JOB_PENDING, JOB_HELD, JOB_STOPPED):
            conn.cancelJob(job_id)
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS job {job_id}: {_ipp_text(exc)}", "PRINTER DOWN") from None
    return job_status(conn, job_id).state


def _ipp_text(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[1]) if len(args) > 1 else str(exc)


def queue_health(server: str, queue: str) -> tuple[str, str, str]:
    """(Printer Status, Printer Status Info, why) of a CUPS queue, for the Printer SOP instance."""
    try:
        with connection(server) as conn:
            attrs = queue_attributes(conn, queue)
    except CupsUnavailable as exc:
        return "FAILURE", exc.status_info, str(exc)
    if not attrs.get("printer-is-accepting-jobs", True):
        return "FAILURE", "PRINTER OFFLINE", f"CUPS queue {queue} is not accepting jobs"
    if attrs.get("printer-state") == PRINTER_STOPPED:
        return "WARNING", "PRINTER OFFLINE", f"CUPS queue {queue} is stopped (films wait in the spool)"
    if device_unreachable(str(attrs.get("printer-state-message", ""))):
        return "WARNING", "PRINTER OFFLINE", f"the printer behind CUPS queue {queue} does not answer (CUPS retries)"
    return "NORMAL", "NORMAL", ""


# --- the plug-in -----------------------------------------------------------------------------------------

POLL_SECONDS = 0.5
PAPER_POLICIES = ("true-size", "fit")


@dataclass(frozen=True)
class CupsQueue(Output):
    kind = "cups"

    queue: str = ""
    server: str = ""  # host:port or socket path; empty: CUPS_SERVER, else the system default
    media: dict[str, str] = field(default_factory=dict)  # Film Size ID -> media keyword (overrides)
    medium_type: dict[str, str] = field(default_factory=dict)  # Medium Type -> "name=value ..." options
    film_destination: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # added to every job
    paper_policy: str = "true-size"

    @classmethod
    def from_profile(cls, profile: PrinterProfile, key: str) -> list[Self]:
        if not profile.cups_queue:
            return []
        from printserver.config import ALL_MEDIUM_TYPES

        for size in profile.cups_media:
            if size not in profile.film_sizes:
                raise ConfigError(f"{key}.cups_media: '{size}' is not one of the printer's film_sizes")
        for medium in profile.cups_medium_type:
            if medium not in ALL_MEDIUM_TYPES:
                raise ConfigError(f"{key}.cups_medium_type: '{medium}' is not a Medium Type")
        for name in ("cups_medium_type", "cups_film_destination"):
            for value, opts in getattr(profile, name).items():
                if not all("=" in o for o in opts.split()):
                    raise ConfigError(f"{key}.{name}.{value}: must be CUPS options 'name=value name=value'")
        if profile.paper_policy not in PAPER_POLICIES:
            raise ConfigError(f"{key}.paper_policy: must be one of {PAPER_POLICIES}")
        return [cls("cups", f"{key}.cups_queue", profile.cups_queue, profile.cups_server, dict(profile.cups_media),
                    dict(profile.cups_medium_type), dict(profile.cups_film_destination), dict(profile.cups_options),
                    profile.paper_policy)]

    def renditions(self) -> tuple[Rendition, ...]:
        return (TRUE_SIZE_PDF,)

    def describe(self) -> str:
        server = self.server or "CUPS_SERVER or the default server"
        return f"CUPS queue {self.queue} on {server} (paper policy {self.paper_policy})"

    def check(self) -> str | None:
        if not available():
            return (f"{self.key}: pycups is not installed, films could never be printed on {self.queue}: "
                    f"pip install 'printserver[cups]' (./run serve --cups ... installs it) or remove cups_queue")
        import cups

        try:
            with connection(self.server) as conn:
                conn.getPrinterAttributes(self.queue)
        except CupsUnavailable as exc:  # cupsd down now: films wait in the spool, health says so
            log.warning("%s: %s (films wait in the spool until it answers)", self.key, exc)
        except cups.IPPError as exc:
            if exc.args and exc.args[0] == cups.IPP_NOT_FOUND:
                where = resolve_server(self.server) or "the default server"
                return (f"{self.key}: CUPS has no queue {self.queue!r} on {where}; create it "
                        f"(lpadmin -p {self.queue} ...) or fix cups_queue")
            log.warning("%s: %s", self.key, _ipp_text(exc))
        return None

    def health(self) -> Health:
        return queue_health(self.server, self.queue)

    def deliver(self, job: DeliveryJob) -> Step:
        ids = job_ids(job.memo)
        try:
            with connection(self.server) as conn:
                if not ids or None in ids:
                    return self._submit(conn, job, ids)
                return self._follow(conn, [int(i) for i in ids], int(job.memo.get("resubmits", 0)))
        except CupsUnavailable as exc:
            return Retry(reason=str(exc), info=exc.status_info)
        except CupsRejected as exc:
            return Failed(reason=str(exc), info="CHECK PRINTER")

    def _document(self, job: DeliveryJob, attrs: dict[str, Any],
                  films: Sequence[FilmJob]) -> Render | tuple[Path, str, list[str]]:
        """The document, media and notes for a run of films of one size, or the rendition to make first."""
        film = films[0]
        size_id = str(film.attributes.get("FilmSizeID", ""))
        choice = choose_media(size_id, (film.width_mm, film.height_mm), list(attrs.get("media-supported", [])),
                              str(attrs.get("media-default", "")), self.media)
        notes = [choice.note] if choice.note else []
        document = job.rendition(TRUE_SIZE_PDF)
        if not choice.exact and choice.size_mm is not None:
            if self.paper_policy == "fit":
                fit = Rendition("fit-pdf", choice.size_mm, f"{size_id} film on {choice.keyword}")
                document = job.rendition(fit)
                if not document.exists():
                    return Render(rendition=fit)
                notes.append(f"fit: films scaled to {min(fitted_scale(f, choice.size_mm) for f in films) * 100:.1f}"
                             f" % on {choice.keyword}")
            elif smaller(choice.size_mm, (film.width_mm, film.height_mm)):
                notes.append(f"true-size: paper {choice.keyword} is smaller than the {size_id} film: the film is "
                             f"cropped")
        if not document.exists():
            return Render(rendition=TRUE_SIZE_PDF)
        return document, choice.keyword, notes

    def _submit(self, conn: Any, job: DeliveryJob, ids: list[int | None]) -> Step:
        """One CUPS job per run of films of one size (its own media; `page-ranges` of the one document),
        each sent once: `ids` holds the runs already in CUPS (None: to send)."""
        attrs = queue_attributes(conn, self.queue)
        check_queue(attrs, self.queue)
        j = job.job
        runs = film_runs(j.films)
        ids = list(ids) if len(ids) == len(runs) else [None] * len(runs)
        plans, notes = [], []
        for index, (first, last) in enumerate(runs):  # every document first: a Render step sends nothing
            if ids[index] is None:
                made = self._document(job, attrs, j.films[first:last + 1])
                if isinstance(made, Render):
                    return made
                plans.append((index, first, last, made[0], made[1]))
                notes += made[2]
        resubmits = int(job.memo.get("resubmits", 0))
        title = f"{j.session.get('FilmSessionLabel') or 'film'} from {j.calling_ae or 'unknown'}"
        details = []
        for index, first, last, document, media in plans:
            options = job_options(media, j.copies, str(j.session.get("PrintPriority", "MED")),
                                  str(j.session.get("MediumType", "")), str(j.session.get("FilmDestination", "")),
                                  {"medium_type": self.medium_type, "film_destination": self.film_destination,
                                   "options": self.options})
            token = f"{job.name}/{resubmits}"
            if len(runs) > 1:
                options["page-ranges"] = f"{first + 1}-{last + 1}"
                token += f"/{index + 1}"
            earlier = submitted(conn, token)
            if earlier is not None:  # sent before a kill -9 that came before its id reached the record: adopt it
                log.info("print job %s: CUPS job %d is already ours, not sent again", job.name, earlier)
                ids[index] = earlier
                details.append(f"found in CUPS {self.queue} as job {earlier} (sent before a restart)")
                continue
            ids[index] = submit(conn, self.queue, str(document), title, {**options, TOKEN_ATTRIBUTE: token})
            log.info("print job %s sent to CUPS queue %s as job %d (%s)", job.name, self.queue, ids[index],
                     " ".join(f"{k}={v}" for k, v in options.items()))
            pages = f" (films {first + 1}-{last + 1} on {media})" if len(runs) > 1 else ""
            details.append(f"sent to CUPS {self.queue} as job {ids[index]}{pages}")
        # job_id: the first, for readers of the record that know one CUPS job (views, older tools)
        return Wait(info="QUEUED", memo={**job.memo, "job_ids": ids, "job_id": ids[0]}, notes=tuple(notes),
                    after=POLL_SECONDS, detail="; ".join(details))

    def _follow(self, conn: Any, ids: list[int], resubmits: int) -> Step:
        statuses = [job_status(conn, cups_job) for cups_job in ids]
        ended = [k for k, st in enumerate(statuses) if st.state in (JOB_CANCELED, JOB_ABORTED)]
        if ended:  # canceled or aborted by CUPS or the printer: print those films again (later), as new CUPS jobs
            return Retry(reason=f"CUPS job {', '.join(str(ids[k]) for k in ended)} ended in state "
                                f"{statuses[ended[0]].state} (canceled/aborted)", info="CHECK PRINTER",
                         memo={"resubmits": resubmits + 1, "job_ids": [None if k in ended else i
                                                                       for k, i in enumerate(ids)]})
        if any(st.device_unreachable for st in statuses):  # CUPS holds the job and retries the printer
            return Wait(info="PRINTER OFFLINE", after=POLL_SECONDS)
        if any(st.state in (JOB_PENDING, JOB_HELD, JOB_STOPPED) for st in statuses):
            stopped = queue_attributes(conn, self.queue).get("printer-state") == PRINTER_STOPPED
            return Wait(info="PRINTER OFFLINE" if stopped else "QUEUED", after=POLL_SECONDS)
        if any(st.state == JOB_PROCESSING for st in statuses):
            return Wait(info="NORMAL", printing=True, after=POLL_SECONDS)
        return Done(detail=f"CUPS job {', '.join(map(str, ids))} completed")

    def cancel(self, job: DeliveryJob) -> str | None:
        refusals = []
        for cups_job in (i for i in job_ids(job.memo) if i is not None):
            try:
                with connection(self.server) as conn:
                    state = cancel_job(conn, int(cups_job))
            except CupsUnavailable as exc:
                refusals.append(f"cannot cancel CUPS job {cups_job}: {exc}")
                continue
            if state not in (JOB_CANCELED, JOB_ABORTED):
                refusals.append(f"CUPS {'has printed' if state == JOB_COMPLETED else 'is printing'} it "
                                f"(CUPS job {cups_job})")
        return "; ".join(refusals) or None


def job_ids(memo: Mapping[str, Any]) -> list[int | None]:
    """The CUPS jobs of a spool job, one per run of films of one size (records before runs: `job_id`)."""
    if "job_ids" in memo:
        return list(memo["job_ids"])
    return [memo["job_id"]] if memo.get("job_id") is not None else []
