"""Output `relay`: values mapped to what the upstream offers (outputs/relay_mapping.py). Rules in memory, the
offers read from printserver's own Printer Configuration Retrieval answer; then delivery steps against a real
upstream printserver with a restricted profile: what its PDF says it was asked for, and a refusal."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from printserver.config import PrinterProfile
from printserver.errors import ConfigError
from printserver.layout import load_layouts
from printserver.model.printer_configuration import printer_configuration
from printserver.outputs.base import Failed
from printserver.outputs.relay import DicomRelay
from printserver.outputs.relay_mapping import Offers, map_options, mapping_values, offers_from
from printserver.scu.films import FilmBoxOptions, FilmOptions, SessionOptions
from tests import pdfcheck
from tests.outputs.test_relay import relay, spooled
from tests.serverproc import ServerProcess

RESTRICTED = {"medium_types": ["CLEAR FILM", "PAPER"], "default_medium_type": "CLEAR FILM",
              "film_sizes": ["8INX10IN", "14INX17IN"], "default_film_size": "14INX17IN",
              "film_destinations": ["MAGAZINE"], "default_film_destination": "MAGAZINE", "value_policy": "strict"}


def options(**session: Any) -> FilmOptions:
    size = session.pop("FilmSizeID", "14INX17IN")
    return FilmOptions(SessionOptions(**session), FilmBoxOptions("STANDARD\\1,1", FilmSizeID=size))


def test_configuration_is_checked_naming_the_key() -> None:
    table = {"medium_map": {"BLUE FILM": "CLEAR FILM", "PAPER": ""}, "priority_map": {"HIGH": "MED"}, "max_copies": 3}
    assert mapping_values(table, "k") == {"mapping": table}
    assert mapping_values({}, "k") == {"mapping": {}}
    for bad, where in [({"medium_map": "CLEAR FILM"}, "medium_map"), ({"medium_map": {"blue film": "X"}}, "medium_map"),
                       ({"film_size_map": {"14INX17IN": 35}}, "film_size_map"),
                       ({"destination_map": {"BIN_1": "TOO LONG FOR A CODE STRING"}}, "destination_map"),
                       ({"priority_map": {"HIGH": "URGENT"}}, "priority_map"),
                       ({"max_copies": -1}, "max_copies"), ({"max_copies": True}, "max_copies")]:
        with pytest.raises(ConfigError, match=rf"^printer\[0\]\.relay\[0\]\.{where}: "):
            mapping_values(bad, "printer[0].relay[0]")
    out = relay(medium_map={"BLUE FILM": "CLEAR FILM"}, max_copies=2)
    assert out.mapping == {"medium_map": {"BLUE FILM": "CLEAR FILM"}, "max_copies": 2}
    assert DicomRelay.from_settings(json.loads(json.dumps(out.settings()))) == out  # the job's snapshot


def test_offers_are_what_printer_configuration_retrieval_says() -> None:
    profile = replace(PrinterProfile(), medium_types=("CLEAR FILM", "PAPER"), default_medium_type="CLEAR FILM",
                      film_sizes=("8INX10IN", "14INX17IN"), default_film_size="14INX17IN")
    offers = offers_from(printer_configuration(profile, load_layouts()))
    assert offers == Offers(frozenset({"CLEAR FILM", "PAPER"}), frozenset({"8INX10IN", "14INX17IN"}))


OFFERS = Offers(frozenset({"CLEAR FILM", "PAPER"}), frozenset({"8INX10IN", "14INX17IN"}))


def test_as_is_by_default_and_without_offers() -> None:
    asked = options(MediumType="BLUE FILM", PrintPriority="HIGH", FilmDestination="BIN_1", NumberOfCopies=9,
                    FilmSizeID="11INX14IN")
    assert map_options(asked, {}, None, "LASER1") == (asked, [])


def test_mapped_dropped_and_noted() -> None:
    asked = options(MediumType="BLUE FILM", PrintPriority="HIGH", FilmDestination="BIN_1", NumberOfCopies=9,
                    FilmSizeID="11INX14IN", FilmSessionLabel="CT")
    mapping = {"medium_map": {"BLUE FILM": "CLEAR FILM"}, "priority_map": {"HIGH": ""},
               "destination_map": {"BIN_1": "MAGAZINE"}, "max_copies": 5}
    sent, notes = map_options(asked, mapping, OFFERS, "LASER1")
    assert sent.session == SessionOptions(NumberOfCopies=5, PrintPriority=None, MediumType="CLEAR FILM",
                                          FilmDestination="MAGAZINE", FilmSessionLabel="CT")
    assert sent.film_box.FilmSizeID is None
    assert notes == ["upstream LASER1 offers no 11INX14IN: sent without Film Size ID",
                     "upstream LASER1 takes at most 5 copies (max_copies): 5 sent of 9"]


def test_a_value_not_offered_and_not_mapped_is_dropped_with_a_note_never_silently() -> None:
    sent, notes = map_options(options(MediumType="BLUE FILM"), {}, OFFERS, "LASER1")
    assert sent.session.MediumType is None
    assert notes == ["upstream LASER1 offers no BLUE FILM: sent without Medium Type"]
    sent, notes = map_options(options(MediumType="BLUE FILM"), {"medium_map": {"BLUE FILM": "DRY FILM"}}, OFFERS, "L")
    assert sent.session.MediumType is None and notes == ["upstream L offers no DRY FILM: sent without Medium Type"]


def upstream_config(tmp_path: Path) -> list[str]:
    path = tmp_path / "upstream.toml"
    lines = ["[[printer]]", 'ae_title = "PRINTSCP"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in RESTRICTED.items()]
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path)]


def test_on_the_wire_the_upstream_gets_the_mapped_values_and_refuses_what_it_has_not(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "upstream", extra=upstream_config(tmp_path)) as up:
        out = relay(called_ae="PRINTSCP", port=up.port, timeout=30, medium_map={"BLUE FILM": "CLEAR FILM"},
                    priority_map={"HIGH": "LOW"}, max_copies=2)
        job = spooled(tmp_path / "a", dpi=300)  # the upstream's resolution: no re-render first
        job = replace(job, job=replace(job.job, session={"MediumType": "BLUE FILM", "PrintPriority": "HIGH",
                                                         "NumberOfCopies": 3, "FilmSessionLabel": "mapped"},
                                       films=(replace(job.job.films[0], attributes=job.job.films[0].attributes |
                                                      {"FilmSizeID": "11INX14IN"}),)))
        step = out.deliver(job)
        assert not isinstance(step, Failed), step
        assert "upstream PRINTSCP offers no 11INX14IN: sent without Film Size ID" in step.notes
        assert "upstream PRINTSCP takes at most 2 copies (max_copies): 2 sent of 3" in step.notes
        (pdf,) = up.wait_drained(1)
        refused = spooled(tmp_path / "b", dpi=300)
        refused = replace(refused, job=replace(refused.job, session={"FilmDestination": "PROCESSOR"}))
        no = relay(called_ae="PRINTSCP", port=up.port, timeout=30).deliver(refused)
    session = json.loads(pdfcheck.metadata(pdf)["DICOMFilmSession"])
    assert (session["MediumType"], session["PrintPriority"], session["NumberOfCopies"]) == ("CLEAR FILM", "LOW", 2)
    assert json.loads(pdfcheck.metadata(pdf)["DICOMFilmBoxes"])[0]["FilmSizeID"] == "14INX17IN"  # its default
    assert isinstance(no, Failed) and "0x0106" in no.reason and "FilmDestination" in no.reason, no
