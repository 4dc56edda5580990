"""What one cell does to the entity it is mapped into, worked out once per distinct cell.

Mapping a value runs the same steps for every row: strip, default, split, code table,
clean (the property type's normalisation), compare with the original text, split a
name into its parts, or drop the value or reject the row with a reason. None of these
depend on anything but the cell and the property rule, and exports repeat cells (codes,
names, dates, addresses, the incident of every subject row), so the profile keeps the
outcome per distinct cell (``PropertyRule.outcomes``) and replays it on the next row
that has the same cell: one dictionary lookup instead of a dozen steps.

The outcome is the same as running ``Profile._apply_one`` on the cell: the general path
stays for what is not a pure function of the cell (a ``fallback`` to other columns when
the cell is empty, nested values), where ``cell_outcome`` returns ``None``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fusionhub.ingest.errors import RowRejected
from fusionhub.model.types import InvalidValue, NameParts, parse_name

if TYPE_CHECKING:
    from fusionhub.ingest.profile import EntityDraft, EntityRule, PropertyRule, RecordDraft

ADD, DROP, REJECT = 0, 1, 2
#: A sequence of actions: (ADD, entry, name parts), (DROP, dropped value), (REJECT, reason).
Outcome = tuple[tuple[Any, ...], ...]
NAME_PARTS = ("firstName", "middleName", "lastName", "nameSuffix")


@lru_cache(maxsize=20_000)
def name_parts(value: str, form: str) -> NameParts:
    return parse_name(value, "last_first" if form == "last_first" else "natural")


def _empty(raw: Any) -> bool:
    return raw in (None, "") or (isinstance(raw, tuple) and all(v in (None, "") for v in raw))


def _target(rule: PropertyRule, erule: EntityRule) -> tuple[Any, dict[str, Any], tuple[str, ...] | None]:
    """What a rule's cells go through, worked out once per rule: the property, the
    hints its type's ``clean`` takes, and for a name to split the parts the schema has."""
    found: tuple[Any, dict[str, Any], tuple[str, ...] | None] | None = rule.target
    if found is None:
        prop = erule.schema.properties[rule.prop]
        hints = dict(rule.clean_hints)
        if prop.values and "values" not in hints:
            hints["values"] = prop.values  # as Property.clean adds them
        parts = None
        if rule.parse and prop.type.name == "name":
            parts = tuple(name if name in erule.schema.properties else "" for name in NAME_PARTS)
        found = rule.target = (prop.type, hints, parts)
    return found


def cell_outcome(rule: PropertyRule, erule: EntityRule, raw: Any) -> Outcome | None:
    """The outcome of one cell (a text, a tuple of texts, or None); None: not memoisable."""
    if isinstance(raw, str):
        raw = raw.strip(rule.hints["strip"]) if "strip" in rule.hints else raw.strip()
    if raw in (None, "") and rule.default is not None:
        raw = rule.default
    if _empty(raw):
        if rule.fallback is not None:
            return None  # another column decides: not a function of this cell
        if rule.required:
            return ((REJECT, f"{erule.key}.{rule.prop} is required and empty ({rule.description})"),)
        return ()
    raws: list[Any] = [p.strip() for p in str(raw).split(rule.many)] if rule.many else [raw]
    kind, hints, part_names = _target(rule, erule)
    actions: list[tuple[Any, ...]] = []
    for item in raws:
        if item in (None, ""):
            continue
        value_in = item
        if rule.code_table is not None:
            code = str(item).strip()
            value_in = rule.code_table.get(code, rule.code_table.get("*", code))
        try:
            value = kind.clean(value_in, **hints)
        except InvalidValue as exc:
            if rule.required:
                return ((REJECT, f"{erule.key}.{rule.prop}: {exc}"),)
            actions.append(
                (DROP, {"entity": erule.key, "property": rule.prop, "value": str(item)[:500], "reason": str(exc)})
            )
            continue
        if value is None:
            continue
        original = ", ".join(str(v) for v in item) if isinstance(item, tuple) else item
        entry: Any = value if original is None or str(original) == value else [value, str(original)]
        parts: tuple[tuple[str, str], ...] = ()
        if part_names is not None:
            found = name_parts(value, str(rule.parse))
            parts = tuple(
                (name, part)
                for name, part in zip(part_names, (found.first, found.middle, found.last, found.suffix), strict=True)
                if part and name
            )
        actions.append((ADD, entry, parts))
    return tuple(actions)


def apply_outcome(outcome: Outcome, prop: str, entity: EntityDraft, draft: RecordDraft) -> None:
    properties = entity.properties
    for action in outcome:
        kind = action[0]
        if kind == ADD:
            entry = action[1]
            values = properties.get(prop)
            if values is None:
                properties[prop] = [entry]
            elif entry not in values:
                values.append(entry)
            for name, part in action[2]:
                if name not in properties:  # a mapped part wins over the split one
                    properties[name] = [part]
        elif kind == DROP:
            draft.dropped.append(dict(action[1]))
        else:
            raise RowRejected(action[1])
