"""Policy administration: the P/CRCL policy as versions in the store.

The packaged ``policy.yaml`` (or ``FUSIONHUB_POLICY``) is version 1 and the policy in
force while the store holds no version. The privacy officer submits a new text; it is
validated (schema, then a dry run counting, per role, the records the change newly
allows or denies) and, when asked, activated: the new row and its ``policy.change``
audit event (old and new SHA-256) are written in one transaction.

Every process follows the active version: when any transaction begins, a listener reads
the newest version's id and hash (one primary-key lookup) and makes that policy the one
:func:`fusionhub.policy.rules.load_policy` returns for the rest of the request. So the
per-record decision, the SQL filter and the search-index filter of one request all
compile from the same version, and a change made by another process is in force from
the next transaction on.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import case, func, insert, or_, select

from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import ROLES, Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import clause_sql
from fusionhub.policy.identity import NotAuthorized, aware
from fusionhub.policy.rules import (
    ACTOR_KEYS,
    Policy,
    PolicyError,
    file_policy,
    load_policy,
    parse_policy,
    set_active_policy,
)
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t
from fusionhub.store.policy_admin_tables import policy_version

#: Who may read the policy and its history. The privacy officer owns it; administrators
#: assign roles and must see what a role is allowed (the rules hold no record content).
VIEW_ROLES = ("privacy-officer", "administrator")
#: Who may change it: the P/CRCL officer only. An administrator, who already assigns
#: roles, could otherwise also rewrite what those roles may read (separation of duties).
CHANGE_ROLES = ("privacy-officer",)

SECTIONS = ("version", "identity", "purposes", "retention", "read_rules")
RULE_KEYS = ("id", "reason", "hide", "actor", "record")
IDENTITY_INTS = (
    "training_valid_days",
    "lockout_attempts",
    "lockout_minutes",
    "session_idle_minutes",
    "api_token_max_days",
)
IDENTITY_ROLE_LISTS = ("mfa_roles",)
PURPOSE_KEYS = ("case_number_pattern", "reasons")
RETENTION_INTS = ("review_years",)
RETENTION_CLASS_LISTS = ("validate_or_purge", "predicate_required", "basis_required")
RETENTION_TEXT_LISTS = ("criminal_activities",)
MAX_TEXT = 256 * 1024


class PolicyInvalid(PolicyError):
    """The submitted text is not a valid policy; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the policy was not changed: " + "; ".join(problems))
        self.problems = problems


class PolicyConflict(PolicyError):
    """The submission conflicts with the policy in force (unchanged, or changed meanwhile)."""


# -- reading -------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyVersion:
    id: int
    label: str
    sha256: str
    text: str
    created_by: str
    created_at: str | None
    note: str
    stored: bool
    active: bool = False

    def to_json(self, with_text: bool = True) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if with_text or k != "text"}
        return data


def _packaged() -> PolicyVersion:
    policy = file_policy()
    with open(policy.path, encoding="utf-8") as handle:
        text = handle.read()
    return PolicyVersion(1, policy.version, policy.sha256, text, "package", None, f"policy file {policy.path}", False)


def require_view(actor: Actor) -> None:
    if not actor.has(*VIEW_ROLES):
        raise NotAuthorized("only the privacy officer and administrators read the policy administration")


def require_change(actor: Actor) -> None:
    if not actor.has(*CHANGE_ROLES):
        raise NotAuthorized("only the privacy officer changes the policy")


def history(store: Store, actor: Actor) -> list[PolicyVersion]:
    """Every version, newest first; the newest is active. Version 1 is the packaged file."""
    require_view(actor)
    v = policy_version.c
    with store.connect() as conn:
        rows = conn.execute(select(policy_version).order_by(v.id.desc())).all()
    if not rows:
        packaged = _packaged()
        return [PolicyVersion(**{**packaged.__dict__, "active": True})]
    return [
        PolicyVersion(
            r.id,
            r.label,
            r.sha256,
            r.text,
            r.created_by,
            aware(r.created_at).isoformat() if r.created_at else None,  # type: ignore[union-attr]
            r.note,
            True,
            i == 0,
        )
        for i, r in enumerate(rows)
    ]


def active_version(store: Store, actor: Actor) -> PolicyVersion:
    return history(store, actor)[0]


def get_version(store: Store, actor: Actor, version_id: int) -> PolicyVersion:
    for version in history(store, actor):
        if version.id == version_id:
            return version
    raise PolicyConflict(f"no policy version {version_id}")


def diff(older: PolicyVersion | None, newer: PolicyVersion) -> str:
    """A unified diff of two versions' texts (empty for the first version)."""
    if older is None:
        return ""
    return "".join(
        difflib.unified_diff(
            older.text.splitlines(keepends=True),
            newer.text.splitlines(keepends=True),
            f"version {older.id}",
            f"version {newer.id}",
        )
    )


def rule_table(policy: Policy) -> list[dict[str, str]]:
    """The read rules in words: who they apply to, which records they refuse, and why."""

    def words(spec: Any) -> str:
        if not spec:
            return "every record"
        parts = []
        for key, value in spec.items():
            if key == "any":
                parts.append("any of (" + "; ".join(words(item) for item in value) + ")")
            elif key == "not":
                parts.append(f"not ({words(value)})")
            elif key == "own_agency":
                parts.append("of the actor's own agency" if value else "of another agency")
            else:
                parts.append(f"{key.replace('_', ' ')} in {', '.join(map(str, value))}")
        return " and ".join(parts)

    def actor_words(spec: dict[str, Any]) -> str:
        if not spec:
            return "everyone"
        labels = {
            "roles_any": "holds one of",
            "roles_none": "holds none of",
            "roles_only": "holds only roles among",
        }
        parts = []
        for key, value in spec.items():
            if key in labels:
                parts.append(f"{labels[key]} {', '.join(value)}")
            else:
                parts.append(f"{key.replace('_', ' ')}: {'yes' if value else 'no'}")
        return " and ".join(parts)

    return [
        {
            "id": r.id,
            "applies_to": actor_words(r.actor),
            "refuses": words(r.record),
            "reason": r.reason,
            "existence": "hidden" if r.hide else "may be confirmed",
        }
        for r in policy.read_rules
    ]


# -- validation ----------------------------------------------------------------------
def validate(text: str) -> Policy:
    """The policy in ``text``, or :class:`PolicyInvalid` naming every problem found.

    Stricter than loading the packaged file: a submission may not carry a section, key or
    value FusionHub does not know, because a misspelt key would otherwise be ignored and
    a rule silently not apply.
    """
    if len(text.encode()) > MAX_TEXT:
        raise PolicyInvalid([f"the policy text is larger than {MAX_TEXT // 1024} KiB"])
    if "\x00" in text:  # no text column (PostgreSQL's least of all) stores a NUL
        raise PolicyInvalid(["the policy text contains a NUL character"])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyInvalid([f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise PolicyInvalid(["the text is not a mapping of policy sections"])
    problems: list[str] = []
    packaged = file_policy().raw
    known_sections = set(SECTIONS) | set(packaged)
    for key in data:
        if key not in known_sections:
            problems.append(f"unknown section {key!r}; one of {', '.join(sorted(known_sections))}")
    for name in ("identity", "purposes", "retention", "read_rules"):
        if name not in data:
            problems.append(f"section {name!r} is missing")
    _check_identity(data.get("identity"), packaged.get("identity") or {}, problems)
    _check_purposes(data.get("purposes"), problems)
    _check_retention(data.get("retention"), packaged.get("retention") or {}, problems)
    rules = data.get("read_rules")
    if "read_rules" in data and not isinstance(rules, list):
        problems.append("read_rules must be a list of rules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        where = f"read rule {i + 1}" + (f" ({rule.get('id')})" if isinstance(rule, dict) and rule.get("id") else "")
        if not isinstance(rule, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        for key in rule:
            if key not in RULE_KEYS:
                problems.append(f"{where}: unknown key {key!r}; one of {', '.join(RULE_KEYS)}")
        if "hide" in rule and not isinstance(rule["hide"], bool):
            problems.append(f"{where}: hide must be true or false")
        for part in ("actor", "record"):
            if rule.get(part) is not None and not isinstance(rule.get(part), dict):
                problems.append(f"{where}: {part} must be a mapping")
        actor = rule.get("actor")
        for key, value in (actor if isinstance(actor, dict) else {}).items():
            if key in ACTOR_KEYS and key.startswith("roles_") and not isinstance(value, list):
                problems.append(f"{where}: {key} must be a list of roles")
            elif key in ACTOR_KEYS and not key.startswith("roles_") and not isinstance(value, bool):
                problems.append(f"{where}: {key} must be true or false")
        record = rule.get("record")
        if isinstance(record, dict):
            _check_record_shape(record, where, problems)
    if problems:
        raise PolicyInvalid(problems)
    try:
        return parse_policy(text, "submitted policy")
    except PolicyError as exc:
        raise PolicyInvalid([str(exc).removeprefix("submitted policy: ")]) from exc


def _check_record_shape(spec: dict[str, Any], where: str, problems: list[str]) -> None:
    for key, value in spec.items():
        if key in ("record_class", "tlp", "status", "handling", "terms") and not isinstance(value, list):
            problems.append(f"{where}: record {key} must be a list")
        elif key == "own_agency" and not isinstance(value, bool):
            problems.append(f"{where}: own_agency must be true or false")
        elif key == "any":
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                problems.append(f"{where}: any must be a list of record conditions")
            else:
                for item in value:
                    _check_record_shape(item, where, problems)
        elif key == "not":
            if not isinstance(value, dict):
                problems.append(f"{where}: not must be a record condition")
            else:
                _check_record_shape(value, where, problems)


def _known_keys(section: str, value: Any, allowed: set[str], problems: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"section {section!r} must be a mapping")
        return {}
    for key in value:
        if key not in allowed:
            problems.append(f"{section}: unknown key {key!r}; one of {', '.join(sorted(allowed))}")
    return value


def _check_identity(value: Any, packaged: dict[str, Any], problems: list[str]) -> None:
    allowed = set(IDENTITY_INTS) | set(IDENTITY_ROLE_LISTS) | set(packaged)
    section = _known_keys("identity", value, allowed, problems)
    for key in allowed:
        if value is not None and key in packaged and key not in section:
            problems.append(f"identity: {key!r} is missing")
    for key in IDENTITY_INTS:
        item = section.get(key)
        if key in section and (isinstance(item, bool) or not isinstance(item, int) or item < 1):
            problems.append(f"identity: {key} must be a whole number of at least 1")
    for key in IDENTITY_ROLE_LISTS:
        roles = section.get(key)
        if key in section:
            if not isinstance(roles, list):
                problems.append(f"identity: {key} must be a list of roles")
                continue
            for role in roles:
                if role not in ROLES:
                    problems.append(f"identity: {key}: unknown role {role!r}; one of {', '.join(ROLES)}")


def _check_purposes(value: Any, problems: list[str]) -> None:
    section = _known_keys("purposes", value, set(PURPOSE_KEYS), problems)
    reasons = section.get("reasons")
    if "reasons" in section and (not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons)):
        problems.append("purposes: reasons must be a list of texts")
    if "case_number_pattern" in section and not isinstance(section["case_number_pattern"], str):
        problems.append("purposes: case_number_pattern must be a text (a regular expression)")


def _check_retention(value: Any, packaged: dict[str, Any], problems: list[str]) -> None:
    allowed = set(RETENTION_INTS) | set(RETENTION_CLASS_LISTS) | set(RETENTION_TEXT_LISTS) | set(packaged)
    section = _known_keys("retention", value, allowed, problems)
    classes = set(load_vocabulary().record_classes)
    for key in RETENTION_INTS:
        item = section.get(key)
        if key in section and (isinstance(item, bool) or not isinstance(item, int) or item < 1):
            problems.append(f"retention: {key} must be a whole number of at least 1")
    for key in RETENTION_CLASS_LISTS:
        if key not in section:
            continue
        items = section[key]
        if not isinstance(items, list):
            problems.append(f"retention: {key} must be a list of record classes")
            continue
        for item in items:
            if item not in classes:
                problems.append(f"retention: {key}: unknown record class {item!r}")
    for key in RETENTION_TEXT_LISTS:
        if key in section and not isinstance(section[key], list):
            problems.append(f"retention: {key} must be a list")


# -- dry run -------------------------------------------------------------------------
@dataclass
class RoleImpact:
    """What a change does for a holder of ``role`` at any agency: records newly readable
    or newly refused (counted once even where several agencies are affected)."""

    role: str
    newly_allowed: int
    newly_denied: int
    by_agency: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _dry_run_actor(role: str, agency: Any) -> Actor:
    return Actor(
        username=f"dry-run:{role}",
        user_id=0,
        agency=str(agency.code),
        agency_id=int(agency.id),
        agency_kind=str(agency.kind),
        roles=frozenset({role}),
        training_current=True,
    )


def dry_run(store: Store, old: Policy, new: Policy) -> list[RoleImpact]:
    """Per role, the records ``new`` allows that ``old`` refused and the reverse, for an
    actor holding that role alone at each agency of the store (training current).

    One scan of ``record`` joined with ``source`` computes every count.
    """
    with store.connect() as conn:
        agencies = conn.execute(select(t.agency.c.id, t.agency.c.code, t.agency.c.kind).order_by(t.agency.c.code)).all()
        if not agencies:
            return [RoleImpact(role, 0, 0) for role in ROLES]
        columns: list[Any] = []
        labels: list[tuple[str, str, str]] = []  # (role, agency code or "*", "allowed"|"denied")
        for role in ROLES:
            gained, lost = [], []
            for agency in agencies:
                actor = _dry_run_actor(role, agency)
                before = clause_sql(old.allowed_clause(actor))
                after = clause_sql(new.allowed_clause(actor))
                gained.append(after & ~before)
                lost.append(before & ~after)
                columns.append(func.sum(case((gained[-1], 1), else_=0)))
                labels.append((role, str(agency.code), "allowed"))
                columns.append(func.sum(case((lost[-1], 1), else_=0)))
                labels.append((role, str(agency.code), "denied"))
            columns.append(func.sum(case((or_(*gained), 1), else_=0)))
            labels.append((role, "*", "allowed"))
            columns.append(func.sum(case((or_(*lost), 1), else_=0)))
            labels.append((role, "*", "denied"))
        row = conn.execute(
            select(*columns).select_from(t.record.join(t.source, t.source.c.id == t.record.c.source_id))
        ).one()
    counts: dict[tuple[str, str, str], int] = {label: int(value or 0) for label, value in zip(labels, row, strict=True)}
    result = []
    for role in ROLES:
        impact = RoleImpact(role, counts[(role, "*", "allowed")], counts[(role, "*", "denied")])
        for agency in agencies:
            allowed, denied = counts[(role, agency.code, "allowed")], counts[(role, agency.code, "denied")]
            if allowed or denied:
                impact.by_agency.append({"agency": agency.code, "newly_allowed": allowed, "newly_denied": denied})
        result.append(impact)
    return result


# -- applying ------------------------------------------------------------------------
@dataclass
class Submission:
    """The outcome of a submission: the validated policy, its dry run, and the version
    it became (None for a dry run)."""

    policy: Policy
    previous: PolicyVersion
    impact: list[RoleImpact]
    activated: PolicyVersion | None

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "activated": self.activated is not None,
            "version": self.activated.to_json(with_text=False) if self.activated else None,
            "previous": self.previous.to_json(with_text=False),
            "sha256": self.policy.sha256,
            "label": self.policy.version,
            "rules": len(self.policy.read_rules),
            "dry_run": [i.to_json() for i in self.impact],
        }


def submit(
    store: Store,
    actor: Actor,
    text: str,
    *,
    note: str = "",
    activate: bool = False,
    base_version: int | None = None,
    now: datetime | None = None,
) -> Submission:
    """Validate ``text`` and dry-run it against the active version; with ``activate``, make
    it the active version and audit the change in the same transaction.

    ``base_version`` is the version the submitter edited: if another change was activated
    meanwhile, the submission is refused rather than silently overwriting it.
    """
    require_change(actor)
    # Browsers post a textarea with CRLF line ends; the stored text, its hash and its
    # diffs use the file's own LF.
    text = text.replace("\r\n", "\n")
    policy = validate(text)
    current = active_version(store, actor)
    old = load_policy() if not current.stored else parse_policy(current.text, f"store:policy_version/{current.id}")
    if base_version is not None and base_version != current.id:
        raise PolicyConflict(
            f"the policy changed since you loaded version {base_version}: version {current.id} is active now; "
            "reload it and apply your change again"
        )
    if policy.sha256 == current.sha256:
        raise PolicyConflict(f"the text is identical to the active version {current.id}; nothing to change")
    impact = dry_run(store, old, policy)
    if not activate:
        return Submission(policy, current, impact, None)
    if "\x00" in note:
        raise PolicyInvalid(["the note contains a NUL character"])
    if activate and not note.strip():
        raise PolicyInvalid(["state why the policy changes (a note is kept with the version and its audit event)"])
    now = now or utcnow()
    v = policy_version.c
    with store.begin() as conn:
        head = conn.execute(select(v.id, v.sha256, v.label).order_by(v.id.desc()).limit(1)).first()
        if head is None:
            packaged = _packaged()
            conn.execute(
                insert(policy_version).values(
                    id=1,
                    label=packaged.label,
                    sha256=packaged.sha256,
                    text=packaged.text,
                    created_by="package",
                    created_at=now,
                    note=packaged.note,
                )
            )
            head_id, head_sha, head_label = 1, packaged.sha256, packaged.label
        else:
            head_id, head_sha, head_label = int(head.id), str(head.sha256), str(head.label)
        if head_id != current.id:  # activated by someone else since the dry run
            raise PolicyConflict(f"version {head_id} was activated meanwhile; run the dry run again")
        new_id = head_id + 1
        conn.execute(
            insert(policy_version).values(
                id=new_id,
                label=policy.version,
                sha256=policy.sha256,
                text=text,
                created_by=actor.username,
                created_at=now,
                note=note.strip(),
            )
        )
        record_event(
            conn,
            actor,
            "policy.change",
            "policy",
            {
                "sha256": policy.sha256,
                "previous_sha256": head_sha,
                "version": policy.version,
                "previous_version": head_label,
                "version_id": new_id,
                "previous_version_id": head_id,
                "note": note.strip(),
                "path": f"store:policy_version/{new_id}",
            },
            now=now,
        )
    set_active_policy(parse_policy(text, f"store:policy_version/{new_id}"))
    activated = next(version for version in history(store, actor) if version.id == new_id)
    return Submission(policy, current, impact, activated)


def policy_summary(version: PolicyVersion) -> dict[str, Any]:
    policy = parse_policy(version.text, f"policy version {version.id}")
    return {
        **version.to_json(),
        "rules": rule_table(policy),
        "identity": policy.identity,
        "purposes": policy.purposes,
        "retention": policy.retention,
    }
