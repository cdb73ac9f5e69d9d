"""Transcript rows from encoded data sets, findings in plain words, the acceptance report."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import dsutils

from printserver.net.transcript import dataset_rows
from printserver.views import acceptance
from printserver.views.transcripts import findings, modality_told, text_table


def encode(ds: Dataset, implicit: bool, little: bool) -> bytes:
    """As pynetdicom puts a data set on the wire."""
    data = dsutils.encode(ds, implicit, little)
    assert data is not None
    return data


def image_box(rows: int = 64, undefined_length: bool = False) -> Dataset:
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = "MONOCHROME2"
    item.Rows = item.Columns = rows
    item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation = 16, 12, 11, 0
    item.PixelData = np.full((rows, rows), 0xABC, "<u2").tobytes()
    item["PixelData"].VR = "OW"
    ds = Dataset()
    ds.ImageBoxPosition = 2
    ds.Polarity = "NORMAL"
    ds.BasicGrayscaleImageSequence = Sequence([item])
    ds["BasicGrayscaleImageSequence"].is_undefined_length = undefined_length
    return ds


@pytest.mark.parametrize(("implicit", "little", "undefined"),
                         [(True, True, False), (False, True, False), (False, False, False), (False, True, True)])
def test_rows_name_each_attribute_and_summarise_pixel_data(implicit: bool, little: bool, undefined: bool) -> None:
    rows = dataset_rows(encode(image_box(undefined_length=undefined), implicit, little), implicit, little)
    by_keyword = {r[2]: r for r in rows}
    assert by_keyword["ImageBoxPosition"][4] == "2"
    assert by_keyword["Polarity"][4] == "NORMAL"
    assert by_keyword["BasicGrayscaleImageSequence"][4] == "1 item"
    assert by_keyword["Rows"][0] == 1 and by_keyword["Rows"][4] == "64"  # inside the sequence item
    assert by_keyword["BitsStored"][4] == "12"
    assert by_keyword["PixelData"][4] == f"pixel data, {64 * 64 * 2} bytes (not shown)"
    assert all("\\xbc" not in str(r[4]) and len(str(r[4])) < 100 for r in rows)  # never dumped


def test_a_truncated_or_malformed_data_set_never_raises() -> None:
    data = encode(image_box(), False, True)
    rows = dataset_rows(data[:-4000], False, True)  # the pixel data's length runs past the end
    assert rows[0][2] == "ImageBoxPosition"
    assert rows[-1][2] == "PixelData" and rows[-1][4].startswith("pixel data")
    assert [r[2] for r in dataset_rows(data[:13], False, True)] == ["ImageBoxPosition"]  # cut inside a header
    not_an_item = b"\x20\x20\x10\x01SQ\x00\x00\x08\x00\x00\x00" + b"\x08\x00\x05\x00\x00\x00\x00\x00"
    rows = dataset_rows(not_an_item, False, True)
    assert rows[-1][2] == "(not decodable)" and "item tag expected" in rows[-1][4]


def message(i: int, direction: str, kind: str, sop: str, **extra: object) -> dict[str, object]:
    return {"t": i / 10, "dir": direction, "message": kind, "message_id": extra.pop("mid", i),
            "sop_class_name": sop, **extra}


FILM_BOX = "Basic Film Box SOP Class"
TRANSCRIPT = {
    "calling_ae": "CT1", "called_ae": "PRINTSCP", "address": "127.0.0.1", "port": 4000,
    "started": "2026-11-30T10:00:00+00:00", "ended": "2026-11-30T10:00:02+00:00", "outcome": "released",
    "proposed": [{"id": 1, "name": "Basic Grayscale Print Management Meta SOP Class",
                  "transfer_syntaxes": ["1.2.840.10008.1.2"]},
                 {"id": 3, "name": "Stored Print Storage SOP Class", "transfer_syntaxes": ["1.2.840.10008.1.2"]}],
    "accepted": [{"id": 1, "name": "Basic Grayscale Print Management Meta SOP Class",
                  "transfer_syntaxes": ["1.2.840.10008.1.2"]}],
    "rejected_contexts": [{"id": 3, "name": "Stored Print Storage SOP Class", "result": 3}],
    "job_uids": ["2.25.1"],
    "messages": [
        message(1, "in", "N-CREATE-RQ", FILM_BOX, mid=1, data=[[0, 0x20100010, "ImageDisplayFormat", "ST",
                                                                 "STANDARD\\1,1"],
                                                                [0, 0x20100140, "MaxDensity", "US", "400"]]),
        message(2, "out", "N-CREATE-RSP", FILM_BOX, mid=1, status=0,
                data=[[0, 0x20100010, "ImageDisplayFormat", "ST", "STANDARD\\1,1"],
                      [0, 0x20100140, "MaxDensity", "US", "300"]]),
        message(3, "in", "N-SET-RQ", "Basic Grayscale Image Box SOP Class", mid=2),
        message(4, "out", "N-SET-RSP", "Basic Grayscale Image Box SOP Class", mid=2, status=0x0106,
                error_comment="Polarity 'INVERSE' is not NORMAL or REVERSE", attributes=["Polarity"]),
        message(5, "in", "N-ACTION-RQ", FILM_BOX, mid=3),
        message(6, "out", "N-ACTION-RSP", FILM_BOX, mid=3, status=0xB604),
    ],
}


def test_findings_say_what_went_wrong_in_plain_words() -> None:
    found = findings(TRANSCRIPT)
    texts = [(f.severity, f.keyword, f.text) for f in found]
    assert ("note", "", "presentation context Stored Print Storage SOP Class: abstract syntax not supported") in texts
    assert ("note", "MaxDensity", "N-CREATE Basic Film Box SOP Class: MaxDensity '400' asked, '300' used") in texts
    assert ("failure", "Polarity", "N-SET Basic Grayscale Image Box SOP Class answered 0x0106 Invalid attribute "
            "value: Polarity 'INVERSE' is not NORMAL or REVERSE (attributes: Polarity)") in texts
    assert any(sev == "warning" and "0xB604" in text for sev, _, text in texts)
    assert not any("ImageDisplayFormat" in text for _, _, text in texts)  # same value: no finding


def test_a_refused_association_is_a_failure_finding() -> None:
    refused = {"outcome": "rejected: called AE title not recognized (called AE 'X' is no printer here)",
               "messages": []}
    assert [(f.severity, f.text) for f in findings(refused)] == [
        ("failure", "association rejected: called AE title not recognized (called AE 'X' is no printer here)")]


def test_text_table_lists_contexts_messages_and_findings() -> None:
    text = text_table(TRANSCRIPT)
    assert "context   3 Stored Print Storage SOP Class: not accepted" in text
    assert "<- N-CREATE-RQ" in text and "MaxDensity US 400" in text
    assert "status 0x0106 Invalid attribute value - Polarity 'INVERSE'" in text
    assert "[failure]" in text


def test_acceptance_report_counts_what_the_modality_used_and_did_wrong() -> None:
    r = acceptance.report("CT1", [TRANSCRIPT, TRANSCRIPT | {"outcome": "aborted", "job_uids": []}])
    assert r["associations"] == 2 and r["jobs"] == 1
    assert r["prints"] == 2 and r["failed_prints"] == 0  # B604 is a warning: the film printed
    assert r["used"]["ImageDisplayFormat"] == {"STANDARD\\1,1": 2}
    assert r["refused_sop_classes"] == {"Stored Print Storage SOP Class": 2}
    assert r["outcomes"] == {"released": 1, "aborted": 1}
    md = acceptance.markdown(r)
    assert md.startswith("# Modality acceptance report: CT1")
    assert "Polarity 'INVERSE' is not NORMAL or REVERSE" in md and "(x2)" in md
    assert "association aborted instead of released (x1)" in md


def test_what_the_modality_was_told_about_its_print() -> None:
    events = [message(7, "out", "N-EVENT-REPORT-RQ", "Print Job SOP Class", instance="2.25.1", event_type_id=2),
              message(8, "out", "N-EVENT-REPORT-RQ", "Print Job SOP Class", instance="2.25.2", event_type_id=4),
              message(9, "out", "N-GET-RSP", "Print Job SOP Class", status=0,
                      data=[[0, 0x21000020, "ExecutionStatus", "CS", "DONE"],
                            [0, 0x21000030, "ExecutionStatusInfo", "CS", "NORMAL"]])]
    told = modality_told(TRANSCRIPT | {"messages": TRANSCRIPT["messages"] + events}, "2.25.1")
    assert [e["what"] for e in told] == ["Print answered 0xB604 Image larger than its image box: demagnified",
                                         "Print Job event Printing",
                                         "Print Job N-GET: DONE / NORMAL"]
