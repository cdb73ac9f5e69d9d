"""Which outputs a printer's job goes to, snapshotted into the spooled job when it is accepted.

The snapshot makes a job file self-contained: a job retried after a restart is delivered where it was meant
to go when the modality was told Success, even if the configuration changed since. Outputs are found by name
through the registry (outputs/registry.py); this module never names one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from printserver.errors import ConfigError
from printserver.outputs.registry import FLAT_KEYS, REGISTRY, output_class

if TYPE_CHECKING:
    from printserver.config import PrinterProfile, ServerConfig
    from printserver.outputs.base import Output, Rendition


def used_by(profile: PrinterProfile) -> Iterator[str]:
    """Names of the outputs this printer may configure: the flat-key ones always, table ones when present."""
    for name in REGISTRY:
        if name in profile.output_tables or (name in FLAT_KEYS and getattr(profile, FLAT_KEYS[name], None)):
            yield name


def outputs_of(profile: PrinterProfile, key: str = "printer") -> list[Output]:
    """Every output of a printer, validated (ConfigError names the key); imports only the modules used."""
    out: list[Output] = []
    for name in used_by(profile):
        out += output_class(name, f"{key}.{name}").from_profile(profile, key)
    ids = [o.id for o in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{key}: output ids must be unique within a printer, repeated: {', '.join(dupes)}")
    return out


def job_outputs(profile: PrinterProfile) -> dict[str, Any]:
    """What an accepted job keeps of its printer's outputs (spool/store.py writes it into the job file)."""
    return {"printer": profile.ae_title, "pdf_bits": profile.pdf_bits,
            "outputs": [{"kind": o.kind, "settings": o.settings()} for o in outputs_of(profile)]}


def from_snapshot(snapshot: Mapping[str, Any]) -> list[Output]:
    """The outputs a spooled job goes to, rebuilt from its snapshot (also the pre-plug-in job format)."""
    if "outputs" not in snapshot:
        return _legacy(snapshot)
    return [output_class(item["kind"]).from_settings(item["settings"]) for item in snapshot["outputs"]]


def renditions_needed(snapshot: Mapping[str, Any]) -> list[Rendition]:
    """Every rendition a job's outputs need before delivery, once each, in a stable order."""
    wanted: list[Rendition] = []
    for output in from_snapshot(snapshot):
        wanted += [r for r in output.renditions() if r not in wanted]
    return wanted


def _legacy(snapshot: Mapping[str, Any]) -> list[Output]:
    """Jobs spooled by printserver before the plug-ins ({"pdf_dir", "pdf_name", "cups": {...}})."""
    out: list[Output] = []
    printer = str(snapshot.get("printer", "printer"))
    if snapshot.get("pdf_dir"):
        out.append(output_class("pdf").from_settings(
            {"id": "pdf", "key": f"{printer}.pdf_dir", "folder": snapshot["pdf_dir"],
             **({"name": snapshot["pdf_name"]} if snapshot.get("pdf_name") else {})}))
    cups = snapshot.get("cups")
    if cups:
        out.append(output_class("cups").from_settings({"id": "cups", "key": f"{printer}.cups_queue", **cups}))
    return out


def check_outputs(config: ServerConfig) -> None:
    """`serve` start-up: every output able to work on this machine, else ConfigError naming key and fix."""
    problems = [problem for i, profile in enumerate(config.printers)
                for output in outputs_of(profile, f"printer[{i}]") if (problem := output.check())]
    if problems:
        raise ConfigError("\n  ".join(["an output cannot work here:", *problems]) if len(problems) > 1
                          else problems[0])
