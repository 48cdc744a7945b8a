"""``limits set|show`` through the real CLI, and a change made there reaching a running
gateway within its config version poll."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import select

from ai_gateway.ratelimit.rules import MAX_LIMIT
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AuditLog
from tests.cli.conftest import RunCli
from tests.harness import Harness, harness

__all__ = ["harness"]


def test_set_and_show_client_and_plan_limits(run_cli: RunCli, db: Database) -> None:
    run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json")
    plan = run_cli("limits", "set", "--plan", "pro", "--rpm", "600", "--tpm", "90000", "--json")
    assert plan.exit_code == 0, plan.stderr
    assert plan.json() == {"plan": "pro", "rpm": 600, "tpm": 90000, "concurrency": None}
    result = run_cli("limits", "set", "--client", "acme", "--concurrency", "3", "--json")
    view = result.json()
    assert view["own"] == {"rpm": None, "tpm": None, "concurrency": 3}
    assert view["effective"] == {"rpm": 600, "tpm": 90000, "concurrency": 3}
    # Only the limits given change; the others keep their value.
    view = run_cli("limits", "set", "--client", "acme", "--rpm", "60", "--json").json()
    assert view["own"] == {"rpm": 60, "tpm": None, "concurrency": 3}
    assert run_cli("limits", "show", "--client", "acme", "--json").json() == view
    table = run_cli("limits", "show", "--client", "acme").stdout
    assert "effective" in table.splitlines()[0] and "60" in table
    cleared = run_cli("limits", "set", "--client", "acme", "--clear", "--json").json()
    assert cleared["own"] == {"rpm": None, "tpm": None, "concurrency": None}
    assert cleared["effective"]["rpm"] == 600
    unlimited = run_cli("limits", "set", "--plan", "pro", "--clear", "--json").json()
    assert unlimited == {"plan": "pro", "rpm": None, "tpm": None, "concurrency": None}
    with db.session() as s:
        actors = set(s.scalars(select(AuditLog.actor).where(AuditLog.action.like("rate_%"))))
        count = len(list(s.scalars(select(AuditLog.id).where(AuditLog.action.like("rate_%")))))
    assert actors == {"cli"} and count == 5


def test_bad_limits_are_one_line_errors(run_cli: RunCli) -> None:
    run_cli("clients", "create", "--name", "acme", "--plan", "pro")
    too_big = run_cli("limits", "set", "--client", "acme", "--tpm", str(MAX_LIMIT + 1))
    assert too_big.exit_code == 1
    assert too_big.stderr.strip() == f"error: tpm must be at most {MAX_LIMIT}"
    zero = run_cli("limits", "set", "--plan", "pro", "--rpm", "0")
    assert zero.exit_code == 1 and "rpm must be at least 1" in zero.stderr
    assert run_cli("limits", "set", "--plan", "pro").exit_code == 1  # nothing to set
    assert run_cli("limits", "set", "--plan", "gold", "--rpm", "5").exit_code == 1
    assert run_cli("limits", "show", "--client", "acme", "--plan", "pro").exit_code == 2
    assert run_cli("limits", "show", "--client", "nobody").exit_code == 1
    shown = run_cli("limits", "show", "--client", "acme", "--json").json()
    assert shown["own"] == {"rpm": None, "tpm": None, "concurrency": None}


async def test_a_cli_change_reaches_a_running_gateway(harness: Harness, run_cli: RunCli) -> None:
    h = harness
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        before = await http.post("/v1/chat/completions", json=body, headers=h.headers())
        assert before.status_code == 200 and "x-ratelimit-limit-requests" not in before.headers
        result = await asyncio.to_thread(
            run_cli, "limits", "set", "--client", h.client.id, "--rpm", "1"
        )
        assert result.exit_code == 0, result.stderr
        started, statuses = time.monotonic(), []
        while time.monotonic() - started < 8:
            response = await http.post("/v1/chat/completions", json=body, headers=h.headers())
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
            await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    assert statuses[-1] == 429, statuses
    assert elapsed < 5  # the version poll runs every 2 s
