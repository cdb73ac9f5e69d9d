"""Which outputs a printer's job goes to, snapshotted into the spooled job when it is accepted.

The snapshot makes a job file self-contained: a job retried after a restart is delivered where it
was meant to go when the modality was told Success.
"""

from __future__ import annotations

from typing import Any

from printserver.config import PrinterProfile


def job_outputs(profile: PrinterProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"printer": profile.ae_title, "pdf_bits": profile.pdf_bits}
    if profile.pdf_dir:
        out["pdf_dir"] = str(profile.pdf_dir)
        out["pdf_name"] = profile.pdf_name
    if profile.cups_queue:
        out["cups"] = {
            "queue": profile.cups_queue,
            "server": profile.cups_server,
            "media": dict(profile.cups_media),
            "medium_type": dict(profile.cups_medium_type),
            "film_destination": dict(profile.cups_film_destination),
            "options": dict(profile.cups_options),
            "paper_policy": profile.paper_policy,
        }
    return out
