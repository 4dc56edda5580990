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
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fusionhub.ingest.errors import ProfileError, RowRejected
from fusionhub.model import Model, Schema, load_model
from fusionhub.model.types import InvalidValue, parse_name
from fusionhub.model.vocabulary import load_vocabulary

PROFILE_DIR = Path(__file__).parent / "profiles"
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
    return _FIELD.sub(lambda m: str(row.get(m.group(1).strip(), "") or "").strip(), template)


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
        self.begin_file()

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
            fallback=fallback,
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
        record_id = render(self.id_template, row).strip()
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
        vocab = load_vocabulary()
        for key, spec in self.meta_rules.items():
            raw = render(spec, row) if isinstance(spec, str) else spec
            try:
                if key == "record_class":
                    draft.meta[key] = vocab.record_class(str(raw))
                elif key == "tlp":
                    draft.meta[key] = vocab.tlp_level(str(raw))
                elif key == "handling":
                    draft.meta[key] = vocab.handling_markings(raw)
                elif key == "reliability":
                    draft.meta[key] = vocab.reliability_code(str(raw))
                elif key == "validity":
                    draft.meta[key] = vocab.validity_code(str(raw))
            except InvalidValue as exc:
                raise RowRejected(f"record {key}: {exc}") from exc
        if self.occurred:
            key, _, prop = str(self.occurred).partition(".")
            main = built.get(key)
            values = main.properties.get(prop) if main else None
            if values:
                first = values[0]
                draft.occurred_at = first[0] if isinstance(first, list) else first
        draft.cancelled = cancelled
        if self.keep_unmapped:
            extra = {k: v for k, v in row.items() if k not in self.columns and v not in (None, "", " ")}
            if extra:
                draft.unmapped = extra
        return draft

    def _apply(self, rule: PropertyRule, erule: EntityRule, entity: EntityDraft, row: Row, draft: RecordDraft) -> None:
        raw = rule.getter(row)
        if isinstance(raw, str):
            raw = raw.strip(rule.hints.get("strip", " ")) if "strip" in rule.hints else raw.strip()
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
        hints = {k: v for k, v in rule.hints.items() if k != "strip"}
        for item in raws:
            if item in (None, ""):
                continue
            value_in = item
            if rule.code_table is not None:
                code = str(item).strip()
                value_in = rule.code_table.get(code, rule.code_table.get("*", code))
            try:
                value = prop.clean(value_in, **hints)
            except InvalidValue as exc:
                if rule.required:
                    raise RowRejected(f"{erule.key}.{rule.prop}: {exc}") from exc
                draft.dropped.append(
                    {"entity": erule.key, "property": rule.prop, "value": str(item)[:500], "reason": str(exc)}
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
        parts = parse_name(value, "last_first" if form == "last_first" else "natural")
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


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
