"""Clusters from scored pairs, with analysts' decisions as hard constraints.

Edges are joined strongest first (confirmed merges, then deterministic identifier
links, then model pairs by falling probability). Two records an analyst marked "not
the same" can never end up in one cluster: an edge whose union would put them together
is refused, so a chain of weaker links cannot undo a decision either.
"""

from __future__ import annotations

from collections.abc import Iterable


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent == item:
            self.members.setdefault(item, {item})
            return item
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> str:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        return ra


def cluster(
    items: Iterable[str],
    edges: Iterable[tuple[str, str, float]],
    cannot_link: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """item -> cluster id (the smallest member id). ``edges`` are (a, b, strength)."""
    uf = UnionFind()
    for item in items:
        uf.find(item)
    apart: dict[str, set[str]] = {}
    for a, b in cannot_link:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    for a, b, _ in sorted(edges, key=lambda e: -e[2]):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        if apart and _conflict(uf.members[ra], uf.members[rb], apart):
            continue
        uf.union(a, b)
    result: dict[str, str] = {}
    for root, members in uf.members.items():
        if uf.parent.get(root, root) != root:
            continue
        label = min(members)
        for member in members:
            result[member] = label
    return result


def _conflict(left: set[str], right: set[str], apart: dict[str, set[str]]) -> bool:
    small, large = (left, right) if len(left) <= len(right) else (right, left)
    return any(apart.get(item, set()) & large for item in small)
