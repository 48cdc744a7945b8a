"""Where a client's alert webhook may point: names are resolved, and every address they
resolve to must be global (no DNS is reached: the resolver is a fake)."""

from __future__ import annotations

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.alerts.webhook_urls import check_webhook_url


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


DNS = {
    "hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "rebind.example.com": ["93.184.215.14", "192.168.0.10"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
}


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://rebind.example.com/h", "webhook_not_public"),
        ("https://mapped.example.com/h", "webhook_not_public"),
        ("https://nowhere.example.com/h", "webhook_host_unresolvable"),
        ("https://224.0.0.1/h", "webhook_not_public"),
        ("https://0.0.0.0/h", "webhook_not_public"),
        ("not a url", "invalid_webhook_url"),
        ("https:///path-only", "invalid_webhook_url"),
    ],
)
async def test_refused(url: str, code: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await check_webhook_url(url, allow_private=False, resolve=resolver(DNS))
    assert caught.value.code == code


async def test_a_public_name_passes_and_the_operator_may_allow_private() -> None:
    url = "https://hooks.example.com/ai?token=x"
    assert await check_webhook_url(url, allow_private=False, resolve=resolver(DNS)) == url
    local = "http://127.0.0.1:9000/hook"
    assert await check_webhook_url(local, allow_private=True, resolve=resolver({})) == local
    # Allowing private addresses never allows another scheme.
    with pytest.raises(InvalidRequest):
        await check_webhook_url("file:///etc/passwd", allow_private=True)
