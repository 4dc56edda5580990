"""The entity model, read from the YAML files in ``schema/``.

Every file maps schema names to definitions. Loading happens in two passes: first
each schema is read, then inheritance and property ranges are resolved, so a
dangling reference fails at start-up with :class:`InvalidModel` rather than at the
first import that meets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fusionhub.model.types import TYPES, InvalidValue, PropertyType

SCHEMA_DIR = Path(__file__).parent / "schema"


class InvalidModel(Exception):
    """The schema files contradict themselves."""


@dataclass
class Property:
    name: str
    label: str
    type: PropertyType
    schema: str
    range: str | None = None
    reverse: str | None = None
    values: list[str] | None = None

    def clean(self, raw: Any, **hints: Any) -> str | None:
        if self.values and "values" not in hints:
            hints = {**hints, "values": self.values}
        return self.type.clean(raw, **hints)


@dataclass
class Schema:
    name: str
    label: str
    plural: str
    abstract: bool
    extends: list[str]
    own_properties: dict[str, Property]
    caption: list[str]
    featured: list[str]
    matchable: bool
    edge: dict[str, Any] | None
    roles: list[str]
    properties: dict[str, Property] = field(default_factory=dict)
    ancestors: list[str] = field(default_factory=list)

    @property
    def is_relationship(self) -> bool:
        return self.edge is not None

    def get(self, prop: str) -> Property:
        try:
            return self.properties[prop]
        except KeyError:
            raise InvalidValue(f"{self.name} has no property {prop!r}") from None

    def is_a(self, other: str) -> bool:
        return other == self.name or other in self.ancestors


class Model:
    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        raw: dict[str, dict[str, Any]] = {}
        for path in sorted(directory.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for name, spec in data.items():
                if name in raw:
                    raise InvalidModel(f"schema {name} is defined twice (again in {path.name})")
                raw[name] = spec or {}
        self.schemata: dict[str, Schema] = {}
        for name, spec in raw.items():
            self.schemata[name] = self._read(name, spec)
        for schema in self.schemata.values():
            self._resolve(schema, [])
        for schema in self.schemata.values():
            for prop in schema.properties.values():
                if prop.type.name == "entity":
                    if not prop.range or prop.range not in self.schemata:
                        raise InvalidModel(f"{schema.name}.{prop.name} has unknown range {prop.range!r}")
            if schema.edge:
                for end in ("source", "target"):
                    if schema.edge.get(end) not in schema.properties:
                        raise InvalidModel(f"{schema.name}: edge {end} is not one of its properties")

    @staticmethod
    def _read(name: str, spec: dict[str, Any]) -> Schema:
        props: dict[str, Property] = {}
        for pname, pspec in (spec.get("properties") or {}).items():
            type_name = (pspec or {}).get("type", "string")
            if type_name not in TYPES:
                raise InvalidModel(f"{name}.{pname} has unknown type {type_name!r}")
            props[pname] = Property(
                name=pname,
                label=pspec.get("label", pname),
                type=TYPES[type_name],
                schema=name,
                range=pspec.get("range"),
                reverse=pspec.get("reverse"),
                values=pspec.get("values"),
            )
        return Schema(
            name=name,
            label=spec.get("label", name),
            plural=spec.get("plural", spec.get("label", name) + "s"),
            abstract=bool(spec.get("abstract", False)),
            extends=list(spec.get("extends") or []),
            own_properties=props,
            caption=list(spec.get("caption") or ["name"]),
            featured=list(spec.get("featured") or []),
            matchable=bool(spec.get("matchable", False)),
            edge=spec.get("edge"),
            roles=list(spec.get("roles") or []),
        )

    def _resolve(self, schema: Schema, stack: list[str]) -> None:
        if schema.properties:
            return
        if schema.name in stack:
            raise InvalidModel(f"inheritance cycle: {' -> '.join([*stack, schema.name])}")
        merged: dict[str, Property] = {}
        ancestors: list[str] = []
        for parent_name in schema.extends:
            parent = self.schemata.get(parent_name)
            if parent is None:
                raise InvalidModel(f"{schema.name} extends unknown schema {parent_name!r}")
            self._resolve(parent, [*stack, schema.name])
            merged.update(parent.properties)
            ancestors.extend([parent.name, *parent.ancestors])
        merged.update(schema.own_properties)
        schema.properties = merged
        schema.ancestors = list(dict.fromkeys(ancestors))
        if schema.edge and not schema.roles:
            for name in ancestors:
                if self.schemata[name].roles:
                    schema.roles = self.schemata[name].roles
                    break

    def get(self, name: str) -> Schema:
        try:
            return self.schemata[name]
        except KeyError:
            raise InvalidValue(f"unknown entity type {name!r}") from None

    def descendants(self, name: str) -> list[str]:
        return [s.name for s in self.schemata.values() if s.is_a(name) and not s.abstract]


@lru_cache(maxsize=1)
def load_model() -> Model:
    return Model()
