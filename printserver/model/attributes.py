"""Attribute tables per SOP class and operation, and the one generic validator that applies them.

Each row says how the SCP treats an attribute (PS3.4 Annex H usage) and how its value is checked
against the printer profile; `validate` turns a request data set into the values actually used,
or a PrintError naming the attribute (0105 unknown, 0120 missing, 0121 empty, 0106 bad value); a
printer-defined value the printer does not know is replaced by its default on lenient printers (0116).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.layout import parse_display_format
from printserver.status import Status

#: (normalised value, warning or None); raise ValueError with the reason for a bad value.
CheckResult = tuple[Any, Status | None]
Check = Callable[[Any, PrinterProfile], CheckResult]


class Usage(Enum):
    REQUIRED = "M"  # absent -> 0120
    SUPPORTED = "U"  # optional, implemented
    IGNORED = "U-"  # optional in the standard, not implemented: 0107 warning, value ignored


@dataclass(frozen=True)
class Attr:
    keyword: str
    usage: Usage
    check: Check | None = None
    default: Callable[[PrinterProfile], Any] | None = None
    #: A zero-length value means something (an empty image sequence clears the box).
    empty_ok: bool = False
    #: The values are the printer's own (Defined Terms a printer extends, or printer-specific): one it does
    #: not know is replaced by its default under value_policy = "lenient" (0116), refused under "strict".
    printer_defined: bool = False


@dataclass(frozen=True)
class Substitution:
    """A printer-defined value this printer does not know, and what is used instead (lenient printers)."""

    keyword: str
    tag: int
    sent: str
    #: None: nothing is set here, so the film box's value applies (image box attributes).
    used: Any

    def describe(self) -> str:
        used = ("the film box's value" if self.used is None
                else "the printer's default" if self.used == "" else f"'{self.used}'")
        return f"{self.keyword} '{self.sent}' is unknown to this printer: {used} used"


@dataclass
class Validated:
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[Status] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)
    substitutions: list[Substitution] = field(default_factory=list)
    #: Values a check accepted with a warning (B605 density clipped, B600): (tag, what was done).
    adjusted: list[tuple[int, str]] = field(default_factory=list)


def tag_name(tag: int) -> str:
    t = Tag(tag)
    kw = keyword_for_tag(t)
    return f"{kw} {t}" if kw else str(t)


def _is_multi(value: Any) -> bool:
    return isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"


def _single(value: Any) -> Any:
    if _is_multi(value):
        raise ValueError("has more than one value (VM 1)")
    return value


def _cs(value: Any) -> str:
    return str(_single(value)).strip()


# --- checks ----------------------------------------------------------------------------------------


def one_of(values: Iterable[str] | Callable[[PrinterProfile], Iterable[str]]) -> Check:
    def check(value: Any, profile: PrinterProfile) -> CheckResult:
        allowed = tuple(values(profile) if callable(values) else values)
        v = _cs(value)
        if v not in allowed:
            raise ValueError(f"is not supported (supported: {', '.join(allowed)})")
        return v, None

    return check


def density_name_or_od(value: Any, profile: PrinterProfile) -> CheckResult:
    """Border/Empty Image Density: BLACK, WHITE or hundredths of OD (PS3.3 C.13.5)."""
    v = _cs(value)
    if v in ("BLACK", "WHITE"):
        return v, None
    if v.isdigit() and int(v) <= 400:
        return str(int(v)), None
    raise ValueError("must be BLACK, WHITE or an optical density in hundredths (0..400)")


def density_in(range_name: str) -> Check:
    """Min/Max Density: out-of-range requests are clipped to the printer's limits with B605."""

    def check(value: Any, profile: PrinterProfile) -> CheckResult:
        v = int(_single(value))
        lo, hi = getattr(profile, range_name)
        if v < lo or v > hi:
            return min(max(v, lo), hi), Status.DENSITY_OUT_OF_PRINTER_RANGE
        return v, None

    return check


def int_between(lo: int, hi: Callable[[PrinterProfile], int]) -> Check:
    def check(value: Any, profile: PrinterProfile) -> CheckResult:
        try:
            v = int(_single(value))
        except (TypeError, ValueError):
            raise ValueError("is not an integer") from None
        if not lo <= v <= hi(profile):
            raise ValueError(f"must be {lo}..{hi(profile)}")
        return v, None

    return check


def positive_int(value: Any, profile: PrinterProfile) -> CheckResult:
    v = int(_single(value))
    if v <= 0:
        raise ValueError("must be positive")
    return v, None


def text(max_len: int) -> Check:
    def check(value: Any, profile: PrinterProfile) -> CheckResult:
        v = str(_single(value)).strip()
        if len(v) > max_len:
            raise ValueError(f"is longer than {max_len} characters")
        return v, None

    return check


def film_destination(value: Any, profile: PrinterProfile) -> CheckResult:
    v = _cs(value)
    if v in profile.film_destinations:
        return v, None
    if v.startswith("BIN_") and v[4:].isdigit() and not v[4:].startswith("0") and 1 <= int(v[4:]) <= profile.bins:
        return v, None
    bins = f", BIN_1..BIN_{profile.bins}" if profile.bins else ""
    raise ValueError(f"is not supported (supported: {', '.join(profile.film_destinations)}{bins})")


def display_format(value: Any, profile: PrinterProfile) -> CheckResult:
    fmt = parse_display_format(str(_single(value)), profile.max_image_boxes)
    if fmt.kind not in profile.display_format_kinds:
        raise ValueError(f"format {fmt.kind} is not supported by this printer")
    return str(fmt), None


def memory_allocation(value: Any, profile: PrinterProfile) -> CheckResult:
    """The virtual printer needs no pre-allocated memory: say so with B600, keep going."""
    return int(_single(value)), Status.MEMORY_ALLOCATION_NOT_SUPPORTED


def accept_any(value: Any, profile: PrinterProfile) -> CheckResult:
    return value, None


def configuration_information(value: Any, profile: PrinterProfile) -> CheckResult:
    """Empty, or the name of one of the printer's configured curves (e.g. CS000)."""
    v = _cs(value)
    if v and v not in profile.configuration_curves:
        known = ", ".join(profile.configuration_curves) or "none configured"
        raise ValueError(f"is not a configured curve (supported: {known})")
    return v, None


def image_size_mm(value: Any, profile: PrinterProfile) -> CheckResult:
    """Requested Image Size (DS): printed width in mm, at most the largest film."""
    try:
        v = float(_single(value))
    except (TypeError, ValueError):
        raise ValueError("is not a decimal number (mm)") from None
    if not 0 < v <= 1000:
        raise ValueError("must be a width in mm, above 0 and at most 1000")
    return v, None


# --- tables ----------------------------------------------------------------------------------------


def _table(*rows: Attr) -> dict[str, Attr]:
    return {row.keyword: row for row in rows}


U, M, IGNORED = Usage.SUPPORTED, Usage.REQUIRED, Usage.IGNORED

FILM_SESSION = _table(
    Attr("NumberOfCopies", U, int_between(1, lambda p: p.max_copies), lambda p: 1),
    Attr("PrintPriority", U, one_of(("HIGH", "MED", "LOW")), lambda p: p.default_print_priority),
    Attr("MediumType", U, one_of(lambda p: p.medium_types), lambda p: p.default_medium_type, printer_defined=True),
    Attr("FilmDestination", U, film_destination, lambda p: p.default_film_destination, printer_defined=True),
    Attr("FilmSessionLabel", U, text(64)),
    Attr("MemoryAllocation", U, memory_allocation),
    Attr("OwnerID", U, text(16)),
    Attr("ProposedStudySequence", IGNORED),
    # Before CP-173 these three were film session attributes; old SCUs still send them here.
    Attr("ReferencedPresentationLUTSequence", U, accept_any),
    Attr("Illumination", U, positive_int),
    Attr("ReflectedAmbientLight", U, int_between(0, lambda p: 65535)),
)
FILM_SESSION_SETTABLE = frozenset(FILM_SESSION) - {"ProposedStudySequence"}

FILM_BOX = _table(
    Attr("ImageDisplayFormat", M, display_format),
    Attr("ReferencedFilmSessionSequence", M, accept_any),
    Attr("FilmOrientation", U, one_of(("PORTRAIT", "LANDSCAPE")), lambda p: p.default_orientation),
    Attr("FilmSizeID", U, one_of(lambda p: p.film_sizes), lambda p: p.default_film_size),
    Attr("MagnificationType", U, one_of(lambda p: p.magnification_types), lambda p: p.default_magnification_type),
    Attr("SmoothingType", U, one_of(lambda p: p.smoothing_types), lambda p: p.default_smoothing_type,
         printer_defined=True),
    Attr("BorderDensity", U, density_name_or_od, lambda p: p.default_border_density),
    Attr("EmptyImageDensity", U, density_name_or_od, lambda p: p.default_empty_image_density),
    Attr("MinDensity", U, density_in("min_density_range"), lambda p: p.default_min_density),
    Attr("MaxDensity", U, density_in("max_density_range"), lambda p: p.default_max_density),
    Attr("Trim", U, one_of(("YES", "NO")), lambda p: p.default_trim),
    Attr("ConfigurationInformation", U, configuration_information, lambda p: "", printer_defined=True),
    Attr("RequestedResolutionID", U, one_of(lambda p: tuple(p.resolution_dpi)), lambda p: p.default_resolution_id),
    Attr("Illumination", U, positive_int, lambda p: p.default_illumination),
    Attr("ReflectedAmbientLight", U, int_between(0, lambda p: 65535), lambda p: p.default_reflected_ambient_light),
    Attr("AnnotationDisplayFormatID", IGNORED),
    Attr("ReferencedPresentationLUTSequence", U, accept_any),
)
FILM_BOX_SETTABLE = frozenset(
    {"MagnificationType", "MaxDensity", "ConfigurationInformation", "SmoothingType", "BorderDensity",
     "EmptyImageDensity", "MinDensity", "Trim", "Illumination", "ReflectedAmbientLight",
     "ReferencedPresentationLUTSequence"}
)  # fmt: skip

GRAYSCALE_IMAGE_BOX = _table(
    Attr("ImageBoxPosition", M, positive_int),
    Attr("BasicGrayscaleImageSequence", M, accept_any, empty_ok=True),
    Attr("Polarity", U, one_of(("NORMAL", "REVERSE")), lambda p: "NORMAL"),
    Attr("MagnificationType", U, one_of(lambda p: p.magnification_types)),
    Attr("SmoothingType", U, one_of(lambda p: p.smoothing_types), printer_defined=True),
    Attr("MinDensity", U, density_in("min_density_range")),
    Attr("MaxDensity", U, density_in("max_density_range")),
    Attr("ConfigurationInformation", U, configuration_information, printer_defined=True),
    Attr("RequestedImageSize", U, image_size_mm),
    Attr("RequestedDecimateCropBehavior", U, one_of(("DECIMATE", "CROP", "FAIL"))),
    Attr("ReferencedPresentationLUTSequence", U, accept_any),
    # Retired references an old SCU may still send (PS3.4 H.4.3 history): ignored with 0107.
    Attr("ReferencedImageOverlayBoxSequence", IGNORED),
    Attr("ReferencedVOILUTBoxSequence", IGNORED),
    Attr("OriginalImageSequence", IGNORED),
)

_ALWAYS_ALLOWED = {"SpecificCharacterSet"}


def validate(
    ds: Dataset | None,
    table: dict[str, Attr],
    profile: PrinterProfile,
    *,
    where: str,
    creating: bool,
    settable: frozenset[str] | None = None,
) -> Validated:
    """Check every element of `ds` against `table`; on create, apply defaults for what is absent."""
    out = Validated()
    present: set[str] = set()
    for elem in ds or ():
        if elem.tag.element == 0x0000:  # group length: carries no attribute
            continue
        kw = elem.keyword
        if kw in _ALWAYS_ALLOWED:
            out.values[kw] = elem.value
            continue
        attr = table.get(kw)
        if attr is None or (settable is not None and kw not in settable):
            reason = "cannot be changed by N-SET" if attr is not None else "is not an attribute of this request"
            raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"{tag_name(elem.tag)} {reason}", elem.tag, context=where)
        if attr.usage is Usage.IGNORED:
            out.ignored.append(int(elem.tag))
            continue
        if elem.is_empty and attr.empty_ok:
            present.add(kw)
            out.values[kw] = elem.value
            continue
        if elem.is_empty:
            if attr.usage is Usage.REQUIRED:
                raise PrintError(Status.MISSING_ATTRIBUTE_VALUE, f"{kw} has no value", elem.tag, context=where)
            continue  # zero length: the SCP's default applies
        present.add(kw)
        try:
            value, warning = attr.check(elem.value, profile) if attr.check else (elem.value, None)
        except (ValueError, TypeError) as exc:
            shown = str(elem.value)[:80]
            if attr.printer_defined and profile.value_policy == "lenient" and not _is_multi(elem.value):
                used = attr.default(profile) if attr.default is not None else None
                if used is not None:
                    out.values[kw] = used
                out.substitutions.append(Substitution(kw, int(elem.tag), shown, used))
                out.warnings.append(Status.ATTRIBUTE_VALUE_OUT_OF_RANGE)
                continue
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{kw} '{shown}' {exc}", elem.tag, context=where) from None
        out.values[kw] = value
        if warning is not None:
            out.warnings.append(warning)
            sent = str(elem.value)[:80]
            done = f"{value} used" if str(value) != sent.strip() else warning.text
            out.adjusted.append((int(elem.tag), f"{kw} {sent}: {done}"))
    if creating:
        for kw, attr in table.items():
            if kw in present:
                continue
            if attr.usage is Usage.REQUIRED:
                tag = Tag(kw)
                raise PrintError(Status.MISSING_ATTRIBUTE, f"{kw} is required and missing", tag, context=where)
            if attr.default is not None and attr.usage is Usage.SUPPORTED:
                out.values[kw] = attr.default(profile)
    if out.ignored:
        out.warnings.append(Status.ATTRIBUTE_LIST_ERROR)
    return out
