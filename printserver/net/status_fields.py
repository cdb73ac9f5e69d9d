"""pynetdicom 3.0 (checked on 3.0.4) drops status fields PS3.7 Annex C defines for DIMSE-N responses.

Its N-CREATE/N-SET/N-GET/N-ACTION/N-DELETE response primitives have no Offending Element (0000,0901),
and N-CREATE/N-ACTION/N-DELETE none of Attribute Identifier List (0000,1005): a handler's status data
set that carries them is logged as "unsupported Element" and the field never reaches the wire, so a
modality is told 0106 but not which attribute. `install()` adds both as optional fields of those
responses. It only adds: a field is written when the status data set carries it, never otherwise, so
every other use of pynetdicom in the process is unchanged (the SCU side also returns them in its status
data set). tests/net/test_scp_status_fields.py reads the command set off the wire and fails without it.
"""

from __future__ import annotations

from pynetdicom import dimse_messages, dimse_primitives

FIELDS = ("OffendingElement", "AttributeIdentifierList")
_PRIMITIVES = ("N_CREATE", "N_SET", "N_GET", "N_ACTION", "N_DELETE")

_installed = False


def install() -> None:
    """Idempotent."""
    global _installed
    if _installed:
        return
    for name in _PRIMITIVES:
        cls = getattr(dimse_primitives, name)
        for field in FIELDS:
            if field not in cls.STATUS_OPTIONAL_KEYWORDS:
                cls.STATUS_OPTIONAL_KEYWORDS = (*cls.STATUS_OPTIONAL_KEYWORDS, field)
            if not hasattr(cls, field):
                setattr(cls, field, None)  # class default: absent unless a response sets it
        message = name.replace("_", "-") + "-RSP"
        keywords = dimse_messages._COMMAND_SET_KEYWORDS[message]
        dimse_messages._COMMAND_SET_KEYWORDS[message] = (*keywords, *(f for f in FIELDS if f not in keywords))
    _installed = True
