"""Outputs by name, imported lazily (as pydicom finds its pixel decoders): one line per output.

A module is imported only when a printer uses its output (or a command lists them all), so an output whose
optional dependency is missing fails alone, with a message naming the key, and never stops the others.
Plug-in modules import their optional dependency inside the functions that need it and report its absence
from `Output.check()`; the ImportError path here is the safety net for one that does not.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from printserver.errors import ConfigError

if TYPE_CHECKING:
    from printserver.outputs.base import Output

#: name -> module holding exactly one `Output` subclass with `kind == name`. Order = delivery order.
REGISTRY: dict[str, str] = {
    "pdf": "printserver.outputs.pdf",
    "cups": "printserver.outputs.cups",
    "pacs": "printserver.outputs.pacs",
    "relay": "printserver.outputs.relay",
}
#: The printer key that turns on an output configured by flat keys (the two outputs older than the plug-ins,
#: whose keys `pdf_dir`, `cups_queue`, ... stay); a new output is configured by its own table instead.
FLAT_KEYS: dict[str, str] = {"pdf": "pdf_dir", "cups": "cups_queue"}


class OutputUnavailable(ConfigError):
    """The output's module cannot be imported here (a dependency is missing)."""


def output_class(name: str, key: str = "") -> type[Output]:
    from printserver.outputs.base import Output

    module_name = REGISTRY.get(name)
    if module_name is None:
        raise ConfigError(f"{key or name}: unknown output {name!r} (known: {', '.join(REGISTRY)})")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise OutputUnavailable(f"{key or name}: output {name!r} cannot be loaded ({exc}); "
                                f"install its dependency or remove the key") from None
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Output) and getattr(value, "kind", None) == name:
            return value
    raise ConfigError(f"{key or name}: module {module_name} defines no output of kind {name!r}")


def is_output_table(name: str) -> bool:
    """A printer-table key that holds an output's own table (`[printer.<name>]`)."""
    return name in REGISTRY
