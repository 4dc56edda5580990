"""Ingest errors: a file that cannot be read at all, and a row that cannot be stored."""

from __future__ import annotations


class UnreadableFile(Exception):
    """The whole file cannot be read (missing, binary, hostile, wrong format). Nothing is stored."""


class RowRejected(Exception):
    """One row cannot be stored; it goes to quarantine with this reason and the good rows land."""


class ProfileError(Exception):
    """A mapping profile is malformed or does not fit the model."""
