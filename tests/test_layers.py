"""The package's layers, read from the imports themselves: pure rules at the bottom, then
storage, metering, the request pipeline, the services that own a resource, and the edges
(API, web, CLI, jobs) on top. A module may import its own layer or a lower one only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ai_gateway"

#: Packages, lowest first. ``errors``, ``settings`` & co. sit below everything.
LAYERS = ["rules", "storage", "metering", "pipeline", "services"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("ai_gateway.")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_higher_one(layer: str) -> None:
    higher = set(LAYERS[LAYERS.index(layer) + 1 :]) | {
        "api",
        "web",
        "cli",
        "jobs",
        "gateway",
        "app",
    }
    offences = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for module in _imports(path):
            target = module.split(".")[1] if "." in module else ""
            if target in higher:
                offences.append(f"{path.relative_to(SRC)} imports {module}")
    assert offences == []


def test_the_rules_import_nothing_but_errors_and_themselves() -> None:
    for path in sorted((SRC / "rules").rglob("*.py")):
        others = {m for m in _imports(path) if _layer(m) != "rules" and m != "ai_gateway.errors"}
        assert others == set(), path.name
