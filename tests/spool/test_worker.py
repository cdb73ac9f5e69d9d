"""The dispatcher: leftovers are finished at start, unrenderable jobs are kept aside, not lost."""

from __future__ import annotations

import logging
from pathlib import Path

from printserver.spool.store import Spool
from printserver.spool.worker import Dispatcher
from tests.spool.test_store import job


def test_leftover_job_is_finished_and_a_corrupt_one_kept_with_its_reason(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    spool = Spool(tmp_path / "spool").open()
    good = spool.submit(job(), {"pdf_dir": str(tmp_path / "films")})
    bad = spool.jobs / "00000000000000000001-000000-1.job"
    bad.write_bytes(b"PSJOB1\n\x00\x00\x00\x00\x00\x00\x00\x02{}")  # a header without films
    dispatcher = Dispatcher(spool, workers=1)
    dispatcher.start()
    try:
        assert dispatcher.wait_idle(60)
    finally:
        dispatcher.stop()
    assert spool.pending() == []
    assert not good.exists() and len(list((tmp_path / "films").rglob("*.pdf"))) == 1
    assert (spool.failed / bad.name).exists()
    assert "left in the spool" in caplog.text and "failed" in caplog.text
