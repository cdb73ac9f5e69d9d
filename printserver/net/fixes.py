"""Workarounds for pynetdicom 3.0 behaviours that break "every request gets a status".

pynetdicom aborts the association, before any handler runs, when a request names a SOP class it
has no service class for, or carries a UID longer than 64 characters. The standard expects a
failure status (0118 No such SOP Class, 0117 Invalid SOP Instance) and the association to go on.
Both are fixed here, once, at the layer where they occur; the model then answers them.
"""

from __future__ import annotations

from typing import Any

import pynetdicom.association
from pynetdicom import _config
from pynetdicom.service_class import ServiceClass
from pynetdicom.service_class_n import PrintManagementServiceClass

_installed = False


def install() -> None:
    """Idempotent: route unknown SOP classes to the print handlers, let over-long UIDs through."""
    global _installed
    if _installed:
        return
    original = pynetdicom.association.uid_to_service_class

    def uid_to_service_class(uid: str) -> type[ServiceClass]:
        service = original(uid)
        # Unknown class: let the print handlers answer it with 0118 instead of aborting.
        return PrintManagementServiceClass if service is ServiceClass else service

    pynetdicom.association.uid_to_service_class = uid_to_service_class

    def lenient_uid(value: Any) -> tuple[bool, str]:
        # The model checks UIDs and answers 0117; the primitive must not reject them first.
        return True, ""

    _config.VALIDATORS["UI"] = lenient_uid
    _installed = True
