"""The CLI end to end: JSON output for scripts, one-line errors, nothing half-written."""

from __future__ import annotations

from sqlalchemy import func, select

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AuditLog, Client
from tests.cli.conftest import RunCli

CLEAR = "sk-proj-CLIKEYCLEARVALUE000000abcd"


def test_help_lists_the_commands(run_cli: RunCli) -> None:
    out = run_cli("--help").stdout
    for command in ("serve", "migrate", "clients", "keys", "secrets", "models", "rollout"):
        assert command in out


def test_clients_create_prints_id_and_key_once(run_cli: RunCli, db: Database) -> None:
    created = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json")
    assert created.exit_code == 0
    doc = created.json()
    assert doc["client"]["plan"] == "pro"
    assert doc["key"].startswith("aigw_")
    listed = run_cli("clients", "list", "--json").json()
    assert [c["name"] for c in listed] == ["acme"]
    assert doc["key"] not in run_cli("keys", "list", "--json").stdout
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) >= 1


def test_bad_input_is_one_line_and_writes_nothing(run_cli: RunCli, db: Database) -> None:
    run_cli("clients", "create", "--name", "dup", "--plan", "free")
    duplicate = run_cli("clients", "create", "--name", "dup", "--plan", "free")
    unknown = run_cli("clients", "create", "--name", "other", "--plan", "gold")
    badtz = run_cli("clients", "create", "--name", "tz", "--plan", "free", "--timezone", "Mars/X")
    for result, words in (
        (duplicate, "exists already"),
        (unknown, "unknown plan 'gold'"),
        (badtz, "unknown timezone"),
    ):
        assert result.exit_code == 1
        assert words in result.stderr
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 1


def test_secrets_come_from_stdin_and_are_never_printed(run_cli: RunCli) -> None:
    result = run_cli("secrets", "set", "openai", "--json", input=CLEAR)
    assert result.exit_code == 0
    assert CLEAR not in result.stdout + result.stderr
    assert result.json() == {"id": "openai", "masked": "sk-...abcd"}
    listed = run_cli("secrets", "list")
    assert "sk-...abcd" in listed.stdout and CLEAR not in listed.stdout


def test_keys_issue_and_revoke(run_cli: RunCli) -> None:
    run_cli("clients", "create", "--name", "k", "--plan", "basic")
    issued = run_cli("keys", "issue", "--client", "k", "--json").json()
    assert issued["role"] == "client"
    revoked = run_cli("keys", "revoke", issued["id"], "--json").json()
    assert revoked["revoked_at"] is not None
    missing = run_cli("keys", "revoke", "nope")
    assert missing.exit_code == 1 and "no key" in missing.stderr


def test_rollout_enables_the_oldest_share(run_cli: RunCli) -> None:
    for i in range(4):
        run_cli("clients", "create", "--name", f"c{i}", "--plan", "free")
    assert run_cli("rollout", "--percent", "50", "--json").json()["enabled"] == 2
    flags = [c["use_ai_gateway"] for c in run_cli("clients", "list", "--json").json()]
    assert flags == [True, True, False, False]


def test_malformed_database_url_is_a_clear_error(run_cli: RunCli) -> None:
    result = run_cli("clients", "list", env={"AI_GATEWAY_DATABASE_URL": "not a url"})
    assert result.exit_code == 1
    assert "not a valid database URL" in result.stderr


def test_missing_master_key_with_secrets_on_postgres(run_cli: RunCli, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        run_cli("secrets", "set", "groq", input="gsk_abcdefghijklmnop")
        return  # the embedded default has its key file; covered by the vault tests
    run_cli("secrets", "set", "groq", input="gsk_abcdefghijklmnop")
    result = run_cli("secrets", "set", "openai", input=CLEAR, env={"AI_GATEWAY_MASTER_KEY": ""})
    assert result.exit_code == 1
    assert "AI_GATEWAY_MASTER_KEY is not set but sealed secrets exist" in result.stderr


def test_migrate_twice_is_a_noop(run_cli: RunCli) -> None:
    first = run_cli("migrate", "--json").json()
    second = run_cli("migrate", "--json").json()
    assert first["to"] == second["from"] == second["to"]


def test_rotate_master_on_the_embedded_default(run_cli: RunCli, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        run_cli("secrets", "set", "openai", input=CLEAR)
        refused = run_cli("secrets", "rotate-master")
        assert refused.exit_code == 1 and "--new-key-stdin" in refused.stderr
        new_key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
        rotated = run_cli("secrets", "rotate-master", "--new-key-stdin", "--json", input=new_key)
        assert rotated.json()["resealed"] == 1
        assert new_key not in rotated.stdout
        still = run_cli(
            "secrets",
            "set",
            "groq",
            input="gsk_x0000000000000000",
            env={"AI_GATEWAY_MASTER_KEY": new_key},
        )
        assert still.exit_code == 0
        return
    run_cli("secrets", "set", "openai", input=CLEAR)
    rotated = run_cli("secrets", "rotate-master", "--json")
    assert rotated.exit_code == 0 and rotated.json()["key_file_updated"] is True
    from pathlib import Path

    from ai_gateway.storage.db import Database
    from ai_gateway.storage.secrets import get_secret
    from ai_gateway.vault import load_or_create_key_file

    db = Database(database_url)
    assert db.sqlite_path is not None
    key = load_or_create_key_file(Path(db.sqlite_path).parent)
    assert key.key_id == rotated.json()["key_id"]
    with db.session() as s:
        assert get_secret(s, master=key, secret_id="openai") == CLEAR
    db.dispose()


def test_clients_set_switches_anthropic_prompt_cache_breakpoints(
    run_cli: RunCli, db: Database
) -> None:
    client_id = run_cli("clients", "create", "--name", "bk", "--plan", "pro", "--json").json()[
        "client"
    ]["id"]
    assert run_cli("clients", "set", client_id, "--prompt-cache-breakpoints").exit_code == 0
    with db.session() as s:
        assert s.get(Client, client_id).prompt_cache_breakpoints is True  # type: ignore[union-attr]
    run_cli("clients", "set", client_id, "--no-prompt-cache-breakpoints")
    with db.session() as s:
        assert s.get(Client, client_id).prompt_cache_breakpoints is False  # type: ignore[union-attr]
