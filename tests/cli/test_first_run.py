"""README's "First steps" on a blank machine: no provider key at all, and the first chat
call answers (the ``simulated`` model is seeded active), through the ``openai`` SDK and
plain HTTP; ``models disable`` then turns it off for the running gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from openai import AsyncOpenAI, NotFoundError

from ai_gateway.settings import Settings
from tests.cli.conftest import RunCli
from tests.harness import start_gateway


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A path where no database exists yet: the CLI creates and migrates it."""
    return f"sqlite:///{tmp_path / 'fresh' / 'ai-gateway.db'}"


async def test_first_steps_answer_without_provider_keys(
    run_cli: RunCli, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "fresh").mkdir()
    assert run_cli("keys", "issue", "--admin").exit_code == 0
    created = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json")
    key = created.json()["key"]
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        ptax_base_url="http://127.0.0.1:9/odata",  # no network: the 5.00 fallback rate
        scheduler_enabled=False,
        usage_writer_process=False,
    )
    _app, server, task, port = await start_gateway(settings)
    base = f"http://127.0.0.1:{port}"
    try:
        sdk = AsyncOpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        answer = await sdk.chat.completions.create(
            model="simulated/demo-chat", messages=[{"role": "user", "content": "Olá!"}]
        )
        assert answer.choices[0].message.content
        async with httpx.AsyncClient(base_url=base) as http:
            curl = await http.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "model": "simulated/demo-chat",
                    "messages": [{"role": "user", "content": "Hi"}],
                },
            )
            assert curl.status_code == 200
            assert curl.headers["x-ai-gateway-provider"] == "simulated"
            home = await http.get("/")
            assert home.status_code in (302, 303, 307) and home.headers["location"] == "/signin"

        assert run_cli("models", "disable", "simulated/demo-chat").exit_code == 0
        async with asyncio.timeout(10):  # the config version poll (2 s) picks it up
            while True:
                try:
                    await sdk.chat.completions.create(
                        model="simulated/demo-chat", messages=[{"role": "user", "content": "?"}]
                    )
                except NotFoundError as exc:
                    assert "inactive" in str(exc)
                    break
                await asyncio.sleep(0.2)
        await sdk.close()
    finally:
        server.exit()
        await task
