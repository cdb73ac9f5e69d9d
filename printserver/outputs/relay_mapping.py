"""Output `relay`: film session and film box values mapped to what the upstream offers; what it cannot take
is reported, never hidden.

Where the upstream offers Printer Configuration Retrieval (PS3.4 H.4.11: N-GET of the well-known instance
1.2.840.10008.5.1.1.17.376), its answer tells the Medium Types and Film Size IDs it has (Media Installed /
Other Media Available, Supported Image Display Formats); it is read once per upstream on a print association
and kept OFFERS_SECONDS. Each value goes through the admin's map first, then the offer:

    [[printer.relay]]
    medium_map = { "BLUE FILM" = "CLEAR FILM" }     # Medium Type: ours -> the upstream's
    film_size_map = { "14INX17IN" = "35CMX43CM" }   # Film Size ID
    destination_map = { "BIN_1" = "MAGAZINE" }      # Film Destination
    priority_map = { "HIGH" = "MED" }               # Print Priority
    max_copies = 5                                  # Number of Copies at most (0: as asked)

A value mapped to "" is not sent (the upstream's default applies; the log says so). By default a value
is forwarded as it is; one the upstream's configuration shows it does not have (and no map covers) is not
sent, with a note in the job's warnings ("upstream LASER1 offers no BLUE FILM: sent without Medium Type").
A value the upstream still refuses (0106 on N-CREATE) fails the output with its status and Error Comment (relay.py).
Film Destination and Print Priority are not part of the configuration an upstream tells: only maps apply.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from printserver.errors import ConfigError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from printserver.scu.client import PrintClient
    from printserver.scu.films import FilmOptions

log = logging.getLogger(__name__)

#: TOML key -> the attribute it maps (a Film Session attribute, or the Film Box's Film Size ID)
MAPS = {"medium_map": "MediumType", "film_size_map": "FilmSizeID", "destination_map": "FilmDestination",
        "priority_map": "PrintPriority"}
KEYS = (*MAPS, "max_copies")
WORDS = {"MediumType": "Medium Type", "FilmSizeID": "Film Size ID", "FilmDestination": "Film Destination",
         "PrintPriority": "Print Priority"}
PRIORITIES = ("HIGH", "MED", "LOW")  # PS3.3 C.13.1
MAX_COPIES = 99
OFFERS_SECONDS = 600.0
_CS = re.compile(r"^[A-Z0-9 _]{1,16}$")  # a Code String value (PS3.5 6.2)


def mapping_values(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The mapping keys of one relay table, checked, as the output's `mapping`; ConfigError names the key."""
    mapping: dict[str, Any] = {}
    for name, attribute in MAPS.items():
        value = table.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f'{key}.{name}: must be a table of ours = theirs, e.g. {{ "BLUE FILM" = "CLEAR FILM" }}')
        for ours, theirs in value.items():
            if not _CS.match(ours):
                raise ConfigError(f"{key}.{name}: {ours!r} is not a {WORDS[attribute]} (up to 16 of A-Z 0-9 space _)")
            if not isinstance(theirs, str) or (theirs and not _CS.match(theirs)):
                raise ConfigError(f"{key}.{name}: {ours} = {theirs!r}: the upstream's value must be a "
                                  f"{WORDS[attribute]} (up to 16 of A-Z 0-9 space _), or \"\" for its default")
            if name == "priority_map" and theirs not in (*PRIORITIES, ""):
                raise ConfigError(f"{key}.{name}: {ours} = {theirs!r}: must be one of {', '.join(PRIORITIES)} or \"\"")
        if value:
            mapping[name] = dict(value)
    copies = table.get("max_copies", 0)
    if not isinstance(copies, int) or isinstance(copies, bool) or not 0 <= copies <= MAX_COPIES:
        raise ConfigError(f"{key}.max_copies: must be 0 (as asked) .. {MAX_COPIES}")
    if copies:
        mapping["max_copies"] = copies
    return {"mapping": mapping}


@dataclass(frozen=True)
class Offers:
    """What the upstream's Printer Configuration Retrieval says it has; None: it does not say."""

    media: frozenset[str] | None = None
    film_sizes: frozenset[str] | None = None

    def of(self, attribute: str) -> frozenset[str] | None:
        return {"MediumType": self.media, "FilmSizeID": self.film_sizes}.get(attribute)


def offers_from(ds: Dataset) -> Offers:
    """Medium Types and Film Size IDs of every Printer Configuration Sequence item (PS3.3 C.13.13)."""
    media: set[str] = set()
    sizes: set[str] = set()
    for item in ds.get("PrinterConfigurationSequence", []):
        for medium in [*item.get("MediaInstalledSequence", []), *item.get("OtherMediaAvailableSequence", [])]:
            media.update([str(medium.MediumType)] if medium.get("MediumType") else [])
            sizes.update([str(medium.FilmSizeID)] if medium.get("FilmSizeID") else [])
        for fmt in item.get("SupportedImageDisplayFormatsSequence", []):
            sizes.update([str(fmt.FilmSizeID)] if fmt.get("FilmSizeID") else [])
    return Offers(frozenset(media) or None, frozenset(sizes) or None)


_OFFERS: dict[tuple[str, int, str], tuple[float, Offers | None]] = {}
_GUARD = threading.Lock()


def upstream_offers(client: PrintClient, upstream: tuple[str, int, str]) -> Offers | None:
    """The upstream's offers, asked on `client`'s association at most every OFFERS_SECONDS; None when it
    does not offer Printer Configuration Retrieval (or refused it)."""
    with _GUARD:
        seen = _OFFERS.get(upstream)
    if seen is not None and time.monotonic() - seen[0] < OFFERS_SECONDS:
        return seen[1]
    ds = client.printer_configuration()
    offers = offers_from(ds) if ds is not None else None
    with _GUARD:
        _OFFERS[upstream] = (time.monotonic(), offers)
    return offers


def map_options(options: FilmOptions, mapping: Mapping[str, Any], offers: Offers | None,
                called_ae: str) -> tuple[FilmOptions, list[str]]:
    """`options` with each mapped value as the upstream takes it; a note for every value not sent."""
    notes: list[str] = []
    session, box = options.session, options.film_box
    values = {a: getattr(box if a == "FilmSizeID" else session, a) for a in MAPS.values()}
    for name, attribute in MAPS.items():
        value = values[attribute]
        if value in (None, ""):
            continue
        sent = dict(mapping.get(name, {})).get(str(value), value)
        offered = offers.of(attribute) if offers is not None else None
        if sent == "":
            log.info("%s %s not sent to %s (%s maps it to its default)", WORDS[attribute], value, called_ae, name)
        elif offered is not None and sent not in offered:
            notes.append(f"upstream {called_ae} offers no {sent}: sent without {WORDS[attribute]}")
            sent = ""
        elif sent != value:
            log.info("%s %s sent to %s as %s (%s)", WORDS[attribute], value, called_ae, sent, name)
        values[attribute] = sent or None
    copies = session.NumberOfCopies
    most = int(mapping.get("max_copies", 0))
    if most and copies is not None and int(copies) > most:
        notes.append(f"upstream {called_ae} takes at most {most} copies (max_copies): {most} sent of {copies}")
        copies = most
    session = replace(session, NumberOfCopies=copies, MediumType=values["MediumType"],
                      FilmDestination=values["FilmDestination"], PrintPriority=values["PrintPriority"])
    return replace(options, session=session, film_box=replace(box, FilmSizeID=values["FilmSizeID"])), notes
