"""A film session holds a bounded number of films' pixels (Maximum Collated Films), in memory."""

from __future__ import annotations

import numpy as np

from printserver import uids
from printserver.status import Status
from tests.model.modality import Modality


def _film(m: Modality, value: int, *, print_it: bool = True) -> None:
    assert m.create_film_box().status == Status.SUCCESS
    assert m.set_image(1, np.full((16, 16), value, np.uint16)) == Status.SUCCESS
    if print_it:
        assert m.print_film_box().status == Status.SUCCESS


def _held(m: Modality) -> list[int]:
    """The P-value of each film box that still holds its image, oldest first."""
    assert m.session.film_session is not None
    return [int(fb.image_boxes[0].image.pixels[0, 0]) for fb in m.session.film_session.film_boxes if fb.has_image]


def test_printer_configuration_reports_the_limit_it_keeps() -> None:
    pcr = uids.PRINTER_CONFIGURATION_RETRIEVAL
    m = Modality(max_collated_films=7, context=pcr, negotiated=frozenset({pcr}))
    rsp = m.n_get([], uids.PRINTER_CONFIGURATION_RETRIEVAL, uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE)
    assert rsp.status == Status.SUCCESS
    assert rsp.dataset.PrinterConfigurationSequence[0].MaximumCollatedFilms == 7


def test_printing_film_by_film_never_hits_the_limit_the_oldest_printed_films_let_go() -> None:
    """A modality printing one film box after another without N-DELETE goes on for ever; only the last
    `max_collated_films` printed boxes keep their pixels, and a film session Print says what it left out."""
    m = Modality(max_collated_films=3)
    assert m.create_session() == Status.SUCCESS
    for value in range(100, 108):
        _film(m, value)
    assert _held(m) == [105, 106, 107]
    rsp = m.print_session()
    assert rsp.status == Status.SUCCESS and rsp.job is not None and len(rsp.job.films) == 3
    (spool,) = rsp.effects  # the notes go into the accepted job's log line
    assert any("5 film box(es) printed earlier and released" in note for note in spool.notes)


def test_a_session_of_too_many_unprinted_films_is_refused_0213_and_goes_on_printing() -> None:
    m = Modality(max_collated_films=3)
    assert m.create_session() == Status.SUCCESS
    for value in (1, 2, 3):
        _film(m, value, print_it=False)
    rsp = m.create_film_box()
    assert rsp.status == Status.RESOURCE_LIMITATION
    assert "Maximum Collated Films 3" in rsp.error_comment
    rsp = m.print_session()
    assert rsp.status == Status.SUCCESS and len(rsp.job.films) == 3  # the three it holds print collated
    _film(m, 4)  # printed boxes make room: the association goes on
    assert _held(m)[-1] == 4


def test_without_session_printing_a_superseded_printed_film_box_lets_go_of_its_pixels() -> None:
    m = Modality(session_print=False)
    assert m.create_session() == Status.SUCCESS
    for value in (10, 11, 12):
        _film(m, value)
    assert _held(m) == [12]  # only the last film box can print again (PS3.4 H.4.2)
    first = m.session.film_session.film_boxes[0]
    assert m.n_delete(uids.BASIC_FILM_BOX, first.sop_instance_uid).status == Status.SUCCESS
