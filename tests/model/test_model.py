"""The entity model loads from YAML, resolves inheritance and refuses broken schemata."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionhub.model import InvalidModel, Model, load_model


def test_model_has_the_fields_entities() -> None:
    model = load_model()
    for name in (
        "Person",
        "Organization",
        "Vehicle",
        "Location",
        "Address",
        "Phone",
        "Email",
        "Identifier",
        "Weapon",
        "Property",
        "Incident",
        "Arrest",
        "SuspiciousActivityReport",
        "Tip",
    ):
        assert name in model.schemata
    person = model.get("Person")
    assert person.is_a("Party") and person.is_a("Thing")
    assert person.get("birthDate").type.name == "date"
    assert person.get("address").type.name == "address"  # inherited from Party
    assert model.get("Address").is_a("Location")


def test_relationships_carry_roles_and_edges() -> None:
    model = load_model()
    involvement = model.get("Involvement")
    assert involvement.is_relationship
    assert {"suspect", "victim", "witness", "reporting-party", "arrestee"} <= set(involvement.roles)
    for name, roles in {
        "Ownership": {"owner", "driver"},
        "Residence": {"resident"},
        "Employment": {"employee"},
        "Association": {"associate"},
    }.items():
        assert roles <= set(model.get(name).roles)
    assert "Person" in model.descendants("Party")


def _write(tmp: Path, text: str) -> Path:
    (tmp / "x.yaml").write_text(text)
    return tmp


def test_dangling_parent_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(InvalidModel, match="unknown schema"):
        Model(_write(tmp_path, "A:\n  extends: [Nope]\n"))


def test_unknown_type_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(InvalidModel, match="unknown type"):
        Model(_write(tmp_path, "A:\n  properties:\n    p: {type: colour}\n"))


def test_cycle_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(InvalidModel, match="cycle"):
        Model(
            _write(
                tmp_path,
                "A:\n  extends: [B]\n  properties: {p: {type: string}}\nB:\n  extends: [A]\n  properties: {q: {type: string}}\n",
            )
        )


def test_bad_range_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(InvalidModel, match="range"):
        Model(_write(tmp_path, "A:\n  properties:\n    p: {type: entity, range: Ghost}\n"))
