"""Every DIMSE-N operation with a 65- and a 200-character UID in each UID field of its command gets a
status on the wire, never an abort; a request missing a required command element gets a failure
status, not silence until the modality's timeout."""

from __future__ import annotations

import time
from io import BytesIO
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom.dimse_primitives import N_ACTION, N_CREATE, N_DELETE, N_EVENT_REPORT, N_GET, N_SET
from pynetdicom.dsutils import encode

from printserver import uids
from printserver.net import fixes
from printserver.status import Category, Status, category
from tests.printscu import META, PrintSCU

LONG = {65: "1.2." + "3" * 61, 200: "1.2." + "3" * 196}
assert [len(v) for v in LONG.values()] == [65, 200]


def _data() -> BytesIO:
    ds = Dataset()
    ds.Trim = "YES"
    return BytesIO(encode(ds, True, True))


#: (operation, its primitive, {UID field: a good value}, the rest of the command)
OPERATIONS: dict[str, tuple[type, dict[str, str], dict[str, Any]]] = {
    "N-CREATE": (N_CREATE, {"AffectedSOPClassUID": uids.BASIC_FILM_SESSION,
                            "AffectedSOPInstanceUID": "1.2.3.4"}, {}),
    "N-SET": (N_SET, {"RequestedSOPClassUID": uids.BASIC_FILM_SESSION, "RequestedSOPInstanceUID": "1.2.3.4"},
              {"ModificationList": _data}),
    "N-GET": (N_GET, {"RequestedSOPClassUID": uids.PRINTER, "RequestedSOPInstanceUID": uids.PRINTER_INSTANCE},
              {"AttributeIdentifierList": [0x21100010]}),
    "N-ACTION": (N_ACTION, {"RequestedSOPClassUID": uids.BASIC_FILM_BOX, "RequestedSOPInstanceUID": "1.2.3.4"},
                 {"ActionTypeID": 1}),
    "N-DELETE": (N_DELETE, {"RequestedSOPClassUID": uids.BASIC_FILM_BOX, "RequestedSOPInstanceUID": "1.2.3.4"},
                 {}),
    "N-EVENT-REPORT": (N_EVENT_REPORT, {"AffectedSOPClassUID": uids.PRINTER,
                                        "AffectedSOPInstanceUID": uids.PRINTER_INSTANCE},
                       {"EventTypeID": 1, "EventInformation": _data}),
}
CASES = [(op, field) for op, (_, fields, _) in OPERATIONS.items() for field in fields]


def send_raw(scu: PrintSCU, primitive: Any, timeout: float = 10) -> Any:
    """Put one request primitive on the wire as is and wait for the response primitive (None: none came)."""
    assoc = scu.assoc
    assoc.dimse_timeout = timeout
    assoc._reactor_checkpoint.clear()  # pause the reactor as pynetdicom's own send_*() do
    while not assoc._is_paused:
        time.sleep(0.0001)
    try:
        with scu._guard.waiting(), fixes.lenient_uids():
            assoc.dimse.send_msg(primitive, assoc.accepted_contexts[0].context_id)
            return assoc.dimse.get_msg(block=True)[1]
    finally:
        assoc._reactor_checkpoint.set()


def build(op: str, **override: Any) -> Any:
    cls, fields, rest = OPERATIONS[op]
    primitive = cls()
    primitive.MessageID = 7
    with fixes.lenient_uids():
        for name, value in {**fields, **rest, **override}.items():
            if value is not None:
                setattr(primitive, name, value() if callable(value) else value)
    return primitive


def expected(op: str, field: str) -> Status:
    if op == "N-EVENT-REPORT":
        return Status.UNRECOGNIZED_OPERATION  # the print SCP receives no events, whatever the UIDs
    return Status.NO_SUCH_SOP_CLASS if field.endswith("ClassUID") else Status.INVALID_OBJECT_INSTANCE


@pytest.mark.parametrize("op, field", CASES, ids=[f"{op}-{field}" for op, field in CASES])
def test_a_long_uid_in_each_command_field_gets_a_status(scp, op: str, field: str) -> None:
    with PrintSCU(scp.port) as scu:
        for length, uid in LONG.items():
            rsp = send_raw(scu, build(op, **{field: uid}))
            assert rsp is not None and rsp.Status is not None, f"{op} {field} ({length} chars): no response"
            assert rsp.Status == expected(op, field), f"{op} {field} ({length} chars): 0x{rsp.Status:04X}"
            assert rsp.MessageIDBeingRespondedTo == 7
            assert scu.assoc.is_established, f"{op} {field} ({length} chars): association ended"
        assert scu.n_get([0x21100010])[0].Status == Status.SUCCESS  # and it still serves


REQUIRED = [(op, field) for op, field in CASES if (op, field) != ("N-CREATE", "AffectedSOPInstanceUID")]


@pytest.mark.parametrize("op, field", REQUIRED, ids=[f"{op}-{field}" for op, field in REQUIRED])
def test_a_request_missing_a_command_uid_gets_a_failure_status(scp, op: str, field: str) -> None:
    with PrintSCU(scp.port) as scu:
        rsp = send_raw(scu, build(op, **{field: None}))
        assert rsp is not None and rsp.Status is not None, f"{op} without {field}: no response"
        assert rsp.Status == Status.MISSING_ATTRIBUTE
        assert field in str(rsp.ErrorComment or "")
        assert scu.assoc.is_established


@pytest.mark.parametrize("op, element", [("N-ACTION", "ActionTypeID"), ("N-EVENT-REPORT", "EventTypeID"),
                                          ("N-SET", "ModificationList")])
def test_other_missing_command_elements_get_a_failure_status(scp, op: str, element: str) -> None:
    with PrintSCU(scp.port) as scu:
        rsp = send_raw(scu, build(op, **{element: None}))
        assert rsp is not None and rsp.Status is not None and category(rsp.Status) is Category.FAILURE
        assert scu.assoc.is_established


def test_the_meta_context_is_what_these_requests_use() -> None:
    assert META == uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META  # the first context PrintSCU proposes


def send_malformed_action(scu: PrintSCU, timeout: float = 5) -> Any:
    """An N-ACTION whose Action Type ID has 3 bytes (US wants 2 per value); the response primitive or None."""
    import struct

    from pynetdicom.pdu_primitives import P_DATA

    good = Dataset()
    good.RequestedSOPClassUID = uids.BASIC_FILM_BOX
    good.CommandField = 0x0130
    good.MessageID = 9
    good.CommandDataSetType = 0x0101
    good.RequestedSOPInstanceUID = "1.2.3.4"
    body = encode(good, True, True) + struct.pack("<HHI", 0x0000, 0x1008, 3) + b"\x01\x00\x02"
    command = struct.pack("<HHII", 0x0000, 0x0000, 4, len(body)) + body  # (0000,0000) group length first
    pdata = P_DATA()
    pdata.presentation_data_value_list = [[scu.assoc.accepted_contexts[0].context_id, b"\x03" + command]]
    assoc = scu.assoc
    assoc.dimse_timeout = timeout
    assoc._reactor_checkpoint.clear()
    while not assoc._is_paused:
        time.sleep(0.0001)
    try:
        with scu._guard.waiting():
            assoc.dul.send_pdu(pdata)  # one PDV: a command, last fragment
            return assoc.dimse.get_msg(block=True)[1]
    finally:
        assoc._reactor_checkpoint.set()


def test_a_command_element_that_cannot_be_decoded_gets_0212(scp) -> None:
    with PrintSCU(scp.port) as scu:
        rsp = send_malformed_action(scu)
        assert rsp is not None and rsp.Status == Status.MISTYPED_ARGUMENT and rsp.MessageIDBeingRespondedTo == 9
        assert "not decodable" in str(rsp.ErrorComment)
        assert scu.assoc.is_established and scu.n_get([0x21100010])[0].Status == Status.SUCCESS
