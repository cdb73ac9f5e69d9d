"""Output `pdf`: every film as a true-size PDF in a folder (keys pdf_dir, pdf_name, pdf_mode, pdf_group).

The document is the job's true-size rendition, made once by a render worker; delivery puts it into the
folder under its deterministic name (outputs/files.py) by a hard link, or a copy across file systems, then
a rename: a redone job replaces its own file, a reader never sees half a file, and a printer that also
prints through CUPS does not encode the films twice. Files are owner-only unless `pdf_mode` / `pdf_group`
open them to a group (never to everyone: these are patient images).
"""

from __future__ import annotations

import grp
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from printserver.errors import ConfigError
from printserver.outputs.base import TRUE_SIZE_PDF, DeliveryJob, Done, Health, Output, Render, Rendition, Retry, Step
from printserver.outputs.files import (
    DEFAULT_PDF_NAME,
    check_mode,
    check_pdf_name,
    dir_mode,
    film_pdf_path,
    fsync_dir,
    private_dirs,
)

if TYPE_CHECKING:
    from printserver.config import PrinterProfile


@dataclass(frozen=True)
class PdfFolder(Output):
    kind = "pdf"

    folder: str = "films"
    name: str = DEFAULT_PDF_NAME
    mode: str = "0600"
    group: str = ""

    @classmethod
    def from_profile(cls, profile: PrinterProfile, key: str) -> list[Self]:
        if not profile.pdf_dir:
            return []
        problem = check_pdf_name(profile.pdf_name)
        if problem:
            raise ConfigError(f"{key}.pdf_name: {problem}")
        if check_mode(profile.pdf_mode) is None:
            raise ConfigError(f"{key}.pdf_mode: must be an octal mode with owner read/write and nothing for "
                              f"others, e.g. \"0600\" or \"0640\" (films are patient images)")
        return [cls("pdf", f"{key}.pdf_dir", profile.pdf_dir, profile.pdf_name, profile.pdf_mode, profile.pdf_group)]

    def renditions(self) -> tuple[Rendition, ...]:
        return (TRUE_SIZE_PDF,)

    def describe(self) -> str:
        return f"PDF files in {self.folder}/{self.name}"

    def _writable_parent(self) -> tuple[Path, str | None]:
        path = Path(self.folder)
        while not path.exists() and path != path.parent:
            path = path.parent  # the folder is created on demand: its nearest existing parent must be writable
        if not path.is_dir():
            return path, f"{path} is not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return path, f"{path} is not writable by this user"
        return path, None

    def check(self) -> str | None:
        _, problem = self._writable_parent()
        if problem is None:
            try:  # made now (owner-only, or as pdf_mode says), so a broken folder shows before the first film
                private_dirs(Path(self.folder), dir_mode(int(self.mode, 8)))
            except OSError as exc:
                problem = f"cannot create it ({exc.strerror})"
        if problem:
            return f"{self.key}: output folder {self.folder}: {problem}; make it writable or set another pdf_dir"
        if self.group:
            try:
                gid = grp.getgrnam(self.group).gr_gid
            except KeyError:
                return f"{self.key.removesuffix('pdf_dir')}pdf_group: no group {self.group!r} on this machine"
            if gid not in os.getgroups() and os.getuid() != 0:
                return (f"{self.key.removesuffix('pdf_dir')}pdf_group: this user is not in group {self.group!r}; "
                        f"add it or leave pdf_group empty")
        return None

    def health(self) -> Health:
        _, problem = self._writable_parent()
        if problem:
            return "FAILURE", "PRINTER DOWN", f"output folder {self.folder}: {problem}"
        return "NORMAL", "NORMAL", ""

    def target(self, job: DeliveryJob) -> Path:
        j = job.job
        return film_pdf_path(Path(self.folder), j.created, j.calling_ae, [f.film_number for f in j.films], j.job_uid,
                             pattern=self.name, called_ae=j.called_ae, printer=j.printer_name,
                             label=str(j.session.get("FilmSessionLabel", "")))

    def deliver(self, job: DeliveryJob) -> Step:
        source = job.rendition(TRUE_SIZE_PDF)
        target = self.target(job)
        mode = int(self.mode, 8)
        try:
            private_dirs(target.parent, dir_mode(mode))
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            try:
                os.link(source, tmp)  # the rendition itself: no second encode, no second copy on disk
            except OSError:
                shutil.copyfile(source, tmp)
            os.chmod(tmp, mode)
            if self.group:
                os.chown(tmp, -1, grp.getgrnam(self.group).gr_gid)
            os.replace(tmp, target)
            tmp.unlink(missing_ok=True)  # rename() between two links of one file does nothing (a redo)
            fsync_dir(target.parent)
        except FileNotFoundError as exc:
            if not source.exists():  # lost (removed by hand?): have it rendered again
                return Render(rendition=TRUE_SIZE_PDF)
            return Retry(reason=f"cannot write {target}: {exc}", info="PRINTER DOWN")
        except (OSError, KeyError) as exc:
            return Retry(reason=f"cannot write {target}: {exc}", info="PRINTER DOWN")
        return Done(detail=f"written {target}", memo={"path": str(target)})
