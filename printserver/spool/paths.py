"""Every file of a spooled job, named in one place.

Beside `<stem>.job` (the accepted job: header + source pixels) live, with the same stem:
  <stem>.state.json           the job record (spool/records.py)
  <stem>.film.pdf             rendition "pdf": the true-size document (PDF folder, CUPS, encapsulated PDF)
  <stem>.fit-<W>x<H>.pdf      rendition "fit-pdf": films scaled onto W x H mm paper (CUPS, paper_policy fit)
  <stem>.films.npz            rendition "rasters": the composed films as arrays (PACS Secondary Capture, relay)
  <stem>.films-<N>dpi.npz     rendition "rasters" at N dpi (a relay composing at its upstream's resolution)
  <stem>.source.npz           rendition "source": each image box's pixels as sent (relay mode "layout")
  <stem>.reason.txt           why the job failed (spool/failed/ only)
Spool.finish and Spool.fail move or remove all of them: `side_files()` is the one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from printserver.outputs.base import Rendition

JOB_SUFFIX = ".job"
STATE_SUFFIX = ".state.json"
REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class JobPaths:
    job: Path

    @classmethod
    def of(cls, job: Path | str) -> JobPaths:
        return cls(Path(job))

    @property
    def stem(self) -> str:
        return self.job.name.removesuffix(JOB_SUFFIX)

    def _side(self, suffix: str) -> Path:
        return self.job.with_name(self.stem + suffix)

    @property
    def state(self) -> Path:
        return self._side(STATE_SUFFIX)

    @property
    def pdf(self) -> Path:
        return self._side(".film.pdf")

    @property
    def rasters(self) -> Path:
        return self._side(".films.npz")

    @property
    def reason(self) -> Path:
        return self._side(REASON_SUFFIX)

    def fit_pdf(self, paper_mm: tuple[float, float]) -> Path:
        return self._side(f".fit-{paper_mm[0]:g}x{paper_mm[1]:g}.pdf")

    def rendition(self, rendition: Rendition) -> Path:
        if rendition.kind == "pdf":
            return self.pdf
        if rendition.kind == "rasters":
            return self.rasters if rendition.dpi is None else self._side(f".films-{rendition.dpi}dpi.npz")
        if rendition.kind == "source":
            return self._side(".source.npz")
        if rendition.kind == "fit-pdf" and rendition.paper_mm is not None:
            return self.fit_pdf(rendition.paper_mm)
        raise ValueError(f"unknown rendition {rendition}")

    def side_files(self) -> list[Path]:
        """The job's files other than the job file that exist now (renditions, record, reason)."""
        return sorted(p for p in self.job.parent.glob(f"{self.stem}.*") if p != self.job)

    def renditions(self) -> list[Path]:
        """Rendered documents and rasters that exist now (not the record, not the reason)."""
        return [p for p in self.side_files() if p.name not in (self.state.name, self.reason.name)]

    def in_folder(self, folder: Path) -> JobPaths:
        return JobPaths(folder / self.job.name)
