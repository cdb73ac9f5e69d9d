"""Exceptions that carry a DIMSE status, so only the network layer turns them into responses."""

from __future__ import annotations

from printserver.status import Status


class PrintError(Exception):
    """A request the model refuses: the status to answer, a comment naming the attribute, the tag."""

    def __init__(self, status: Status, comment: str, offending: int | None = None) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment
        self.offending = offending


class ConfigError(Exception):
    """Invalid configuration; the message names the key."""


class SpoolError(Exception):
    """A print job could not be stored durably; `queue_full` distinguishes C601/C602 from 0110."""

    def __init__(self, message: str, *, queue_full: bool = False) -> None:
        super().__init__(message)
        self.queue_full = queue_full
