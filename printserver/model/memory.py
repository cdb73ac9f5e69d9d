"""The image pixels film sessions hold, bounded in bytes: C605 at Image Box N-SET (PS3.4 H.4.3.1.2.1.2).

A modality's images stay in memory from their Image Box N-SET until their film box is deleted, let go
after printing (film_box._make_room) or the association ends. Maximum Collated Films bounds how many
film boxes hold images, not how large they are (100 boxes of 25-Mpx images is 5 GB), so two byte
bounds sit beside it: per association (the printer's `max_held_image_mb`) and for the whole server
(`server.max_held_image_mb`, every association together). The N-SET that would cross either is refused
"insufficient memory in printer to store the image" (C605), and the association goes on: it can print
what it holds, delete film boxes, or send smaller images. One modality, or many at once, cannot take
the memory the others need.

What a session holds is derived from its film boxes, never counted alongside; the server-wide pool
keeps each session's last reported figure (`held_bytes` after every request, in that association's
own thread) and checks a claim against the others' under one lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from printserver.errors import PrintError
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.color import ColorImage
    from printserver.model.film_session import FilmSession
    from printserver.model.image_box import ImageBox
    from printserver.model.pixels import GrayscaleImage
    from printserver.model.session import PrintSession

MB = 1 << 20
#: Offending Element of a refusal: the image sequence of the N-SET (grayscale, colour)
IMAGE_SEQUENCE = {False: 0x20200110, True: 0x20200111}


def held_bytes(session: FilmSession | None) -> int:
    """Bytes of pixels the film session's image boxes hold now."""
    if session is None:
        return 0
    return sum(ib.image.pixels.nbytes for fb in session.film_boxes for ib in fb.image_boxes if ib.image is not None)


class ImagePool:
    """Every association's held bytes against the server's bound (shared by the associations' threads)."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()

    def report(self, key: int, held: int) -> None:
        """What association `key` holds now (0: nothing, or it ended)."""
        with self._lock:
            if held:
                self._held[key] = held
            else:
                self._held.pop(key, None)

    def claim(self, key: int, held: int) -> int | None:
        """Association `key` would hold `held` bytes: recorded if the server stays within its bound, else
        nothing recorded and the bytes the other associations hold returned."""
        with self._lock:
            others = sum(v for k, v in self._held.items() if k != key)
            if others + held > self.limit_bytes:
                return others
            self._held[key] = held
            return None

    def total(self) -> int:
        with self._lock:
            return sum(self._held.values())


def admit(s: PrintSession, box: ImageBox, image: GrayscaleImage | ColorImage, where: str) -> None:
    """Refuse (C605) the image an N-SET would put into `box` if it takes the association or the server
    over its bound; the image it replaces in the box is no longer counted."""
    replaced = box.image.pixels.nbytes if box.image is not None else 0
    held = held_bytes(s.film_session) - replaced + image.pixels.nbytes
    offending = IMAGE_SEQUENCE[image.pixels.ndim == 3]
    limit = s.profile.max_held_image_mb * MB
    if held > limit:  # Error Comment is LO (64 characters): the figures, the rest is in the conformance statement
        raise PrintError(Status.INSUFFICIENT_MEMORY, f"association would hold {held / MB:.1f} MB of images, limit "
                         f"{s.profile.max_held_image_mb} MB", offending, context=where)
    if s.pool is not None and (others := s.pool.claim(id(s), held)) is not None:
        raise PrintError(Status.INSUFFICIENT_MEMORY, f"printer holds {others / MB:.1f} MB of images, "
                         f"+{held / MB:.1f} MB > limit {s.pool.limit_bytes // MB} MB", offending,
                         context=where)
