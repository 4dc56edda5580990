"""Record metadata vocabularies (record classes, TLP, handling markings, grading)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fusionhub.model.types import InvalidValue

VOCABULARY_FILE = Path(__file__).parent / "vocabulary.yaml"


@dataclass(frozen=True)
class Vocabulary:
    record_classes: dict[str, dict[str, Any]]
    tlp: list[str]
    handling: dict[str, str]
    reliability: dict[str, str]
    validity: dict[str, str]
    source_kinds: dict[str, str]

    def record_class(self, name: str) -> str:
        if name not in self.record_classes:
            raise InvalidValue(f"unknown record class {name!r}; one of {', '.join(self.record_classes)}")
        return name

    def tlp_level(self, value: str) -> str:
        level = value.upper().removeprefix("TLP:").replace("WHITE", "CLEAR")
        if level not in self.tlp:
            raise InvalidValue(f"unknown TLP level {value!r}; one of {', '.join(self.tlp)}")
        return level

    def tlp_rank(self, level: str) -> int:
        return self.tlp.index(self.tlp_level(level))

    def handling_markings(self, value: str | list[str] | None) -> list[str]:
        if not value:
            return []
        items = value.replace("/", ",").split(",") if isinstance(value, str) else value
        out: list[str] = []
        for item in items:
            mark = item.strip().upper()
            if not mark:
                continue
            if mark not in self.handling:
                raise InvalidValue(f"unknown handling marking {item!r}; one of {', '.join(self.handling)}")
            if mark not in out:
                out.append(mark)
        return sorted(out)

    def reliability_code(self, value: str) -> str:
        code = str(value).strip().upper()
        if code not in self.reliability:
            raise InvalidValue(f"source reliability must be A-F, not {value!r}")
        return code

    def validity_code(self, value: str | int) -> str:
        code = str(value).strip()
        if code not in self.validity:
            raise InvalidValue(f"content validity must be 1-6, not {value!r}")
        return code

    def source_kind(self, value: str) -> str:
        kind = value.strip().lower()
        if kind not in self.source_kinds:
            raise InvalidValue(f"unknown source kind {value!r}; one of {', '.join(self.source_kinds)}")
        return kind

    def caveat_label(self, tlp: str, handling: list[str]) -> str:
        """The banner text of a record: ``TLP:AMBER LES``."""
        return " ".join([f"TLP:{tlp}", *handling])


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    data = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))
    return Vocabulary(
        record_classes=data["record_classes"],
        tlp=list(data["tlp"]),
        handling=dict(data["handling"]),
        reliability=dict(data["reliability"]),
        validity={str(k): v for k, v in data["validity"].items()},
        source_kinds=dict(data["source_kinds"]),
    )
