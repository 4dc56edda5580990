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
    if encoding != "auto" and codecs.lookup(encoding).name == "utf-8":
        yield from _utf8_lines(handle, info)
        return
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


def _utf8_lines(handle: BinaryIO, info: ConnectorInfo) -> Iterator[str]:
    """Declared UTF-8: lines split on the newline byte, decoded one by one.

    A codecs stream reader does the same work several times slower (and splits lines on
    every Unicode line separator, where a CSV reader expects only the newline). A line
    with bytes that are not UTF-8 gets U+FFFD in their place and is counted.
    """
    replaced = 0
    for raw in handle:
        info.position += len(raw)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            replaced += 1
            yield raw.decode("utf-8", errors="replace")
    if replaced:
        info.warnings.append(f"{replaced} line(s) had bytes invalid in utf-8; replaced")


BLOCK = 1 << 20


def _utf8_boundary(data: bytes) -> int:
    """Where to cut ``data`` so no UTF-8 sequence is split (a block without a line end)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:
            continue  # a continuation byte: keep looking for the lead byte
        if byte >= 0xC0:
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if back < needed else len(data)
        return len(data)
    return len(data)


def decoded_blocks(handle: BinaryIO, encoding: str, info: ConnectorInfo, size: int = BLOCK) -> Iterator[str]:
    """Yield the text of a binary handle in blocks of about ``size`` bytes.

    For formats whose records need not sit on one line (JSON arrays, XML), so memory
    stays flat even for a file that is one long line. Blocks end at a line end where
    there is one, so the UTF-8 / Windows-1252 fallback works line by line as in
    :func:`decoded_lines`.
    """
    if encoding not in ("auto", "utf-8-sig"):
        decoder = codecs.getincrementaldecoder(encoding)("replace")
        replaced = 0
        while block := handle.read(size):
            info.position = handle.tell()
            text = decoder.decode(block)
            replaced += text.count("\ufffd")
            yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            replaced += tail.count("\ufffd")
            yield tail
        if replaced:
            info.warnings.append(f"{replaced} character(s) were invalid in {encoding}; replaced")
        return
    fallback = 0
    pending = b""
    first = True
    while True:
        block = handle.read(size)
        data = pending + block
        if not data:
            break
        if block:
            cut = data.rfind(b"\n") + 1 or _utf8_boundary(data)
        else:
            cut = len(data)
        piece, pending = data[:cut], data[cut:]
        info.position = handle.tell() - len(pending)
        if first:
            piece = piece.removeprefix(codecs.BOM_UTF8)
            first = False
        try:
            yield piece.decode("utf-8")
        except UnicodeDecodeError:
            parts: list[str] = []
            for line in piece.splitlines(keepends=True):
                try:
                    parts.append(line.decode("utf-8"))
                except UnicodeDecodeError:
                    fallback += 1
                    parts.append(line.decode("cp1252", errors="replace"))
            yield "".join(parts)
        if not block:
            break
    if fallback:
        info.details["lines_decoded_as_cp1252"] = fallback
        info.warnings.append(f"{fallback} line(s) were not UTF-8 and were read as Windows-1252")
