"""Who is asking: a named user of an agency, with roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ROLES = ("analyst", "supervisor", "privacy-officer", "field-user", "partner", "auditor", "administrator")
#: Roles whose holders may read records at all (subject to the rules of the policy).
RECORD_READERS = frozenset({"analyst", "supervisor", "privacy-officer", "field-user", "partner"})
LAW_ENFORCEMENT_KINDS = ("law-enforcement", "federal", "state", "tribal")


@dataclass(frozen=True)
class Actor:
    username: str
    user_id: int
    agency: str
    agency_id: int
    agency_kind: str
    roles: frozenset[str] = field(default_factory=frozenset)
    #: Date of the last privacy, civil rights and civil liberties training.
    training_date: datetime | None = None
    #: Whether that training was current when this actor was resolved. Fails closed:
    #: an actor built without it reads no records.
    training_current: bool = False

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_private_sector(self) -> bool:
        return self.agency_kind == "private-sector" or self.roles == frozenset({"partner"})

    @property
    def is_law_enforcement(self) -> bool:
        return self.agency_kind in LAW_ENFORCEMENT_KINDS and not self.is_private_sector
