"""STIX 2.1 bundles: every SDO, SCO and relationship becomes a row; markings become TLP.

The bundle's ``objects`` array is streamed twice (see ``json_file``): the first pass
collects the marking definitions, which may come after the objects that use them; the
second checks each object with the ``stix2`` library (``allow_custom=True``) and hands
it over flattened (``kill_chain_phases`` stays a list of objects). An object the library
refuses is quarantined with its position in the bundle and the library's reason.

Derived values a profile can map, beside the object's own properties:

- ``_tlp``: the most restrictive TLP level among the object's ``object_marking_refs``
  and ``granular_markings`` (a record has one TLP, so a marking on any part of the
  object applies to the record). TLP 1.0 markings are predefined in STIX and may be
  referenced without being carried; TLP 2.0 markings travel in the bundle and are
  recognised by their extension (ids and values in ../shared/domain/markings.md);
- ``_statements``: the text of statement markings (copyright, terms of use);
- ``_party``: ``person`` or ``organization`` for identities, threat actors and
  intrusion sets (``identity_class: individual``, ``resource_level: individual``);
- ``_external_id``: the first external id (CAPEC-..., CVE-...) of the object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fusionhub.ingest.connectors.base import RAW_KEEP, ConnectorInfo, SourceRow, register
from fusionhub.ingest.connectors.json_file import JsonItem, iter_json_items, probe_json
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.paths import flatten
from fusionhub.model.vocabulary import load_vocabulary

# Predefined in STIX 2.1 (TLP 1.0); WHITE is TLP 2.0's CLEAR.
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
}
# TLP 2.0 (OASIS extension): not predefined, must travel with the bundle; id and value are pinned together.
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "CLEAR",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "GREEN",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "AMBER",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "AMBER+STRICT",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "RED",
}
# Objects that describe other objects rather than being intelligence themselves.
META_TYPES = {"marking-definition", "extension-definition", "language-content"}
PARTY_TYPES = {"identity", "threat-actor", "intrusion-set"}


class Markings:
    """What the bundle's marking definitions say: TLP levels and statements by id."""

    def __init__(self) -> None:
        self.tlp: dict[str, str] = dict(TLP1_IDS)
        self.statements: dict[str, str] = {}
        self.problems: list[str] = []

    def add(self, obj: dict[str, Any]) -> None:
        marking_id = str(obj.get("id", ""))
        level: str | None = None
        definition = obj.get("definition") if isinstance(obj.get("definition"), dict) else {}
        if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
            level = str(definition.get("tlp", "")).upper().replace("WHITE", "CLEAR") or None
        elif obj.get("definition_type") == "statement" and isinstance(definition, dict):
            self.statements[marking_id] = str(definition.get("statement", ""))
        extension = (obj.get("extensions") or {}).get(TLP2_EXTENSION)
        if isinstance(extension, dict) and extension.get("tlp_2_0"):
            level = str(extension["tlp_2_0"]).upper()
            pinned = TLP2_IDS.get(marking_id)
            if pinned is None or pinned != level:
                # The OASIS schema pins id and value together: a mismatch is not a TLP 2.0 marking.
                self.problems.append(f"{marking_id}: TLP 2.0 marking with a wrong id or value ({level}); ignored")
                return
        if level is None:
            return
        try:
            self.tlp[marking_id] = load_vocabulary().tlp_level(level)
        except ValueError:
            self.problems.append(f"{marking_id}: unknown TLP level {level!r}; ignored")

    def level_of(self, obj: dict[str, Any]) -> str | None:
        refs = [str(r) for r in obj.get("object_marking_refs") or []]
        refs += [str(g.get("marking_ref")) for g in obj.get("granular_markings") or [] if isinstance(g, dict)]
        levels = [self.tlp[r] for r in refs if r in self.tlp]
        if not levels:
            return None
        vocab = load_vocabulary()
        return max(levels, key=vocab.tlp_rank)

    def statements_of(self, obj: dict[str, Any]) -> list[str]:
        refs = [str(r) for r in obj.get("object_marking_refs") or []]
        return [self.statements[r] for r in refs if r in self.statements]


def _party(obj: dict[str, Any]) -> str | None:
    kind = obj.get("type")
    if kind not in PARTY_TYPES:
        return None
    if kind == "identity":
        return "person" if obj.get("identity_class") == "individual" else "organization"
    return "person" if obj.get("resource_level") == "individual" else "organization"


def _external_id(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("external_references") or []:
        if isinstance(ref, dict) and ref.get("external_id"):
            return str(ref["external_id"])
    return None


@register("stix")
def read_stix(path: Path, options: dict[str, Any], info: ConnectorInfo) -> Iterator[SourceRow]:
    encoding, _head = probe_json(path, options)
    options = {**options, "records": "objects"}
    markings = Markings()
    scratch = ConnectorInfo()
    count = 0
    for item in iter_json_items(path, options, scratch, encoding):  # raises UnreadableFile on a broken frame
        count += 1
        if item.error is None and isinstance(item.value, dict) and item.value.get("type") == "marking-definition":
            markings.add(item.value)
    if not count:
        info.warnings.append("the bundle has no objects")
    info.details["encoding"] = "utf-8 (cp1252 fallback per line)" if encoding == "auto" else encoding
    info.warnings.extend(markings.problems)
    return _rows(path, options, info, encoding, markings)


def _rows(
    path: Path, options: dict[str, Any], info: ConnectorInfo, encoding: str, markings: Markings
) -> Iterator[SourceRow]:
    counts: dict[str, int] = {}
    envelope = ConnectorInfo()
    try:
        for item in iter_json_items(path, options, envelope, encoding):
            row = _row(item, markings, counts)
            if row is not None:
                yield row
            info.position = envelope.position
    except UnreadableFile as exc:  # already read once: a change under our feet
        yield SourceRow(1, {}, None, f"the bundle could not be read again: {exc}")
    # A bundle's own keys (type, id, spec_version) are its frame, not data.
    info.warnings.extend(w for w in envelope.warnings if not w.startswith("keys outside the records array"))
    info.details["objects"] = counts


def _row(item: JsonItem, markings: Markings, counts: dict[str, int]) -> SourceRow | None:
    where = f"object {item.number - 1} of the bundle"
    if item.error:
        return SourceRow(item.number, {}, item.line, f"{where}: {item.error}", item.raw)
    obj = item.value
    if not isinstance(obj, dict):
        raw = json.dumps(obj)[:RAW_KEEP]
        return SourceRow(item.number, {}, item.line, f"{where}: a JSON {type(obj).__name__}, not an object", raw)
    kind = str(obj.get("type", ""))
    counts[kind or "?"] = counts.get(kind or "?", 0) + 1
    if kind in META_TYPES:
        return None  # read in the first pass; it marks other objects
    # Imported here, not with the module: the library costs ~30 MB of memory in every
    # importing process and mapping worker, most of which never read a STIX bundle.
    import stix2
    import stix2.exceptions

    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except (stix2.exceptions.STIXError, ValueError, TypeError, KeyError) as exc:
        reason = f"{where} ({kind or 'no type'} {obj.get('id', 'without id')}): not valid STIX 2.1: {exc}"
        return SourceRow(item.number, {}, item.line, reason[:2000], json.dumps(obj, ensure_ascii=False)[:RAW_KEEP])
    values = flatten(obj)
    level = markings.level_of(obj)
    if level:
        values["_tlp"] = level
    statements = markings.statements_of(obj)
    if statements:
        values["_statements"] = statements
    party = _party(obj)
    if party:
        values["_party"] = party
    external = _external_id(obj)
    if external:
        values["_external_id"] = external
    return SourceRow(item.number, values, item.line)
