"""The package's layers, read from the imports themselves.

Each top-level package (or module) of ``ai_gateway`` has a rank; a module may import its
own package or one of a lower rank, never a higher one and never a sibling of the same
rank (so no two packages can form a loop)::

    __main__
    app  cli                  entry points
    edge                      the ASGI guard in front of everything
    web                       dashboard pages (call the API's services, render)
    api                       REST + provider-compatible routes, sessions
    gateway                   the assembled service
    jobs                      scheduled work
    services  whatsapp        owners of a resource / the bot
    pipeline                  one request's steps
    metering  changes  bootstrap  demo  cache
    storage  audio
    rules  ratelimit  providers  tracing
    settings  logs  metrics  metrics_multiprocess  vault  i18n
    errors
    __init__  types                                       (core)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ai_gateway"

#: Lowest first; a package imports only from earlier rows (and itself).
RANKS: list[set[str]] = [
    {"__init__", "types"},
    {"errors"},
    {"settings", "logs", "metrics", "metrics_multiprocess", "vault", "i18n"},
    {"rules", "ratelimit", "providers", "tracing"},
    {"storage", "audio"},
    {"metering", "changes", "bootstrap", "demo", "cache"},
    {"pipeline"},
    {"services", "whatsapp"},
    {"jobs"},
    {"gateway"},
    {"api"},
    {"web"},
    {"edge"},
    {"app", "cli"},
    {"__main__"},
]
RANK = {package: rank for rank, packages in enumerate(RANKS) for package in packages}


def _package(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name.split(".")[1] for name in found if name.startswith("ai_gateway.")}


SOURCES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def test_every_package_has_a_rank() -> None:
    assert {_package(path) for path in SOURCES} - set(RANK) == set()


@pytest.mark.parametrize("rank", range(len(RANKS)))
def test_no_package_imports_a_higher_or_sibling_one(rank: int) -> None:
    offences = []
    for path in SOURCES:
        package = _package(path)
        if RANK.get(package) != rank:
            continue
        for target in _imports(path) - {package}:
            if RANK.get(target, len(RANKS)) >= rank:
                offences.append(f"{path.relative_to(SRC)} imports ai_gateway.{target}")
    assert offences == []


def test_the_rules_import_nothing_but_errors_and_themselves() -> None:
    for path in sorted((SRC / "rules").rglob("*.py")):
        assert _imports(path) - {"rules", "errors"} == set(), path.name


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The walk really reads imports: a fake storage module importing the API is caught."""
    module = tmp_path / "fake.py"
    module.write_text("from ai_gateway.api.deps import principal\nimport ai_gateway.errors\n")
    assert _imports(module) == {"api", "errors"}
    assert RANK["api"] > RANK["storage"]
