"""The storage package's exceptions: one base, converted to HTTP statuses in `api/`."""

from __future__ import annotations


class StorageError(Exception):
    """The relational store refused or failed an operation; the message says why."""


class DuplicateError(StorageError):
    """A row with the same identity already exists (e.g. a device id provisioned twice)."""
