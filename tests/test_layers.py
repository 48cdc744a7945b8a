"""The package's layers, read from the imports themselves.

Each top-level package (or module) of ``ai_gateway`` has a rank; a module may import its
own package or one of a lower rank, never a higher one and never a sibling of the same
rank (so no two packages can form a loop)::

    __main__
    app  cli                  entry points
    edge                      the ASGI guard in front of everything
    web                       dashboard pages (call the services, render; from the API
                              only its session, error handlers and helpers, no router)
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


def _modules(path: Path, *, names: bool = False) -> set[str]:
    """The ``ai_gateway`` modules ``path`` imports, dotted; with ``names``, also what a
    ``from`` import takes (``from ai_gateway.api import cache``: ``ai_gateway.api.cache``,
    which may be a module or just a name)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if names:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("ai_gateway.")}


def _imports(path: Path) -> set[str]:
    return {name.split(".")[1] for name in _modules(path)}


def _source(module: str, root: Path = SRC) -> Path | None:
    """The file of a dotted ``ai_gateway`` module (None: not a module, e.g. a class)."""
    parts = module.split(".")[1:]
    for candidate in (
        root.joinpath(*parts).with_suffix(".py"),
        root.joinpath(*parts, "__init__.py"),
    ):
        if candidate.is_file():
            return candidate
    return None


def _routers_imported(path: Path, root: Path = SRC) -> list[str]:
    """The API modules ``path`` imports that hold routes (they build an ``APIRouter``)."""
    found = []
    for module in sorted(_modules(path, names=True)):
        source = _source(module, root) if module.startswith("ai_gateway.api.") else None
        if source is not None and "APIRouter(" in source.read_text():
            found.append(module)
    return found


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


def test_pages_call_services_not_route_functions() -> None:
    """A page reads and changes through the services its REST twin uses, never by calling
    a route function (an internal API that hides what the page depends on)."""
    offences = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in SOURCES
        if _package(path) == "web"
        for module in _routers_imported(path)
    ]
    assert offences == []


def test_the_route_check_catches_a_page_calling_a_route(tmp_path: Path) -> None:
    """Both import forms of a router module are caught; its helpers' modules are not."""
    api = tmp_path / "api"
    api.mkdir()
    (api / "things.py").write_text("from fastapi import APIRouter\nrouter = APIRouter()\n")
    (api / "common.py").write_text("def actor() -> str:\n    return 'x'\n")
    page = tmp_path / "page.py"
    page.write_text(
        "from ai_gateway.api import things as things_api\n"
        "from ai_gateway.api.things import router\n"
        "from ai_gateway.api.common import actor\n"
    )
    assert _routers_imported(page, tmp_path) == ["ai_gateway.api.things"]


def test_the_rules_import_nothing_but_errors_and_themselves() -> None:
    for path in sorted((SRC / "rules").rglob("*.py")):
        assert _imports(path) - {"rules", "errors"} == set(), path.name


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The walk really reads imports: a fake storage module importing the API is caught."""
    module = tmp_path / "fake.py"
    module.write_text("from ai_gateway.api.deps import principal\nimport ai_gateway.errors\n")
    assert _imports(module) == {"api", "errors"}
    assert RANK["api"] > RANK["storage"]
