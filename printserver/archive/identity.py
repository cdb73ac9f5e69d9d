"""Who and what a printed film belongs to, taken from what the print stream carries (pure).

A print stream rarely names a patient. What it can carry, in the order taken (the first source that
yields a valid value for an attribute wins):

1. The attributes a modality put into the image box items (Basic Grayscale/Color Image Sequence) beside
   the pixels: Patient Name/ID, Study Instance UID, Accession Number, … (`ITEM_KEYWORDS`), image boxes in
   film and position order.
2. The admin's extraction rules, in configuration order: a regular expression over the Film Session
   Label, the Owner ID or an Annotation Box text (one position or any).
3. Plain defaults: Study Description = Film Session Label, Operators' Name = Owner ID.
4. A placeholder Patient ID (never empty: a PACS files every film with an empty Patient ID under one
   patient) and Patient Name, obviously a placeholder, unique per film session.

Every value carries where it came from; the archive output writes that into the job's memo.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from printserver.model.pixels import IDENTIFYING_KEYWORDS
from printserver.model.spooled_job import PrintJob
from printserver.uids import is_valid_uid

#: Attributes a modality may put into an image box item that identify the film's patient and study.
ITEM_KEYWORDS = IDENTIFYING_KEYWORDS

#: What an extraction rule may set (PatientName in DICOM PN form, e.g. DOE^JOHN).
RULE_KEYWORDS = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
                 "AccessionNumber", "StudyID", "StudyDescription", "ReferringPhysicianName", "StudyInstanceUID")

#: Where a rule looks: the Film Session Label, the Owner ID, or an annotation text ("annotation" = any
#: position, "annotation:N" = position N).
RULE_SOURCES = ("label", "owner", "annotation")

PLACEHOLDER_PREFIX = "NOPID"
PLACEHOLDER_NAME = "UNIDENTIFIED^PRINTED FILM"

_MAX_LEN = {"PatientID": 64, "IssuerOfPatientID": 64, "PatientName": 64, "AccessionNumber": 16, "StudyID": 16,
            "StudyDescription": 64, "ReferringPhysicianName": 64, "InstitutionName": 64, "Modality": 16,
            "OperatorsName": 64}
_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$")


@dataclass(frozen=True)
class IdentityRule:
    """Set `attribute` from the first match of `pattern` in `source` (group "value", else group 1, else
    the whole match)."""

    attribute: str
    source: str
    pattern: str

    def check(self, key: str) -> str | None:
        """None when usable, else why not (naming `key`)."""
        if self.attribute not in RULE_KEYWORDS:
            return f"{key}.attribute: '{self.attribute}' is not one of {', '.join(RULE_KEYWORDS)}"
        kind, _, position = self.source.partition(":")
        if kind not in RULE_SOURCES or (position and (kind != "annotation" or not position.isdigit())):
            return f"{key}.source: '{self.source}' is not label, owner, annotation or annotation:N"
        try:
            re.compile(self.pattern)
        except re.error as exc:
            return f"{key}.pattern: not a regular expression ({exc})"
        return None


@dataclass(frozen=True)
class Identity:
    """DICOM keyword -> value, and keyword -> where the value came from."""

    values: Mapping[str, str]
    sources: Mapping[str, str]
    notes: tuple[str, ...] = ()

    @property
    def placeholder(self) -> bool:
        return self.sources.get("PatientID") == "placeholder"

    def get(self, keyword: str, default: str = "") -> str:
        return self.values.get(keyword, default)


@dataclass
class _Found:
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def offer(self, keyword: str, raw: Any, source: str) -> None:
        if keyword in self.values or raw is None:
            return
        value = str(raw).strip()
        if not value:
            return
        why = _invalid(keyword, value)
        if why:
            self.notes.append(f"{keyword} from {source} ignored: {why}")
            return
        self.values[keyword] = value
        self.sources[keyword] = source


def _invalid(keyword: str, value: str) -> str | None:
    if "\\" in value or any(ord(c) < 32 for c in value):
        return "control character or backslash"
    limit = _MAX_LEN.get(keyword)
    if limit is not None and len(value) > limit:
        return f"longer than {limit} characters"
    if keyword == "StudyInstanceUID" and not is_valid_uid(value):
        return f"'{value}' is not a valid UID"
    if keyword in ("PatientBirthDate", "StudyDate") and not _DATE.match(value):
        return f"'{value}' is not a date YYYYMMDD"
    if keyword == "StudyTime" and not _TIME.match(value):
        return f"'{value}' is not a time HHMMSS"
    if keyword == "PatientSex" and value not in ("M", "F", "O"):
        return f"'{value}' is not M, F or O"
    return None


def _rule_texts(rule: IdentityRule, session: Mapping[str, Any],
                annotations: list[tuple[int, str]]) -> Iterable[tuple[str, str]]:
    """(text, where) pairs a rule looks at."""
    kind, _, position = rule.source.partition(":")
    if kind == "label":
        yield str(session.get("FilmSessionLabel", "")), "FilmSessionLabel"
    elif kind == "owner":
        yield str(session.get("OwnerID", "")), "OwnerID"
    else:
        for pos, text in annotations:
            if not position or int(position) == pos:
                yield text, f"annotation position {pos}"


def _match(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text)
    if m is None:
        return None
    if "value" in m.re.groupindex:
        return m.group("value")
    return m.group(1) if m.re.groups else m.group(0)


def placeholder_patient_id(called_ae: str, calling_ae: str, created: str, film_session_uid: str) -> str:
    """NOPID-<printer>-<calling AE>-<YYYYMMDD>-<8 hex of the film session>: obviously not a patient, one per
    film session (a hash, so a retried job gets the same one), at most 64 characters (LO)."""
    day = datetime.fromisoformat(created).strftime("%Y%m%d") if created else "00000000"
    seq = hashlib.sha256(f"{called_ae}\x1f{calling_ae}\x1f{film_session_uid}".encode()).hexdigest()[:8].upper()
    ae = [re.sub(r"[^A-Za-z0-9_]", "_", a.strip()) or "NOAE" for a in (called_ae, calling_ae)]
    return f"{PLACEHOLDER_PREFIX}-{ae[0]}-{ae[1]}-{day}-{seq}"


def resolve_identity(*, item_attributes: Iterable[tuple[str, Mapping[str, Any]]], session: Mapping[str, Any],
                     annotations: Iterable[tuple[int, str]], rules: Iterable[IdentityRule],
                     called_ae: str, calling_ae: str, created: str, film_session_uid: str) -> Identity:
    """The identity of one job's films, each value with its source (see the module docstring for the order).

    `item_attributes`: (where, keyword -> value) per image box item that carried any, in film and position
    order; `annotations`: (position, text) of the job's annotation boxes.
    """
    found = _Found()
    items = list(item_attributes)
    for keyword in ITEM_KEYWORDS:
        seen = {str(attrs[keyword]).strip() for _, attrs in items if str(attrs.get(keyword, "")).strip()}
        for where, attrs in items:
            found.offer(keyword, attrs.get(keyword), where)
        if len(seen) > 1:
            found.notes.append(f"{keyword}: image boxes disagree ({', '.join(sorted(seen))}); "
                               f"took {found.values.get(keyword, 'none')}")
    texts = [(pos, text) for pos, text in annotations if text]
    for n, rule in enumerate(rules, 1):
        if rule.attribute in found.values:
            continue
        for text, where in _rule_texts(rule, session, texts):
            value = _match(rule.pattern, text)
            if value is not None:
                found.offer(rule.attribute, value, f"rule {n} ({rule.pattern!r} on {where})")
                break
    found.offer("StudyDescription", session.get("FilmSessionLabel"), "FilmSessionLabel")
    found.offer("OperatorsName", session.get("OwnerID"), "OwnerID")
    if "PatientID" not in found.values:  # a real ID without a name keeps the name empty, not a placeholder
        found.values["PatientID"] = placeholder_patient_id(called_ae, calling_ae, created, film_session_uid)
        found.sources["PatientID"] = "placeholder"
        found.values.setdefault("PatientName", PLACEHOLDER_NAME)
        found.sources.setdefault("PatientName", "placeholder")
    return Identity(dict(found.values), dict(found.sources), tuple(found.notes))


def job_identity(job: PrintJob, rules: Iterable[IdentityRule] = ()) -> Identity:
    """resolve_identity over what a spooled job carries."""
    items = [(f"film {film.film_number} image box {box.position}", box.source_attributes)
             for film in job.films for box in film.image_boxes if box.source_attributes]
    annotations = [(a.position, a.text) for film in job.films for a in film.annotations]
    return resolve_identity(item_attributes=items, session=job.session, annotations=annotations, rules=rules,
                            called_ae=job.called_ae, calling_ae=job.calling_ae, created=job.created,
                            film_session_uid=job.film_session_uid)
