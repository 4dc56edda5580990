"""XML (NIEM exchanges and the like): one record element at a time, parsed safely.

Safety: a document type declaration (``<!DOCTYPE``) is refused before parsing, because
it is where entity bombs ("billion laughs") and external entities (``file://``,
``http://``) live and no NIEM exchange needs one. Even when a profile allows it
(``allow_doctype: true``), lxml runs with ``resolve_entities=False``, ``no_network``,
``load_dtd=False`` and without ``huge_tree``: entities are never expanded or fetched, a
record holding an entity reference is quarantined, and a text node over libxml2's
10 MB limit stops the file with a reason.

Streaming: ``iterparse`` hands over each record element (``record_tag: nibrs:Report``
or ``record_path: a/b/c``, prefixes from the profile's ``namespaces:``; by default the
children of the root), which becomes a nested dict: child elements by prefixed name
(a repeated child becomes a list), attributes as ``@prefix:name``, text beside
attributes or children as ``#text``. The element is then cleared so memory stays flat.

NIEM references: with ``references: {id: s:id, ref: s:ref}`` an element that only
points at another (``<j:Subject s:ref="Arrestee1"/>``) also carries the content of the
element it points at, one hop deep, so a profile can follow a person's role to the person.

Leading junk: everything before ``<?xml`` is skipped (with a warning), as in the NIBRS
GroupAReplace sample whose licence comment precedes the declaration.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from fusionhub.ingest.connectors.base import ConnectorInfo, SourceRow, check_readable, looks_binary, register
from fusionhub.ingest.connectors.text import decoded_blocks
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.paths import Resolved

HEAD = 1 << 20
_DECLARED = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_PROLOG_SKIP = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)


class _Utf8Stream(io.RawIOBase):
    """Text blocks re-encoded as UTF-8 for the parser (after the per-line cp1252 repair)."""

    def __init__(self, blocks: Iterator[str]) -> None:
        self.blocks = blocks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            block = next(self.blocks, None)
            if block is None:
                return 0
            self.pending = block.encode("utf-8")
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _start(head: bytes) -> int:
    """Offset where the XML starts: at ``<?xml`` when junk precedes it."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return 0
    found = head.find(b"<?xml")
    return found if found > 0 else 0


def _check_prolog(text: str, name: str, allow_doctype: bool, whole: bool) -> None:
    pos = 0
    while True:
        skipped = _PROLOG_SKIP.match(text, pos)
        if not skipped or skipped.end() == pos:
            break
        pos = skipped.end()
    unfinished = pos >= len(text.rstrip()) or text.startswith(("<!--", "<?"), pos)
    if unfinished and not whole:
        # A prolog longer than what we looked at could hide a DOCTYPE further on.
        raise UnreadableFile(f"{name}: no root element in the first {HEAD // 1024} KB (comments only)")
    if text.startswith("<!DOCTYPE", pos) and not allow_doctype:
        raise UnreadableFile(
            f"{name}: the file declares a document type (<!DOCTYPE>); refused, because DTDs can expand "
            "entities or fetch external files, and the exchange does not need one"
        )
    if pos < len(text) and text[pos] != "<":
        raise UnreadableFile(f"{name}: not XML (starts with {text[pos : pos + 20]!r})")


class _Names:
    """Clark names ({uri}local) <-> the profile's prefixed names."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.uri_prefix = {uri: prefix for prefix, uri in namespaces.items()}
        self.namespaces = namespaces
        self.cache: dict[str, str] = {}

    def clark(self, name: str) -> str:
        prefix, sep, local = name.partition(":")
        if not sep:
            return name
        if prefix not in self.namespaces:
            raise UnreadableFile(f"prefix {prefix!r} in {name!r} is not declared in the profile's namespaces")
        return f"{{{self.namespaces[prefix]}}}{local}"

    def short(self, clark: str, nsmap: dict[str | None, str]) -> str:
        known = self.cache.get(clark)
        if known is not None:
            return known
        if not clark.startswith("{"):
            return clark
        uri, _, local = clark[1:].partition("}")
        prefix = self.uri_prefix.get(uri)
        if prefix is None:
            prefix = next((p for p, u in nsmap.items() if u == uri and p), None)
        short = f"{prefix}:{local}" if prefix else clark
        if uri in self.uri_prefix:
            self.cache[clark] = short
        return short


class _EntityReference(Exception):
    pass


def _value(elem: Any, names: _Names) -> Any:
    nsmap = elem.nsmap
    out: dict[str, Any] = {f"@{names.short(k, nsmap)}": v for k, v in elem.attrib.items()}
    texts = [elem.text.strip()] if elem.text and elem.text.strip() else []
    children = False
    for child in elem:
        if isinstance(child, etree._Entity):
            raise _EntityReference(child.text)
        tail = (child.tail or "").strip()
        if tail:
            texts.append(tail)
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions are not data
        children = True
        key = names.short(child.tag, nsmap)
        value = _value(child, names)
        if key in out:
            previous = out[key]
            if isinstance(previous, list) and getattr(previous, "repeated", False):
                previous.append(value)
            else:
                out[key] = _Repeated([previous, value])
        else:
            out[key] = value
    text = " ".join(texts)
    if not out and not children:
        return text
    if text:
        out["#text"] = text
    return {k: list(v) if isinstance(v, _Repeated) else v for k, v in out.items()}


class _Repeated(list[Any]):
    repeated = True


def _resolve(record: Any, id_attr: str, ref_attr: str) -> None:
    """Give each referring element the content of the element it refers to (one hop)."""
    targets: dict[str, dict[str, Any]] = {}

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get(id_attr), str):
                targets[value[id_attr]] = value
            for child in value.values():
                collect(child)
        elif isinstance(value, list):
            for child in value:
                collect(child)

    collect(record)
    if not targets:
        return
    snapshot = {key: copy.deepcopy(value) for key, value in targets.items()}

    def replace(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get(ref_attr)
            if isinstance(ref, str) and ref in snapshot:
                merged = Resolved({**snapshot[ref], **value})
                merged.own_keys = set(value)
                return merged
            for key, child in list(value.items()):
                value[key] = replace(child)
        elif isinstance(value, list):
            return [replace(child) for child in value]
        return value

    replace(record)


@register("xml")
def read_xml(path: Path, options: dict[str, Any], info: ConnectorInfo) -> Iterator[SourceRow]:
    check_readable(path)
    with path.open("rb") as probe:
        head = probe.read(HEAD)
    if not head.strip():
        raise UnreadableFile(f"{path.name}: the file is empty")
    offset = _start(head)
    body = head[offset:]
    if looks_binary(body):
        raise UnreadableFile(f"{path.name}: binary content, not XML")
    if offset:
        info.warnings.append(f"{offset} byte(s) before the XML declaration were skipped")
        info.details["skipped_prefix_lines"] = head[:offset].count(b"\n")
    declared = _DECLARED.match(body)
    encoding = declared.group(1).decode().lower() if declared else "utf-8"
    utf16 = body.startswith((b"\xff\xfe", b"\xfe\xff"))
    prolog = body.decode("utf-16" if utf16 else "utf-8", errors="replace")
    whole = len(head) < HEAD
    _check_prolog(prolog.lstrip("\ufeff"), path.name, bool(options.get("allow_doctype")), whole)
    names = _Names({str(k): str(v) for k, v in (options.get("namespaces") or {}).items()})
    record_tag = options.get("record_tag")
    record_path = options.get("record_path")
    try:
        match_tag = names.clark(str(record_tag)) if record_tag else None
        match_path = [names.clark(p) for p in str(record_path).strip("/").split("/")] if record_path else None
    except UnreadableFile as exc:
        raise UnreadableFile(f"{path.name}: {exc}") from None
    # UTF-8 (declared or by default) goes through the line repair; other encodings to lxml.
    repair = not utf16 and encoding.replace("_", "-") in ("utf-8", "utf8")
    info.details["encoding"] = "utf-8 (cp1252 fallback per line)" if repair else ("utf-16" if utf16 else encoding)
    references = options.get("references") or {}
    refs = (f"@{references['id']}", f"@{references['ref']}") if references.get("id") and references.get("ref") else None
    line_shift = head[:offset].count(b"\n")
    return _records(path, offset, repair, names, match_tag, match_path, refs, line_shift, info)


def _records(
    path: Path,
    offset: int,
    repair: bool,
    names: _Names,
    match_tag: str | None,
    match_path: list[str] | None,
    refs: tuple[str, str] | None,
    line_shift: int,
    info: ConnectorInfo,
) -> Iterator[SourceRow]:
    with path.open("rb") as handle:
        handle.seek(offset)
        source: BinaryIO = _Utf8Stream(decoded_blocks(handle, "auto", info)) if repair else handle  # type: ignore[assignment]
        parser = etree.iterparse(
            source,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=False,
        )
        stack: list[str] = []
        number = 0
        try:
            for event, elem in parser:
                if event == "start":
                    stack.append(elem.tag if isinstance(elem.tag, str) else "")
                    continue
                if match_path is not None:
                    hit = stack == match_path
                elif match_tag is not None:
                    hit = elem.tag == match_tag
                else:
                    hit = len(stack) == 2
                stack.pop()
                if not hit:
                    continue
                number += 1
                line = (elem.sourceline or 0) + line_shift or None
                if not repair:
                    info.position = handle.tell()
                try:
                    value = _value(elem, names)
                except _EntityReference as exc:
                    reason = f"the record holds the entity reference {exc.args[0]}, which is never expanded"
                    yield SourceRow(number, {}, line, reason, etree.tostring(elem, encoding="unicode")[:2000])
                else:
                    row = value if isinstance(value, dict) else {"#text": value}
                    if refs:
                        _resolve(row, *refs)
                    yield SourceRow(number, row, line)
                # Free the record and what came before it: memory stays flat.
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            message = str(exc)
            if "Text node too long" in message or "huge" in message.lower():
                message = f"an element's text is longer than the parser's 10 MB limit ({message})"
            if number == 0:
                raise UnreadableFile(f"{path.name}: not well-formed XML: {message}") from None
            reason = f"XML error after record {number}: {message}; the rest of the file was not read"
            yield SourceRow(number + 1, {}, (exc.lineno or 0) + line_shift or None, reason, None)
            return
    if number == 0:
        info.warnings.append("no record element found in the file")
