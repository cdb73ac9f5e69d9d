"""Every association recorded as a transcript over real loopback associations, linked to its job."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from printserver.cli import main
from printserver.views.transcripts import TranscriptStore, findings
from tests.conftest import make_server
from tests.printscu import PrintSCU, print_film


def wait_for(predicate: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met")


def test_a_printed_film_has_its_conversation_with_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = make_server(tmp_path)
    server.start()
    try:
        image = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096)
        statuses = print_film(server.port, [image], "STANDARD\\1,1", calling_ae="CT_TRANSCRIPT")
        assert statuses[:4] == [0, 0, 0, 0]
        server.dispatcher.wait_idle(60)
        store = TranscriptStore(tmp_path / "spool")
        wait_for(lambda: store.headers())
    finally:
        server.stop()
    folder = tmp_path / "spool" / "console" / "transcripts"
    (path,) = folder.glob("*.json")
    assert folder.stat().st_mode & 0o077 == 0 and path.stat().st_mode & 0o077 == 0  # never world-readable
    t = json.loads(path.read_text())
    record = json.loads(next((tmp_path / "spool" / "done").glob("*.state.json")).read_text())
    assert t["job_uids"] == [record["job_uid"]]
    assert (t["calling_ae"], t["called_ae"], t["outcome"]) == ("CT_TRANSCRIPT", "PRINTSCP", "released")
    assert [cx["name"] for cx in t["accepted"]] == ["Basic Grayscale Print Management Meta SOP Class"]
    kinds = [(m["dir"], m["message"]) for m in t["messages"]]
    assert kinds[:4] == [("in", "N-CREATE-RQ"), ("out", "N-CREATE-RSP"), ("in", "N-CREATE-RQ"),
                         ("out", "N-CREATE-RSP")]
    assert ("in", "N-ACTION-RQ") in kinds and ("out", "N-DELETE-RSP") in kinds
    film_box = t["messages"][2]
    assert film_box["sop_class_name"] == "Basic Film Box SOP Class"
    assert ["ImageDisplayFormat", "STANDARD\\1,1"] in [[r[2], r[4]] for r in film_box["data"]]
    image_box = next(m for m in t["messages"] if m["message"] == "N-SET-RQ")
    assert ["PixelData", f"pixel data, {64 * 64 * 2} bytes (not shown)"] in [[r[2], r[4]] for r in image_box["data"]]
    assert all(m.get("status", 0) == 0 for m in t["messages"])
    assert findings(t) == []
    job_id = next((tmp_path / "spool" / "done").glob("*.state.json")).name.removesuffix(".state.json")
    assert main(["jobs", "--spool", str(tmp_path / "spool"), "show", job_id]) == 0
    text = capsys.readouterr().out
    assert f"job {job_id} (done)" in text and "transcript:" in text
    assert "-> N-CREATE-RSP           Basic Film Box SOP Class  status 0x0000 Success" in text
    assert "ImageDisplayFormat ST STANDARD\\1,1" in text


def test_refused_and_failed_requests_are_recorded_as_findings(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.start()
    try:
        with pytest.raises(ConnectionError), PrintSCU(server.port, called_ae="NOSUCHPRINTER", calling_ae="CT_WRONG"):
            pass
        with PrintSCU(server.port, calling_ae="CT_WRONG") as scu:
            assert scu.create_session() == 0
            status, _ = scu.create_film_box("STANDARD\\1,1", FilmSizeID="99INX99IN")
            assert status == 0x0106
        store = TranscriptStore(tmp_path / "spool")
        wait_for(lambda: len(store.headers()) == 2)
    finally:
        server.stop()
    refused, failed = sorted((store.load(h["id"]) for h in store.headers()), key=lambda t: t["started_ns"])
    assert refused["outcome"].startswith("rejected: called AE title not recognized")
    assert [f.severity for f in findings(refused)] == ["failure"]
    (finding,) = findings(failed)
    assert finding.severity == "failure" and finding.keyword == "FilmSizeID"
    assert "N-CREATE Basic Film Box SOP Class answered 0x0106 Invalid attribute value" in finding.text

