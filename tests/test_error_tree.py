"""One exception tree: every public exception class of the package descends from
``AIGatewayError`` (read from the source, so a new module cannot slip past)."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

from ai_gateway.cache.base import CacheUnavailable
from ai_gateway.errors import AIGatewayError, GatewayError, InternalError, InvalidRequest
from ai_gateway.metering.alerts.base import AlertDeliveryError
from ai_gateway.metering.usage_sinks import WriteFailed
from ai_gateway.pipeline.dispatch import ChainFailed
from ai_gateway.providers.base import ProviderError
from ai_gateway.web.render import ForbiddenPage, SignInRequired

SRC = Path(__file__).resolve().parents[1] / "src" / "ai_gateway"
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def test_no_public_exception_roots_outside_the_tree() -> None:
    offences = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
            if bases & BUILTIN_EXCEPTIONS and node.name != "AIGatewayError":
                offences.append(f"{path.relative_to(SRC)}: {node.name}")
    assert offences == []


def test_the_internal_branch_holds_what_never_reaches_a_caller() -> None:
    internal = (
        ProviderError,
        ChainFailed,
        CacheUnavailable,
        WriteFailed,
        AlertDeliveryError,
        SignInRequired,
        ForbiddenPage,
    )
    for cls in internal:
        assert issubclass(cls, InternalError) and not issubclass(cls, GatewayError), cls
    assert issubclass(InvalidRequest, GatewayError)
    assert issubclass(GatewayError, AIGatewayError) and issubclass(InternalError, AIGatewayError)
