"""The print conversation (PS3.17 BB.1): Printer N-GET, film session, per film {film box, image
boxes, Print, delete}, release — with the model's vocabulary, over any transport.

    with PrintClient.connect("laser.example", 104, "LASER1") as client:
        result = client.print_images(images, FilmOptions(film_box=FilmBoxOptions("STANDARD\\\\2,2")))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from printserver import uids
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.model.printer import PRINTER_KEYWORDS
from printserver.scu import burn_lut
from printserver.scu.films import (
    FilmOptions,
    annotation_dataset,
    film_box_dataset,
    film_session_dataset,
    image_box_dataset,
    paginate,
)
from printserver.scu.prepare import PreparedImage, to_color, to_gray
from printserver.scu.transport import LocalTransport, NetworkTransport, PrintClientError, PrintRefused, Reply
from printserver.status import Category, Status, describe

log = logging.getLogger(__name__)

PRINT = 1  # Action Type ID
REFERENCED_PRINT_JOB_SEQUENCE = 0x21000500  # pydicom names it ...PullStoredPrint (docs: dcmtk-interop notes)


@dataclass
class FilmResult:
    number: int
    images: list[str]
    status: int = Status.SUCCESS
    error_comment: str = ""
    #: Warning statuses met on the way (film box creation, image boxes, print), in words.
    warnings: list[str] = field(default_factory=list)
    #: The Print Job SOP Instance the printer's Print answer referenced (PS3.4 H.4.2.2.4), "" if none.
    print_job_uid: str = ""

    @property
    def accepted(self) -> bool:
        return Reply(self.status).ok


@dataclass
class PrintResult:
    printer: dict[str, str] = field(default_factory=dict)
    films: list[FilmResult] = field(default_factory=list)
    images_sent: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True only when there were films and every one was accepted."""
        return bool(self.films) and all(f.accepted for f in self.films)

    def as_json(self) -> dict[str, Any]:
        films = [asdict(f) | {"status": f"0x{f.status:04X}", "accepted": f.accepted} for f in self.films]
        return {"ok": self.ok, "printer": self.printer, "images_sent": self.images_sent,
                "films_printed": sum(f.accepted for f in self.films), "films": films, "notes": self.notes}


def _values(ds: Any) -> dict[str, str]:
    """A response data set's attributes by keyword, as text (multi-valued joined by backslashes)."""
    values = {}
    for elem in ds or []:
        kw = keyword_for_tag(elem.tag)
        if kw and elem.VR != "SQ":
            values[kw] = "\\".join(map(str, elem.value)) if elem.VM > 1 else str(elem.value or "")
    return values


def to_8_bit(image: GrayscaleImage) -> GrayscaleImage:
    """For a printer that refuses 12-bit image boxes: the same P-value scale in 8 bits."""
    pixels = np.rint(image.pixels.astype(np.float64) * (255 / 4095)).astype(np.uint8)
    return GrayscaleImage(pixels, 8, image.photometric_interpretation, image.pixel_aspect_ratio)


Progress = Callable[[int, int], None]  # (images sent, films printed)


class PrintClient:
    """A print SCU session on one association (or on the local model, for previews)."""

    def __init__(self, transport: NetworkTransport | LocalTransport) -> None:
        self.transport = transport
        self._use_8_bit = False
        #: The printer refused an image box's own Presentation LUT (0105): the LUTs go into the pixels
        self._burn_box_luts = False
        #: The printer refused a colour image box's ICC Profile: colour goes as sRGB
        self._no_icc = False
        #: Print Job SOP Instance UIDs the printer referenced in its Print answers on this association, in
        #: order (a progress callback reads the last one to journal it at once)
        self.print_jobs: list[str] = []

    @classmethod
    def connect(cls, host: str, port: int, called_ae: str, calling_ae: str = "PRINTSERVER", **kw: Any) -> PrintClient:
        return cls(NetworkTransport(host, port, called_ae, calling_ae, **kw))

    def __enter__(self) -> PrintClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.transport.release()

    def printer_status(self) -> dict[str, str]:
        """Printer N-GET of every attribute (an empty list: some printers refuse named ones)."""
        reply = self.transport.n_get(uids.PRINTER, uids.PRINTER_INSTANCE, [])
        if not reply.ok:
            raise PrintClientError(f"Printer N-GET failed: {describe(reply.status)} {reply.error_comment}".strip())
        values = _values(reply.dataset)
        return {k: values[k] for k in PRINTER_KEYWORDS if k in values} | values

    def printer_configuration(self) -> Dataset | None:
        """Printer Configuration Retrieval N-GET (PS3.4 H.4.11) of the well-known instance; None when the
        printer did not accept the class on this association or refused the N-GET."""
        if uids.PRINTER_CONFIGURATION_RETRIEVAL not in getattr(self.transport, "accepted", ()):
            return None
        instance = uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE
        reply = self.transport.n_get(uids.PRINTER_CONFIGURATION_RETRIEVAL, instance, [])
        if not reply.ok:
            log.info("Printer Configuration Retrieval N-GET refused: %s (0x%04X) %s", describe(reply.status),
                     reply.status, reply.error_comment)
        return reply.dataset if reply.ok else None

    def print_job_status(self, uid: str) -> dict[str, str] | Reply:
        """Print Job N-GET of every attribute (PS3.4 H.4.5.1.3: Execution Status, Execution Status Info,
        Creation Date/Time ...) of a job this printer referenced, by keyword; the refusal as a Reply (0112: the
        printer deleted the job, as it may once it is done), and 0x0118 when the printer did not accept the
        Print Job SOP class on this association."""
        if uids.PRINT_JOB not in getattr(self.transport, "accepted", ()):
            return Reply(Status.NO_SUCH_SOP_CLASS, None, "Print Job SOP class not negotiated")
        reply = self.transport.n_get(uids.PRINT_JOB, uid, [])
        return _values(reply.dataset) if reply.ok else reply

    def print_images(self, images: Sequence[PreparedImage | GrayscaleImage | ColorImage | None], options: FilmOptions,
                     *, session_print: bool = False, progress: Progress | None = None) -> PrintResult:
        """Films of `images` in position order (None: that box stays empty), as `options` say."""
        result = PrintResult()
        try:
            result.printer = self.printer_status()
        except PrintClientError as exc:
            result.notes.append(f"{exc}; printing anyway")
        status = result.printer.get("PrinterStatus", "")
        info = result.printer.get("PrinterStatusInfo", "")
        if status == "FAILURE":
            raise PrintClientError(f"the printer reports FAILURE ({info or 'no status info'}): not printing")
        if status == "WARNING":
            result.notes.append(f"the printer reports WARNING ({info or 'no status info'})")
        if not images:
            return result

        prepared = [(i.source, i.image) if isinstance(i, PreparedImage) else (f"image {n}", i)
                    for n, i in enumerate(images, start=1)]
        prepared = self._choose_color(prepared, result)
        session_uid = uids.new_uid()
        reply = self.transport.n_create(uids.BASIC_FILM_SESSION, session_uid, film_session_dataset(options))
        if not reply.ok:
            raise PrintRefused(f"Film Session N-CREATE refused: {describe(reply.status)} {reply.error_comment}",
                               reply.status, reply.error_comment)
        session_warning = [describe(reply.status)] if reply.category is Category.WARNING else []

        for number, page in enumerate(paginate(prepared, options.boxes_per_film), start=1):
            film = FilmResult(number, [source for source, image in page if image is not None],
                              warnings=list(session_warning))
            result.films.append(film)
            if not self._print_film(film, page, options, session_uid, session_print, result, progress):
                break
        if session_print and any(f.status == Status.SUCCESS or f.accepted for f in result.films):
            reply = self.transport.n_action(uids.BASIC_FILM_SESSION, session_uid, PRINT)
            job_uid = self._print_job(reply)
            for film in result.films:
                if film.accepted:
                    self._record(film, reply, "Film Session N-ACTION")
                    film.print_job_uid = job_uid if film.accepted else ""
            if progress:
                progress(result.images_sent, sum(f.accepted for f in result.films))
        self.transport.n_delete(uids.BASIC_FILM_SESSION, session_uid)
        return result

    def _choose_color(self, prepared: list[tuple[str, Any]], result: PrintResult) -> list[tuple[str, Any]]:
        """Colour images print in colour on a printer that accepted the colour meta class (the whole
        session then works on it, grayscale images as equal R, G, B), else in gray."""
        has_color = any(isinstance(image, ColorImage) for _, image in prepared)
        color = has_color and self.transport.supports_color
        self.transport.use_color(color)
        if has_color and not color:
            result.notes.append("the printer did not accept the Basic Color Print Management Meta class: "
                                "colour images are printed in gray")
            return [(s, to_gray(i) if isinstance(i, ColorImage) else i) for s, i in prepared]
        if color:
            return [(s, to_color(i) if isinstance(i, GrayscaleImage) else i) for s, i in prepared]
        return prepared

    def _print_job(self, reply: Reply) -> str:
        """The Print Job SOP Instance a Print answer references (H.4.2.2.4), only from a printer that
        accepted the Print Job SOP class: an answer without it cannot be followed."""
        if not reply.ok or reply.dataset is None or uids.PRINT_JOB not in getattr(self.transport, "accepted", ()):
            return ""
        items = reply.dataset.get(REFERENCED_PRINT_JOB_SEQUENCE)
        for item in items.value if items is not None and items.VR == "SQ" else []:
            if str(item.get("ReferencedSOPClassUID", "")) == uids.PRINT_JOB and item.get("ReferencedSOPInstanceUID"):
                self.print_jobs.append(str(item.ReferencedSOPInstanceUID))
                return self.print_jobs[-1]
        return ""

    def _record(self, film: FilmResult, reply: Reply, what: str) -> None:
        if reply.category is Category.FAILURE:
            film.status, film.error_comment = reply.status, f"{what}: {reply.error_comment}".strip(": ")
        elif reply.category is Category.WARNING:
            film.warnings.append(f"{what}: {describe(reply.status)}" + (f" ({reply.error_comment})"
                                                                         if reply.error_comment else ""))

    def _print_film(self, film: FilmResult, page: list[tuple[str, Any]], options: FilmOptions,
                    session_uid: str, session_print: bool, result: PrintResult, progress: Progress | None) -> bool:
        """One film with the Presentation LUTs its options carry (the film box's, image boxes' own: each
        distinct data set created once); False when the films after it cannot fare better (film box or LUT
        refused)."""
        wanted = {id(ds): ds for ds in (options.presentation_lut, *options.box_presentation_luts) if ds is not None}
        created: dict[int, str] = {}
        try:
            for key, ds in wanted.items():
                lut_uid = uids.new_uid()
                reply = self.transport.n_create(uids.PRESENTATION_LUT, lut_uid, ds)
                self._record(film, reply, "Presentation LUT N-CREATE")
                if not reply.ok:
                    return False
                created[key] = lut_uid
            box_luts = {position: (created[id(ds)], ds)
                        for position, ds in enumerate(options.box_presentation_luts, start=1) if ds is not None}
            return self._print_film_box(film, page, options, session_uid, session_print, result, progress,
                                        created.get(id(options.presentation_lut)), box_luts)
        finally:
            if not session_print:  # else the session's Print still needs them: they end with the association
                for lut_uid in created.values():
                    self.transport.n_delete(uids.PRESENTATION_LUT, lut_uid)

    def _print_film_box(self, film: FilmResult, page: list[tuple[str, Any]], options: FilmOptions, session_uid: str,
                        session_print: bool, result: PrintResult, progress: Progress | None,
                        lut_uid: str | None, box_luts: dict[int, tuple[str, Dataset]]) -> bool:
        box_uid = uids.new_uid()
        reply = self.transport.n_create(uids.BASIC_FILM_BOX, box_uid, film_box_dataset(options, session_uid, lut_uid))
        self._record(film, reply, "Film Box N-CREATE")
        if not reply.ok:
            return False
        created = reply.dataset
        refs = created.get("ReferencedImageBoxSequence") if created is not None else None
        if not refs or len(refs) < len(page):
            film.status = Status.PROCESSING_FAILURE
            film.error_comment = f"the printer returned {len(refs or [])} image boxes for {len(page)} images"
            return False
        for position, ((source, image), ref) in enumerate(zip(page, refs, strict=False), start=1):
            if image is None:  # an empty box: left as the printer has it (Empty Image Density)
                continue
            reply = self._set_image(film, position, image, ref, options, box_luts.get(position))
            if not reply.ok:
                film.status = reply.status
                film.error_comment = f"Image Box {position} ({source}): {reply.error_comment}"
                break
            self._record(film, reply, f"Image Box {position}")
            result.images_sent += 1
            if progress:
                progress(result.images_sent, sum(f.accepted for f in result.films[:-1]))
        if film.accepted and options.annotations:
            self._annotate(film, created, options)
        if film.accepted and not session_print:
            reply = self.transport.n_action(uids.BASIC_FILM_BOX, box_uid, PRINT)
            self._record(film, reply, "Film Box N-ACTION")
            film.print_job_uid = self._print_job(reply) if film.accepted else ""
            if progress:
                progress(result.images_sent, sum(f.accepted for f in result.films))
        if not session_print:
            self.transport.n_delete(uids.BASIC_FILM_BOX, box_uid)
        return True

    def _annotate(self, film: FilmResult, created: Any, options: FilmOptions) -> None:
        """The annotation texts, on the annotation boxes the printer created with the film box."""
        refs = created.get("ReferencedBasicAnnotationBoxSequence") if created is not None else None
        if not refs:
            film.warnings.append("the printer created no annotation boxes: the film's annotation text is not printed")
            return
        for position, text in options.annotations:
            if position > len(refs):
                film.warnings.append(f"annotation {position} not printed: the printer has {len(refs)} annotation boxes")
                continue
            ref = refs[position - 1]
            reply = self.transport.n_set(str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID),
                                         annotation_dataset(position, text))
            self._record(film, reply, f"Annotation Box {position}")
            if not reply.ok:
                return

    def _set_image(self, film: FilmResult, position: int, image: GrayscaleImage | ColorImage, ref: Any,
                   options: FilmOptions, lut: tuple[str, Dataset] | None = None) -> Reply:
        """One image box N-SET; `lut`: the box's own Presentation LUT (UID, data set), referenced, or applied
        to the pixels once the printer refused such a reference (scu/burn_lut.py)."""
        own, sent, polarity = lut, image, None
        if isinstance(image, ColorImage) and image.icc_profile and self._no_icc:
            sent, polarity = burn_lut.to_page_rgb(image, options.box_options(position).Polarity)
        if lut is not None and self._burn_box_luts and isinstance(image, GrayscaleImage):
            burnt = burn_lut.burn(image, options.box_options(position).Polarity, lut[1],
                                  density_model(options, position))
            if burnt is not None:
                (sent, polarity), lut = burnt, None
        if self._use_8_bit and isinstance(sent, GrayscaleImage) and sent.bits_stored == 12:
            sent = to_8_bit(sent)
        ds = image_box_dataset(position, sent, options, big_endian=self.transport.big_endian,
                               presentation_lut_uid=lut[0] if lut is not None else None)
        if polarity is not None:
            ds.Polarity = polarity
        reply = self.transport.n_set(str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID), ds)
        if (reply.status == Status.NO_SUCH_ATTRIBUTE and lut is not None and not self._burn_box_luts
                and isinstance(image, GrayscaleImage) and burn_lut.as_plut(lut[1]) is not None):
            log.info("the printer refused an image box's own Presentation LUT (%s): applying the LUTs to the pixels",
                     reply.error_comment)
            film.warnings.append(f"Image Box {position}: the printer takes no Presentation LUT per image box "
                                 f"(0x{reply.status:04X}); each box's LUT is applied to its pixels")
            self._burn_box_luts = True
            return self._set_image(film, position, image, ref, options, own)
        if (reply.status in (Status.NO_SUCH_ATTRIBUTE, Status.INVALID_ATTRIBUTE_VALUE) and sent is image
                and isinstance(image, ColorImage) and image.icc_profile and not self._no_icc):
            log.info("the printer refused a colour image box with an ICC Profile (%s): sending sRGB",
                     reply.error_comment)
            film.warnings.append(f"Image Box {position}: the printer takes no ICC Profile (0x{reply.status:04X}); "
                                 "colour images are converted to sRGB")
            self._no_icc = True
            return self._set_image(film, position, image, ref, options, own)
        if (reply.status == Status.INVALID_ATTRIBUTE_VALUE and isinstance(sent, GrayscaleImage)
                and sent.bits_stored == 12 and not self._use_8_bit):
            log.info("the printer refused a 12-bit image box (%s): sending 8-bit images", reply.error_comment)
            self._use_8_bit = True
            return self._set_image(film, position, image, ref, options, own)
        return reply


def density_model(options: FilmOptions, position: int) -> burn_lut.DensityModel | None:
    """The densities the printer is told for a box (its own, else the film box's): what a LIN OD box is burnt
    against; None when none are sent (the printer's own are unknown)."""
    box, film_box = options.box_options(position), options.film_box
    low = box.MinDensity if box.MinDensity is not None else film_box.MinDensity
    high = box.MaxDensity if box.MaxDensity is not None else film_box.MaxDensity
    if low is None or high is None:
        return None
    return burn_lut.DensityModel(int(low), int(high), float(film_box.Illumination or 2000),
                                 float(film_box.ReflectedAmbientLight or 10))

