"""Output `relay`: every film forwarded to a real DICOM printer (an upstream print SCP), store and forward.

The modality heard Success when the job was spooled (as for every output); delivery then prints each
composed film on the upstream with printserver's own SCU (printserver/scu/) as `STANDARD\\1,1` on the film's
size and orientation, with its Min/Max Density, so the upstream
lays down the densities printserver composed: the film raster's page gray is turned back into optical
density (render.tone's model) and into 12-bit P-values of that density range (PS3.14), which the upstream
maps back through the same GSDF. 8-bit or grayscale-only upstreams get what the SCU chooses for them.

    [[printer.relay]]
    called_ae = "LASER1"
    host = "10.0.0.7"
    port = 104
    calling_ae = ""        # ours; empty: the printer's AE title
    timeout = 60.0
    mode = "film"          # or "layout": the original film box and image boxes, for upstreams that compose
                           # themselves (outputs/relay_layout.py)
    dpi = 300              # mode "film": the upstream's resolution, the films are composed at it; unset: what it
                           # tells in Printer Configuration Retrieval, else ours (outputs/relay_resolution.py)
    tls = true             # DICOM TLS; tls_ca, tls_cert, tls_key, tls_verify_hostname: outputs/dicom_peer.py
    job_timeout = 3600.0   # how long an upstream Print Job staying PENDING/PRINTING is followed (relay_job.py)
    medium_map = { "BLUE FILM" = "CLEAR FILM" }   # and film_size_map, destination_map, priority_map,
    max_copies = 0                                # max_copies: what the upstream takes (relay_mapping.py)

One film per delivery step (the memo lists the films printed), one job at a time per upstream (a lock
per upstream). A journal beside the job (`<job>.relay_<AE>.journal.json`, fsynced within the step) marks
a film "sending" once its image boxes are set and "printed" the moment the upstream answers its Print,
so a kill -9 after that answer does not print it again; a kill between the Print request and its answer
cannot be decided (DICOM print has no way to ask) and the film is printed again, with a warning.
Association refused or lost, a busy printer (C601/C602 queue full, 0213 resources) → retry with backoff;
any other refusal fails the output with the upstream's status and Error Comment. Health = the upstream's
Printer Status (N-GET), so our Printer N-GET and N-EVENT-REPORT reflect the real imager; unreachable =
WARNING / PRINTER OFFLINE. Once its films are printed, the output follows the upstream's own Print Jobs
(outputs/relay_job.py), so our Print Job says what the real imager says.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from printserver.errors import ConfigError
from printserver.outputs.base import RASTERS, DeliveryJob, Done, Failed, Health, Render, Rendition, Retry, Step, Wait
from printserver.outputs.dicom_peer import DicomPeer, parse_peer
from printserver.outputs.relay_job import (
    JOB_TIMEOUT,
    POLL_FIRST,
    ask_upstream,
    follow,
    follow_values,
    from_events,
    handed_over,
)
from printserver.outputs.relay_mapping import KEYS as MAPPING_KEYS
from printserver.outputs.relay_mapping import map_options, mapping_values, upstream_offers
from printserver.outputs.relay_resolution import RESOLUTION_KEYS, decide, dpi_value, raster_rendition

if TYPE_CHECKING:
    from printserver.model.color import ColorImage
    from printserver.model.pixels import GrayscaleImage
    from printserver.model.spooled_job import FilmJob
    from printserver.scu.client import PrintClient
    from printserver.scu.films import FilmOptions

log = logging.getLogger(__name__)

#: What one film is printed as: (client, film index, film) -> (images in position order, film options, notes)
FilmRequest = Callable[["PrintClient", int, "FilmJob"], tuple[list[Any], "FilmOptions", list[str]]]

#: "film": each composed film as STANDARD\\1,1; "layout": the original film box and image boxes (relay_layout.py)
MODES = ("film", "layout")
#: Upstream statuses that mean "busy, try later" (PS3.4 H.4: print queue full; PS3.7: resources).
BUSY = (0xC601, 0xC602, 0x0213, 0xA700)
SESSION_KEYS = ("NumberOfCopies", "PrintPriority", "MediumType", "FilmDestination", "FilmSessionLabel", "OwnerID")
#: Film box attributes forwarded (Illumination / Reflected Ambient Light: the upstream's own, not sent,
#: as some printers refuse them; film_p_values uses ours, so the densities hold for the default light box)
FILM_BOX_KEYS = ("FilmOrientation", "FilmSizeID", "MinDensity", "MaxDensity")


#: Per upstream (host, port, AE): held while a film is being printed there, so one job at a time goes to
#: it and a health check does not queue behind the print (dcmprscp-like printers serve one association
#: at a time); the last health seen, reused while busy and for HEALTH_SECONDS.
_LOCKS: dict[tuple[str, int, str], threading.Lock] = {}
_LAST_HEALTH: dict[tuple[str, int, str], tuple[float, tuple[str, str, str]]] = {}
_GUARD = threading.Lock()
HEALTH_SECONDS = 10.0


def _lock(key: tuple[str, int, str]) -> threading.Lock:
    with _GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


SENDING, PRINTED = "sending", "printed"


def _read_journal(path: Path) -> dict[str, str]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return {}


def _write_journal(path: Path, marks: dict[str, str]) -> None:
    """Durably, within the step: the memo is saved only when the step returns, too late for a kill -9
    between the upstream's Print answer and the return (the film would print twice)."""
    from printserver.outputs.files import fsync_dir, private_open

    tmp = path.with_name(f".{path.name}.tmp")
    with private_open(tmp, "w") as fh:
        json.dump(marks, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def parse_relay(value: str) -> dict[str, Any]:
    """`AE@HOST:PORT` (the --relay option) -> a relay table; ValueError says what is wrong."""
    return parse_peer(value, "--relay", "LASER1@10.0.0.7:104")


def film_p_values(raster: np.ndarray, film: FilmJob) -> GrayscaleImage:
    """A grayscale film raster (16-bit page gray) as 12-bit P-values that print the same densities on a
    printer given the film's Min/Max Density, Illumination and Reflected Ambient Light."""
    from printserver.model.pixels import GrayscaleImage
    from printserver.render.gsdf import density_to_p
    from printserver.render.tone import output_model

    model = output_model(film)
    fb = film.attributes
    dmin, dmax = int(fb["MinDensity"]) / 100, int(fb["MaxDensity"]) / 100
    density = model.decode(np.arange(65536, dtype=np.float64))  # one lookup table for all 16-bit codes
    lut = np.rint(density_to_p(density, 12, min_density=dmin, max_density=dmax, illumination=model.illumination,
                               ambient=model.reflected_ambient_light)).astype(np.uint16)
    page = raster if raster.dtype == np.uint16 else raster.astype(np.uint16) * 257
    return GrayscaleImage(lut[page], 12, "MONOCHROME2")


def film_options(job: DeliveryJob, film: FilmJob) -> FilmOptions:
    from printserver.scu.films import FilmBoxOptions, FilmOptions, SessionOptions

    session = {k: job.job.session[k] for k in SESSION_KEYS if job.job.session.get(k) not in (None, "")}
    fb = film.attributes
    box = {k: fb[k] for k in FILM_BOX_KEYS if fb.get(k) not in (None, "")}
    return FilmOptions(SessionOptions(**session), FilmBoxOptions("STANDARD\\1,1", **box))


@dataclass(frozen=True)
class DicomRelay(DicomPeer):
    kind = "relay"
    own_keys = ("mode", "dpi", "job_timeout", *MAPPING_KEYS)

    mode: str = "film"
    #: Films composed at this resolution for the upstream; None: as it tells (relay_resolution.py)
    dpi: int | None = None
    job_timeout: float = JOB_TIMEOUT
    #: medium_map, film_size_map, destination_map, priority_map, max_copies as configured (relay_mapping.py)
    mapping: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def own_values(cls, table: dict[str, Any], key: str) -> dict[str, Any]:
        mode = table.get("mode", "film")
        if mode not in MODES:
            raise ConfigError(f"{key}.mode: must be one of {', '.join(MODES)}, got {mode!r}")
        dpi = dpi_value(table, key)
        if dpi is not None and mode == "layout":
            raise ConfigError(f"{key}.dpi: only for mode \"film\" (in mode \"layout\" the upstream composes)")
        return {"mode": mode, "dpi": dpi} | follow_values(table, key) | mapping_values(table, key)

    def _connect(self, timeout: float) -> PrintClient:
        """One association to the upstream (DICOM TLS when configured: the reason names a failed handshake)."""
        from printserver import uids
        from printserver.scu.client import PrintClient
        from printserver.scu.transport import RELAY_CONTEXTS

        layout = self.mode == "layout"  # the forwarded film's annotations and Presentation LUT
        also = (uids.BASIC_ANNOTATION_BOX,) if layout else ()
        return PrintClient.connect(self.host, self.port, self.called_ae, self.calling_ae, timeout=timeout,
                                   tls=self.tls_context(), presentation_lut=layout,
                                   also_propose=(*RELAY_CONTEXTS, *also))

    def renditions(self) -> tuple[Rendition, ...]:
        if self.mode == "layout":
            from printserver.outputs.relay_layout import SOURCE

            return (SOURCE,)
        return (Rendition("rasters", dpi=self.dpi) if self.dpi else RASTERS,)

    def describe(self) -> str:
        at = f" at {self.dpi} dpi" if self.dpi else ""
        how = "each film with its layout" if self.mode == "layout" else f"each film as STANDARD\\1,1{at}"
        return f"DICOM printer {self.called_ae} at {self.host}:{self.port} ({how}, " \
               f"as {self.calling_ae}{self.transport})"

    def _image(self, job: DeliveryJob, index: int, rendition: Rendition) -> GrayscaleImage | ColorImage:
        from printserver.model.color import ColorImage

        with np.load(job.rendition(rendition)) as rasters:
            raster = rasters[f"film{index}"]
        film = job.job.films[index]
        return ColorImage(raster) if raster.ndim == 3 else film_p_values(raster, film)

    def deliver(self, job: DeliveryJob) -> Step:
        """Print the next film not yet printed upstream; Done when all are. First, once per job: the
        resolution the films are composed at for the upstream, and those rasters."""
        if self.mode == "layout":
            return self._deliver_layout(job)
        decided = self._rendition(job)
        if isinstance(decided, Step):
            return decided
        rendition, chosen = decided
        step = self._deliver_film(job, lambda client, index, film: (
            [self._image(job, index, rendition)], film_options(job, film), []))
        kept = {k: job.memo[k] for k in RESOLUTION_KEYS if k in job.memo} | chosen
        return step if step.memo is None or not kept else dataclasses.replace(step, memo=kept | dict(step.memo))

    def _rendition(self, job: DeliveryJob) -> tuple[Rendition, dict[str, Any]] | Step:
        """The rasters this job's films go as and the resolution just chosen (memo entries), or the step
        that gets there first (upstream unreachable, rasters at its resolution to be made)."""
        from printserver.scu.transport import PrintClientError

        films = job.job.films
        chosen: dict[str, Any] = {}
        if self.dpi:
            rendition = Rendition("rasters", dpi=self.dpi)
        elif "dpi" in job.memo:
            rendition = raster_rendition(int(job.memo["dpi"]), films)
        else:
            try:
                with _lock(self._upstream), self._connect(self.timeout) as client:
                    chosen = decide(None, client, films)
            except (PrintClientError, OSError, ConfigError) as exc:
                return Retry(reason=f"{self.called_ae} at {self.host}:{self.port}: {exc}", info="PRINTER OFFLINE",
                             memo={"printed": [], **job.memo})
            rendition = raster_rendition(chosen["dpi"], films)
            log.info("%s: films for %s at %s dpi: %s", job.name, self.called_ae, chosen["dpi"] or films[0].dpi,
                     chosen["dpi_from"])
        if not job.rendition(rendition).exists():
            return Render(rendition=rendition, memo=dict(job.memo) | chosen)
        return rendition, chosen

    def _deliver_layout(self, job: DeliveryJob) -> Step:
        from printserver.outputs.relay_layout import SOURCE, layout_request, source_images

        if not job.rendition(SOURCE).exists():
            return Render(rendition=SOURCE, memo=dict(job.memo))
        return self._deliver_film(job, lambda client, index, film: layout_request(
            film, source_images(job.rendition(SOURCE), index), film_options(job, film), client.transport.accepted))

    def _deliver_film(self, job: DeliveryJob, request: FilmRequest) -> Step:
        """Print the next film not yet printed, as `request(client, index, film)` says."""
        from printserver.scu.client import FilmResult, PrintResult
        from printserver.scu.transport import PrintClientError, PrintRefused
        from printserver.status import describe

        journal = self._journal(job)
        marks = _read_journal(journal)
        printed = list(dict.fromkeys([*job.memo.get("printed", []), *(k for k, v in marks.items() if v == PRINTED)]))
        unsure = [k for k, v in marks.items() if v == SENDING and k not in printed]
        pending = [(i, f) for i, f in enumerate(job.job.films) if f"film{f.film_number}" not in printed]
        jobs = {k[4:]: v for k, v in marks.items() if k.startswith("job:")} | dict(job.memo.get("jobs", {}))
        if not pending:
            return self._follow(job.memo | {"printed": printed, "jobs": jobs})
        index, film = pending[0]
        label = f"film{film.film_number}"
        if label in unsure:  # the server stopped between this film's Print and its answer: it may have printed
            log.warning("%s: %s may have been printed on %s already (printserver stopped during its Print); "
                        "printing it again", job.name, label, self.called_ae)

        def progress(images_sent: int, films_printed: int) -> None:  # journal around the N-ACTION, at once
            upstream_job = {f"job:{label}": client.print_jobs[-1]} if films_printed and client.print_jobs else {}
            _write_journal(journal, marks | {label: PRINTED if films_printed else SENDING} | upstream_job)

        told: dict[str, tuple[str, str]] = {}
        mapped: list[str] = []
        try:
            with _lock(self._upstream), self._connect(self.timeout) as client:
                images, options, unsent = request(client, index, film)
                options, mapped = map_options(options, self.mapping, upstream_offers(client, self._upstream),
                                              self.called_ae)
                mapped = [*unsent, *mapped]
                result = client.print_images(images, options, progress=progress)
                told = from_events(client.transport.events, {label: client.print_jobs[-1]} if client.print_jobs else {})
                _LAST_HEALTH[self._upstream] = (time.monotonic(), _printer_health(result.printer, self.called_ae))
        except PrintRefused as exc:  # the film session itself (e.g. 0106 for a Medium Type): as a film refused
            result = PrintResult(films=[FilmResult(film.film_number, [], exc.status,
                                                   f"Film Session N-CREATE: {exc.error_comment}".strip(": "))])
        except (PrintClientError, OSError, ConfigError) as exc:  # ConfigError: a TLS file gone since start-up
            return Retry(reason=f"{self.called_ae} at {self.host}:{self.port}: {exc}", info="PRINTER OFFLINE",
                         memo={"printed": printed})
        notes = (*mapped, *result.notes, *(w for f in result.films for w in f.warnings))
        outcome = result.films[0] if result.films else None
        if outcome is None or not outcome.accepted:
            _write_journal(journal, {k: v for k, v in marks.items() if k != label})  # answered: not printed
            status = outcome.status if outcome else 0x0110
            why = f"{self.called_ae} refused {label}: {describe(status)} (0x{status:04X})" + \
                (f": {outcome.error_comment}" if outcome and outcome.error_comment else "")
            if status in BUSY:
                return Retry(reason=why, info="PRINT BUFF FULL" if status in (0xC601, 0xC602) else "PRINTER BUSY",
                             memo={"printed": printed}, notes=notes)
            return Failed(reason=why, info="CHECK PRINTER", memo={"printed": printed}, notes=notes)
        printed.append(label)
        jobs |= {label: outcome.print_job_uid} if outcome.print_job_uid else {}
        seen = dict(job.memo.get("seen", {})) | {k: list(v) for k, v in told.items()}
        memo = {"printed": printed, "upstream": result.printer.get("PrinterName", "")} | \
            ({"jobs": jobs, "seen": seen, "since": time.time()} if jobs else {})
        if len(pending) == 1:
            if jobs:  # the upstream has Print Jobs: follow them, between steps
                return Wait(after=POLL_FIRST, printing=True, detail=f"{label} printed on {self.called_ae}; "
                            f"following its Print Job", memo=memo, notes=notes)
            return Done(detail=f"{len(printed)} film(s) printed on {self.called_ae}", memo=memo, notes=notes)
        return Wait(after=0.0, printing=True, detail=f"{label} printed on {self.called_ae}", memo=memo, notes=notes)

    def _follow(self, memo: dict[str, Any]) -> Step:
        """Every film printed: follow the upstream's Print Jobs (relay_job.py), one short association a step;
        not while a film is being printed there (one association at a time for printers like dcmprscp)."""

        def ask(jobs: dict[str, str]) -> dict[str, tuple[str, str]] | None:
            lock = _lock(self._upstream)
            if not lock.acquire(blocking=False):
                return None
            try:
                with self._connect(min(self.timeout, 10.0)) as client:
                    return ask_upstream(client, jobs)
            finally:
                lock.release()

        return follow(memo, called_ae=self.called_ae, job_timeout=self.job_timeout, ask=ask, now=time.time())

    def cancel(self, job: DeliveryJob) -> str | None:
        """Nothing can be withdrawn once a film went upstream (DICOM print has no way to ask)."""
        printed = [k for k, v in _read_journal(self._journal(job)).items() if v == PRINTED]
        return handed_over({"printed": list(dict.fromkeys([*job.memo.get("printed", []), *printed]))}, self.called_ae)

    def _journal(self, job: DeliveryJob) -> Path:
        """`<job>.<output id>.journal.json` beside the job (a side file: it moves and goes with the job)."""
        return job.paths.job.with_name(f"{job.paths.stem}.{re.sub(r'[^A-Za-z0-9_-]', '_', self.id)}.journal.json")

    @property
    def _upstream(self) -> tuple[str, int, str]:
        return self.host, self.port, self.called_ae

    def health(self) -> Health:
        """The upstream's own Printer Status (one N-GET, at most every HEALTH_SECONDS, never while a film is
        being printed there), or WARNING / PRINTER OFFLINE when it cannot be reached: films are still accepted
        and wait in the spool, so a modality must not read it as FAILURE (many then refuse to print)."""
        from printserver.scu.transport import PrintClientError

        seen = _LAST_HEALTH.get(self._upstream)
        lock = _lock(self._upstream)
        if seen is not None and (time.monotonic() - seen[0] < HEALTH_SECONDS or lock.locked()):
            return seen[1]
        if not lock.acquire(blocking=False):
            return "NORMAL", "NORMAL", ""  # printing there right now, nothing known yet: it answers
        try:
            with self._connect(min(self.timeout, 5.0)) as client:
                health = _printer_health(client.printer_status(), self.called_ae)
        except (PrintClientError, OSError, ConfigError) as exc:
            health = ("WARNING", "PRINTER OFFLINE", f"upstream printer {exc}")
        finally:
            lock.release()
        _LAST_HEALTH[self._upstream] = (time.monotonic(), health)
        return health


def _printer_health(printer: dict[str, str], called_ae: str) -> Health:
    status = printer.get("PrinterStatus", "NORMAL") or "NORMAL"
    info = printer.get("PrinterStatusInfo", "NORMAL") or "NORMAL"
    return status, info, "" if status == "NORMAL" else f"upstream printer {called_ae} reports {info}"
