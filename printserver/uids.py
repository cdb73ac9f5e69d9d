"""SOP Class and well-known instance UIDs of DICOM Print Management (PS3.4 Annex H).

Named here once so logic never compares bare UID strings.
"""

from typing import Final

VERIFICATION: Final = "1.2.840.10008.1.1"

BASIC_GRAYSCALE_PRINT_MANAGEMENT_META: Final = "1.2.840.10008.5.1.1.9"
BASIC_COLOR_PRINT_MANAGEMENT_META: Final = "1.2.840.10008.5.1.1.18"

BASIC_FILM_SESSION: Final = "1.2.840.10008.5.1.1.1"
BASIC_FILM_BOX: Final = "1.2.840.10008.5.1.1.2"
BASIC_GRAYSCALE_IMAGE_BOX: Final = "1.2.840.10008.5.1.1.4"
BASIC_COLOR_IMAGE_BOX: Final = "1.2.840.10008.5.1.1.4.1"
BASIC_ANNOTATION_BOX: Final = "1.2.840.10008.5.1.1.15"
PRINT_JOB: Final = "1.2.840.10008.5.1.1.14"
PRINTER: Final = "1.2.840.10008.5.1.1.16"
PRINTER_INSTANCE: Final = "1.2.840.10008.5.1.1.17"
PRINTER_CONFIGURATION_RETRIEVAL: Final = "1.2.840.10008.5.1.1.16.376"
PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE: Final = "1.2.840.10008.5.1.1.17.376"
PRESENTATION_LUT: Final = "1.2.840.10008.5.1.1.23"
#: Storage SOP classes of the films the `pacs` output archives (PS3.4 B.5).
SECONDARY_CAPTURE_IMAGE_STORAGE: Final = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_PDF_STORAGE: Final = "1.2.840.10008.5.1.4.1.1.104.1"

IMPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BIG_ENDIAN: Final = "1.2.840.10008.1.2.2"

#: Component SOP classes each meta SOP class groups (PS3.4 H.3.2.2).
META_MEMBERS: Final[dict[str, frozenset[str]]] = {
    BASIC_GRAYSCALE_PRINT_MANAGEMENT_META: frozenset(
        {BASIC_FILM_SESSION, BASIC_FILM_BOX, BASIC_GRAYSCALE_IMAGE_BOX, PRINTER}
    ),
    BASIC_COLOR_PRINT_MANAGEMENT_META: frozenset(
        {BASIC_FILM_SESSION, BASIC_FILM_BOX, BASIC_COLOR_IMAGE_BOX, PRINTER}
    ),
}

#: The standard's name of each SOP class, for logs, status comments and the conformance statement.
SOP_CLASS_NAMES: Final[dict[str, str]] = {
    VERIFICATION: "Verification",
    BASIC_GRAYSCALE_PRINT_MANAGEMENT_META: "Basic Grayscale Print Management Meta",
    BASIC_COLOR_PRINT_MANAGEMENT_META: "Basic Color Print Management Meta",
    BASIC_FILM_SESSION: "Basic Film Session",
    BASIC_FILM_BOX: "Basic Film Box",
    BASIC_GRAYSCALE_IMAGE_BOX: "Basic Grayscale Image Box",
    BASIC_COLOR_IMAGE_BOX: "Basic Color Image Box",
    PRINTER: "Printer",
    BASIC_ANNOTATION_BOX: "Basic Annotation Box",
    PRINT_JOB: "Print Job",
    PRESENTATION_LUT: "Presentation LUT",
    PRINTER_CONFIGURATION_RETRIEVAL: "Printer Configuration Retrieval",
    SECONDARY_CAPTURE_IMAGE_STORAGE: "Secondary Capture Image Storage",
    ENCAPSULATED_PDF_STORAGE: "Encapsulated PDF Storage",
}


def name(uid: str) -> str:
    """'Basic Film Box' for its UID; an unknown UID names itself."""
    return SOP_CLASS_NAMES.get(uid, uid)


#: Root for UIDs minted by printserver (UUID-derived 2.25 form: no registered root needed).
UID_PREFIX: Final = "2.25."

#: printserver's own root: 2.25 + the integer of UUID 5 (URL namespace, "urn:printserver:implementation").
#: A UUID-derived root (PS3.5 B.2) needs no registration and cannot collide with a registered one.
ORG_ROOT: Final = "2.25.220823418308447829075980475427763939452"
#: Implementation Class UID sent by the SCP and the SCU in every A-ASSOCIATE (PS3.7 D.3.3.2).
IMPLEMENTATION_CLASS_UID: Final = f"{ORG_ROOT}.1"


def implementation_version_name(version: str) -> str:
    """PRINTSERVER_<version>, within the 16 characters of an SH value (dots dropped when too long)."""
    name = f"PRINTSERVER_{version}"
    return name if len(name) <= 16 else f"PRINTSERVER_{version.replace('.', '')}"[:16]


def new_uid() -> str:
    """Mint a globally unique UID in the 2.25 (UUID) arc (PS3.5 B.2)."""
    import uuid

    return f"{UID_PREFIX}{uuid.uuid4().int}"


def is_valid_uid(value: str) -> bool:
    """PS3.5 9.1: 1-64 chars, digits and dots, no empty or zero-led components."""
    if not 0 < len(value) <= 64:
        return False
    for part in value.split("."):
        if not part or not part.isdigit() or not part.isascii():
            return False
        if len(part) > 1 and part[0] == "0":
            return False
    return True
