"""The policy file (``policy.yaml``) and the one compiler of its read rules.

A read rule says which records (a *record condition*) are refused to which actors (an
*actor condition*), with the reason shown. For a given actor, the conditions of the
rules that apply compile to one :class:`Clause` tree over the record's metadata
(owning agency, class, TLP, handling caveats, status, source sharing terms). That one
tree is then evaluated three ways: in Python for a single record (``decide_read``), as
a SQL condition (``record_filter``) and as a search-index clause (``index_filter``).
Because all three read the same tree, they cannot drift apart; a property test checks it.
"""

from __future__ import annotations

import hashlib
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import ROLES, Actor

POLICY_FILE = Path(__file__).parent / "policy.yaml"
SHARING_TERMS = ("law_enforcement_only", "no_private_sector", "agency_only", "originator_approval")
RECORD_STATUSES = ("active", "cancelled", "purged")


class PolicyError(Exception):
    """The policy file is malformed; FusionHub refuses to start on it."""


# -- clauses -------------------------------------------------------------------------
@dataclass(frozen=True)
class Clause:
    """A boolean condition over one record's metadata.

    ``op`` is one of ``true``, ``false``, ``and``, ``or``, ``not``, ``in`` (a single-valued
    field: record_class, tlp, status, agency_id holds one of ``values``) or ``has`` (a
    multi-valued field: handling, terms holds at least one of ``values``).
    """

    op: str
    field: str | None = None
    values: tuple[Any, ...] = ()
    children: tuple[Clause, ...] = ()

    def to_json(self) -> dict[str, Any]:
        if self.op in ("true", "false"):
            return {self.op: True}
        if self.op in ("and", "or"):
            return {self.op: [c.to_json() for c in self.children]}
        if self.op == "not":
            return {"not": self.children[0].to_json()}
        return {self.op: {"field": self.field, "values": list(self.values)}}

    def matches(self, doc: dict[str, Any]) -> bool:
        """Evaluate against a flat document: ``record_class``, ``tlp``, ``status``,
        ``agency_id`` (single values) and ``handling``, ``terms`` (lists)."""
        if self.op == "true":
            return True
        if self.op == "false":
            return False
        if self.op == "and":
            return all(c.matches(doc) for c in self.children)
        if self.op == "or":
            return any(c.matches(doc) for c in self.children)
        if self.op == "not":
            return not self.children[0].matches(doc)
        if self.op == "in":
            return doc.get(str(self.field)) in self.values
        if self.op == "has":
            return bool(set(doc.get(str(self.field)) or ()) & set(self.values))
        raise PolicyError(f"unknown clause {self.op}")


TRUE = Clause("true")
FALSE = Clause("false")


def all_of(*clauses: Clause) -> Clause:
    kept = [c for c in clauses if c.op != "true"]
    if any(c.op == "false" for c in kept):
        return FALSE
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else Clause("and", children=tuple(kept))


def any_of(*clauses: Clause) -> Clause:
    kept = [c for c in clauses if c.op != "false"]
    if any(c.op == "true" for c in kept):
        return TRUE
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else Clause("or", children=tuple(kept))


def negate(clause: Clause) -> Clause:
    if clause.op == "true":
        return FALSE
    if clause.op == "false":
        return TRUE
    if clause.op == "not":
        return clause.children[0]
    return Clause("not", children=(clause,))


# -- the policy ----------------------------------------------------------------------
ACTOR_KEYS = ("roles_any", "roles_none", "roles_only", "private_sector", "law_enforcement", "training_current")
RECORD_KEYS = ("record_class", "tlp", "status", "handling", "terms", "own_agency", "any", "not")


@dataclass(frozen=True)
class ReadRule:
    id: str
    reason: str
    hide: bool
    actor: dict[str, Any]
    record: dict[str, Any]

    def applies_to(self, actor: Actor) -> bool:
        spec = self.actor
        if "roles_any" in spec and not actor.has(*spec["roles_any"]):
            return False
        if "roles_none" in spec and actor.has(*spec["roles_none"]):
            return False
        if "roles_only" in spec and not (actor.roles <= set(spec["roles_only"])):
            return False
        if "private_sector" in spec and actor.is_private_sector != spec["private_sector"]:
            return False
        if "law_enforcement" in spec and actor.is_law_enforcement != spec["law_enforcement"]:
            return False
        return not ("training_current" in spec and actor.training_current != spec["training_current"])

    def record_clause(self, actor: Actor) -> Clause:
        return _record_clause(self.record, actor)


def _record_clause(spec: dict[str, Any], actor: Actor) -> Clause:
    parts: list[Clause] = []
    for key, value in spec.items():
        if key in ("record_class", "tlp", "status"):
            parts.append(Clause("in", key, tuple(value)))
        elif key in ("handling", "terms"):
            parts.append(Clause("has", key, tuple(value)))
        elif key == "own_agency":
            own = Clause("in", "agency_id", (actor.agency_id,))
            parts.append(own if value else negate(own))
        elif key == "any":
            parts.append(any_of(*(_record_clause(item, actor) for item in value)))
        elif key == "not":
            parts.append(negate(_record_clause(value, actor)))
    return all_of(*parts)


@dataclass(frozen=True, eq=False)  # hashed by identity: compiled rules are cached per policy object
class Policy:
    version: str
    sha256: str
    path: str
    identity: dict[str, Any]
    purposes: dict[str, Any]
    retention: dict[str, Any]
    read_rules: tuple[ReadRule, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def case_number(self) -> re.Pattern[str]:
        return re.compile(str(self.purposes.get("case_number_pattern") or r"(?!)"))

    @property
    def reasons(self) -> list[str]:
        return [str(r) for r in self.purposes.get("reasons") or []]

    def setting(self, name: str) -> Any:
        return self.identity[name]

    def refusals(self, actor: Actor) -> tuple[tuple[ReadRule, Clause], ...]:
        """The rules that apply to ``actor``, in order, each with its compiled record clause."""
        return _refusals(self, actor)

    def allowed_clause(self, actor: Actor) -> Clause:
        """The records ``actor`` may read, as one clause: no applying rule refuses them."""
        return all_of(*(negate(clause) for _, clause in self.refusals(actor)))


@lru_cache(maxsize=512)
def _refusals(policy: Policy, actor: Actor) -> tuple[tuple[ReadRule, Clause], ...]:
    return tuple((rule, rule.record_clause(actor)) for rule in policy.read_rules if rule.applies_to(actor))


def _check_rule(raw: dict[str, Any], origin: str) -> ReadRule:
    vocab = load_vocabulary()
    rule_id = str(raw.get("id") or "")
    if not rule_id or not raw.get("reason"):
        raise PolicyError(f"{origin}: every read rule needs an id and a reason")
    actor = dict(raw.get("actor") or {})
    record = dict(raw.get("record") or {})
    for key, value in actor.items():
        if key not in ACTOR_KEYS:
            raise PolicyError(f"{origin}: rule {rule_id}: unknown actor condition {key!r}")
        if key.startswith("roles_"):
            for role in value:
                if role not in ROLES:
                    raise PolicyError(f"{origin}: rule {rule_id}: unknown role {role!r}")

    def check_record(spec: dict[str, Any]) -> None:
        for key, value in spec.items():
            if key not in RECORD_KEYS:
                raise PolicyError(f"{origin}: rule {rule_id}: unknown record condition {key!r}")
            known: tuple[str, ...] | None = {
                "record_class": tuple(vocab.record_classes),
                "tlp": tuple(vocab.tlp),
                "status": RECORD_STATUSES,
                "handling": tuple(vocab.handling),
                "terms": SHARING_TERMS,
            }.get(key)
            if known is not None:
                for item in value:
                    if item not in known:
                        raise PolicyError(f"{origin}: rule {rule_id}: {key} {item!r} is not one of {', '.join(known)}")
            if key == "any":
                for item in value:
                    check_record(item)
            if key == "not":
                check_record(value)

    check_record(record)
    return ReadRule(rule_id, str(raw["reason"]), bool(raw.get("hide", True)), actor, record)


def parse_policy(text: str, origin: str) -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: not a policy")
    for section in ("identity", "purposes", "retention", "read_rules"):
        if section not in data:
            raise PolicyError(f"{origin}: section {section!r} is missing")
    rules = tuple(_check_rule(r, origin) for r in data["read_rules"])
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise PolicyError(f"{origin}: rule ids repeat")
    try:
        re.compile(str(data["purposes"].get("case_number_pattern") or ""))
    except re.error as exc:
        raise PolicyError(f"{origin}: case_number_pattern: {exc}") from exc
    return Policy(
        version=str(data.get("version", "")),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        path=origin,
        identity=dict(data["identity"]),
        purposes=dict(data["purposes"]),
        retention=dict(data["retention"]),
        read_rules=rules,
        raw=data,
    )


@lru_cache(maxsize=8)
def _load(path: str) -> Policy:
    resolved = str(Path(path).resolve())
    return parse_policy(Path(resolved).read_text(encoding="utf-8"), resolved)


#: The stored policy version in force for this request or transaction (set by
#: :mod:`fusionhub.policy.versions` when a transaction begins), and the newest one this
#: process has seen. A context variable keeps one request on one version from its first
#: transaction to its end, so its decision and its compiled filters cannot disagree.
_ACTIVE: ContextVar[Policy | None] = ContextVar("fusionhub_active_policy", default=None)
_LATEST: list[Policy | None] = [None]


def set_active_policy(policy: Policy | None) -> None:
    """Make ``policy`` the one ``load_policy()`` returns here (None: back to the file)."""
    _ACTIVE.set(policy)
    _LATEST[0] = policy


def file_policy() -> Policy:
    """The policy file: ``FUSIONHUB_POLICY``, else the shipped one (version 1 of a store)."""
    import os

    return _load(str(os.environ.get("FUSIONHUB_POLICY") or POLICY_FILE))


def load_policy(path: Path | str | None = None) -> Policy:
    """The policy in force: ``path``; else the store's active version (see
    :mod:`fusionhub.policy.versions`); else ``FUSIONHUB_POLICY``, else the shipped file."""
    if path is not None:
        return _load(str(path))
    active = _ACTIVE.get() or _LATEST[0]
    return active if active is not None else file_policy()
