"""Language choice, catalogs and money/date formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.requests import Request

from ai_gateway.web.i18n import Formatter, pick_locale, translations

WEB = Path(__file__).parents[2] / "src" / "ai_gateway" / "web"


def _request(accept: str = "", cookie: str = "") -> Request:
    headers = [(b"accept-language", accept.encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return Request({"type": "http", "headers": headers, "method": "GET", "path": "/"})


@pytest.mark.parametrize(
    ("accept", "cookie", "expected"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "", "pt_BR"),
        ("pt-PT", "", "pt_BR"),
        ("en-US,en;q=0.9", "", "en"),
        ("de-DE", "", "en"),
        ("", "", "en"),
        ("pt-BR", "aigw_lang=en", "en"),
        ("en", "aigw_lang=pt_BR", "pt_BR"),
        ("en", "aigw_lang=xx", "en"),
    ],
)
def test_locale_from_cookie_then_accept_language(accept: str, cookie: str, expected: str) -> None:
    assert pick_locale(_request(accept, cookie)) == expected


def test_money_and_dates_per_locale() -> None:
    pt, en = Formatter("pt_BR", "America/Sao_Paulo"), Formatter("en", "UTC")
    assert pt.money("1234.56", "BRL") == "R$\xa01.234,56"
    assert en.money("1234.56", "USD") == "$1,234.56"
    assert pt.money("0.00123", "BRL", digits=4) == "R$\xa00,0012"
    assert pt.percent(0.174) == "17,4%"
    assert pt.budget("1500000", "tokens") == "1.500.000 tokens"
    noon = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert pt.when(noon) == "25/11/2026 12:00"  # São Paulo is UTC-3
    assert Formatter("en", "Not/AZone").timezone == "UTC"


def test_every_message_in_the_templates_is_translated() -> None:
    with (WEB / "translations/pt_BR/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    used: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', template.read_text()))
    assert used - translated == set()
    assert translations("pt_BR").gettext("Sign in") == "Entrar"
