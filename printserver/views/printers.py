"""Printers as an admin wants them at a glance: status as a Printer N-GET answers now, outputs' health, counters.

The status is computed exactly as the SCP's Printer N-GET computes it (configured status, worsened by
the outputs' health, outputs/health.py); each output is also checked on its own so the page can say
which one is unwell and why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from printserver.config import PrinterProfile, ServerConfig
from printserver.model.printer import printer_attributes
from printserver.outputs import health
from printserver.outputs.plan import outputs_of


def output_health(profile: PrinterProfile) -> list[dict[str, str]]:
    """Each output's own health (the plug-in's `health()`), so the page can say which one is unwell and why."""
    out = []
    for output in outputs_of(profile, profile.ae_title):
        try:
            status, info, why = output.health()
        except Exception as exc:  # as outputs/health.py: a broken check is shown, not hidden
            status, info, why = "FAILURE", "PRINTER DOWN", f"health check failed: {exc}"
        out.append({"output": output.id, "target": output.describe(), "status": status, "info": info, "why": why})
    return out


def profile_summary(p: PrinterProfile) -> dict[str, Any]:
    return {"description": p.description, "film_sizes": list(p.film_sizes),
            "display_formats": list(p.display_format_kinds), "medium_types": list(p.medium_types),
            "color": p.supports_color, "max_copies": p.max_copies, "max_image_boxes": p.max_image_boxes,
            "resolutions": dict(p.resolution_dpi), "paper_policy": p.paper_policy,
            "callers": list(p.allowed_calling_aes) or ["any"],
            "defaults": f"{p.default_film_size} {p.default_orientation} {p.default_medium_type}, "
                        f"density {p.default_min_density}-{p.default_max_density}"}


def printer_views(config: ServerConfig, cache: health.HealthCache | None,
                  counters: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    views = []
    for p in config.printers:
        status, info, why = (cache.get(p) if cache is not None else health.check(p))
        ds, _ = printer_attributes(replace(p, printer_status=status, printer_status_info=info), ())
        n_get = {elem.keyword: str(elem.value) for elem in ds}
        views.append({"ae_title": p.ae_title, "n_get": n_get, "why": "" if status == "NORMAL" else why,
                      "outputs": output_health(p),
                      "counters": {"films_today": 0, "jobs_today": 0, "failed": 0, "waiting": 0,
                                   **counters.get(p.ae_title, {})},
                      "profile": profile_summary(p)})
    return views


def today() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d")
