"""The dependency rule, checked: imports point down only
(web/cli → compliance → lifecycle → quality → platform → kernel), a lifecycle module never
imports another one, and nothing below the entry points imports them. ``pharmaqms.schema``
is the assembly every entry point loads; only entry points and migrations import it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pharmaqms"
LAYERS = {
    "kernel": 0,
    "platform": 1,
    "quality": 2,
    "lifecycle": 3,
    "compliance": 4,
    "web": 5,
    "cli": 5,
}
ENTRY_POINTS = {"web", "cli", "migrations"}


def _module_of(path: Path) -> tuple[str, ...]:
    return path.relative_to(SRC.parent).with_suffix("").parts


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name.split(".")[0] == "pharmaqms"]


def _violations() -> list[str]:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        parts = _module_of(path)
        if len(parts) < 3:
            continue  # pharmaqms/__init__.py, pharmaqms/schema.py: the assembly
        layer = parts[1]
        for line, name in _imports(path):
            target = name.split(".")
            where = f"{path.relative_to(SRC.parent)}:{line} imports {name}"
            if len(target) < 2:
                continue
            if target[1] == "schema" and layer not in ENTRY_POINTS:
                problems.append(f"{where} (only entry points load the assembly)")
                continue
            if layer not in LAYERS or target[1] not in LAYERS:
                continue
            if LAYERS[target[1]] > LAYERS[layer] or (layer == "web" and target[1] == "cli"):
                problems.append(f"{where} (points up)")
            if (
                layer == "lifecycle"
                and target[1] == "lifecycle"
                and len(parts) > 2
                and len(target) > 2
                and parts[2] != target[2]
            ):
                problems.append(f"{where} (sideways between lifecycle modules)")
    return problems


def test_imports_point_down_only() -> None:
    assert _violations() == []


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_layer_exists(layer: str) -> None:
    assert (SRC / layer / "__init__.py").exists()
