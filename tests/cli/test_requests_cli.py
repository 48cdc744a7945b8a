"""``ai-gateway requests list|store|purge``: pages by cursor with the explorer's filters,
the LGPD opt-in per client, and purges; bad input is one line on stderr, exit 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ai_gateway.storage.db import Database
from ai_gateway.storage.request_bodies import count_bodies, save_bodies
from ai_gateway.storage.tables import new_id
from tests.api.usage_rows import usage_row, write_rows
from tests.cli.conftest import RunCli


def test_list_pages_and_filters(run_cli: RunCli, database_url: str) -> None:
    acme = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json").json()
    other = run_cli("clients", "create", "--name", "globex", "--plan", "pro", "--json").json()
    acme_id, other_id = str(acme["client"]["id"]), str(other["client"]["id"])
    db = Database(database_url)
    try:
        rows = [usage_row(acme_id, days_ago=i) for i in range(5)]
        write_rows(db, [*rows, usage_row(other_id, status="error")])
    finally:
        db.dispose()
    first = run_cli("requests", "list", "--client", "acme", "--limit", "3", "--json").json()
    assert [r["id"] for r in first["data"]] == [r["id"] for r in rows[:3]]
    cursor = first["next_cursor"]
    second = run_cli(
        "requests", "list", "--client", "acme", "--limit", "3", "--cursor", cursor, "--json"
    ).json()
    assert [r["id"] for r in second["data"]] == [r["id"] for r in rows[3:]]
    assert second["next_cursor"] is None
    errors = run_cli("requests", "list", "--status", "error", "--json").json()
    assert [r["client_id"] for r in errors["data"]] == [other_id]
    table = run_cli("requests", "list", "--limit", "2")
    assert table.exit_code == 0 and "next page: --cursor" in table.stdout
    bad = run_cli("requests", "list", "--cursor", "garbage")
    assert bad.exit_code == 1 and "cursor" in bad.stderr
    unknown = run_cli("requests", "list", "--client", "nobody")
    assert unknown.exit_code == 1
    assert run_cli("requests", "list", "--status", "exploded").exit_code == 2


def test_store_and_purge(run_cli: RunCli, database_url: str) -> None:
    doc = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json").json()
    client_id = str(doc["client"]["id"])
    on = run_cli(
        "requests", "store", "--client", "acme", "--on", "--retention-days", "10", "--json"
    )
    assert on.json() == {"client_id": client_id, "store_bodies": True, "retention_days": 10}
    assert (
        run_cli("requests", "store", "--client", "acme", "--on", "--retention-days", "0").exit_code
        == 2
    )
    db = Database(database_url)
    now = datetime.now(UTC)
    body = {"request": {"messages": [{"role": "user", "content": "x"}]}, "response": None}
    try:
        with db.write() as s:
            save_bodies(
                s,
                [
                    (
                        {
                            "id": new_id(),
                            "client_id": client_id,
                            "created_at": now - timedelta(days=d),
                        },
                        body | {"retention_days": 10},
                    )
                    for d in (0, 5, 20)
                ],
            )
    finally:
        db.dispose()
    expired = run_cli("requests", "purge", "--json").json()
    assert expired == {"deleted": 1}
    older = run_cli("requests", "purge", "--client", "acme", "--older-than-days", "3", "--json")
    assert older.json() == {"deleted": 1}
    assert run_cli("requests", "purge", "--older-than-days", "3").exit_code == 2
    off = run_cli("requests", "store", "--client", "acme", "--off", "--json").json()
    assert off["store_bodies"] is False
    db = Database(database_url)
    try:
        with db.session() as s:
            assert count_bodies(s) == 0  # turning it off deletes what was kept
    finally:
        db.dispose()
