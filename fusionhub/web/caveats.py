"""The handling caveat a page shows: the most restrictive of what it shows."""

from __future__ import annotations

from collections.abc import Iterable

#: Pages that show registry metadata and no record content.
WORKSPACE_CAVEAT = "TLP:AMBER LES — workspace metadata; record content carries its own caveat"
TLP_ORDER = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


def combined(caveats: Iterable[tuple[str, Iterable[str]]], empty: str = WORKSPACE_CAVEAT) -> str:
    """``[("AMBER", ["LES"]), ("GREEN", [])]`` -> ``"TLP:AMBER LES"``: a page is as restricted as its most
    restricted item, and carries every control marking any item carries."""
    tlp_rank = -1
    marks: set[str] = set()
    for tlp, handling in caveats:
        rank = TLP_ORDER.index(tlp) if tlp in TLP_ORDER else len(TLP_ORDER) - 1
        tlp_rank = max(tlp_rank, rank)
        marks.update(h for h in handling if h)
    if tlp_rank < 0:
        return empty
    return " ".join([f"TLP:{TLP_ORDER[tlp_rank]}", *sorted(marks)])
