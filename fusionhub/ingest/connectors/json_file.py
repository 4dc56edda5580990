"""JSON: an array of objects, an object holding the array at ``records: a.b``, or NDJSON.

Streamed: NDJSON line by line; arrays element by element over a text buffer of about a
megabyte (``json.JSONDecoder.raw_decode``), so memory stays flat for a multi-gigabyte
file. A tolerant scanner that only tracks strings and brackets finds where a broken
element ends, so one bad element is quarantined and the next ones still land; a file
that ends inside an element reports that element and stops.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from fusionhub.ingest.connectors.base import (
    RAW_KEEP,
    ConnectorInfo,
    SourceRow,
    check_readable,
    looks_binary,
    register,
)
from fusionhub.ingest.connectors.text import BLOCK, decoded_blocks, decoded_lines, sniff_encoding
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.paths import flatten

DEFAULT_RECORD_LIMIT = 64 * 1024 * 1024
_WS = re.compile(r"[ \t\r\n]*")
_IN_STRING = re.compile(r'["\\]')
_OUTSIDE = re.compile(r'["{}\[\],]')
_DECODER = json.JSONDecoder()
_JSON_START = b"[{ \t\r\n"


def json_encoding(head: bytes, declared: str | None) -> str:
    """RFC 8259 says UTF-8; UTF-16/32 files without a BOM show themselves by NUL bytes."""
    if declared and declared.lower() not in ("auto", ""):
        return sniff_encoding(head, declared)
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return sniff_encoding(head, None)
    if len(head) >= 4:
        # The first character of a JSON text is ASCII ([, {, white space): where its NULs sit tells.
        if head[:3] == b"\x00\x00\x00" and head[3] in _JSON_START:
            return "utf-32-be"
        if head[0] in _JSON_START and head[1:4] == b"\x00\x00\x00":
            return "utf-32-le"
        if head[0] == 0 and head[1] in _JSON_START:
            return "utf-16-be"
        if head[0] in _JSON_START and head[1] == 0:
            return "utf-16-le"
    return "auto"


@dataclass
class JsonItem:
    """One element of the records array: its value, or why it could not be read."""

    number: int
    line: int
    value: Any = None
    error: str | None = None
    raw: str | None = None
    last: bool = False  # nothing after it can be read (truncated file)


class _Scanner:
    """Finds where one JSON value ends without parsing it: tracks strings and brackets only."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False

    def feed(self, text: str, pos: int) -> int | None:
        """Consume ``text[pos:]``; the index just after the value, or None if it goes on."""
        i = pos
        n = len(text)
        while i < n:
            if self.escape:
                self.escape = False
                i += 1
                continue
            if self.in_string:
                found = _IN_STRING.search(text, i)
                if not found:
                    return None
                i = found.start()
                if text[i] == "\\":
                    self.escape = True
                else:
                    self.in_string = False
                i += 1
                continue
            found = _OUTSIDE.search(text, i)
            if not found:
                return None
            i = found.start()
            char = text[i]
            if char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
                if self.depth == 0:
                    return i + 1
                if self.depth < 0:
                    return i  # the closing bracket of the enclosing array: a scalar ended
            elif self.depth == 0:  # a comma after a scalar
                return i
            i += 1
        return None


class _Buffer:
    """A sliding window over the decoded text, with the line number of the read position."""

    def __init__(self, blocks: Iterator[str]) -> None:
        self.blocks = blocks
        self.text = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def fill(self, at_least: int = 1) -> bool:
        """Read more text (about ``at_least`` characters); False at the end of the file."""
        if self.eof:
            return False
        if self.pos:
            self.text = self.text[self.pos :]
            self.pos = 0
        parts = [self.text]
        added = 0
        while added < at_least:
            block = next(self.blocks, None)
            if block is None:
                self.eof = True
                break
            parts.append(block)
            added += len(block)
        self.text = "".join(parts)
        return added > 0

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.pos, to)
        self.pos = to

    def skip_ws(self) -> str | None:
        """Skip white space; the next character, or None at the end of the file."""
        while True:
            end = _WS.match(self.text, self.pos)
            assert end is not None
            self.advance(end.end())
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return None

    def line_at(self, index: int) -> int:
        return self.line + self.text.count("\n", self.pos, index)

    def skip_value(self) -> tuple[bool, int]:
        """Skip one value without keeping it; (ended, characters skipped)."""
        scanner = _Scanner()
        skipped = 0
        while True:
            end = scanner.feed(self.text, self.pos)
            if end is not None:
                skipped += end - self.pos
                self.advance(end)
                return True, skipped
            skipped += len(self.text) - self.pos
            self.advance(len(self.text))
            if not self.fill():
                return False, skipped

    def read_value(self, limit: int) -> tuple[Any, str | None, bool]:
        """Decode the value at the read position: (value, error, the file ended inside it)."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                scan_end = _Scanner().feed(self.text, self.pos)
                if scan_end is not None:
                    at = self.line_at(exc.pos)
                    raw = self.text[self.pos : scan_end]
                    self.advance(scan_end)
                    return raw[:RAW_KEEP], f"invalid JSON at line {at}: {exc.msg}", False
            else:
                if end < len(self.text) or self.eof:
                    self.advance(end)
                    return value, None, False
            # The value runs past the window: read more, or give up on an oversized one.
            if len(self.text) - self.pos > limit:
                ended, size = self.skip_value()
                reason = f"record larger than the limit of {limit} bytes ({size}+ characters); not read"
                return None, reason, not ended
            if not self.fill(max(len(self.text) - self.pos, 1)):
                raw = self.text[self.pos : self.pos + RAW_KEEP]
                self.advance(len(self.text))
                return raw, "the file ends inside this record (truncated)", True


def iter_json_items(path: Path, options: dict[str, Any], info: ConnectorInfo, encoding: str) -> Iterator[JsonItem]:
    """The elements of the records array of a JSON document, one at a time.

    Raises UnreadableFile only before the first element (the document's frame is broken).
    """
    limit = int(options.get("max_field_bytes", DEFAULT_RECORD_LIMIT))
    records_path = str(options.get("records") or "")
    with path.open("rb") as handle:
        block = int(options.get("read_block_bytes", BLOCK))  # smaller in tests, to cross block edges
        buf = _Buffer(decoded_blocks(handle, encoding, info, block))
        first = buf.skip_ws()
        if first is None:
            raise UnreadableFile(f"{path.name}: the file is empty")
        if first == "{" and not records_path:
            # One object: one record.
            value, error, _ = buf.read_value(limit)
            if error:
                raise UnreadableFile(f"{path.name}: {error}")
            yield JsonItem(1, 1, value)
            return
        if records_path:
            _enter(buf, records_path, path, info)
        elif first != "[":
            raise UnreadableFile(f"{path.name}: not JSON (starts with {first!r}, not [ or {{)")
        buf.advance(buf.pos + 1)  # the opening [
        number = 0
        while True:
            char = buf.skip_ws()
            if char is None:
                if number == 0:
                    raise UnreadableFile(f"{path.name}: the file ends before the records array closes")
                yield JsonItem(number + 1, buf.line, error="the file ends before the records array closes", last=True)
                return
            if char == "]":
                buf.advance(buf.pos + 1)
                break
            number += 1
            line = buf.line
            value, error, ended = buf.read_value(limit)
            if error:
                yield JsonItem(number, line, error=error, raw=value, last=ended)
                if ended:
                    return
            else:
                yield JsonItem(number, line, value)
            char = buf.skip_ws()
            if char == ",":
                buf.advance(buf.pos + 1)
            elif char not in ("]", None):
                info.warnings.append(f"line {buf.line}: expected ',' or ']' after record {number}")
        if records_path:
            return  # keys after the records array belong to the envelope
        if buf.skip_ws() is not None:
            tail = buf.text[buf.pos : buf.pos + 200]
            info.warnings.append(f"line {buf.line}: content after the end of the array was not read: {tail!r}")


def _enter(buf: _Buffer, records_path: str, path: Path, info: ConnectorInfo) -> None:
    """Walk ``a.b.c`` through nested objects to the records array; other keys are noted."""
    skipped: list[str] = []
    for part in records_path.split("."):
        if buf.skip_ws() != "{":
            raise UnreadableFile(f"{path.name}: no object where the records path {records_path!r} leads")
        buf.advance(buf.pos + 1)
        while True:
            char = buf.skip_ws()
            if char != '"':
                raise UnreadableFile(f"{path.name}: the records path {records_path!r} is not in the file")
            key, error, _ = buf.read_value(1 << 16)
            if error or buf.skip_ws() != ":":
                raise UnreadableFile(f"{path.name}: broken object key near line {buf.line}")
            buf.advance(buf.pos + 1)
            buf.skip_ws()
            if key == part:
                break
            skipped.append(str(key))
            ended, _ = buf.skip_value()
            if not ended:
                raise UnreadableFile(f"{path.name}: the file ends before the records path {records_path!r}")
            if buf.skip_ws() == ",":
                buf.advance(buf.pos + 1)
    if buf.skip_ws() != "[":
        raise UnreadableFile(f"{path.name}: {records_path!r} is not an array")
    if skipped:
        info.details["envelope_keys"] = skipped
        info.warnings.append(f"keys outside the records array were not imported: {', '.join(skipped[:20])}")


def probe_json(path: Path, options: dict[str, Any]) -> tuple[str, bytes]:
    check_readable(path)
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise UnreadableFile(f"{path.name}: the file is empty")
    encoding = json_encoding(head, options.get("encoding"))
    if encoding in ("auto", "utf-8-sig") and looks_binary(head):
        raise UnreadableFile(f"{path.name}: binary content, not JSON")
    return encoding, head


def _is_ndjson(path: Path, options: dict[str, Any], head: bytes, encoding: str) -> bool:
    if options.get("ndjson") is not None:
        return bool(options["ndjson"])
    if options.get("records"):
        return False
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        return True
    if encoding not in ("auto", "utf-8-sig"):
        return False
    text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace").lstrip()
    first, _, rest = text.partition("\n")
    if not first.startswith("{"):
        return False
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return rest.lstrip().startswith("{")


@register("json")
def read_json(path: Path, options: dict[str, Any], info: ConnectorInfo) -> Iterator[SourceRow]:
    encoding, head = probe_json(path, options)
    info.details["encoding"] = "utf-8 (cp1252 fallback per line)" if encoding == "auto" else encoding
    if _is_ndjson(path, options, head, encoding):
        info.details["layout"] = "ndjson"
        return _ndjson_rows(path, options, info, encoding)
    info.details["layout"] = f"object at {options['records']}" if options.get("records") else "array"
    items = iter_json_items(path, options, info, encoding)
    first = next(items, None)  # a broken frame raises UnreadableFile here, before any row
    return _array_rows(first, items)


def _array_rows(first: JsonItem | None, items: Iterator[JsonItem]) -> Iterator[SourceRow]:
    if first is None:
        return
    yield _row(first)
    for item in items:
        yield _row(item)


def _row(item: JsonItem) -> SourceRow:
    if item.error:
        return SourceRow(item.number, {}, item.line, item.error, item.raw)
    if not isinstance(item.value, dict):
        kind = type(item.value).__name__
        return SourceRow(item.number, {}, item.line, f"a JSON {kind}, not an object", json.dumps(item.value)[:RAW_KEEP])
    return SourceRow(item.number, flatten(item.value), item.line)


def _bounded_lines(handle: BinaryIO, encoding: str, limit: int, info: ConnectorInfo) -> Iterator[tuple[str, int]]:
    """NDJSON lines as text with their length in bytes; a line over ``limit`` is not kept whole.

    Like :func:`decoded_lines`, but a hostile line of gigabytes never sits in memory: only
    its first bytes are kept (for the quarantine) and the rest is skipped.
    """
    if encoding not in ("auto", "utf-8-sig"):
        for line in decoded_lines(handle, encoding, info):
            yield line, len(line)
        return
    fallback = 0
    first = True
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            break
        size = len(raw)
        if size > limit and not raw.endswith(b"\n"):
            while True:  # skip to the end of the oversized line
                more = handle.readline(BLOCK)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            info.position = handle.tell()
            yield raw[: RAW_KEEP * 4].decode("utf-8", errors="replace"), size
            continue
        info.position = handle.tell()
        if first:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            first = False
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            fallback += 1
            text = raw.decode("cp1252", errors="replace")
        yield text, size
    if fallback:
        info.details["lines_decoded_as_cp1252"] = fallback
        info.warnings.append(f"{fallback} line(s) were not UTF-8 and were read as Windows-1252")


def _ndjson_rows(path: Path, options: dict[str, Any], info: ConnectorInfo, encoding: str) -> Iterator[SourceRow]:
    limit = int(options.get("max_field_bytes", DEFAULT_RECORD_LIMIT))
    number = 0
    with path.open("rb") as handle:
        for line_no, (line, size) in enumerate(_bounded_lines(handle, encoding, limit, info), start=1):
            text = line.strip()
            if not text:
                continue
            number += 1
            if size > limit:
                reason = f"record larger than the limit of {limit} bytes ({size} bytes); not read"
                yield SourceRow(number, {}, line_no, reason, text[:RAW_KEEP])
                continue
            if "\x00" in text:
                yield SourceRow(number, {}, line_no, "line contains NUL bytes (binary data)", text[:RAW_KEEP])
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield SourceRow(number, {}, line_no, f"invalid JSON: {exc.msg} (column {exc.colno})", text[:RAW_KEEP])
                continue
            if not isinstance(value, dict):
                yield SourceRow(number, {}, line_no, f"a JSON {type(value).__name__}, not an object", text[:RAW_KEEP])
                continue
            yield SourceRow(number, flatten(value), line_no)
