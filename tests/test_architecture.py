"""The layout's promises, checked: data flows one way and domain code knows no HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fusionhub"
INTERFACES = {"api", "web", "cli"}
#: What each base layer may import from the package (besides itself).
BASE_LAYERS = {
    "model": set(),
    "store": {"model", "config"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        layer = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
        out.append((layer, path))
    return out


def test_domain_code_imports_no_web_framework_or_cli() -> None:
    offenders = []
    for layer, path in _modules():
        for name in _imports(path):
            top = name.split(".")[0]
            if top in {"fastapi", "starlette", "uvicorn"} and layer not in {"api", "web", "cli"}:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
            if top in {"typer", "click"} and layer != "cli":
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, offenders


def test_nothing_imports_the_interface_layers() -> None:
    offenders = []
    for layer, path in _modules():
        if layer in INTERFACES or layer == "__main__":
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "fusionhub" and len(parts) > 1 and parts[1] in INTERFACES:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, offenders


def test_base_layers_import_only_what_is_below_them() -> None:
    offenders = []
    for layer, path in _modules():
        allowed = BASE_LAYERS.get(layer)
        if allowed is None:
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "fusionhub" and len(parts) > 1 and parts[1] != layer and parts[1] not in allowed:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, offenders
