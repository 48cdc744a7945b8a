"""Language choice, catalogs and money/date formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.requests import Request

from ai_gateway.i18n import Formatter, pick_locale, translations

WEB = Path(__file__).parents[2] / "src" / "ai_gateway" / "web"
CATALOG = WEB.parent / "i18n" / "translations/pt_BR/LC_MESSAGES/messages.po"


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
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    used: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', template.read_text()))
    assert used - translated == set()
    assert translations("pt_BR").gettext("Sign in") == "Entrar"


SRC = Path(__file__).parents[2] / "src" / "ai_gateway"


def test_every_marked_message_in_python_is_translated() -> None:
    """Error codes, statuses, fallback reasons and CSV headers: shown on pt-BR pages."""
    from ai_gateway.i18n.csv_export import CONVERSATION_HEADERS

    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    used = set(CONVERSATION_HEADERS.values())
    for module in [*WEB.glob("*.py"), *CATALOG.parents[3].glob("*.py")]:
        used |= set(re.findall(r'N_\(\s*"((?:[^"\\]|\\.)*)"', module.read_text()))
    assert len(used) > 80
    assert used - translated == set()


def test_every_error_code_in_the_source_has_a_message() -> None:
    """A page translates an API error by its code: a new code needs its words."""
    from ai_gateway.web.messages import ERRORS

    pattern = re.compile(r'(?:default_code = |code=|"code": )"([a-z_]+)"')
    codes: set[str] = set()
    for module in SRC.rglob("*.py"):
        codes |= set(pattern.findall(module.read_text()))
    assert {"limit_not_positive", "not_found", "invalid_value"} <= codes
    assert codes - set(ERRORS) == set()


def test_numbers_for_input_fields_are_exact_and_local() -> None:
    pt, en = Formatter("pt_BR", "UTC"), Formatter("en", "UTC")
    assert pt.input_number("1000.5000000000") == "1.000,5"
    assert en.input_number("1234567.25") == "1,234,567.25"
    assert pt.input_number("0.000125") == "0,000125"
    assert pt.input_number("-12") == "-12"
    assert pt.input_number("999") == "999"


def test_one_date_format_per_language() -> None:
    moment = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
    assert Formatter("pt_BR", "UTC").when(moment, "medium") == "25/11/2026 15:04"
    assert Formatter("en", "UTC").when(moment) == "Nov 25, 2026, 15:04"


def test_a_chart_day_is_its_own_day_in_every_time_zone() -> None:
    assert Formatter("pt_BR", "America/Sao_Paulo").day("2026-11-10") == "10 nov."
    assert Formatter("en", "Asia/Tokyo").day("2026-11-10") == "10 Nov"
