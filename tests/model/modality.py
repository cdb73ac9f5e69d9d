"""A modality talking to the model in memory: the same requests an SCU sends, no socket, no spool.

Each call returns the model's Response; the helpers keep the UIDs of the last film session, film box
and image boxes the way tests/printscu.py does on the wire, so rule tests read the same in both places.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.config import PrinterProfile
from printserver.layout import load_layouts
from printserver.model.messages import Op, Request, Response
from printserver.model.session import PrintSession
from printserver.status import COMMON_FAILURES, STATUS_BY_OPERATION, Status
from tests.printscu import image_box_dataset

META = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META
IMG = np.full((16, 16), 2000, np.uint16)
_LAYOUTS = load_layouts()


def dataset(**attrs: Any) -> Dataset:
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def film_box_ds(session_uid: str | None, **attrs: Any) -> Dataset:
    ds = dataset(**attrs)
    if session_uid is not None:
        ref = Dataset()
        ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
        ref.ReferencedSOPInstanceUID = session_uid
        ds.ReferencedFilmSessionSequence = Sequence([ref])
    return ds


class Modality:
    """Drives one PrintSession (one association) with requests."""

    def __init__(self, *, context: str = META, negotiated: frozenset[str] = frozenset({META}),
                 health: Any = None, jobs: Any = None, pool: Any = None, **profile: Any) -> None:
        self.profile = PrinterProfile(**profile)
        self.session = PrintSession(self.profile, _LAYOUTS, calling_ae="MODALITY", negotiated=negotiated,
                                    health=health, jobs=jobs, pool=pool)
        self.context = context
        self.session_uid: str | None = None
        self.film_box_uid: str | None = None
        self.image_box_uids: list[str] = []
        self.responses: list[Response] = []

    def send(self, op: Op, sop_class: str, uid: str | None, ds: Dataset | None = None, **kw: Any) -> Response:
        rsp = self.session.handle(Request(op, sop_class, uid, self.context, ds, **kw))
        # The conformance statement prints STATUS_BY_OPERATION: every answer must be one it declares.
        declared = (Status.SUCCESS, *COMMON_FAILURES, *STATUS_BY_OPERATION.get((sop_class, op.value), ()))
        assert rsp.status in declared, f"{op.value} {uids.name(sop_class)} answered undeclared {rsp.status!r}"
        self.responses.append(rsp)
        return rsp

    def n_create(self, ds: Dataset | None, sop_class: str, uid: str | None = None) -> Response:
        return self.send(Op.N_CREATE, sop_class, uid, ds)

    def n_set(self, ds: Dataset, sop_class: str, uid: str) -> Response:
        return self.send(Op.N_SET, sop_class, uid, ds)

    def n_get(self, tags: list[int], sop_class: str = uids.PRINTER, uid: str = uids.PRINTER_INSTANCE) -> Response:
        return self.send(Op.N_GET, sop_class, uid, attribute_identifiers=tuple(tags))

    def n_action(self, action: int, sop_class: str, uid: str | None) -> Response:
        return self.send(Op.N_ACTION, sop_class, uid, action_type_id=action)

    def n_delete(self, sop_class: str, uid: str | None) -> Response:
        return self.send(Op.N_DELETE, sop_class, uid)

    # --- the usual flow ----------------------------------------------------------------------------

    def create_session(self, ds: Dataset | None = None, uid: str | None = None) -> Status:
        self.session_uid = uid or uids.new_uid()
        return self.n_create(ds, uids.BASIC_FILM_SESSION, self.session_uid).status

    def create_film_box(self, display_format: str = "STANDARD\\1,1", **attrs: Any) -> Response:
        self.film_box_uid = uids.new_uid()
        rsp = self.n_create(film_box_ds(self.session_uid, ImageDisplayFormat=display_format, **attrs),
                            uids.BASIC_FILM_BOX, self.film_box_uid)
        if rsp.dataset is not None and "ReferencedImageBoxSequence" in rsp.dataset:
            self.image_box_uids = [i.ReferencedSOPInstanceUID for i in rsp.dataset.ReferencedImageBoxSequence]
        return rsp

    def set_image(self, position: int, pixels: np.ndarray | None = IMG, **kwargs: Any) -> Status:
        ds = image_box_dataset(position, pixels, **kwargs)
        return self.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, self.image_box_uids[position - 1]).status

    def print_film_box(self) -> Response:
        return self.n_action(1, uids.BASIC_FILM_BOX, self.film_box_uid)

    def print_session(self) -> Response:
        return self.n_action(1, uids.BASIC_FILM_SESSION, self.session_uid)

    def still_prints(self) -> None:
        """The association that saw the errors still prints a film (a job to spool)."""
        if self.session.film_session is None:
            assert self.create_session() == Status.SUCCESS
        assert self.create_film_box().status == Status.SUCCESS
        assert self.set_image(1) == Status.SUCCESS
        rsp = self.print_film_box()
        assert rsp.status == Status.SUCCESS and rsp.job is not None and len(rsp.job.films) == 1

