"""The CUPS output's pure parts in memory: film -> media, options, fit scale, configuration keys.

What CUPS and the printer then do with them is tested against a real cupsd (tests/interop/test_cups*.py).
"""

from __future__ import annotations

import pytest

from printserver import config
from printserver.errors import ConfigError
from printserver.outputs.cups import CupsQueue
from printserver.outputs.paper import choose_media, fitted_scale, job_options, media_size_mm
from printserver.outputs.plan import outputs_of
from tests.spool.test_store import job

QUEUE_MEDIA = ["na_letter_8.5x11in", "iso_a4_210x297mm", "oe_14x17_14x17in", "iso_a3_297x420mm"]


def test_pwg_media_names_give_their_size_in_mm() -> None:
    assert media_size_mm("oe_14x17_14x17in") == pytest.approx((355.6, 431.8))
    assert media_size_mm("iso_a4_210x297mm") == (210.0, 297.0)
    assert media_size_mm("custom") is None


def test_media_is_the_admins_choice_else_the_films_size_else_the_default_with_a_note() -> None:
    film = (355.6, 431.8)
    exact = choose_media("14INX17IN", film, QUEUE_MEDIA, "iso_a4_210x297mm", {})
    assert (exact.keyword, exact.exact, exact.note) == ("oe_14x17_14x17in", True, "")
    landscape = choose_media("14INX17IN", (431.8, 355.6), QUEUE_MEDIA, "iso_a4_210x297mm", {})
    assert landscape.keyword == "oe_14x17_14x17in" and landscape.exact  # either orientation
    chosen = choose_media("A3", (297, 420), QUEUE_MEDIA, "na_letter_8.5x11in", {"A3": "iso_a4_210x297mm"})
    assert (chosen.keyword, chosen.exact) == ("iso_a4_210x297mm", False)
    unknown = choose_media("A3", (297, 420), QUEUE_MEDIA, "na_letter_8.5x11in", {"A3": "iso_b4_250x353mm"})
    assert unknown.keyword == "iso_a3_297x420mm" and "is not in the queue's media-supported" in unknown.note
    none = choose_media("24CMX30CM", (240, 300), QUEUE_MEDIA, "na_letter_8.5x11in", {})
    assert none.keyword == "na_letter_8.5x11in" and not none.exact and "using na_letter_8.5x11in" in none.note


def test_job_options_map_copies_priority_medium_and_destination() -> None:
    cfg = {"medium_type": {"PAPER": "media-type=stationery"}, "film_destination": {"BIN_1": "output-bin=tray-1"},
           "options": {"print-quality": "5"}}
    assert job_options("oe_14x17_14x17in", 3, "HIGH", "PAPER", "BIN_1", cfg) == {
        "media": "oe_14x17_14x17in", "print-scaling": "none", "copies": "3", "job-priority": "80",
        "media-type": "stationery", "output-bin": "tray-1", "print-quality": "5"}
    assert job_options("x", 1, "ODD", "", "", {})["job-priority"] == "50"


def test_the_fit_scale_turns_the_paper_to_the_film() -> None:
    film = job().films[0]  # 14 x 17 in portrait
    portrait = fitted_scale(film, (210, 297))
    assert portrait == fitted_scale(film, (297, 210)) == pytest.approx((210 - 2 * 8) / 355.6)  # 8 mm margins


def test_cups_keys_are_checked_by_the_cups_output_and_name_the_key() -> None:
    base = {"pdf_dir": "", "cups_queue": "film"}
    (out,) = outputs_of(config.from_dict({"printer": [{**base, "paper_policy": "fit"}]}).printers[0], "printer[0]")
    assert isinstance(out, CupsQueue) and (out.id, out.key, out.paper_policy) == ("cups", "printer[0].cups_queue",
                                                                               "fit")
    assert out.renditions() and "CUPS queue film" in out.describe()
    for keys, where in (({"cups_media": {"HUGE": "x"}}, r"cups_media: 'HUGE'"),
                        ({"cups_medium_type": {"GLASS": "a=b"}}, r"cups_medium_type: 'GLASS'"),
                        ({"cups_film_destination": {"BIN_1": "nonsense"}}, r"cups_film_destination\.BIN_1")):
        with pytest.raises(ConfigError, match=rf"^printer\[0\]\.{where}"):
            config.from_dict({"printer": [{**base, **keys}]})


def test_films_of_one_size_in_a_row_are_one_cups_job_each_size_change_starts_another() -> None:
    from printserver.model.spooled_job import FilmJob
    from printserver.outputs.cups import job_ids
    from printserver.outputs.paper import film_runs

    def film(size: str) -> FilmJob:
        return FilmJob(1, "1.2", {"FilmSizeID": size}, 1.0, 1.0, 300, 0.0, 0.0, ())

    sizes = ["14INX17IN", "14INX17IN", "8INX10IN", "14INX17IN"]
    assert film_runs([film(s) for s in sizes]) == [(0, 1), (2, 2), (3, 3)]
    assert film_runs([film("A4")]) == [(0, 0)]
    # job records written before runs existed keep their one CUPS job
    assert job_ids({"job_id": 12}) == [12] and job_ids({}) == [] and job_ids({"job_ids": [3, None]}) == [3, None]
