"""``ai-gateway clients set --semantic-cache --semantic-threshold``: the client's opt-in."""

from __future__ import annotations

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import Client
from tests.cli.conftest import RunCli


def test_clients_set_opts_in_to_the_semantic_cache(run_cli: RunCli, db: Database) -> None:
    created = run_cli("clients", "create", "--name", "sem", "--plan", "pro", "--json")
    client_id = created.json()["client"]["id"]
    result = run_cli(
        "clients", "set", client_id, "--semantic-cache", "--semantic-threshold", "0.95"
    )
    assert result.exit_code == 0, result.output
    with db.session() as s:
        row = s.get(Client, client_id)
        assert row is not None
        assert (row.semantic_cache, row.semantic_cache_threshold) == (True, 0.95)
    assert run_cli("clients", "set", client_id, "--semantic-threshold", "2").exit_code != 0
    run_cli("clients", "set", client_id, "--no-semantic-cache")
    with db.session() as s:
        row = s.get(Client, client_id)
        assert row is not None and row.semantic_cache is False
