"""Decoding of text files whose encoding the sender did not say.

UTF-8 is tried first (with or without BOM; UTF-16 when its BOM says so); a line that is
not UTF-8 is decoded as Windows-1252, the encoding of every legacy RMS export we have
met, and counted, so a file with mixed encodings loses no row and the report says so.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from fusionhub.ingest.connectors.base import ConnectorInfo
from fusionhub.ingest.errors import UnreadableFile


def sniff_encoding(head: bytes, declared: str | None) -> str:
    if declared and declared.lower() not in ("auto", ""):
        try:
            codecs.lookup(declared)
        except LookupError as exc:
            raise UnreadableFile(f"unknown encoding {declared!r}") from exc
        return declared
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "auto"


def decoded_lines(handle: BinaryIO, encoding: str, info: ConnectorInfo) -> Iterator[str]:
    """Yield text lines (with their line ends) from a binary handle."""
    if encoding not in ("auto", "utf-8-sig"):
        reader = codecs.getreader(encoding)(handle, "replace")
        replaced = 0
        for line in reader:
            info.position = handle.tell()
            if "\ufffd" in line:
                replaced += 1
            yield line
        if replaced:
            info.warnings.append(f"{replaced} line(s) had bytes invalid in {encoding}; replaced")
        return
    fallback = 0
    first = True
    for raw in handle:
        info.position += len(raw)
        if first:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            first = False
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            fallback += 1
            yield raw.decode("cp1252", errors="replace")
    if fallback:
        info.details["lines_decoded_as_cp1252"] = fallback
        info.warnings.append(f"{fallback} line(s) were not UTF-8 and were read as Windows-1252")
