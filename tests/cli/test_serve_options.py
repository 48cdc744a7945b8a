"""``serve`` refuses bad options with click's own errors, before anything starts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ai_gateway.cli.main import cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "99999 is not in the range 1<=x<=65535"),
        (["--port", "0"], "0 is not in the range"),
        (["--port", "-1"], "not in the range"),
        (["--port", "http"], "'http' is not a valid integer"),
        (["--host", "not a host!"], "neither an IP address nor a host name"),
        (["--host", ""], "neither an IP address nor a host name"),
        (["--workers", "0"], "0 is not in the range 1<=x<=64"),
    ],
)
def test_bad_serve_options_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_bad_edge_settings_are_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ai_gateway.cli._common import settings

    settings.cache_clear()
    monkeypatch.setenv("AI_GATEWAY_MAX_CONNECTIONS", "0")
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "8080"])
    finally:
        settings.cache_clear()
    assert result.exit_code == 2
    assert "AI_GATEWAY_MAX_CONNECTIONS" in result.output
