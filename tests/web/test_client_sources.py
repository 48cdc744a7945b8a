"""The client's analytics page switches between all data, gateway calls and the legacy
usage imported from the old app (the migration's toggle), over plain HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx

from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness
from tests.web.test_session import _signed_in


async def test_source_toggle_shows_legacy_and_gateway_apart(harness: Harness) -> None:
    write_rows(
        harness.db,
        [
            usage_row(
                harness.client.id,
                route="legacy",
                conversation_id="old-chat",
                cost_brl=Decimal("1.2300000000"),
                days_ago=3,
            ),
            usage_row(harness.client.id, route="direct", conversation_id="new-chat"),
        ],
    )
    async with httpx.AsyncClient(base_url=harness.url) as http:
        await _signed_in(http, harness.key)
        pages = {
            s: (await http.get("/dashboard/analytics", params={"source": s})).text
            for s in ("all", "gateway", "legacy")
        }
    assert 'id="source-toggle"' in pages["all"]
    assert (
        'data-source="legacy"' in pages["legacy"]
        and 'class="on" data-source="legacy"' in (pages["legacy"])
    )
    assert "old-chat" in pages["legacy"] and "new-chat" not in pages["legacy"]
    assert "new-chat" in pages["gateway"] and "old-chat" not in pages["gateway"]
    assert "old-chat" in pages["all"] and "new-chat" in pages["all"]
    # The CSV export and the period links keep the chosen source.
    assert "conversations.csv?period=30d&amp;source=legacy" in pages["legacy"]
