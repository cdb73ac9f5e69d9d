"""The Printer Configuration Retrieval SOP instance (PS3.4 H.4.11, PS3.3 C.13.13): the printer profile, told.

One Printer Configuration Sequence item per meta SOP class this printer serves. Everything in it is
derived from the profile and the layout data the model enforces, so an SCU that trusts the answer is
never refused for a value the answer offered.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.config import PrinterProfile
from printserver.layout import (
    ALL_FORMAT_KINDS,
    MM_PER_INCH,
    LayoutData,
    film_dimensions,
    image_box_rects,
    mm_to_px,
    parse_display_format,
)

#: The meta classes a printer can serve (colour only where its profile offers it: `supports_color`).
META_CLASSES = (uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META, uids.BASIC_COLOR_PRINT_MANAGEMENT_META)
#: Optional classes usable with either meta class (their own contexts).
OPTIONAL_CLASSES = (uids.BASIC_ANNOTATION_BOX, uids.PRINT_JOB, uids.PRESENTATION_LUT,
                    uids.PRINTER_CONFIGURATION_RETRIEVAL)
#: One representative per parametrised family (STANDARD\C,R etc. are open-ended, PS3.3 C.13.5.1).
FAMILY_REPRESENTATIVE = {"STANDARD": "STANDARD\\1,1", "ROW": "ROW\\1", "COL": "COL\\1"}


def display_formats(profile: PrinterProfile, layouts: LayoutData) -> list[str]:
    """The Image Display Formats the printer offers, data-defined ones by name (SLIDE, CUSTOM\\i)."""
    out: list[str] = []
    for kind in (k for k in ALL_FORMAT_KINDS if k in profile.display_format_kinds):
        if kind in FAMILY_REPRESENTATIVE:
            out.append(FAMILY_REPRESENTATIVE[kind])
        elif kind == "CUSTOM":
            out += sorted((k for k in layouts.display_formats if k.startswith("CUSTOM\\")),
                          key=lambda k: int(k.partition("\\")[2]))
        elif kind in layouts.display_formats:
            out.append(kind)
    return out


def _format_item(fmt_text: str, size: str, profile: PrinterProfile, layouts: LayoutData) -> Dataset | None:
    orientation = profile.default_orientation
    w, h = film_dimensions(size, orientation, layouts)
    try:
        rects = image_box_rects(parse_display_format(fmt_text, profile.max_image_boxes), w, h,
                                margin=layouts.margin_mm, gap=layouts.gap_mm, display_formats=layouts.display_formats)
    except ValueError:
        return None  # e.g. SUPERSLIDE does not fit an 8x10 film: not offered there
    dpi = profile.resolution_dpi[profile.default_resolution_id]
    item = Dataset()
    sizes = {(mm_to_px(r.height, dpi), mm_to_px(r.width, dpi)) for r in rects}
    if len(sizes) == 1:  # Rows/Columns only when every box has the same size
        item.Rows, item.Columns = sizes.pop()
    item.ImageDisplayFormat = fmt_text
    item.FilmOrientation = orientation
    item.FilmSizeID = size
    item.PrinterResolutionID = profile.default_resolution_id
    spacing = round(MM_PER_INCH / dpi, 6)
    item.PrinterPixelSpacing = [spacing, spacing]
    item.RequestedImageSizeFlag = "YES"
    return item


def _media(profile: PrinterProfile) -> Sequence:
    combos = [(profile.default_medium_type, profile.default_film_size)]
    combos += [(m, s) for m in profile.medium_types for s in profile.film_sizes if (m, s) != combos[0]]
    items = []
    for number, (medium, size) in enumerate(combos, start=1):
        item = Dataset()
        item.ItemNumber = number  # 1 = the default medium
        item.MediumType = medium
        item.FilmSizeID = size
        item.MinDensity = profile.min_density_range[0]
        item.MaxDensity = profile.max_density_range[1]
        items.append(item)
    return Sequence(items)


def configuration_item(profile: PrinterProfile, layouts: LayoutData, meta: str) -> Dataset:
    """One Printer Configuration Sequence item: what `profile` prints under the meta class `meta`."""
    grayscale = meta == uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META
    item = Dataset()
    item.SOPClassesSupported = [meta, *sorted(uids.META_MEMBERS[meta]), *OPTIONAL_CLASSES]
    item.MaximumMemoryAllocation = 0  # no Memory Allocation: the virtual printer needs none (B600)
    item.MemoryBitDepth = (12 if profile.supports_12_bit else 8) if grayscale else 8
    item.PrintingBitDepth = 16 if grayscale else 8  # the film raster: 16-bit gray or 8-bit RGB
    item.MediaInstalledSequence = _media(profile)
    formats = [_format_item(f, s, profile, layouts) for f in display_formats(profile, layouts)
               for s in profile.film_sizes]
    item.SupportedImageDisplayFormatsSequence = Sequence([f for f in formats if f is not None])
    item.DefaultPrinterResolutionID = profile.default_resolution_id
    item.DefaultMagnificationType = profile.default_magnification_type
    item.OtherMagnificationTypesAvailable = [m for m in profile.magnification_types
                                             if m != profile.default_magnification_type]
    item.DefaultSmoothingType = profile.default_smoothing_type
    item.OtherSmoothingTypesAvailable = [s for s in profile.smoothing_types if s != profile.default_smoothing_type]
    item.ConfigurationInformationDescription = configuration_information_description(profile)
    item.MaximumCollatedFilms = profile.max_collated_films if profile.session_print else 0
    item.DecimateCropResult = "DECIMATE"  # what an oversize image gets when the SCU asks nothing
    return item


def configuration_information_description(profile: PrinterProfile) -> str:
    curves = "; ".join(f"{name}: P = top*(v/top)^{gamma:g}" for name, gamma in profile.configuration_curves.items())
    return f"Configuration Information selects a curve used when no Presentation LUT applies. {curves}".strip()


def printer_configuration(profile: PrinterProfile, layouts: LayoutData) -> Dataset:
    """The N-GET answer: Printer Configuration Sequence, one item per meta class."""
    ds = Dataset()
    metas = [m for m in META_CLASSES if profile.supports_color or m != uids.BASIC_COLOR_PRINT_MANAGEMENT_META]
    ds.PrinterConfigurationSequence = Sequence([configuration_item(profile, layouts, m) for m in metas])
    return ds
