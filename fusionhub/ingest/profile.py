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
separator). An entity may have ``when: COLUMN`` (made only when that column has a value)
and ``required: true`` (no entity, no record).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from fusionhub.ingest.errors import ProfileError, RowRejected
from fusionhub.model import Model, Schema, load_model
from fusionhub.model.types import InvalidValue, NameParts, parse_name
from fusionhub.model.vocabulary import load_vocabulary

PROFILE_DIR = Path(__file__).parent / "profiles"
#: Entries a property's clean() memo holds before it starts afresh (bounds memory).
CACHE_MAX = 20_000
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
    return _FIELD.sub(lambda m: str(row.get(m.group(1).strip(), "") or "").strip(), template)


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
    if len(parts) == 1 and parts[0][0]:
        column = parts[0][1]
        return lambda row: str(row.get(column, "") or "").strip()

    def rendered(row: Row) -> str:
        return "".join(str(row.get(text, "") or "").strip() if is_column else text for is_column, text in parts)

    return rendered


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
    #: Memo of ``clean`` per raw value within one import: sources repeat values (codes,
    #: names, dates, addresses) and cleaning them is the costly part of mapping a row.
    #: Holds (value, None) or (None, reason the value is invalid). Bounded: see CACHE_MAX.
    cache: dict[Any, tuple[str | None, str | None]] = field(default_factory=dict)

    @cached_property
    def clean_hints(self) -> dict[str, Any]:
        return {k: v for k, v in self.hints.items() if k != "strip"}


@dataclass
class EntityRule:
    key: str
    schema: Schema
    rules: list[PropertyRule]
    refs: dict[str, str]  # property -> entity key it points at
    when: str | None
    required: bool


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
        for rule in self.entities:
            for prop, target in rule.refs.items():
                if target not in keys:
                    raise ProfileError(f"{origin}: {rule.key}.{prop} points at unknown entity {target!r}")
        self.columns = self._columns()

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
        for prop, source in (spec.get("properties") or {}).items():
            if prop not in schema.properties:
                raise ProfileError(f"{self.origin}: {schema.name} has no property {prop!r} (entity {key})")
            if schema.properties[prop].type.name == "entity":
                refs[prop] = str(source if isinstance(source, str) else source.get("entity"))
                continue
            rules.append(self._property_rule(key, prop, source))
        return EntityRule(key, schema, rules, refs, spec.get("when"), bool(spec.get("required", False)))

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
            getter = _template_getter(str(spec["template"]))
            description = str(spec["template"])
        elif "literal" in spec:
            getter = _literal_getter(spec["literal"])
            description = repr(spec["literal"])
        else:
            raise ProfileError(f"{self.origin}: {key}.{prop} needs column, columns, template or literal")
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
        return PropertyRule(
            prop=prop,
            getter=getter,
            hints=hints,
            required=bool(spec.get("required", False)),
            code_table=table,
            parse=spec.get("parse"),
            many=spec.get("many"),
            default=spec.get("default"),
            description=description,
        )

    def _columns(self) -> set[str]:
        text = yaml.safe_dump(self.spec)
        names = set(_FIELD.findall(text))
        for rule in self.entities:
            for prop in rule.rules:
                names.update(prop.description.split("+"))
            if rule.when:
                names.add(rule.when)
        return names

    # -- mapping -------------------------------------------------------------------
    def _matches(self, condition: Any, row: Row) -> bool:
        if not condition:
            return False
        column = str(condition.get("column"))
        value = str(row.get(column) or "").strip()
        if "equals" in condition:
            return value == str(condition["equals"])
        if "in" in condition:
            return value in {str(v) for v in condition["in"]}
        if "empty" in condition:
            return (value == "") == bool(condition["empty"])
        return False

    def map_row(self, row: Row, source_name: str) -> RecordDraft | None:
        """Map one row; ``None`` for a row the profile says to skip. Raises RowRejected."""
        if self.skip_when and self._matches(self.skip_when, row):
            return None
        record_id = self._render_id(row).strip()
        if not record_id or not record_id.strip(":-_ "):
            raise RowRejected(f"no source record id (template {self.id_template!r} gave nothing)")
        if len(record_id) > 255:
            raise RowRejected("source record id longer than 255 characters")
        draft = RecordDraft(source_record_id=record_id, entities=[])
        built: dict[str, EntityDraft] = {}
        for rule in self.entities:
            if rule.when and not str(row.get(rule.when) or "").strip():
                continue
            entity = EntityDraft(entity_id(source_name, record_id, rule.key), rule.schema.name, rule.key)
            for prop_rule in rule.rules:
                self._apply(prop_rule, rule, entity, row, draft)
            if not entity.properties:
                if rule.required:
                    raise RowRejected(f"entity {rule.key} ({rule.schema.name}) has no values")
                continue
            built[rule.key] = entity
        for rule in self.entities:
            entity_or_none = built.get(rule.key)
            if entity_or_none is None:
                continue
            for prop, target in rule.refs.items():
                if target in built:
                    entity_or_none.add(prop, built[target].id, None)
            if rule.schema.is_relationship:
                edge = rule.schema.edge or {}
                if not (
                    entity_or_none.properties.get(edge["source"]) and entity_or_none.properties.get(edge["target"])
                ):
                    del built[rule.key]  # a relationship with a missing end says nothing
        draft.entities = list(built.values())
        if not draft.entities:
            raise RowRejected("the row maps to no entity with a value")
        for key, spec in self.meta_rules.items():
            template = self._meta_templates.get(key)
            raw = template(row) if template else spec
            try:
                value, error = self._meta_cache[(key, raw)]
            except (KeyError, TypeError):
                value, error = None, None
                try:
                    value = _meta_value(key, raw)
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
        draft.cancelled = bool(self.cancel_when and self._matches(self.cancel_when, row))
        if self.keep_unmapped:
            extra = {k: v for k, v in row.items() if k not in self.columns and v not in (None, "", " ")}
            if extra:
                draft.unmapped = extra
        return draft

    def _apply(self, rule: PropertyRule, erule: EntityRule, entity: EntityDraft, row: Row, draft: RecordDraft) -> None:
        raw = rule.getter(row)
        if isinstance(raw, str):
            raw = raw.strip(rule.hints["strip"]) if "strip" in rule.hints else raw.strip()
        if raw in (None, "") and rule.default is not None:
            raw = rule.default
        if raw in (None, "") or (isinstance(raw, tuple) and all(v in (None, "") for v in raw)):
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
        parts = _parse_name(value, "last_first" if form == "last_first" else "natural")
        for prop, part in (
            ("firstName", parts.first),
            ("middleName", parts.middle),
            ("lastName", parts.last),
            ("nameSuffix", parts.suffix),
        ):
            if part and prop in schema.properties and prop not in entity.properties:
                entity.add(prop, part, None)


def _column_getter(column: str) -> ValueGetter:
    def get(row: Row) -> Any:
        return row.get(column)

    return get


def _columns_getter(columns: list[str], joiner: str | None) -> ValueGetter:
    def get_tuple(row: Row) -> Any:
        return tuple(row.get(c) for c in columns)

    def get_joined(row: Row) -> Any:
        parts = (str(row.get(c) or "").strip() for c in columns)
        return (joiner or "").join(p for p in parts if p)

    return get_tuple if joiner is None else get_joined


def _template_getter(template: str) -> ValueGetter:
    def get(row: Row) -> Any:
        return render(template, row)

    return get


def _literal_getter(literal: Any) -> ValueGetter:
    def get(row: Row) -> Any:
        return literal

    return get


def _meta_value(key: str, raw: Any) -> Any:
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


@lru_cache(maxsize=20_000)
def _parse_name(value: str, form: str) -> NameParts:
    return parse_name(value, form)


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
