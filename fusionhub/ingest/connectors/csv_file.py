"""Delimited text (CSV, TSV, pipe): streamed, delimiter and encoding detected."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from fusionhub.ingest.connectors.base import (
    RAW_KEEP,
    ConnectorInfo,
    SourceRow,
    check_readable,
    looks_binary,
    register,
)
from fusionhub.ingest.connectors.text import decoded_lines, sniff_encoding
from fusionhub.ingest.errors import UnreadableFile

DELIMITERS = ",;\t|"
DEFAULT_FIELD_LIMIT = 64 * 1024 * 1024


class _LineCounter:
    """Wraps the line iterator so each row knows the physical line it started on."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.line = 0

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.line += 1
        return line


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


@register("csv")
def read_csv(path: Path, options: dict[str, Any], info: ConnectorInfo) -> Iterator[SourceRow]:
    check_readable(path)
    with path.open("rb") as probe:
        head = probe.read(65536)
    if not head.strip():
        raise UnreadableFile(f"{path.name}: the file is empty")
    if looks_binary(head):
        raise UnreadableFile(f"{path.name}: binary content, not a delimited text file")
    encoding = sniff_encoding(head, options.get("encoding"))
    info.details["encoding"] = "utf-8 (cp1252 fallback per line)" if encoding == "auto" else encoding
    field_limit = int(options.get("max_field_bytes", DEFAULT_FIELD_LIMIT))
    csv.field_size_limit(min(field_limit, sys.maxsize))
    return _rows(path, options, info, encoding)


def _rows(path: Path, options: dict[str, Any], info: ConnectorInfo, encoding: str) -> Iterator[SourceRow]:
    with path.open("rb") as handle:
        lines = decoded_lines(handle, encoding, info)
        # Peek enough lines to sniff the delimiter, then put them back in front.
        peeked: list[str] = []
        for line in lines:
            peeked.append(line)
            if len(peeked) >= 20:
                break
        delimiter = options.get("delimiter") or _sniff_delimiter("".join(peeked))
        info.details["delimiter"] = delimiter
        counter = _LineCounter(chain(peeked, lines))
        reader = csv.reader(
            counter,
            delimiter=delimiter,
            quotechar=options.get("quotechar", '"'),
            skipinitialspace=bool(options.get("skipinitialspace", False)),
            strict=False,
        )
        skip = int(options.get("skip_lines", 0))
        for _ in range(skip):
            next(counter, None)
        try:
            header = next(reader)
        except StopIteration:
            raise UnreadableFile(f"{path.name}: no header row") from None
        except csv.Error as exc:
            raise UnreadableFile(f"{path.name}: the header cannot be read: {exc}") from exc
        header = [h.strip() for h in header]
        if not any(header):
            raise UnreadableFile(f"{path.name}: the header row is empty")
        info.details["columns"] = header
        width = len(header)
        number = 0
        while True:
            start = counter.line + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                number += 1
                yield SourceRow(number, {}, line=start, error=f"unreadable row: {exc}")
                continue
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            number += 1
            raw = delimiter.join(fields)
            if "\x00" in raw:
                yield SourceRow(number, {}, start, "row contains NUL bytes (binary data)", raw[:RAW_KEEP])
                continue
            if len(fields) != width:
                # A trailing empty field from a line ending in a delimiter is harmless.
                if len(fields) == width + 1 and fields[-1] == "":
                    fields = fields[:-1]
                else:
                    reason = f"row has {len(fields)} fields, the header has {width}"
                    yield SourceRow(number, {}, start, reason, raw[:RAW_KEEP])
                    continue
            yield SourceRow(number, dict(zip(header, fields, strict=True)), line=start, raw=None)
