"""An association still open shows in the console: the recorder's snapshot, read through the JSON API."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import make_server
from tests.printscu import PrintSCU


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def wait_for(fetch: Any, check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {value!r}")
        time.sleep(0.1)


def test_an_open_association_shows_its_rows_so_far_then_its_end(tmp_path: Path) -> None:
    from printserver.net.scp import PrintServer

    server = PrintServer(make_server(tmp_path).config, web="127.0.0.1:0")
    server.start()
    snapshots = tmp_path / "spool" / "console" / "transcripts" / "open"
    try:
        api = server.console.url + "api/associations"
        with PrintSCU(server.port, calling_ae="CT_OPEN") as scu:
            assert scu.create_session() == 0
            status, _ = scu.create_film_box("STANDARD\\2,2")
            assert status == 0
            # the association is open and idle: its rows must show without it ending
            (header,) = wait_for(lambda: [h for h in get(api) if h["calling_ae"] == "CT_OPEN"],
                                 lambda hs: len(hs) == 1 and hs[0]["messages"] >= 4)
            assert header["open"] is True and header["outcome"] == "open"
            t = get(f"{api}/{header['id']}")
            kinds = [(m["dir"], m["message"], m.get("sop_class_name")) for m in t["messages"]]
            assert kinds == [("in", "N-CREATE-RQ", "Basic Film Session SOP Class"),
                             ("out", "N-CREATE-RSP", "Basic Film Session SOP Class"),
                             ("in", "N-CREATE-RQ", "Basic Film Box SOP Class"),
                             ("out", "N-CREATE-RSP", "Basic Film Box SOP Class")]
            assert ["ImageDisplayFormat", "STANDARD\\2,2"] in [[r[2], r[4]] for r in t["messages"][2]["data"]]
            (snapshot,) = snapshots.glob("*.json")
            assert snapshot.stat().st_mode & 0o077 == 0 and snapshots.stat().st_mode & 0o077 == 0
            page = urllib.request.urlopen(server.console.url + "associations", timeout=10).read().decode()
            assert '<span class="open">open</span>' in page
            assert get(server.console.url + "api/acceptance/CT_OPEN")["associations"] == 0  # counts ended ones
        ended = wait_for(lambda: [h for h in get(api) if h["calling_ae"] == "CT_OPEN"],
                         lambda hs: len(hs) == 1 and not hs[0].get("open"))
        assert ended[0]["id"] == header["id"] and ended[0]["outcome"] == "released"
        assert list(snapshots.glob("*.json")) == []
    finally:
        server.stop()


def test_a_snapshot_left_by_a_crash_becomes_a_transcript_at_the_next_start(tmp_path: Path) -> None:
    from printserver.net.transcript import TranscriptRecorder

    folder = tmp_path / "transcripts"
    (folder / "open").mkdir(parents=True)
    left = {"calling_ae": "CT_CRASH", "called_ae": "PRINTSCP", "started": "2026-12-01T04:00:00+00:00",
            "outcome": "open", "open": True, "job_uids": [], "messages": [{"t": 0.1, "dir": "in",
                                                                             "message": "N-CREATE-RQ"}]}
    (folder / "open" / "00000000000000000001-abcdef.json").write_text(json.dumps(left))
    recorder = TranscriptRecorder(folder, make_server(tmp_path).config)
    recorder.start()
    recorder.stop()
    t = json.loads((folder / "00000000000000000001-abcdef.json").read_text())
    assert t["outcome"] == "open when the server stopped" and "open" not in t and len(t["messages"]) == 1
    assert list((folder / "open").iterdir()) == []
