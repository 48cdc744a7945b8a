"""Start-up of the CLI: ``--help`` and ``--version`` import nothing heavy (they ran in
2-3 s when every command module was imported first), and the help table that makes that
possible lists exactly the commands the modules provide."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from ai_gateway.cli.main import COMMANDS, MODULES, _Cli

HEAVY = ("fastapi", "starlette", "sqlalchemy", "aiohttp", "pydantic", "uvicorn", "alembic")

_PROBE = """
import sys
from ai_gateway.cli.main import cli
try:
    cli([{arg!r}], prog_name="ai-gateway")
except SystemExit as exc:
    assert exc.code == 0, exc.code
print("loaded:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("arg", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(arg: str) -> None:
    probe = _PROBE.format(arg=arg, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "loaded:"
    if arg == "--help":
        for name in COMMANDS:
            assert name in done.stdout


def test_the_help_table_matches_the_modules() -> None:
    group = _Cli(name="probe")
    group.load_all()
    assert list(group.commands) == list(COMMANDS)
    for name, command in group.commands.items():
        module, short = COMMANDS[name]
        assert command.callback is not None
        assert command.callback.__module__ == f"ai_gateway.cli.{module}", name
        assert short == command.get_short_help_str(limit=1000), name
    assert {module for module, _ in COMMANDS.values()} == set(MODULES)


def test_a_command_loads_only_its_module() -> None:
    group = _Cli(name="probe")
    ctx = click.Context(group)
    assert group.get_command(ctx, "keys") is not None
    assert set(group.commands) == {"keys"}
    assert group.get_command(ctx, "no-such-command") is None
