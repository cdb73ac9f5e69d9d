"""One association's Print Management: the lifecycle table, the router, `handle(Request) -> Response`.

Every lifecycle rule lives in TRANSITIONS (as h11 keeps every transition in `_state.py`): the
association's state (is there a film session, is the last film box printed, does the request address
a superseded film box) with the SOP class and operation gives either ALLOW or the status to refuse
with. A key that is missing is an operation the class does not have (0211). Whatever the table
allows is routed to the object's module (film_session, film_box, image_box, annotation,
presentation_lut, printer, print_job), which checks the data set and decides the answer.

Rules (PS3.4 H.4, digest §2): one film session per association and before any film box; only the
last created film box can be set or printed; a new film box while one is unprinted needs film
session printing (else C616); Print snapshots the hierarchy into a PrintJob that the caller spools.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from printserver import uids
from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.layout import LayoutData
from printserver.model import annotation, film_box, film_session, image_box, presentation_lut, print_job, printer
from printserver.model.film_box import FilmBox
from printserver.model.film_session import FilmSession
from printserver.model.memory import ImagePool, held_bytes
from printserver.model.messages import Op, PrinterHealth, PrintJobRecords, Request, Response
from printserver.status import Category, Status

log = logging.getLogger(__name__)


class State(Enum):
    """Where the association's print hierarchy is, as far as the request at hand is concerned."""

    NO_SESSION = "no film session"
    SESSION = "film session, no film box"
    FILM_BOX = "last film box unprinted"
    PRINTED = "last film box printed"
    #: The request addresses a film box that a later film box N-CREATE superseded.
    EARLIER_FILM_BOX = "superseded film box addressed"


@dataclass(frozen=True)
class Refuse:
    status: Status
    why: str
    offending: int | None = None
    #: A PrinterProfile flag that, when true, turns the refusal into ALLOW (e.g. session_print).
    unless: str = ""


ALLOW = None
Rule = Refuse | None

_SESSION, _FILM_BOX = uids.BASIC_FILM_SESSION, uids.BASIC_FILM_BOX
_GRAY, _COLOR, _ANNOTATION = uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.BASIC_COLOR_IMAGE_BOX, uids.BASIC_ANNOTATION_BOX
_NO_SESSION = Refuse(Status.NO_SUCH_OBJECT_INSTANCE, "no film session exists on this association")
_NO_FILM_BOX = Refuse(Status.NO_SUCH_OBJECT_INSTANCE, "no film box exists on this association")
_NOT_LAST = Refuse(Status.PROCESSING_FAILURE, "is not the last created film box: only the last one can be "
                   "changed or printed (PS3.4 H.4.2)")
_S, _B, _P, _E, _N = State.SESSION, State.FILM_BOX, State.PRINTED, State.EARLIER_FILM_BOX, State.NO_SESSION

#: (state, SOP class, operation) -> ALLOW or the refusal. Missing: 0211 (no such operation of the class).
TRANSITIONS: dict[tuple[State, str, Op], Rule] = {
    (_N, _SESSION, Op.N_CREATE): ALLOW,
    **{(s, _SESSION, Op.N_CREATE): Refuse(Status.DUPLICATE_SOP_INSTANCE,
                                          "a film session already exists: one film session per association")
       for s in (_S, _B, _P, _E)},
    **{(_N, _SESSION, op): _NO_SESSION for op in (Op.N_SET, Op.N_ACTION, Op.N_DELETE)},
    **{(s, _SESSION, op): ALLOW for s in (_S, _B, _P, _E) for op in (Op.N_SET, Op.N_DELETE)},
    (_S, _SESSION, Op.N_ACTION): Refuse(Status.NO_FILM_BOX, "film session has no film box to print"),
    **{(s, _SESSION, Op.N_ACTION): ALLOW for s in (_B, _P, _E)},
    (_N, _FILM_BOX, Op.N_CREATE): Refuse(Status.INVALID_ATTRIBUTE_VALUE, "ReferencedFilmSessionSequence: no film "
                                         "session exists on this association", 0x20100500),
    (_S, _FILM_BOX, Op.N_CREATE): ALLOW,
    (_B, _FILM_BOX, Op.N_CREATE): Refuse(Status.UNPRINTED_FILM_BOX_EXISTS, "the previous film box is not printed "
                                         "and this printer does not print film sessions", unless="session_print"),
    **{(s, _FILM_BOX, Op.N_CREATE): ALLOW for s in (_P, _E)},
    **{(_N, _FILM_BOX, op): _NO_SESSION for op in (Op.N_SET, Op.N_ACTION, Op.N_DELETE)},
    **{(_S, _FILM_BOX, op): _NO_FILM_BOX for op in (Op.N_SET, Op.N_ACTION, Op.N_DELETE)},
    **{(s, _FILM_BOX, op): ALLOW for s in (_B, _P) for op in (Op.N_SET, Op.N_ACTION, Op.N_DELETE)},
    (_E, _FILM_BOX, Op.N_SET): _NOT_LAST,
    (_E, _FILM_BOX, Op.N_ACTION): _NOT_LAST,
    (_E, _FILM_BOX, Op.N_DELETE): ALLOW,
    **{(_N, cls, Op.N_SET): _NO_SESSION for cls in (_GRAY, _COLOR, _ANNOTATION)},
    **{(_S, cls, Op.N_SET): _NO_FILM_BOX for cls in (_GRAY, _COLOR, _ANNOTATION)},
    **{(s, cls, Op.N_SET): ALLOW for s in (_B, _P, _E) for cls in (_GRAY, _COLOR, _ANNOTATION)},
    # Independent of the film session: any state.
    **{(s, cls, op): ALLOW for s in State for cls, op in (
        (uids.PRESENTATION_LUT, Op.N_CREATE), (uids.PRESENTATION_LUT, Op.N_DELETE), (uids.PRINTER, Op.N_GET),
        (uids.PRINTER_CONFIGURATION_RETRIEVAL, Op.N_GET), (uids.PRINT_JOB, Op.N_GET))},
}

Handler = Callable[["PrintSession", Request], Response]

#: Who decides each operation the table can allow.
ROUTES: dict[tuple[str, Op], Handler] = {
    (_SESSION, Op.N_CREATE): film_session.create,
    (_SESSION, Op.N_SET): film_session.set_,
    (_SESSION, Op.N_ACTION): film_session.print_,
    (_SESSION, Op.N_DELETE): film_session.delete,
    (_FILM_BOX, Op.N_CREATE): film_box.create,
    (_FILM_BOX, Op.N_SET): film_box.set_,
    (_FILM_BOX, Op.N_ACTION): film_box.print_,
    (_FILM_BOX, Op.N_DELETE): film_box.delete,
    (_GRAY, Op.N_SET): image_box.set_grayscale,
    (_COLOR, Op.N_SET): image_box.set_color,
    (_ANNOTATION, Op.N_SET): annotation.set_,
    (uids.PRESENTATION_LUT, Op.N_CREATE): presentation_lut.create,
    (uids.PRESENTATION_LUT, Op.N_DELETE): presentation_lut.delete,
    (uids.PRINTER, Op.N_GET): printer.get,
    (uids.PRINTER_CONFIGURATION_RETRIEVAL, Op.N_GET): printer.get_configuration,
    (uids.PRINT_JOB, Op.N_GET): print_job.get,
}


class PrintSession:
    """The SCP side of Print Management for one association: `handle(Request) -> Response`.

    `health` and `jobs` are read-only views (model.messages): without them Printer N-GET reports the
    configured status and Print Job N-GET knows no job.
    """

    def __init__(
        self,
        profile: PrinterProfile,
        layouts: LayoutData,
        *,
        calling_ae: str = "",
        called_ae: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        negotiated: frozenset[str] = frozenset(),
        health: PrinterHealth | None = None,
        jobs: PrintJobRecords | None = None,
        pool: ImagePool | None = None,
    ) -> None:
        self.profile = profile
        self.layouts = layouts
        self.calling_ae = calling_ae
        self.called_ae = called_ae or profile.ae_title
        self.clock = clock
        #: Abstract syntaxes accepted on this association (Basic Annotation Box decides annotation boxes,
        #: Print Job the Referenced Print Job Sequence and its events).
        self.negotiated = negotiated
        self.health = health
        self.jobs = jobs
        #: The server's bound on the images all associations hold (model.memory); None: this one only.
        self.pool = pool
        self.film_session: FilmSession | None = None
        #: Every instance this association created, by SOP Instance UID: (SOP class, object).
        self.instances: dict[str, tuple[str, Any]] = {}
        self.films_printed = 0

    # --- entry point -------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            rsp = self._dispatch(req)
        except PrintError as exc:
            rsp = Response(exc.status, error_comment=exc.comment, error_context=exc.context,
                           offending_elements=(exc.offending,) if exc.offending is not None else ())
        if rsp.status.category is not Category.SUCCESS:
            level = logging.WARNING if rsp.status.category is Category.FAILURE else logging.INFO
            log.log(level, "%s %s %s from %s: 0x%04X %s%s", req.op.value, uids.name(req.sop_class_uid),
                    req.sop_instance_uid or "", self.calling_ae, rsp.status, rsp.status.text,
                    f" - {rsp.error_context + ': ' if rsp.error_context else ''}{rsp.error_comment}"
                    if rsp.error_comment else "")
        if self.pool is not None:
            self.pool.report(id(self), held_bytes(self.film_session))
        return rsp

    def release(self) -> None:
        """Association released or aborted: the implicit N-DELETE of everything it created."""
        self.film_session = None
        self.instances.clear()
        if self.pool is not None:
            self.pool.report(id(self), 0)

    def state(self, req: Request) -> State:
        session = self.film_session
        if session is None:
            return State.NO_SESSION
        if not session.film_boxes:
            return State.SESSION
        last = session.film_boxes[-1]
        entry = self.instances.get(req.sop_instance_uid or "")
        if req.sop_class_uid == _FILM_BOX and entry is not None and entry[0] == _FILM_BOX and entry[1] is not last:
            return State.EARLIER_FILM_BOX
        return State.PRINTED if last.printed else State.FILM_BOX

    def _dispatch(self, req: Request) -> Response:
        allowed = uids.META_MEMBERS.get(req.context_sop_class_uid, frozenset({req.context_sop_class_uid}))
        if req.sop_class_uid not in allowed:
            raise PrintError(Status.NO_SUCH_SOP_CLASS,
                             f"SOP Class {req.sop_class_uid} is not supported on the presentation context of "
                             f"{uids.name(req.context_sop_class_uid)}")
        if req.sop_instance_uid is not None and not uids.is_valid_uid(req.sop_instance_uid):
            raise PrintError(Status.INVALID_OBJECT_INSTANCE,
                             f"SOP Instance UID '{req.sop_instance_uid[:80]}' is not a valid UID")
        state = self.state(req)
        key = (state, req.sop_class_uid, req.op)
        if key not in TRANSITIONS:
            raise PrintError(Status.UNRECOGNIZED_OPERATION,
                             f"{req.op.value} is not an operation of {uids.name(req.sop_class_uid)}")
        rule = TRANSITIONS[key]
        if rule is not None and not (rule.unless and getattr(self.profile, rule.unless)):
            subject = f"film box {req.sop_instance_uid} " if state is State.EARLIER_FILM_BOX else ""
            raise PrintError(rule.status, subject + rule.why, rule.offending)
        return ROUTES[(req.sop_class_uid, req.op)](self, req)

    # --- what the object modules share --------------------------------------------------------------

    def lookup(self, req: Request) -> Any:
        """The instance the request addresses: 0112 if this association has none, 0119 if another class."""
        uid = req.sop_instance_uid
        if not uid or uid not in self.instances:
            raise PrintError(Status.NO_SUCH_OBJECT_INSTANCE,
                             f"{uids.name(req.sop_class_uid)} {uid or '(none)'} does not exist on this association")
        cls, obj = self.instances[uid]
        if cls != req.sop_class_uid:
            raise PrintError(Status.CLASS_INSTANCE_CONFLICT,
                             f"{uid} is a {uids.name(cls)}, not a {uids.name(req.sop_class_uid)}")
        return obj

    def new_instance_uid(self, req: Request) -> str:
        """The SCU's Affected SOP Instance UID (0111 if taken), else a minted one."""
        uid = req.sop_instance_uid
        if uid is None:
            return uids.new_uid()
        if uid in self.instances:
            raise PrintError(Status.DUPLICATE_SOP_INSTANCE, f"SOP Instance {uid} already exists on this association")
        return uid

    def film_box_of(self, box: Any) -> FilmBox:
        """The film box holding an image box or annotation box."""
        assert self.film_session is not None
        return next(fb for fb in self.film_session.film_boxes
                    if box in fb.image_boxes or box in fb.annotation_boxes)


def state_table() -> str:
    """TRANSITIONS as a Markdown table for docs/house-model.md (`python -m printserver.model.session`)."""
    classes = [(_SESSION, "Film Session"), (_FILM_BOX, "Film Box"), (_GRAY, "Grayscale Image Box"),
               (_COLOR, "Color Image Box"), (_ANNOTATION, "Annotation Box")]
    ops = [Op.N_CREATE, Op.N_SET, Op.N_ACTION, Op.N_DELETE]
    rows = ["| SOP class | operation | " + " | ".join(s.value for s in State) + " |",
            "|---|---|" + "---|" * len(State)]
    for cls, label in classes:
        for op in ops:
            cells = []
            for s in State:
                key = (s, cls, op)
                if key not in TRANSITIONS:
                    cells.append("-")
                    continue
                rule = TRANSITIONS[key]
                cells.append("allow" if rule is None
                             else f"{rule.status:04X}" + (f" unless {rule.unless}" if rule.unless else ""))
            if set(cells) != {"-"}:
                rows.append(f"| {label} | {op.value} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(state_table())
