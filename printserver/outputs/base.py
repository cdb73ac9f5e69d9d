"""The output plug-in interface: where a finished film goes (PDF folder, CUPS queue, PACS, DICOM imager).

One module per output, registered by name in `printserver/outputs/registry.py` and imported only when a
printer configures it, so a missing optional dependency (pycups, ...) breaks nothing else. Adding an output
is: one module with one `Output` subclass, one line in `registry.REGISTRY`, and its tests.

The contract (docs/house-jobs.md tells the same with an example):

- **Configuration.** `Output.from_profile(profile, key)` builds the printer's outputs of this kind from its
  validated `PrinterProfile` — the flat keys of the built-in outputs (`pdf_dir`, `cups_queue`, ...) or, for a
  new output, its own TOML table `[printer.<name>]` / array of tables `[[printer.<name>]]`, which config.py
  hands over untouched in `profile.output_tables[<name>]`. It returns zero or more instances (none: not
  configured) and raises `ConfigError` whose message starts with the full TOML key (`printer[0].pacs[1].port:
  must be 1..65535`). It must not touch the network or the disk: `check-config` and the conformance
  statement build outputs too.
- **A value.** An `Output` is a frozen dataclass: its fields are its settings (JSON-able). The spool snapshots
  `settings()` into each accepted job, and delivery rebuilds the output from that snapshot with
  `from_settings()`, so a job is delivered where it was meant to go when the modality heard Success, even if
  the configuration changed since. `id` is unique within a printer (`pdf`, `cups`, `pacs:ORTHANC`) and keys
  the output's state in the job record; `key` is the TOML key named in messages.
- **Renditions.** `renditions()` names what the render workers must make before delivery starts (the
  true-size PDF, the film rasters). Every rendering happens in the worker pool: `deliver` never composes
  films and never reads the job's source pixels. A rendition whose parameters are known only at delivery
  (the paper of a CUPS queue, for `fit`) is asked for by returning `Render(rendition)` from `deliver`; the job
  is rendered again for it and `deliver` is called once the file exists (`job.rendition(r)`).
- **Delivery, step by step.** `deliver(job)` does one step and says how it went: `Done`, `Wait` (in progress,
  ask again after `after` seconds: e.g. CUPS is printing), `Retry` (could not deliver now: the spool retries
  with backoff and fails the output for good after `server.delivery_give_up`), `Failed` (refused for good) or
  `Render`. Every result carries the Print Job Execution Status Info the modality should see while this output
  is the one it waits for, and an optional `memo`: a small JSON dict persisted in the job record with the
  output's state and handed back as `job.memo` on every later step — across restarts. The memo is how a step
  is made idempotent: CUPS keeps its CUPS job id there, so after a kill -9 the job is polled, not printed
  twice; a PACS output keeps the SOP Instance UIDs it minted, so a retry stores the same instances again.
  A step must be safe to repeat when it was interrupted before its result was recorded (a redone job
  replaces its own outputs: deterministic names, deterministic UIDs).
- **Health.** `health()` answers (Printer Status, Printer Status Info, why) for Printer N-GET and the Printer
  N-EVENT-REPORT (cached by the caller; keep it to one quick query).
- **Start-up check.** `check()` prepares what the output needs on this machine (e.g. creates its folder) and
  returns why it cannot work at all here (dependency not installed, target missing, folder not writable) as a
  message naming the key and the fix, else None;
  `printserver serve` refuses to start (exit 2) on any. A peer that is merely down is not a start-up problem
  (films wait in the spool), only `health()` reports it.
- **Cancel.** `cancel(job)` withdraws what was handed over and not yet produced (a CUPS job still queued);
  returns None when nothing will be produced, else why it cannot be stopped any more.

Deliver runs in the server's delivery threads, one step of a job at a time; an exception from a step is
logged and treated as `Retry` (a bug must not lose a film).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from printserver.config import PrinterProfile
    from printserver.model.spooled_job import PrintJob
    from printserver.spool.paths import JobPaths

#: (Printer Status, Printer Status Info, why) — the answer of `Output.health()`.
Health = tuple[str, str, str]
HEALTHY: Health = ("NORMAL", "NORMAL", "")


@dataclass(frozen=True)
class Rendition:
    """A document or raster the render workers make for an output, kept beside the job in the spool.

    kind: "pdf" (true-size, one page per film, page = film), "fit-pdf" (films scaled onto `paper_mm`, the scale
    and `caption` printed in the margin), "rasters" (the composed films as arrays, one per film, as the printer
    would expose them: uint8/uint16 gray or uint8 RGB; their dpi is `dpi`, or when None `FilmJob.dpi` of the
    job header: a relay composes at its upstream's resolution, not ours), "source" (each image box's pixels
    as the modality sent them, for a relay forwarding the original layout: outputs/relay_layout.py).
    """

    kind: str
    paper_mm: tuple[float, float] | None = None
    caption: str = ""
    dpi: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rendition:
        paper = data.get("paper_mm")
        dpi = data.get("dpi")
        return cls(str(data["kind"]), tuple(paper) if paper else None, str(data.get("caption", "")),  # type: ignore[arg-type]
                   int(dpi) if dpi else None)


TRUE_SIZE_PDF = Rendition("pdf")
RASTERS = Rendition("rasters")
RENDITION_KINDS = ("pdf", "fit-pdf", "rasters", "source")


# --- what one delivery step reports --------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Step:
    #: Print Job Execution Status Info while the job waits for this output (PS3.3 C.13.9.1 terms)
    info: str = "NORMAL"
    #: Replaces this output's memo in the job record (None: keep it)
    memo: Mapping[str, Any] | None = None
    #: Said once in the job's timeline and warnings (e.g. "paper smaller than the film: cropped")
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Done(Step):
    """The output has the film (printed, stored, written). `detail` goes to the timeline."""

    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Wait(Step):
    """Handed over and in progress (e.g. queued or printing in CUPS): ask again in `after` seconds.

    `printing`: the film is being produced now (Execution Status PRINTING), else it waits (PENDING)."""

    after: float = 0.5
    printing: bool = False
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Retry(Step):
    """Not delivered now (peer down, queue stopped, network error): try again later, with backoff."""

    reason: str
    info: str = "PRINTER DOWN"


@dataclass(frozen=True, kw_only=True)
class Failed(Step):
    """Refused for good (the peer rejected this job): the output fails, the job fails once others finish."""

    reason: str
    info: str = "CHECK PRINTER"


@dataclass(frozen=True, kw_only=True)
class Render(Step):
    """This step needs a rendition made first (e.g. fit onto the paper the queue has)."""

    rendition: Rendition
    info: str = "QUEUED"


@dataclass(frozen=True)
class DeliveryJob:
    """What a delivery step sees of a job: its header (no pixels), its files, this output's memo."""

    job: PrintJob  # films without image pixels (Spool.load_header)
    paths: JobPaths
    memo: Mapping[str, Any] = field(default_factory=dict)
    attempts: int = 0

    def rendition(self, rendition: Rendition) -> Path:
        return self.paths.rendition(rendition)

    @property
    def name(self) -> str:
        return self.paths.job.stem


# --- the interface ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Output(ABC):
    """One configured output of a printer. Subclasses are frozen dataclasses whose fields are settings."""

    #: Unique within the printer; keys the output's state in the job record ("pdf", "cups", "pacs:ORTHANC")
    id: str
    #: The TOML key this output was configured by, named in every message about it
    key: str

    #: The registry name (`registry.REGISTRY`)
    kind: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_profile(cls, profile: PrinterProfile, key: str) -> list[Self]:
        """This kind's outputs of a printer (`key` = "printer[i]"); ConfigError naming the key if invalid."""

    def settings(self) -> dict[str, Any]:
        """The JSON snapshot kept in each accepted job."""
        return dataclasses.asdict(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in settings.items() if k in names}
        for f in dataclasses.fields(cls):  # JSON turns tuples into lists
            if f.name in values and isinstance(values[f.name], list):
                values[f.name] = tuple(values[f.name])
        return cls(**values)

    def renditions(self) -> tuple[Rendition, ...]:
        """Renditions the workers make before the first delivery step."""
        return ()

    @abstractmethod
    def describe(self) -> str:
        """One line for the log, check-config and the conformance statement ("CUPS queue film on host")."""

    def check(self) -> str | None:
        """Why this output cannot work on this machine at all (naming the key and the fix), else None."""
        return None

    def health(self) -> Health:
        return HEALTHY

    @abstractmethod
    def deliver(self, job: DeliveryJob) -> Step:
        """One step of delivering `job`; see the module doc."""

    def cancel(self, job: DeliveryJob) -> str | None:
        """Withdraw a handed-over job not yet produced; None when nothing will be produced, else why not."""
        return None
