"""``ai-gateway whatsapp``: numbers with sealed tokens read from stdin, never shown."""

from __future__ import annotations

from sqlalchemy import select

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import Secret, WhatsAppNumber
from tests.cli.conftest import RunCli

TOKEN = "EAAGclearTOKENvalue000000wxyz"


def test_add_number_reads_the_token_from_stdin_and_lists_it_masked(
    run_cli: RunCli, db: Database
) -> None:
    run_cli("clients", "create", "--name", "acme", "--plan", "pro")
    added = run_cli(
        "whatsapp", "add-number", "--client", "acme", "--phone-number-id", "106540352242922",
        "--model", "openai/gpt-4o-mini", "--system-prompt", "Seja breve.", "--history", "6",
        "--reply", "budget=Volte amanhã!", "--json",
        input=TOKEN,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert TOKEN not in added.stdout + added.stderr
    doc = added.json()
    assert doc["history_length"] == 6 and doc["language"] == "pt-BR"
    assert doc["replies"] == {"budget": "Volte amanhã!"}
    listed = run_cli("whatsapp", "list", "--json")
    assert TOKEN not in listed.stdout
    [number] = listed.json()
    assert number["token_masked"] == "EAA...wxyz"
    assert run_cli("whatsapp", "list", "--client", "acme").stdout.count("106540352242922") == 1
    with db.session() as s:
        sealed = s.get(Secret, "whatsapp:106540352242922")
        assert sealed is not None and TOKEN.encode() not in sealed.ciphertext
        assert s.scalar(select(WhatsAppNumber.system_prompt)) == "Seja breve."


def test_add_number_refuses_bad_input_in_one_line(run_cli: RunCli) -> None:
    run_cli("clients", "create", "--name", "acme", "--plan", "pro")
    run_cli("clients", "create", "--name", "other", "--plan", "pro")
    base = ["whatsapp", "add-number", "--phone-number-id", "123", "--model"]
    cases = [
        ([*base, "openai/gpt-4o", "--client", "ghost"], "no client"),
        ([*base, "no/such-model", "--client", "acme"], "unknown model"),
        (["whatsapp", "add-number", "--phone-number-id", "+55 11", "--model", "openai/gpt-4o",
          "--client", "acme"], "digits only"),
    ]  # fmt: skip
    for args, words in cases:
        result = run_cli(*args, input=TOKEN)
        assert result.exit_code == 1 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert run_cli(*base, "openai/gpt-4o", "--client", "acme", input=TOKEN).exit_code == 0
    taken = run_cli(*base, "openai/gpt-4o", "--client", "other", input=TOKEN)
    assert taken.exit_code == 1 and "belongs to another client" in taken.stderr


def test_webhook_secrets_go_to_the_vault(run_cli: RunCli) -> None:
    result = run_cli("whatsapp", "set-secret", "app-secret", "--json", input="s3cr3t-app-value-123")
    assert result.exit_code == 0
    assert result.json()["id"] == "whatsapp:app_secret"
    assert "s3cr3t-app-value-123" not in result.stdout
