"""DIMSE status codes used by Print Management (PS3.7 Annex C, PS3.4 Annex H).

One table serves the wire, the logs, the tests and the conformance documentation.
"""

from enum import Enum, IntEnum

from printserver import uids


class Category(Enum):
    SUCCESS = "Success"
    WARNING = "Warning"
    FAILURE = "Failure"


class Status(IntEnum):
    SUCCESS = 0x0000
    # General warnings (PS3.7 C.3-C.5)
    ATTRIBUTE_LIST_ERROR = 0x0107
    ATTRIBUTE_VALUE_OUT_OF_RANGE = 0x0116
    # General failures
    NO_SUCH_ATTRIBUTE = 0x0105
    INVALID_ATTRIBUTE_VALUE = 0x0106
    PROCESSING_FAILURE = 0x0110
    DUPLICATE_SOP_INSTANCE = 0x0111
    NO_SUCH_OBJECT_INSTANCE = 0x0112
    NO_SUCH_EVENT_TYPE = 0x0113
    NO_SUCH_ARGUMENT = 0x0114
    INVALID_ARGUMENT_VALUE = 0x0115
    INVALID_OBJECT_INSTANCE = 0x0117
    NO_SUCH_SOP_CLASS = 0x0118
    CLASS_INSTANCE_CONFLICT = 0x0119
    MISSING_ATTRIBUTE = 0x0120
    MISSING_ATTRIBUTE_VALUE = 0x0121
    NO_SUCH_ACTION_TYPE = 0x0123
    NOT_AUTHORIZED = 0x0124
    DUPLICATE_INVOCATION = 0x0210
    UNRECOGNIZED_OPERATION = 0x0211
    MISTYPED_ARGUMENT = 0x0212
    RESOURCE_LIMITATION = 0x0213
    # Print Management warnings (PS3.4 H.4)
    MEMORY_ALLOCATION_NOT_SUPPORTED = 0xB600
    COLLATION_NOT_SUPPORTED = 0xB601
    EMPTY_PAGE_FILM_SESSION = 0xB602
    EMPTY_PAGE_FILM_BOX = 0xB603
    IMAGE_DEMAGNIFIED = 0xB604
    DENSITY_OUT_OF_PRINTER_RANGE = 0xB605
    IMAGE_CROPPED = 0xB609
    IMAGE_DECIMATED = 0xB60A
    # Print Management failures
    NO_FILM_BOX = 0xC600
    PRINT_QUEUE_FULL_SESSION = 0xC601
    PRINT_QUEUE_FULL_FILM_BOX = 0xC602
    IMAGE_LARGER_THAN_BOX = 0xC603
    INSUFFICIENT_MEMORY = 0xC605
    COMBINED_IMAGE_LARGER_THAN_BOX = 0xC613
    UNPRINTED_FILM_BOX_EXISTS = 0xC616

    @property
    def category(self) -> Category:
        return category(self.value)

    @property
    def text(self) -> str:
        return MEANING[self]


MEANING: dict[Status, str] = {
    Status.SUCCESS: "Success",
    Status.ATTRIBUTE_LIST_ERROR: "Attribute list error (unsupported attributes ignored)",
    Status.ATTRIBUTE_VALUE_OUT_OF_RANGE: "Attribute value out of range",
    Status.NO_SUCH_ATTRIBUTE: "No such attribute",
    Status.INVALID_ATTRIBUTE_VALUE: "Invalid attribute value",
    Status.PROCESSING_FAILURE: "Processing failure",
    Status.DUPLICATE_SOP_INSTANCE: "Duplicate SOP Instance",
    Status.NO_SUCH_OBJECT_INSTANCE: "No such SOP Instance",
    Status.NO_SUCH_EVENT_TYPE: "No such event type",
    Status.NO_SUCH_ARGUMENT: "No such argument",
    Status.INVALID_ARGUMENT_VALUE: "Invalid argument value",
    Status.INVALID_OBJECT_INSTANCE: "Invalid SOP Instance",
    Status.NO_SUCH_SOP_CLASS: "No such SOP Class",
    Status.CLASS_INSTANCE_CONFLICT: "Class-instance conflict",
    Status.MISSING_ATTRIBUTE: "Missing attribute",
    Status.MISSING_ATTRIBUTE_VALUE: "Missing attribute value",
    Status.NO_SUCH_ACTION_TYPE: "No such action type",
    Status.NOT_AUTHORIZED: "Refused: not authorized",
    Status.DUPLICATE_INVOCATION: "Duplicate invocation",
    Status.UNRECOGNIZED_OPERATION: "Unrecognized operation",
    Status.MISTYPED_ARGUMENT: "Mistyped argument",
    Status.RESOURCE_LIMITATION: "Resource limitation",
    Status.MEMORY_ALLOCATION_NOT_SUPPORTED: "Memory allocation not supported",
    Status.COLLATION_NOT_SUPPORTED: "Film session printing (collation) is not supported",
    Status.EMPTY_PAGE_FILM_SESSION: "Film session contains no image box with an image (empty page)",
    Status.EMPTY_PAGE_FILM_BOX: "Film box contains no image box with an image (empty page)",
    Status.IMAGE_DEMAGNIFIED: "Image larger than its image box: demagnified",
    Status.DENSITY_OUT_OF_PRINTER_RANGE: "Min/Max Density outside the printer's range: printer limits used",
    Status.IMAGE_CROPPED: "Image larger than its image box: cropped to fit",
    Status.IMAGE_DECIMATED: "Image larger than its image box: decimated to fit",
    Status.NO_FILM_BOX: "Film session contains no film box",
    Status.PRINT_QUEUE_FULL_SESSION: "Print queue full (film session)",
    Status.PRINT_QUEUE_FULL_FILM_BOX: "Print queue full (film box)",
    Status.IMAGE_LARGER_THAN_BOX: "Image larger than its image box",
    Status.INSUFFICIENT_MEMORY: "Insufficient memory in printer to store the image",
    Status.COMBINED_IMAGE_LARGER_THAN_BOX: "Combined print image larger than the image box",
    Status.UNPRINTED_FILM_BOX_EXISTS: "An unprinted film box exists and film session printing is not supported",
}


def category(code: int) -> Category:
    """Category by code range, as PS3.7 C defines (and pynetdicom's code_to_category)."""
    if code == Status.SUCCESS:
        return Category.SUCCESS
    if code in (0x0001, Status.ATTRIBUTE_LIST_ERROR, Status.ATTRIBUTE_VALUE_OUT_OF_RANGE) or (
        0xB000 <= code <= 0xBFFF
    ):
        return Category.WARNING
    return Category.FAILURE


class Field(Enum):
    """Optional status fields of a DIMSE response (PS3.7 Annex C), by command element keyword."""

    ERROR_COMMENT = "ErrorComment"  # (0000,0902) LO: text naming the attribute first
    OFFENDING_ELEMENT = "OffendingElement"  # (0000,0901) AT 1-n: the elements in error
    ATTRIBUTE_IDENTIFIER_LIST = "AttributeIdentifierList"  # (0000,1005) AT 1-n: attributes not recognized
    ERROR_ID = "ErrorID"  # (0000,0903) US: an application-specific error code


_F = Field
#: The fields PS3.7 names for a status besides Status and the Affected SOP Class / Instance UID (which the
#: toolkit fills in): 0107 lists the attributes not recognized (C.4.2); 0110 a comment and an error ID
#: (C.5.21); every other warning and failure the elements in error and a comment (C.4, C.5).
FIELDS_BY_STATUS: dict[int, tuple[Field, ...]] = {
    0x0000: (),
    0x0107: (_F.ATTRIBUTE_IDENTIFIER_LIST, _F.ERROR_COMMENT),
    0x0110: (_F.ERROR_COMMENT, _F.ERROR_ID),
}
WARNING_OR_FAILURE_FIELDS = (_F.ERROR_COMMENT, _F.OFFENDING_ELEMENT)


def fields(code: int) -> tuple[Field, ...]:
    """Which optional status fields a response with status `code` carries."""
    return FIELDS_BY_STATUS.get(code, () if category(code) is Category.SUCCESS else WARNING_OR_FAILURE_FIELDS)


def describe(code: int) -> str:
    """'0xB605 Warning: Min/Max Density ...' for logs and CLI output."""
    try:
        text = Status(code).text
    except ValueError:
        text = "unknown status"
    return f"0x{code:04X} {category(code).value}: {text}"


_S = Status
#: Every status each operation can answer besides Success (PS3.4 H.4 per class; the conformance statement
#: prints this). Common to every request: 0110, 0117, 0118 (class not on the context), 0211 (no such operation).
COMMON_FAILURES = (_S.PROCESSING_FAILURE, _S.INVALID_OBJECT_INSTANCE, _S.NO_SUCH_SOP_CLASS, _S.UNRECOGNIZED_OPERATION)
STATUS_BY_OPERATION: dict[tuple[str, str], tuple[Status, ...]] = {  # (SOP Class UID, operation)
    (uids.BASIC_FILM_SESSION, "N-CREATE"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.ATTRIBUTE_VALUE_OUT_OF_RANGE, _S.MEMORY_ALLOCATION_NOT_SUPPORTED,
        _S.NO_SUCH_ATTRIBUTE, _S.INVALID_ATTRIBUTE_VALUE, _S.DUPLICATE_SOP_INSTANCE),
    (uids.BASIC_FILM_SESSION, "N-SET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.ATTRIBUTE_VALUE_OUT_OF_RANGE, _S.MEMORY_ALLOCATION_NOT_SUPPORTED,
        _S.NO_SUCH_ATTRIBUTE, _S.INVALID_ATTRIBUTE_VALUE, _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT),
    (uids.BASIC_FILM_SESSION, "N-ACTION"): (
        _S.COLLATION_NOT_SUPPORTED, _S.EMPTY_PAGE_FILM_SESSION, _S.IMAGE_DEMAGNIFIED, _S.IMAGE_CROPPED,
        _S.IMAGE_DECIMATED, _S.NO_SUCH_ACTION_TYPE, _S.NO_SUCH_OBJECT_INSTANCE, _S.NO_FILM_BOX,
        _S.PRINT_QUEUE_FULL_SESSION, _S.NO_SUCH_ATTRIBUTE, _S.CLASS_INSTANCE_CONFLICT),
    (uids.BASIC_FILM_SESSION, "N-DELETE"): (
        _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT, _S.NO_SUCH_ATTRIBUTE),
    (uids.BASIC_FILM_BOX, "N-CREATE"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.ATTRIBUTE_VALUE_OUT_OF_RANGE, _S.DENSITY_OUT_OF_PRINTER_RANGE, _S.NO_SUCH_ATTRIBUTE,
        _S.INVALID_ATTRIBUTE_VALUE, _S.DUPLICATE_SOP_INSTANCE, _S.MISSING_ATTRIBUTE, _S.MISSING_ATTRIBUTE_VALUE,
        _S.UNPRINTED_FILM_BOX_EXISTS, _S.RESOURCE_LIMITATION),
    (uids.BASIC_FILM_BOX, "N-SET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.ATTRIBUTE_VALUE_OUT_OF_RANGE, _S.DENSITY_OUT_OF_PRINTER_RANGE, _S.NO_SUCH_ATTRIBUTE,
        _S.INVALID_ATTRIBUTE_VALUE, _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT),
    (uids.BASIC_FILM_BOX, "N-ACTION"): (
        _S.EMPTY_PAGE_FILM_BOX, _S.IMAGE_DEMAGNIFIED, _S.IMAGE_CROPPED, _S.IMAGE_DECIMATED, _S.NO_SUCH_ACTION_TYPE,
        _S.NO_SUCH_OBJECT_INSTANCE, _S.PRINT_QUEUE_FULL_FILM_BOX, _S.NO_SUCH_ATTRIBUTE, _S.CLASS_INSTANCE_CONFLICT),
    (uids.BASIC_FILM_BOX, "N-DELETE"): (
        _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT, _S.NO_SUCH_ATTRIBUTE),
    (uids.BASIC_GRAYSCALE_IMAGE_BOX, "N-SET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.ATTRIBUTE_VALUE_OUT_OF_RANGE, _S.IMAGE_DEMAGNIFIED, _S.DENSITY_OUT_OF_PRINTER_RANGE,
        _S.IMAGE_CROPPED, _S.IMAGE_DECIMATED, _S.NO_SUCH_ATTRIBUTE, _S.INVALID_ATTRIBUTE_VALUE,
        _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT, _S.MISSING_ATTRIBUTE, _S.MISSING_ATTRIBUTE_VALUE,
        _S.IMAGE_LARGER_THAN_BOX, _S.INSUFFICIENT_MEMORY),
    (uids.BASIC_COLOR_IMAGE_BOX, "N-SET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.ATTRIBUTE_VALUE_OUT_OF_RANGE, _S.NO_SUCH_ATTRIBUTE, _S.INVALID_ATTRIBUTE_VALUE,
        _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT, _S.MISSING_ATTRIBUTE, _S.MISSING_ATTRIBUTE_VALUE,
        _S.INSUFFICIENT_MEMORY),
    (uids.BASIC_ANNOTATION_BOX, "N-SET"): (
        _S.NO_SUCH_ATTRIBUTE, _S.INVALID_ATTRIBUTE_VALUE, _S.NO_SUCH_OBJECT_INSTANCE, _S.MISSING_ATTRIBUTE,
        _S.MISSING_ATTRIBUTE_VALUE, _S.CLASS_INSTANCE_CONFLICT),
    (uids.PRESENTATION_LUT, "N-CREATE"): (
        _S.NO_SUCH_ATTRIBUTE, _S.INVALID_ATTRIBUTE_VALUE, _S.DUPLICATE_SOP_INSTANCE, _S.MISSING_ATTRIBUTE,
        _S.MISSING_ATTRIBUTE_VALUE),
    (uids.PRESENTATION_LUT, "N-DELETE"): (
        _S.NO_SUCH_OBJECT_INSTANCE, _S.CLASS_INSTANCE_CONFLICT, _S.NO_SUCH_ATTRIBUTE),
    (uids.PRINTER, "N-GET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.NO_SUCH_OBJECT_INSTANCE),
    (uids.PRINT_JOB, "N-GET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.NO_SUCH_OBJECT_INSTANCE),
    (uids.PRINTER_CONFIGURATION_RETRIEVAL, "N-GET"): (
        _S.ATTRIBUTE_LIST_ERROR, _S.NO_SUCH_OBJECT_INSTANCE),
}
