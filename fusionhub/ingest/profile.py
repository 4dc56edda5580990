"""Mapping profiles: YAML files that turn one source's export into records of the model.

A profile names the file format and its options, how to build the record's id, and for
each entity of the record its schema and where each property comes from::

    name: berkeley_bpd
    format: csv
    record:
      id: "{CASENO}"
      occurred: incident.occurredAt
    entities:
      incident:
        schema: Incident
        properties:
          caseNumber: CASENO
          occurredAt: {template: "{EVENTDT} {EVENTTM}", format: "%m/%d/%Y %I:%M:%S %p %H:%M"}

A property source is a column name, or a mapping with one of ``column``, ``columns``
(joined with ``join``), ``template`` or ``literal``, and these options: ``format``
(date formats), ``code_table`` (a table of the profile), ``default``, ``required``
(a missing or invalid value rejects the row), ``crs`` (projected coordinates),
``parse`` (``name`` or ``last_first``: split a full name into its parts), ``region``
(phone), ``scheme`` (identifier), ``placeholders`` (dates that mean "unknown"),
``strip`` (characters to strip), ``many`` (split one cell into several values on this
separator), ``fallback`` (another property source, used when this one's cells are all
empty: e.g. projected X/Y first, the export's own lat/lon when X/Y are blank). An entity
may have ``when: COLUMN`` (made only when that column has a value) and
``required: true`` (no entity, no record).

Record ids. ``record.id`` renders the source's own record id. Sources without one (or
whose id repeats for rows that are distinct, e.g. one row per victim) set
``record.repeats: number``: within one file, the second row giving the same id gets
``ID#2``, the third ``ID#3`` and so on, so distinct rows stay distinct and re-ingesting
the same file gives the same ids (unchanged). Cancel rows (``record.cancel_when``) are
numbered apart from the rows they reverse, so the n-th cancel row of an id cancels its
n-th row. ``record.cancel_final: true`` says a cancellation is permanent, as in
ledger-style exports (a reversal row, never a re-opening): a row that comes again for a
cancelled record, in the same file (exports sort a reversal before or after the row it
reverses) or when a file is sent again, leaves it cancelled. One Profile maps one file
at a time; ``begin_file()`` resets the numbering.

Structured formats (JSON, XML, STIX) give nested rows; every column above is then a
dotted path (see :mod:`fusionhub.ingest.paths`) and these additions apply:

- ``each: PATH`` (or a list of paths) makes one entity per item of a repeated element,
  keyed ``KEY[0]``, ``KEY[1]``... or ``KEY[<item_key>]`` with ``item_key: "{@s:id}"``;
  paths inside the entity start at the item, ``$.`` paths at the whole row;
- a reference to an ``each`` entity from an entity over the same items links the same
  item; from a single entity it links every item; ``{entity: E, key: TEMPLATE}`` links
  the item of ``E`` whose key the template gives; ``{record: TEMPLATE, entity: KEY}``
  links an entity of another record of the same source (STIX relationships);
- ``key: NAME`` gives the entity a key other than its name in the mapping, so that
  alternative mappings (``when`` conditions on a type column) share one key;
- ``when`` may be a condition like ``cancel_when`` (``{column, equals|in|empty}``);
- a list value gives one property value per item, or one joined value with ``join``;
- a template field ``{a|b}`` takes the first of ``a``, ``b`` that has a value;
- a record metadata rule (``tlp``...) may be ``{column|template, code_table, optional}``;
  ``optional: true`` leaves the source default when the value is empty;
- a top-level ``namespaces:`` mapping (XML prefixes) is passed to the connector;
- unmapped values of nested rows are kept leaf by leaf under their indexed paths.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from fusionhub.ingest.errors import ProfileError, RowRejected
from fusionhub.ingest.outcome import Outcome, apply_outcome, cell_outcome, name_parts
from fusionhub.ingest.paths import ROOT, ItemRow, covered, leaves, lookup, pattern_of
from fusionhub.ingest.paths import items as path_items
from fusionhub.model import Model, Schema, load_model
from fusionhub.model.types import InvalidValue
from fusionhub.model.vocabulary import load_vocabulary

PROFILE_DIR = Path(__file__).parent / "profiles"
#: Entries a property's memos hold before they start afresh: bounds each mapping
#: process's memory (~30 MB for a profile of two dozen properties); a larger memo
#: was measured no faster on the demo exports.
CACHE_MAX = 4096
_FIELD = re.compile(r"\{([^{}]+)\}")
Row = dict[str, Any]


@dataclass
class EntityDraft:
    id: str
    schema: str
    key: str
    properties: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, prop: str, value: str, original: Any) -> None:
        values = self.properties.setdefault(prop, [])
        entry: Any = value if original is None or str(original) == value else [value, str(original)]
        if entry not in values:
            values.append(entry)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "schema": self.schema, "key": self.key, "properties": self.properties}


@dataclass
class RecordDraft:
    """One source record as mapped, before it is stored."""

    source_record_id: str
    entities: list[EntityDraft]
    meta: dict[str, Any] = field(default_factory=dict)  # record_class, tlp, handling, grading
    occurred_at: str | None = None
    cancelled: bool = False
    cancel_final: bool = False  # an active row does not bring a cancelled record back
    dropped: list[dict[str, str]] = field(default_factory=list)
    unmapped: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"entities": [e.to_json() for e in self.entities]}
        if self.dropped:
            body["dropped"] = self.dropped
        if self.unmapped:
            body["unmapped"] = self.unmapped
        return body


def entity_id(source: str, record_id: str, key: str) -> str:
    digest = hashlib.sha1(f"{source}\x1f{record_id}\x1f{key}".encode()).hexdigest()
    return "e" + digest[:23]


def render(template: str, row: Row) -> str:
    return _FIELD.sub(lambda m: field_text(row, m.group(1).strip()), template)


def field_text(row: Row, name: str) -> str:
    """The text of one template field: a column, a path, or ``a|b`` alternatives."""
    value = lookup(row, name)
    if value in (None, "") and "|" in name and name not in row:
        for alternative in name.split("|"):
            value = lookup(row, alternative.strip())
            if value not in (None, ""):
                break
    if isinstance(value, list):
        return ", ".join(t for t in (_scalar_text(v) for v in value) if t)
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("#text")
    return "" if value is None else str(value).strip()


def compile_template(template: str) -> Callable[[Row], str]:
    """``render`` for one template, split once instead of scanned for every row."""
    parts: list[tuple[bool, str]] = []  # (is a column, text)
    last = 0
    for match in _FIELD.finditer(template):
        parts.append((False, template[last : match.start()]))
        parts.append((True, match.group(1).strip()))
        last = match.end()
    parts.append((False, template[last:]))
    parts = [p for p in parts if p[0] or p[1]]
    if any(is_column and any(c in text for c in ".[|$@") for is_column, text in parts):
        # Paths into nested rows and ``a|b`` alternatives: the general renderer.
        return lambda row: render(template, row)
    if len(parts) == 1 and parts[0][0]:
        column = parts[0][1]
        return lambda row: _cell_text(row, column)

    def rendered(row: Row) -> str:
        return "".join(_cell_text(row, text) if is_column else text for is_column, text in parts)

    return rendered


def _cell_text(row: Row, column: str) -> str:
    """``field_text`` of a plain column name, without walking a path for a text cell."""
    value = row.get(column)
    if value.__class__ is str:
        return value.strip()  # type: ignore[no-any-return]
    return "" if value is None else field_text(row, column)


ValueGetter = Callable[[Row], Any]


@dataclass
class PropertyRule:
    prop: str
    getter: ValueGetter
    hints: dict[str, Any]
    required: bool
    code_table: dict[str, str] | None
    parse: str | None
    many: str | None
    default: Any
    description: str
    fallback: PropertyRule | None = None
    join: str | None = None  # joins a list value into one value
    reads: str = "columns"  # columns, template or literal: what ``description`` names
    column: str | None = None  # the plain column the value is (no path, extract or join)
    #: Memo of ``clean`` per raw value within one import: sources repeat values (codes,
    #: names, dates, addresses) and cleaning them is the costly part of mapping a row.
    #: Holds (value, None) or (None, reason the value is invalid). Bounded: see CACHE_MAX.
    cache: dict[Any, tuple[str | None, str | None]] = field(default_factory=dict)
    #: Memo of the whole outcome per cell (``fusionhub.ingest.outcome``): what a cell adds
    #: to the entity, drops or rejects. Same bound.
    outcomes: dict[Any, Outcome] = field(default_factory=dict)
    #: The property type, its clean hints and the name parts to split into (outcome._target).
    target: Any = None

    @cached_property
    def clean_hints(self) -> dict[str, Any]:
        return {k: v for k, v in self.hints.items() if k != "strip"}


@dataclass
class EntityRule:
    key: str
    schema: Schema
    rules: list[PropertyRule]
    refs: dict[str, str]  # property -> entity key it points at
    when: Any  # a column that must have a value, or a condition mapping
    required: bool
    each: list[str] | None = None  # one entity per item at these paths
    item_key: str | None = None  # template of the item's key (default: its position)
    name: str = ""  # the entity's name in the mapping (``key`` may differ)
    keyed_refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # prop -> (entity, key template)
    record_refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # prop -> (record id template, key)
    when_plain: bool = False  # ``when`` is a plain column name (see is_plain_column)


class Profile:
    def __init__(self, spec: dict[str, Any], origin: str = "<profile>", model: Model | None = None) -> None:
        self.model = model or load_model()
        self.origin = origin
        if not isinstance(spec, dict):
            raise ProfileError(f"{origin}: a profile is a mapping")
        self.spec = spec
        self.name = str(spec.get("name") or Path(origin).stem)
        self.format = str(spec.get("format", "csv"))
        self.options: dict[str, Any] = dict(spec.get("options") or {})
        if spec.get("namespaces"):
            self.options.setdefault("namespaces", dict(spec["namespaces"]))
        self.code_tables: dict[str, dict[str, str]] = {
            name: {str(k).strip(): str(v) for k, v in (table or {}).items()}
            for name, table in (spec.get("code_tables") or {}).items()
        }
        record = spec.get("record") or {}
        if "id" not in record:
            raise ProfileError(f"{origin}: record.id (a template of the source record id) is required")
        self.id_template = str(record["id"])
        self._render_id = compile_template(self.id_template)
        self.occurred = record.get("occurred")
        self.cancel_when = record.get("cancel_when")
        self.skip_when = record.get("skip_when")
        self.cancel_final = bool(record.get("cancel_final", False))
        self.repeats = str(record.get("repeats", "update"))
        if self.repeats not in ("update", "number"):
            raise ProfileError(f"{origin}: record.repeats is update or number, not {self.repeats!r}")
        self.meta_rules = {
            key: record[key] for key in ("record_class", "tlp", "handling", "reliability", "validity") if key in record
        }
        self._meta_templates = {
            key: compile_template(spec) for key, spec in self.meta_rules.items() if isinstance(spec, str)
        }
        self._meta_cache: dict[tuple[str, Any], tuple[Any, str | None]] = {}
        self.keep_unmapped = bool(record.get("keep_unmapped", True))
        entities = spec.get("entities") or {}
        if not entities:
            raise ProfileError(f"{origin}: no entities mapped")
        self.entities = [self._entity_rule(key, e) for key, e in entities.items()]
        keys = {e.key for e in self.entities}
        by_key = {e.key: e for e in self.entities}
        for rule in self.entities:
            for prop, target in rule.refs.items():
                if target not in keys:
                    raise ProfileError(f"{origin}: {rule.key}.{prop} points at unknown entity {target!r}")
                other = by_key[target]
                if other.each and rule.each and other.each != rule.each:
                    raise ProfileError(
                        f"{origin}: {rule.key}.{prop}: {target} is made per item of other elements; "
                        f"use {{entity: {target}, key: TEMPLATE}}"
                    )
            for prop, (target, _template) in rule.keyed_refs.items():
                if target not in keys:
                    raise ProfileError(f"{origin}: {rule.key}.{prop} points at unknown entity {target!r}")
        self.columns = self._columns()
        self.paths = self._paths()
        self.begin_file()

    @property
    def stateful(self) -> bool:
        """Whether mapping a row depends on the rows before it in the file."""
        return self.repeats == "number"

    def begin_file(self) -> None:
        """Start mapping a new file: forget the ids seen in the last one."""
        self._seen: Counter[tuple[str, bool]] = Counter()

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        candidate = Path(path)
        if not candidate.exists() and not candidate.suffix:
            candidate = PROFILE_DIR / f"{path}.yaml"
        if not candidate.exists():
            raise ProfileError(f"no profile at {path} (shipped: {', '.join(shipped_profiles())})")
        try:
            spec = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ProfileError(f"{candidate}: not valid YAML: {exc}") from exc
        return cls(spec, str(candidate))

    # -- compiling -----------------------------------------------------------------
    def _entity_rule(self, key: str, spec: dict[str, Any]) -> EntityRule:
        try:
            schema = self.model.get(str(spec.get("schema")))
        except InvalidValue as exc:
            raise ProfileError(f"{self.origin}: entity {key}: {exc}") from exc
        if schema.abstract:
            raise ProfileError(f"{self.origin}: entity {key}: {schema.name} is abstract")
        rules: list[PropertyRule] = []
        refs: dict[str, str] = {}
        keyed_refs: dict[str, tuple[str, str]] = {}
        record_refs: dict[str, tuple[str, str]] = {}
        for prop, source in (spec.get("properties") or {}).items():
            if prop not in schema.properties:
                raise ProfileError(f"{self.origin}: {schema.name} has no property {prop!r} (entity {key})")
            if schema.properties[prop].type.name == "entity":
                if isinstance(source, dict) and "record" in source:
                    record_refs[prop] = (str(source["record"]), str(source.get("entity", key)))
                elif isinstance(source, dict) and "key" in source:
                    keyed_refs[prop] = (str(source.get("entity")), str(source["key"]))
                else:
                    refs[prop] = str(source if isinstance(source, str) else source.get("entity"))
                continue
            rules.append(self._property_rule(key, prop, source))
        each = spec.get("each")
        return EntityRule(
            str(spec.get("key", key)),
            schema,
            rules,
            refs,
            spec.get("when"),
            bool(spec.get("required", False)),
            each=None if each is None else [str(p) for p in ([each] if isinstance(each, str) else each)],
            item_key=None if spec.get("item_key") is None else str(spec["item_key"]),
            name=key,
            keyed_refs=keyed_refs,
            record_refs=record_refs,
            when_plain=isinstance(spec.get("when"), str) and is_plain_column(str(spec.get("when"))),
        )

    def _property_rule(self, key: str, prop: str, source: Any) -> PropertyRule:
        spec: dict[str, Any] = {"column": source} if isinstance(source, str) else dict(source or {})
        getter: ValueGetter
        if "column" in spec:
            getter = _column_getter(str(spec["column"]))
            description = str(spec["column"])
        elif "columns" in spec:
            columns = [str(c) for c in spec["columns"]]
            joiner = spec.get("join")
            getter = _columns_getter(columns, None if joiner is None else str(joiner))
            description = "+".join(columns)
        elif "template" in spec:
            getter = compile_template(str(spec["template"]))
            description = str(spec["template"])
        elif "literal" in spec:
            getter = _literal_getter(spec["literal"])
            description = repr(spec["literal"])
        else:
            raise ProfileError(f"{self.origin}: {key}.{prop} needs column, columns, template or literal")
        fallback = None
        if "fallback" in spec:
            fallback_spec = spec["fallback"]
            fallback_spec = {"column": fallback_spec} if isinstance(fallback_spec, str) else dict(fallback_spec)
            fallback_spec.setdefault("required", spec.get("required", False))
            fallback = self._property_rule(key, prop, fallback_spec)
            description = f"{description}+{fallback.description}"
        if "extract" in spec:
            # A regular expression whose groups pick the value out of a larger cell.
            try:
                pattern = re.compile(str(spec["extract"]), re.S)
            except re.error as exc:
                raise ProfileError(f"{self.origin}: {key}.{prop}: bad extract pattern: {exc}") from exc
            inner = getter

            def extracting(row: Row, get: ValueGetter = inner, pat: re.Pattern[str] = pattern) -> Any:
                found = pat.search(str(get(row) or ""))
                if not found:
                    return None
                return ", ".join(g for g in found.groups() if g) if found.groups() else found.group(0)

            getter = extracting
        table = None
        if "code_table" in spec:
            table = self.code_tables.get(str(spec["code_table"]))
            if table is None:
                raise ProfileError(f"{self.origin}: {key}.{prop} uses unknown code table {spec['code_table']!r}")
        hints: dict[str, Any] = {
            k: spec[k]
            for k in ("format", "formats", "crs", "region", "scheme", "placeholders", "timezone", "values", "keep_case")
            if k in spec
        }
        if "strip" in spec:
            hints["strip"] = str(spec["strip"])
        plain = "column" in spec and "extract" not in spec and is_plain_column(str(spec["column"]))
        return PropertyRule(
            column=str(spec["column"]) if plain else None,
            prop=prop,
            getter=getter,
            hints=hints,
            required=bool(spec.get("required", False)),
            code_table=table,
            parse=spec.get("parse"),
            many=spec.get("many"),
            default=spec.get("default"),
            description=description,
            fallback=fallback,
            join=None if "columns" in spec or spec.get("join") is None else str(spec["join"]),
            reads="template" if "template" in spec else "literal" if "literal" in spec else "columns",
        )

    def _columns(self) -> set[str]:
        text = yaml.safe_dump(self.spec)
        names = set(_FIELD.findall(text))
        for rule in self.entities:
            for prop in rule.rules:
                names.update(prop.description.split("+"))
            if rule.when and isinstance(rule.when, str):
                names.add(rule.when)
        return names

    def _paths(self) -> set[str]:
        """Index-free paths the profile reads, for telling unmapped values in nested rows."""
        used = set(self.columns)
        for condition in (self.cancel_when, self.skip_when):
            if isinstance(condition, dict) and condition.get("column"):
                used.add(str(condition["column"]))
        for rule in self.entities:
            local: set[str] = set()
            for prop in rule.rules:
                if prop.reads == "columns":
                    local.update(prop.description.split("+"))
                elif prop.reads == "template":
                    local.update(_FIELD.findall(prop.description))
            for text in [rule.item_key or "", *(t for _, t in rule.keyed_refs.values())]:
                local.update(_FIELD.findall(text))
            for template, _ in rule.record_refs.values():
                local.update(_FIELD.findall(template))
            if isinstance(rule.when, dict) and rule.when.get("column"):
                local.add(str(rule.when["column"]))
            elif isinstance(rule.when, str):
                local.add(rule.when)
            names = {part.strip() for name in local for part in name.split("|")}
            for name in names:
                if name.startswith(ROOT) or not rule.each:
                    used.add(name)
                else:
                    used.update(f"{base}.{name}" for base in rule.each)
                    if name == "value":  # items that are plain values are read as ``value``
                        used.update(rule.each)
        for spec in self.meta_rules.values():
            if isinstance(spec, dict):
                used.update(str(spec[k]) for k in ("column",) if k in spec)
                used.update(_FIELD.findall(str(spec.get("template", ""))))
        return {pattern_of(part.strip()) for p in used for part in p.split("|")}

    # -- mapping -------------------------------------------------------------------
    def _matches(self, condition: Any, row: Row) -> bool:
        if not condition:
            return False
        column = str(condition.get("column"))
        found = lookup(row, column)
        values = [_scalar_text(v) for v in found] if isinstance(found, list) else [_scalar_text(found)]
        values = [v for v in values if v] or [""]
        if "equals" in condition:
            return str(condition["equals"]) in values
        if "in" in condition:
            return bool({str(v) for v in condition["in"]} & set(values))
        if "empty" in condition:
            return (values == [""]) == bool(condition["empty"])
        return False

    def _applies(self, rule: EntityRule, row: Row) -> bool:
        if not rule.when:
            return True
        if rule.when_plain:
            found = row.get(rule.when)
            if found.__class__ is str:
                return bool(found.strip())  # what field_text gives for a text cell
        if isinstance(rule.when, dict):
            return self._matches(rule.when, row)
        found = lookup(row, str(rule.when))
        if isinstance(found, dict | list):
            return bool(found)  # an element that is there, with content
        return bool(field_text(row, str(rule.when)))

    def map_row(self, row: Row, source_name: str) -> RecordDraft | None:
        """Map one row; ``None`` for a row the profile says to skip. Raises RowRejected."""
        if self.skip_when and self._matches(self.skip_when, row):
            return None
        record_id = self._render_id(row).strip()
        if not record_id or not record_id.strip(":-_ "):
            raise RowRejected(f"no source record id (template {self.id_template!r} gave nothing)")
        cancelled = bool(self.cancel_when and self._matches(self.cancel_when, row))
        if self.repeats == "number":
            self._seen[(record_id, cancelled)] += 1
            occurrence = self._seen[(record_id, cancelled)]
            if occurrence > 1:
                record_id = f"{record_id}#{occurrence}"
        if len(record_id) > 255:
            raise RowRejected("source record id longer than 255 characters")
        draft = RecordDraft(source_record_id=record_id, entities=[], cancel_final=self.cancel_final)
        built: dict[str, EntityDraft] = {}
        made: list[tuple[EntityRule, EntityDraft, Row, str | None]] = []
        for rule in self.entities:
            scopes: list[tuple[str | None, Row]] = self._item_rows(rule, row) if rule.each else [(None, row)]
            attempted = produced = 0
            for tag, scope in scopes:
                if not self._applies(rule, scope):
                    continue
                attempted += 1
                key = rule.key if tag is None else f"{rule.key}[{tag}]"
                if key in built:
                    continue  # an alternative mapping of this key (``key:``) already made it
                entity = EntityDraft(entity_id(source_name, record_id, key), rule.schema.name, key)
                for prop_rule in rule.rules:
                    # The common case inline: a cell seen before, replayed (see _apply).
                    column = prop_rule.column
                    raw = scope.get(column) if column is not None else prop_rule.getter(scope)
                    kind = raw.__class__
                    if kind is str or kind is tuple:
                        try:
                            outcome = prop_rule.outcomes.get(raw)
                        except TypeError:  # a tuple holding something unhashable
                            outcome = None
                        if outcome is not None:
                            if outcome:
                                apply_outcome(outcome, prop_rule.prop, entity, draft)
                            continue
                    self._apply(prop_rule, rule, entity, scope, draft, raw)
                if not entity.properties:
                    continue
                built[key] = entity
                made.append((rule, entity, scope, tag))
                produced += 1
            if rule.required and not produced and (attempted or rule.each):
                raise RowRejected(f"entity {rule.key} ({rule.schema.name}) has no values")
        for rule, entity, scope, tag in made:
            for prop, target in rule.refs.items():
                for linked in self._targets(target, rule, tag, built):
                    entity.add(prop, linked.id, None)
            for prop, (target, template) in rule.keyed_refs.items():
                item_key = render(template, scope).strip()
                linked_or_none = built.get(f"{target}[{item_key}]") if item_key else None
                if linked_or_none is not None:
                    entity.add(prop, linked_or_none.id, None)
            for prop, (template, key) in rule.record_refs.items():
                other_record = render(template, scope).strip()
                if other_record:
                    entity.add(prop, entity_id(source_name, other_record, key), None)
            if rule.schema.is_relationship:
                edge = rule.schema.edge or {}
                if not (entity.properties.get(edge["source"]) and entity.properties.get(edge["target"])):
                    del built[entity.key]  # a relationship with a missing end says nothing
        draft.entities = list(built.values())
        if not draft.entities:
            raise RowRejected("the row maps to no entity with a value")
        for key, spec in self.meta_rules.items():
            if isinstance(spec, dict):
                raw = self._meta_value(spec, row)
                if raw in (None, "", []) and spec.get("optional"):
                    continue
            else:
                render_meta = self._meta_templates.get(key)
                raw = render_meta(row) if render_meta else spec
            try:
                value, error = self._meta_cache[(key, raw)]
            except (KeyError, TypeError):
                value, error = None, None
                try:
                    value = _checked_meta(key, raw)
                except InvalidValue as exc:
                    error = str(exc)
                if isinstance(raw, str) and len(self._meta_cache) < CACHE_MAX:
                    self._meta_cache[(key, raw)] = (value, error)
            if error is not None:
                raise RowRejected(f"record {key}: {error}")
            if value is not None:
                draft.meta[key] = value
        if self.occurred:
            key, _, prop = str(self.occurred).partition(".")
            main = built.get(key)
            values = main.properties.get(prop) if main else None
            if values:
                first = values[0]
                draft.occurred_at = first[0] if isinstance(first, list) else first
        draft.cancelled = cancelled
        if self.keep_unmapped:
            extra: dict[str, Any] = {}
            paths = self.paths
            for k, v in row.items():
                if v.__class__ is str:  # the common cell, and every cell of a flat file
                    if v and v != " " and k not in paths:
                        extra[k] = v
                elif isinstance(v, dict | list):
                    # Nested rows: keep each value the profile does not read, under its path.
                    for path, pattern, leaf in leaves(v, k, k):
                        if leaf not in (None, "", " ") and not covered(pattern, self.paths):
                            extra[path] = leaf
                elif k not in self.paths and v not in (None, "", " "):
                    extra[k] = v
            if extra:
                draft.unmapped = extra
        return draft

    def _item_rows(self, rule: EntityRule, row: Row) -> list[tuple[str | None, Row]]:
        root = getattr(row, "root", row)
        out: list[tuple[str | None, Row]] = []
        for base in rule.each or []:
            for item in path_items(row, base):
                scope = ItemRow(item, root)
                tag = render(rule.item_key, scope).strip() if rule.item_key else ""
                out.append((tag or str(len(out)), scope))
        return out

    def _targets(self, target: str, rule: EntityRule, tag: str | None, built: dict[str, EntityDraft]) -> list[Any]:
        if target in built:
            return [built[target]]
        other = next((e for e in self.entities if e.key == target), None)
        if other is None or not other.each:
            return []
        if tag is not None and rule.each == other.each and rule.item_key == other.item_key:
            # Both made per item of the same elements: link the entity of the same item.
            same = built.get(f"{target}[{tag}]")
            return [same] if same else []
        return [e for k, e in built.items() if k.startswith(f"{target}[")]

    def _meta_value(self, spec: dict[str, Any], row: Row) -> Any:
        if "column" in spec:
            raw: Any = lookup(row, str(spec["column"]))
        elif "template" in spec:
            raw = render(str(spec["template"]), row)
        else:
            raw = spec.get("literal")
        if isinstance(raw, list):
            raw = next((_scalar_text(v) for v in raw if _scalar_text(v)), None)
        elif isinstance(raw, dict):
            raw = _scalar_text(raw)
        if raw not in (None, "") and spec.get("code_table"):
            table = self.code_tables.get(str(spec["code_table"]), {})
            raw = table.get(str(raw).strip(), table.get("*", raw))
        return raw

    def _apply(
        self, rule: PropertyRule, erule: EntityRule, entity: EntityDraft, row: Row, draft: RecordDraft, raw: Any = None
    ) -> None:
        if raw is None:
            raw = rule.getter(row)
        if raw is None or raw.__class__ is str or raw.__class__ is tuple:
            # A cell seen before has the same outcome: a pure function of the cell.
            outcomes = rule.outcomes
            outcome: Outcome | None
            try:
                outcome = outcomes[raw]
            except KeyError:
                outcome = cell_outcome(rule, erule, raw)
                if outcome is not None:
                    if len(outcomes) >= CACHE_MAX:
                        outcomes.clear()
                    outcomes[raw] = outcome
            except TypeError:  # a tuple holding something unhashable
                outcome = None
            if outcome is not None:
                apply_outcome(outcome, rule.prop, entity, draft)
                return
        if isinstance(raw, dict | list):
            values = self._leaf_values(raw, rule, erule, draft)
            if rule.join is not None:
                raw = rule.join.join(values)
            else:
                for value in values:
                    self._apply_one(value, rule, erule, entity, draft, row)
                if not values and rule.fallback is not None:
                    self._apply(rule.fallback, erule, entity, row, draft)
                    return
                if not values and rule.required:
                    raise RowRejected(f"{erule.key}.{rule.prop} is required and empty ({rule.description})")
                return
        self._apply_one(raw, rule, erule, entity, draft, row)

    @staticmethod
    def _leaf_values(raw: Any, rule: PropertyRule, erule: EntityRule, draft: RecordDraft) -> list[str]:
        """A list (or an element with attributes) as its text values, structures reported."""
        out: list[str] = []
        for item in raw if isinstance(raw, list) else [raw]:
            if isinstance(item, dict):
                if "#text" not in item:
                    draft.dropped.append(
                        {
                            "entity": erule.key,
                            "property": rule.prop,
                            "value": str(item)[:500],
                            "reason": f"{rule.description} is a structure, not a value",
                        }
                    )
                    continue
                item = item["#text"]
            text = "" if item is None else str(item).strip()
            if text:
                out.append(text)
        return out

    def _apply_one(
        self, raw: Any, rule: PropertyRule, erule: EntityRule, entity: EntityDraft, draft: RecordDraft, row: Row
    ) -> None:
        if isinstance(raw, bool | int | float):
            raw = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if isinstance(raw, str):
            raw = raw.strip(rule.hints["strip"]) if "strip" in rule.hints else raw.strip()
        if raw in (None, "") and rule.default is not None:
            raw = rule.default
        if raw in (None, "") or (isinstance(raw, tuple) and all(v in (None, "") for v in raw)):
            if rule.fallback is not None:
                self._apply(rule.fallback, erule, entity, row, draft)
                return
            if rule.required:
                raise RowRejected(f"{erule.key}.{rule.prop} is required and empty ({rule.description})")
            return
        raws: list[Any] = [p.strip() for p in str(raw).split(rule.many)] if rule.many else [raw]
        prop = erule.schema.properties[rule.prop]
        cache = rule.cache
        for item in raws:
            if item in (None, ""):
                continue
            value_in = item
            if rule.code_table is not None:
                code = str(item).strip()
                value_in = rule.code_table.get(code, rule.code_table.get("*", code))
            try:
                value, error = cache[value_in]
            except KeyError:
                try:
                    value, error = prop.clean(value_in, **rule.clean_hints), None
                except InvalidValue as exc:
                    value, error = None, str(exc)
                if len(cache) >= CACHE_MAX:
                    cache.clear()
                cache[value_in] = (value, error)
            except TypeError:  # an unhashable value: clean it every time
                try:
                    value, error = prop.clean(value_in, **rule.clean_hints), None
                except InvalidValue as exc:
                    value, error = None, str(exc)
            if error is not None:
                if rule.required:
                    raise RowRejected(f"{erule.key}.{rule.prop}: {error}")
                draft.dropped.append(
                    {"entity": erule.key, "property": rule.prop, "value": str(item)[:500], "reason": error}
                )
                continue
            if value is None:
                continue
            original = item if not isinstance(item, tuple) else ", ".join(str(v) for v in item)
            entity.add(rule.prop, value, original)
            if rule.parse and prop.type.name == "name":
                self._split_name(entity, erule.schema, value, rule.parse)

    @staticmethod
    def _split_name(entity: EntityDraft, schema: Schema, value: str, form: str) -> None:
        parts = name_parts(value, form)
        for prop, part in (
            ("firstName", parts.first),
            ("middleName", parts.middle),
            ("lastName", parts.last),
            ("nameSuffix", parts.suffix),
        ):
            if part and prop in schema.properties and prop not in entity.properties:
                entity.add(prop, part, None)


def _column_getter(column: str) -> ValueGetter:
    if is_plain_column(column):
        # A plain column name: what ``lookup`` would find, without walking a path.
        def get_plain(row: Row) -> Any:
            return row.get(column)

        return get_plain

    def get(row: Row) -> Any:
        return lookup(row, column)

    return get


def is_plain_column(name: str) -> bool:
    """A name ``lookup`` finds as a key only: no path, index, root or alternatives."""
    return bool(name) and not any(c in name for c in ".[$|")


def _columns_getter(columns: list[str], joiner: str | None) -> ValueGetter:
    def get_tuple(row: Row) -> Any:
        return tuple(lookup(row, c) for c in columns)

    def get_joined(row: Row) -> Any:
        parts = (field_text(row, c) for c in columns)
        return (joiner or "").join(p for p in parts if p)

    return get_tuple if joiner is None else get_joined


def _literal_getter(literal: Any) -> ValueGetter:
    def get(row: Row) -> Any:
        return literal

    return get


def _checked_meta(key: str, raw: Any) -> Any:
    vocab = load_vocabulary()
    if key == "record_class":
        return vocab.record_class(str(raw))
    if key == "tlp":
        return vocab.tlp_level(str(raw))
    if key == "handling":
        return vocab.handling_markings(raw)
    if key == "reliability":
        return vocab.reliability_code(str(raw))
    if key == "validity":
        return vocab.validity_code(str(raw))
    return None


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
