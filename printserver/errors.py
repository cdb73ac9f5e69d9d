"""Exceptions that carry a DIMSE status, so only the network layer turns them into responses."""

from __future__ import annotations

from printserver.status import Status


class PrintError(Exception):
    """A request the model refuses: the status, a comment naming the attribute, the tag.

    `comment` leads with the attribute so it survives the 64-character Error Comment on the wire;
    `context` (which request, which item) is added in the log line.
    """

    def __init__(self, status: Status, comment: str, offending: int | None = None, context: str = "") -> None:
        super().__init__(f"{context}: {comment}" if context else comment)
        self.status = status
        self.comment = comment
        self.offending = offending
        self.context = context


class ConfigError(Exception):
    """Invalid configuration; the message names the key."""


class SpoolError(Exception):
    """A print job could not be stored durably; `queue_full` distinguishes C601/C602 from 0110."""

    def __init__(self, message: str, *, queue_full: bool = False) -> None:
        super().__init__(message)
        self.queue_full = queue_full
