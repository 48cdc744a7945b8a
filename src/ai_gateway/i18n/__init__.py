"""Language, money and dates for the dashboard and the API's exports.

Messages live in Babel catalogs (``translations/<locale>/LC_MESSAGES/messages.po``), the
English text being the message id. The ``.po`` files are the only committed form: they
are compiled in memory on first use (``babel.messages.mofile.write_mo``), so a fresh
``pip install -e .`` needs no build step. Money and dates go through Babel too
(``R$ 1.234,56`` in pt-BR, ``R$1,234.56`` in English), dates in the viewer's time zone,
one date-and-time format per language. Numbers in form fields are written the viewer's way
too (``1.000,5``); ``app.js`` reads them back with the same two symbols, into exact
decimal strings for the API.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
)
from starlette.requests import Request

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_COOKIE",
    "TIMEZONE_COOKIE",
    "Formatter",
    "browser_timezone",
    "number_symbols",
    "pick_locale",
    "translations",
]

LOCALES = ("en", "pt_BR")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "aigw_lang"
#: The browser's IANA time zone, set by ``app.js``: the operator's pages show times in it.
TIMEZONE_COOKIE = "aigw_tz"
#: One pattern for a date with its time, per language (never two ways on one site).
_DATETIME = {"en": "MMM d, yyyy, HH:mm", "pt_BR": "dd/MM/yyyy HH:mm"}
_CATALOGS = Path(__file__).parent / "translations"


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of ``locale`` (English: the message ids themselves)."""
    path = _CATALOGS / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick_locale(request: Request) -> str:
    """The cookie set by the language switch, else the best of ``Accept-Language``."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    header = request.headers.get("accept-language", "")
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",")]
    try:
        best = Locale.negotiate([w for w in wanted if w], LOCALES, sep="_")
    except (UnknownLocaleError, ValueError):
        best = None
    if best is not None and str(best) in LOCALES:
        return str(best)
    if any(w.lower().startswith("pt") for w in wanted):
        return "pt_BR"
    return DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES))
def number_symbols(locale: str) -> dict[str, str]:
    """The decimal and grouping symbols of ``locale`` (``,`` and ``.`` in pt-BR)."""
    return {"decimal": get_decimal_symbol(locale), "group": get_group_symbol(locale)}


def browser_timezone(request: Request) -> str | None:
    """The time zone the browser reported, if it is a real IANA name."""
    name = request.cookies.get(TIMEZONE_COOKIE)
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


class Formatter:
    """Jinja filters bound to one locale and one time zone."""

    def __init__(self, locale: str, timezone: str | None) -> None:
        self.locale = locale
        self.zone = _zone(timezone)
        self.timezone = self.zone.key

    def money(self, value: object, currency: str = "BRL", *, digits: int = 2) -> str:
        amount = _decimal(value)
        pattern = None
        if digits != 2:
            # The locale's own pattern (symbol position, spacing) with more decimals.
            standard = Locale.parse(self.locale).currency_formats["standard"].pattern
            pattern = standard.replace("0.00", "0." + "0" * digits)
        return format_currency(
            amount, currency.upper(), format=pattern, locale=self.locale, currency_digits=False
        )

    def number(self, value: object, digits: int = 0) -> str:
        amount = _decimal(value)
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(amount, format=fmt, locale=self.locale)

    def percent(self, value: object, digits: int = 1) -> str:
        """``value`` is a fraction (0.25 -> 25 %)."""
        fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(_decimal(value), format=fmt, locale=self.locale)

    def plain(self, value: object) -> str:
        """A machine decimal: ``40.0000000000`` -> ``40``, ``0.5`` stays."""
        amount = _decimal(value).normalize()
        return format(amount, "f")

    def input_number(self, value: object) -> str:
        """A decimal for an input field, exact and in the viewer's way: ``1000.5`` ->
        ``1.000,5`` in pt-BR, ``1,000.5`` in English (what ``app.js`` parses back)."""
        text = self.plain(value)
        sign = "-" if text.startswith("-") else ""
        whole, _, fraction = text.lstrip("-").partition(".")
        symbols = number_symbols(self.locale)
        groups: list[str] = []
        while len(whole) > 3:
            whole, groups = whole[:-3], [whole[-3:], *groups]
        grouped = symbols["group"].join([whole, *groups])
        return sign + grouped + (symbols["decimal"] + fraction if fraction else "")

    def integer(self, value: object) -> str:
        """A whole number with the locale's grouping (``1.234 ms``)."""
        return self.number(_decimal(value).to_integral_value())

    def budget(self, value: object, budget_type: str) -> str:
        """A budget amount in its unit: money for brl/usd, a count for tokens."""
        if budget_type in ("brl", "usd"):
            return self.money(value, budget_type)
        return self.number(value) + " tokens"

    def when(self, value: datetime | str | None, fmt: str | None = None) -> str:
        """A date and time in the viewer's zone, in the language's one format (``fmt`` is
        accepted for older templates and ignored: a site writes dates one way)."""
        del fmt
        if value is None:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        pattern = _DATETIME.get(self.locale, _DATETIME[DEFAULT_LOCALE])
        return format_datetime(value.astimezone(self.zone), pattern, locale=self.locale)

    def day(self, value: date | datetime | str | None) -> str:
        """A calendar day (a chart label): ``2026-11-10`` is 10 Nov wherever one looks
        from (no time-zone shift: the day is already the bucket's own)."""
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, "d MMM", locale=self.locale)
