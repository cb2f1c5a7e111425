"""Typed errors, so every layer can show a failure in plain words and decide what to do with it."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, in the terms a caller acts on (Anki's SyncErrorKind habit)."""

    INPUT = "input"
    STORAGE = "storage"
    NETWORK = "network"
    AUTH = "auth"
    CANCELLED = "cancelled"
    INTERNAL = "internal"


class PortalError(Exception):
    """An error whose message is already in the user's language and safe to show."""

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, message: str, *, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind


class InputError(PortalError):
    """Something the user or a file gave us is wrong; the message names it and the problem."""

    kind = ErrorKind.INPUT


class StorageError(PortalError):
    """The local store or a file in the data dir could not be read or written."""

    kind = ErrorKind.STORAGE


class Cancelled(PortalError):  # noqa: N818 - a cancel is not an error to the user
    """The user cancelled a long operation; callers show nothing."""

    kind = ErrorKind.CANCELLED
