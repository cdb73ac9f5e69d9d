"""Output `pacs` on its own: configuration errors name the key, and delivery steps against a real Orthanc
(one object per step, memo, retry while it is down, refusal for good, health)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from printserver.config import PrinterProfile
from printserver.errors import ConfigError
from printserver.outputs.base import RASTERS, TRUE_SIZE_PDF, DeliveryJob, Done, Failed, Retry, Wait
from printserver.outputs.pacs import PacsArchive, parse_archive
from printserver.outputs.plan import outputs_of
from printserver.render.compose import compose_film
from printserver.render.pdf import FilmPage, write_pdf
from printserver.spool.paths import JobPaths
from tests.archive.test_objects import make_job
from tests.dcmtk import LOCALHOST, free_port
from tests.orthanc import Orthanc, dciodvfy, orthanc_available


def profile(*tables: dict[str, Any]) -> PrinterProfile:
    return replace(PrinterProfile(), ae_title="FILMS", output_tables={"pacs": list(tables)})


def pacs(**table: Any) -> PacsArchive:
    (out,) = PacsArchive.from_profile(profile({"called_ae": "PACS", "host": LOCALHOST, "port": 4242} | table),
                                      "printer[0]")
    return out


def test_configuration_is_a_value_and_defaults_to_the_printer_as_calling_ae() -> None:
    out = pacs(store=["film", "pdf"])
    assert (out.id, out.called_ae, out.calling_ae, out.store) == ("pacs:PACS", "PACS", "FILMS", ("film", "pdf"))
    assert out.renditions() == (RASTERS, TRUE_SIZE_PDF)
    assert PacsArchive.from_settings(out.settings()) == out
    assert "PACS at 127.0.0.1:4242" in out.describe()
    assert pacs().renditions() == (RASTERS,)
    assert pacs(store=["pdf"]).renditions() == (TRUE_SIZE_PDF,)


def test_two_archives_with_one_ae_title_get_distinct_ids_and_all_outputs_are_found_by_the_plan() -> None:
    p = profile({"called_ae": "PACS", "host": "a", "port": 1}, {"called_ae": "PACS", "host": "b", "port": 2})
    outs = [o for o in outputs_of(p, "printer[0]") if o.kind == "pacs"]
    assert [o.id for o in outs] == ["pacs:PACS@a:1", "pacs:PACS@b:2"]


RULE = {"attribute": "PatientID", "source": "label", "pattern": "x"}


@pytest.mark.parametrize(("table", "key"), [
    ({"called_ae": "", "host": "h", "port": 1}, "printer[0].pacs[0].called_ae"),
    ({"called_ae": "A\\B", "host": "h", "port": 1}, "printer[0].pacs[0].called_ae"),
    ({"called_ae": "A", "port": 1}, "printer[0].pacs[0].host"),
    ({"called_ae": "A", "host": "h", "port": 70000}, "printer[0].pacs[0].port"),
    ({"called_ae": "A", "host": "h", "port": 1, "store": ["film", "sr"]}, "printer[0].pacs[0].store"),
    ({"called_ae": "A", "host": "h", "port": 1, "timeout": 0}, "printer[0].pacs[0].timeout"),
    ({"called_ae": "A", "host": "h", "port": 1, "colour": 1}, "printer[0].pacs[0].colour"),
    ({"called_ae": "A", "host": "h", "port": 1, "identity": [RULE | {"pattern": "("}]},
     "printer[0].pacs[0].identity[0].pattern"),
    ({"called_ae": "A", "host": "h", "port": 1, "identity": [RULE, RULE | {"attribute": "PatientAge"}]},
     "printer[0].pacs[0].identity[1].attribute"),
    ({"called_ae": "A", "host": "h", "port": 1, "identity": [RULE | {"extra": "x"}]},
     "printer[0].pacs[0].identity[0]"),
])
def test_configuration_errors_name_the_key(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        PacsArchive.from_profile(profile(table), "printer[0]")
    assert str(err.value).startswith(f"{key}:"), err.value


def test_archive_option_parses_ae_host_port() -> None:
    assert parse_archive("ORTHANC@127.0.0.1:4242") == {"called_ae": "ORTHANC", "host": "127.0.0.1", "port": 4242}
    for bad in ("ORTHANC", "@h:1", "A@h", "A@h:x", "ABCDEFGHIJKLMNOPQ@h:1"):
        with pytest.raises(ValueError, match="AE@HOST:PORT"):
            parse_archive(bad)


# --- delivery steps against a real Orthanc -------------------------------------------------------------

@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    if not orthanc_available():
        pytest.skip("orthanc not installed")
    with Orthanc(tmp_path / "orthanc") as server:
        yield server


def spooled(tmp_path: Path, films: int = 2) -> DeliveryJob:
    """A job with its renditions in a spool folder, as the render workers leave it."""
    job = make_job()
    job = replace(job, films=tuple(replace(job.films[0], film_number=n) for n in range(1, films + 1)))
    paths = JobPaths.of(tmp_path / "spool" / "0001.job")
    paths.job.parent.mkdir(parents=True)
    rasters = [compose_film(f) for f in job.films]
    np.savez(paths.rendition(RASTERS), **{f"film{i}": r for i, r in enumerate(rasters)})
    pages = [FilmPage(r, f.width_mm, f.height_mm) for r, f in zip(rasters, job.films, strict=True)]
    write_pdf(paths.rendition(TRUE_SIZE_PDF), pages, title="t", author="a", subject="s", keywords="k", extra={})
    return DeliveryJob(job, paths)


def test_steps_store_one_object_each_then_done_and_a_redo_stores_nothing_new(orthanc: Orthanc,
                                                                             tmp_path: Path) -> None:
    out = pacs(port=orthanc.dicom_port, called_ae=orthanc.aet, store=["film", "pdf"])
    job = spooled(tmp_path)
    steps = []
    for _ in range(4):
        step = out.deliver(job)
        steps.append(step)
        job = replace(job, memo=step.memo)
        if isinstance(step, Done):
            break
    assert [type(s) for s in steps] == [Wait, Wait, Done]
    assert steps[-1].memo["stored"] == ["film1", "film2", "pdf"]
    assert steps[-1].memo["identity"]["PatientID"] == "placeholder"
    assert steps[-1].memo["patient_id"].startswith("NOPID-PRINTSCP-CT_1-")
    assert len(orthanc.instances()) == 3
    again = out.deliver(replace(job, memo={}))  # the memo lost (kill -9 before it was written): same UIDs
    assert isinstance(again, Wait) and len(orthanc.instances()) == 3
    for instance in orthanc.instances():
        assert dciodvfy(orthanc.file(instance, tmp_path / "x.dcm"))[0] == []
    assert out.health() == ("NORMAL", "NORMAL", "")


def test_an_archive_down_is_a_retry_and_unhealthy(orthanc: Orthanc, tmp_path: Path) -> None:
    out = pacs(port=orthanc.dicom_port, called_ae=orthanc.aet, timeout=5)
    orthanc.stop()
    step = out.deliver(spooled(tmp_path, films=1))
    assert isinstance(step, Retry) and "cannot be reached" in step.reason and step.memo["stored"] == []
    status, info, why = out.health()
    assert (status, info) == ("WARNING", "CHECK PRINTER") and "cannot be reached" in why
    wrong = pacs(port=orthanc.dicom_port, called_ae="NOTTHERE", timeout=5)
    orthanc.start()
    step = wrong.deliver(spooled(tmp_path / "b", films=1))
    # Orthanc sends A-ASSOCIATE-RJ and closes at once; pynetdicom 3.0 may see the close first (an abort)
    assert isinstance(step, Retry) and ("rejected the association" in step.reason
                                        or "association aborted" in step.reason), step.reason


@pytest.mark.parametrize(("accepted", "why"), [
    (("1.2.840.10008.5.1.4.1.1.104.1",), "does not accept Secondary Capture"),
    ((), "every presentation context rejected"),
])
def test_an_archive_that_takes_no_secondary_capture_fails_the_output_for_good(tmp_path: Path, accepted: tuple[str],
                                                                              why: str) -> None:
    """A real association (pynetdicom as the archive) that accepts PDFs only, or nothing we propose: refused
    for good, not retried for a day."""
    ae = AE(ae_title="PICKY")
    ae.add_supported_context(Verification)
    for sop_class in accepted:
        ae.add_supported_context(sop_class)
    port = free_port()
    server = ae.start_server((LOCALHOST, port), block=False)
    try:
        step = pacs(port=port, called_ae="PICKY", timeout=5).deliver(spooled(tmp_path, films=1))
    finally:
        server.shutdown()
    assert isinstance(step, Failed) and why in step.reason, step


def test_the_conformance_statement_names_the_storage_scu_role_and_classes() -> None:
    from printserver.config import ServerConfig
    from printserver.conformance import statement

    text = statement(ServerConfig(printers=(profile({"called_ae": "PACS", "host": "h", "port": 104}),)))
    assert "| FILMS | Storage SCU (archives its films) | ephemeral | FILMS: PACS PACS at h:104" in text
    assert "| Secondary Capture Image Storage | 1.2.840.10008.5.1.4.1.1.7 | Yes | No |" in text
    assert "| Encapsulated PDF Storage | 1.2.840.10008.5.1.4.1.1.104.1 | Yes | No |" in text
