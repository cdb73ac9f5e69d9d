"""The output plug-in contract, driven in memory through the real Delivery and job records (no sockets).

A scripted output (tests/outputs/scripted.py) is registered with one line; what the spool does with each
step result is asserted on the job record (state per output, memo, timeline), on the spool folders, and on
which steps the output was asked to do (never one already done, also after a restart).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from printserver import config
from printserver.config import ServerConfig
from printserver.errors import ConfigError
from printserver.outputs import registry
from printserver.outputs.plan import job_outputs, outputs_of
from printserver.spool import admin
from printserver.spool.delivery import Delivery
from printserver.spool.lifecycle import JobState, enter
from printserver.spool.records import JobBook, JobRecord, read_record
from printserver.spool.store import Spool
from tests.outputs import scripted
from tests.spool.test_store import job

FAST = ServerConfig(delivery_retry_initial=0.01, delivery_retry_max=0.02, delivery_give_up=60)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.REGISTRY, "scripted", "tests.outputs.scripted")  # the one registration line
    scripted.CALLS.clear()


class FakeRenderer:
    """Stands in for the worker pool: writes the asked-for file, then calls back (from another thread)."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def render(self, path: Path, renditions: list[Any], callback: Any) -> bool:
        self.asked += renditions
        from printserver.spool.paths import JobPaths

        def work() -> None:
            for r in renditions:
                JobPaths.of(path).rendition(r).write_bytes(b"%PDF-1.5 fitted")
            callback(None)
        threading.Thread(target=work).start()
        return True


def printer(*scripts: tuple[str, ...], **keys: Any) -> config.PrinterProfile:
    tables = [{"name": f"s{i}", "script": list(s)} for i, s in enumerate(scripts)]
    raw = {"ae_title": "P", "pdf_dir": "", "scripted": tables, **keys}
    return config.from_dict({"printer": [raw]}).printers[0]


@pytest.fixture
def deliver(tmp_path: Path) -> Iterator[Any]:
    """Spool one job to `profile` as the SCP does, mark it rendered, and run a Delivery until it settles."""
    spool = Spool(tmp_path / "spool").open()
    book = JobBook()
    running: list[Delivery] = []

    def run(profile: config.PrinterProfile, cfg: ServerConfig = FAST, path: Path | None = None,
            renderer: Any = None) -> tuple[Path, Delivery]:
        if path is None:
            path = spool.submit(job(), job_outputs(profile))
            book.create(path, JobRecord.for_job(job(), profile.ae_title))
            book.change(path, lambda r: enter(r, JobState.RENDERING))
            book.change(path, lambda r: enter(r, JobState.RENDERED))
        delivery = Delivery(spool, book, cfg, threads=2)
        delivery.renderer = renderer
        delivery.start()
        running.append(delivery)
        delivery.submit(path)
        return path, delivery

    run.spool = spool  # type: ignore[attr-defined]
    run.book = book  # type: ignore[attr-defined]
    yield run
    for d in running:
        d.stop()
    spool.close()


def settle(spool: Spool, path: Path, timeout: float = 10) -> None:
    """Wait until the job and every side file have left jobs/ (Spool.finish / fail)."""
    deadline = time.monotonic() + timeout
    while list(path.parent.glob(f"{path.stem}.*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not path.exists(), f"job still in the spool: {read_record(path)}"


def test_a_new_output_is_one_module_and_one_registration_line() -> None:
    p = printer(("done",), ("wait", "done"))
    outs = outputs_of(p, "printer[0]")
    assert [(o.kind, o.id, o.key) for o in outs] == [("scripted", "scripted:s0", "printer[0].scripted[0]"),
                                                     ("scripted", "scripted:s1", "printer[0].scripted[1]")]
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.scripted\[0\]\.colour: unknown key"):
        config.from_dict({"printer": [{"scripted": {"colour": 1}}]})
    with pytest.raises(ConfigError, match=r"^printer\[0\]\.scriptd: unknown key"):  # not registered: refused
        config.from_dict({"printer": [{"scriptd": {}}]})


def test_retry_wait_done_moves_the_record_through_the_table(deliver: Any) -> None:
    path, _ = deliver(printer(("retry", "retry", "wait", "done")))
    settle(deliver.spool, path)
    rec = read_record(deliver.spool.done / path.name)
    assert rec is not None and rec.state == "done" and (rec.execution_status, rec.execution_status_info) == \
        ("DONE", "NORMAL")
    out = rec.outputs["scripted:s0"]
    assert (out.state, out.memo, out.attempts) == ("done", {"n": 4}, 0)
    events = [(t["output"], t["event"]) for t in rec.timeline]
    assert events == [("", "accepted"), ("", "rendering"), ("", "rendered"), ("", "delivering"),
                      ("scripted:s0", "retrying"), ("scripted:s0", "retrying"), ("scripted:s0", "sent"),
                      ("scripted:s0", "done"), ("", "done")]
    assert "peer down (step 1)" in rec.timeline[5]["detail"] and "attempt 2" in rec.timeline[5]["detail"]
    assert [c[2] for c in scripted.CALLS] == ["retry", "retry", "wait", "done"]


def test_one_output_failing_fails_the_job_only_once_the_others_ended(deliver: Any) -> None:
    path, _ = deliver(printer(("fail",), ("wait", "wait", "wait", "done")))
    settle(deliver.spool, path)
    kept = deliver.spool.failed / path.name
    rec = read_record(kept)
    assert rec is not None and rec.state == "failed"
    assert (rec.execution_status, rec.execution_status_info) == ("FAILURE", "CHECK PRINTER")
    assert rec.outputs["scripted:s0"].state == "failed" and rec.outputs["scripted:s1"].state == "done"
    assert "refused by the peer" in (deliver.spool.failed / f"{path.stem}.reason.txt").read_text()
    assert len([c for c in scripted.CALLS if c[1] == "scripted:s1"]) == 4  # s1 finished its work first


def test_give_up_after_delivery_give_up_then_retry_redoes_only_the_failed_output(deliver: Any) -> None:
    cfg = ServerConfig(delivery_retry_initial=0.01, delivery_retry_max=0.02, delivery_give_up=0.15)
    path, delivery = deliver(printer(("done",), ("retry",)), cfg)
    settle(deliver.spool, path)
    rec = read_record(deliver.spool.failed / path.name)
    assert rec is not None and rec.outputs["scripted:s1"].state == "failed"
    assert rec.outputs["scripted:s1"].reason.startswith("not delivered after")
    delivery.stop()
    back = admin.retry(deliver.spool, path.stem)
    rec = read_record(back)
    assert rec is not None and rec.state == "rendered"  # nothing to render: it goes straight to delivery
    assert rec.outputs["scripted:s0"].state == "done" and rec.outputs["scripted:s1"].state == "queued"
    assert rec.outputs["scripted:s1"].memo == {} and rec.outputs["scripted:s1"].attempts == 0
    scripted.CALLS.clear()
    deliver(printer(("done",), ("retry",)), cfg, path=back)
    settle(deliver.spool, back)
    assert {c[1] for c in scripted.CALLS} == {"scripted:s1"}  # the done output was not asked again


def test_a_restart_resumes_each_output_from_its_memo(deliver: Any) -> None:
    path, delivery = deliver(printer(("wait",) * 30 + ("done",)))
    deadline = time.monotonic() + 5
    while len(scripted.CALLS) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    delivery.stop()  # as if killed: the record is what survives
    seen = read_record(path).outputs["scripted:s0"].memo["n"]  # type: ignore[union-attr]
    scripted.CALLS.clear()
    deliver(printer(("wait",) * 30 + ("done",)), path=path)
    settle(deliver.spool, path)
    assert len(scripted.CALLS) == 31 - seen  # resumed at step `seen`, nothing repeated


def test_a_render_step_has_the_rendition_made_then_delivers_with_it(deliver: Any) -> None:
    renderer = FakeRenderer()
    path, _ = deliver(printer(("render", "done")), renderer=renderer)
    settle(deliver.spool, path)
    assert renderer.asked == [scripted.FIT]
    rec = read_record(deliver.spool.done / path.name)
    assert rec is not None and "fit: scaled" in rec.warnings
    assert [c[2] for c in scripted.CALLS] == ["render", "render", "done"]
    events = [t["event"] for t in rec.timeline if t["output"]]
    assert events[:3] == ["rendering", "queued", "printing"]
    assert not list(deliver.spool.jobs.iterdir())  # the fitted PDF went with the job (Spool.finish)


def test_cancel_asks_every_unfinished_output_and_respects_a_refusal(deliver: Any) -> None:
    spool = deliver.spool
    p = printer(("wait",) * 1000)
    path = spool.submit(job(), job_outputs(p))
    deliver.book.create(path, JobRecord.for_job(job(), "P"))
    refusing = printer(("wait",))
    refusing_snapshot = job_outputs(refusing)
    refusing_snapshot["outputs"][0]["settings"]["refuse_cancel"] = "the peer is printing it"
    other = spool.submit(job(), refusing_snapshot)
    deliver.book.create(other, JobRecord.for_job(job(), "P"))
    with pytest.raises(Exception, match="the peer is printing it; not canceled"):
        admin.cancel(spool, other.stem, deliver.book)
    assert other.exists()
    admin.cancel(spool, path.stem, deliver.book)
    rec = read_record(spool.failed / path.name)
    assert rec is not None and rec.state == "canceled" and rec.outputs["scripted:s0"].state == "canceled"
    assert (rec.execution_status, rec.execution_status_info) == ("FAILURE", "NORMAL")
