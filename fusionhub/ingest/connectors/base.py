"""The connector contract and registry.

A connector turns a file into a stream of :class:`SourceRow`. It raises
:class:`UnreadableFile` before yielding anything when the file cannot be read at all,
and yields a row with ``error`` set for a row it cannot parse, so the pipeline
quarantines that row and carries on with the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionhub.ingest.errors import UnreadableFile

RAW_KEEP = 2000  # characters of a rejected row kept in quarantine


@dataclass
class SourceRow:
    number: int  # 1-based data row number (header excluded)
    values: dict[str, Any]
    line: int | None = None  # physical line where the row starts, where the format has lines
    error: str | None = None
    raw: str | None = None


@dataclass
class ConnectorInfo:
    """What the connector learnt about the file (encoding, delimiter, columns, warnings)."""

    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Bytes of the file consumed so far, for progress bars.
    position: int = 0


Connector = Callable[[Path, dict[str, Any], ConnectorInfo], Iterator[SourceRow]]
CONNECTORS: dict[str, Connector] = {}


def register(name: str) -> Callable[[Connector], Connector]:
    def wrap(func: Connector) -> Connector:
        CONNECTORS[name] = func
        return func

    return wrap


def get_connector(name: str) -> Connector:
    try:
        return CONNECTORS[name]
    except KeyError:
        raise UnreadableFile(f"no connector for format {name!r}; known: {', '.join(sorted(CONNECTORS))}") from None


def check_readable(path: Path) -> None:
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file")
    if not path.is_file():
        raise UnreadableFile(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise UnreadableFile(f"{path}: {exc.strerror or exc}") from exc


def looks_binary(head: bytes) -> bool:
    """NUL bytes or mostly non-text bytes in the first block: not a text export."""
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs
        return False
    if b"\x00" in head[:8192]:
        return True
    sample = head[:8192]
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control / len(sample) > 0.05
