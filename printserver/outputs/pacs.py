"""Output `pacs`: every film archived as a DICOM Secondary Capture (and, if asked, the job's PDF as an
Encapsulated PDF) in a PACS, with C-STORE.

Configured per printer by an array of tables (or `printserver serve --archive AE@HOST:PORT`):

    [[printer.pacs]]
    called_ae = "ORTHANC"          # the archive's AE title
    host = "127.0.0.1"
    port = 4242
    calling_ae = ""                # ours; empty: the printer's AE title
    store = ["film"]               # "film" (Secondary Capture per film), "pdf" (Encapsulated PDF per job)
    transfer_syntax = ["jpeg-ls", "rle", "explicit"]   # films: lossless, the first the PACS accepts
                                                       # ("deflate" too; archive/syntaxes.py says why this order)
    timeout = 30.0                 # seconds per association / exchange
    tls = true                     # DICOM TLS; tls_ca, tls_cert, tls_key, tls_verify_hostname: outputs/dicom_peer.py
    identity = [ { attribute = "PatientID", source = "label", pattern = "MRN:(\\d+)" } ]

The render workers make the film rasters (and the true-size PDF); a delivery step builds one object from
them (archive/objects.py, identity from archive/identity.py) and stores it, so at most one object is
in flight when the server is killed. The memo keeps which objects are stored ("film3", "pdf"), the Patient
ID used and where each identity value came from; the UIDs are derived from the job, so a redone step
stores the same instance, which the PACS keeps once. Association refused, network errors and
out-of-resources statuses are retried with the spool's backoff until `server.delivery_give_up`; a PACS
that refuses the object (0122, A9xx, Cxxx) fails the output at once, with its status in the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from printserver.errors import ConfigError
from printserver.outputs.base import (
    RASTERS,
    TRUE_SIZE_PDF,
    DeliveryJob,
    Done,
    Failed,
    Health,
    Rendition,
    Retry,
    Step,
    Wait,
)
from printserver.outputs.dicom_peer import DicomPeer, parse_peer

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from printserver.archive.cstore import Destination
    from printserver.archive.identity import Identity, IdentityRule

KINDS = ("film", "pdf")


def parse_archive(value: str) -> dict[str, Any]:
    """`AE@HOST:PORT` (the --archive option) -> a pacs table; ValueError says what is wrong."""
    return parse_peer(value, "--archive", "ORTHANC@127.0.0.1:4242")


def _rules(value: Any, key: str) -> tuple[tuple[str, str, str], ...]:
    from printserver.archive.identity import IdentityRule

    if not isinstance(value, list):
        raise ConfigError(f"{key}: must be an array of tables {{ attribute, source, pattern }}")
    rules = []
    for n, item in enumerate(value):
        where = f"{key}[{n}]"
        if not isinstance(item, dict) or set(item) != {"attribute", "source", "pattern"} or \
                not all(isinstance(v, str) for v in item.values()):
            raise ConfigError(f"{where}: must be {{ attribute = \"...\", source = \"...\", pattern = \"...\" }}")
        problem = IdentityRule(item["attribute"], item["source"], item["pattern"]).check(where)
        if problem:
            raise ConfigError(problem)
        rules.append((item["attribute"], item["source"], item["pattern"]))
    return tuple(rules)


@dataclass(frozen=True)
class PacsArchive(DicomPeer):
    kind = "pacs"
    own_keys = ("store", "identity", "transfer_syntax")

    timeout: float = 30.0
    store: tuple[str, ...] = ("film",)
    #: Identity extraction rules (attribute, source, pattern), archive.identity.IdentityRule
    identity: tuple[tuple[str, str, str], ...] = ()
    #: Transfer syntaxes proposed for the films, in preference order (archive/syntaxes.py); uncompressed last
    transfer_syntax: tuple[str, ...] = ("jpeg-ls", "rle", "explicit")

    @classmethod
    def own_values(cls, table: dict[str, Any], key: str) -> dict[str, Any]:
        from printserver.archive.syntaxes import DEFAULT, SYNTAXES

        store = table.get("store", ["film"])
        if not isinstance(store, list) or not store or any(s not in KINDS for s in store) or \
                len(set(store)) != len(store):
            raise ConfigError(f"{key}.store: must be a non-empty list of {', '.join(KINDS)}")
        syntaxes = table.get("transfer_syntax", list(DEFAULT))
        syntaxes = [syntaxes] if isinstance(syntaxes, str) else syntaxes
        if not isinstance(syntaxes, list) or not syntaxes or any(s not in SYNTAXES for s in syntaxes) or \
                len(set(syntaxes)) != len(syntaxes):
            raise ConfigError(f"{key}.transfer_syntax: must be one or a list of {', '.join(SYNTAXES)} "
                              f"(in order of preference), got {table.get('transfer_syntax')!r}")
        return {"store": tuple(store), "identity": _rules(table.get("identity", []), f"{key}.identity"),
                "transfer_syntax": tuple(syntaxes)}

    def check(self) -> str | None:
        """TLS files (DicomPeer.check), and an encoder for every compressed transfer syntax asked for."""
        from printserver.archive.syntaxes import missing_encoder

        problem = super().check()
        if problem or "film" not in self.store:
            return problem
        for name in self.transfer_syntax:
            needs = missing_encoder(name)
            if needs:
                return f"{self.key}.transfer_syntax: {name!r} needs {needs} (pip install them, or leave " \
                       f"{name!r} out of the list)"
        return None

    # --- what the workers make, what a step sends ------------------------------------------------------

    def renditions(self) -> tuple[Rendition, ...]:
        return ((RASTERS,) if "film" in self.store else ()) + ((TRUE_SIZE_PDF,) if "pdf" in self.store else ())

    def describe(self) -> str:
        what = " and ".join({"film": "films as Secondary Capture", "pdf": "Encapsulated PDF"}[s] for s in self.store)
        return f"PACS {self.called_ae} at {self.host}:{self.port} ({what}, as {self.calling_ae}{self.transport})"

    @property
    def destination(self) -> Destination:
        from printserver.archive.cstore import Destination

        return Destination(self.called_ae, self.host, self.port, self.calling_ae, self.timeout)

    def rules(self) -> list[IdentityRule]:
        from printserver.archive.identity import IdentityRule

        return [IdentityRule(*rule) for rule in self.identity]

    def planned(self, job: DeliveryJob) -> list[tuple[str, str, int]]:
        """(label, kind, film index) of every object this job makes here, in sending order; the label
        ("film3", "pdf") is what the memo keeps (the UIDs are derived from the job again)."""
        films = [(f"film{f.film_number}", "film", i) for i, f in enumerate(job.job.films)] \
            if "film" in self.store else []
        return films + ([("pdf", "pdf", -1)] if "pdf" in self.store else [])

    def build(self, job: DeliveryJob, kind: str, index: int, identity: Identity) -> Dataset:
        from printserver.archive.objects import encapsulated_pdf, secondary_capture

        if kind == "pdf":
            return encapsulated_pdf(job.job, job.rendition(TRUE_SIZE_PDF).read_bytes(), identity)
        import numpy as np

        with np.load(job.rendition(RASTERS)) as rasters:
            raster = rasters[f"film{index}"]
        return secondary_capture(job.job, job.job.films[index], raster, identity)

    def deliver(self, job: DeliveryJob) -> Step:
        """Store the next object not yet stored; Done when all are (the memo lists what is stored)."""
        from printserver.archive.cstore import StoreRefused, StoreUnavailable, store
        from printserver.archive.identity import job_identity

        stored = list(job.memo.get("stored", []))
        identity = job_identity(job.job, self.rules())
        memo: dict[str, Any] = {"stored": stored, "patient_id": identity.get("PatientID"),
                                "identity": dict(identity.sources),
                                "transfer_syntax": dict(job.memo.get("transfer_syntax", {}))}
        pending = [p for p in self.planned(job) if p[0] not in stored]
        if not pending:
            return Done(detail=f"{len(stored)} object(s) stored in {self.called_ae}", memo=memo)
        label, kind, index = pending[0]
        try:
            ds = self.build(job, kind, index, identity)
            (syntax,) = store(self.destination, [ds], tls=self.tls_context(), syntaxes=self.transfer_syntax)
        except (StoreUnavailable, ConfigError) as exc:  # ConfigError: a TLS file gone since start-up
            return Retry(reason=str(exc), info="QUEUED", memo=memo)
        except StoreRefused as exc:
            return Failed(reason=str(exc), info="CHECK PRINTER", memo=memo)
        memo["stored"] = [*stored, label]
        memo["study"] = ds.StudyInstanceUID
        memo["transfer_syntax"] = {**job.memo.get("transfer_syntax", {}), label: syntax.name}
        notes = tuple(identity.notes) if not stored else ()
        if len(pending) == 1:
            return Done(detail=f"{len(memo['stored'])} object(s) stored in {self.called_ae} "
                               f"(patient {identity.get('PatientID')}; last as {syntax.name})", memo=memo, notes=notes)
        return Wait(after=0.0, printing=True, detail=f"{kind} stored in {self.called_ae} ({syntax.name})", memo=memo,
                    notes=notes)

    def health(self) -> Health:
        from dataclasses import replace

        from printserver.archive.cstore import echo

        # health must be quick; over TLS too, so an untrusted certificate shows here
        try:
            problem = echo(replace(self.destination, timeout=min(self.timeout, 3.0)), tls=self.tls_context())
        except ConfigError as exc:
            problem = str(exc)
        if problem:
            return "WARNING", "CHECK PRINTER", f"archive {problem}"
        return "NORMAL", "NORMAL", ""
