"""Drive the real CLI in-process with an isolated environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ai_gateway.cli import _common
from ai_gateway.cli.main import cli


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


RunCli = Callable[..., CliResult]


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import os

    for key in list(os.environ):
        if key.startswith("AI_GATEWAY_") or key == "ENABLE_AI_GATEWAY":
            monkeypatch.delenv(key, raising=False)
    env = {"AI_GATEWAY_DATA_DIR": str(tmp_path / "data"), "AI_GATEWAY_DATABASE_URL": database_url}
    if not database_url.startswith("sqlite"):
        env["AI_GATEWAY_MASTER_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    return env


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> RunCli:
    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        _common.settings.cache_clear()
        _common.database.cache_clear()
        runner = CliRunner()
        result = runner.invoke(
            cli, list(args), input=input, env={**cli_env, **(env or {})}, catch_exceptions=False
        )
        if _common.database.cache_info().currsize:
            _common.database().dispose()
        _common.database.cache_clear()
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


from tests.fakes.fixtures import fake_providers  # noqa: E402  (for the serve tests)

__all__ = ["fake_providers"]
