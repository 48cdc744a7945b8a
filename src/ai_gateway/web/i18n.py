"""Language, money and dates for the dashboard.

Messages live in Babel catalogs (``translations/<locale>/LC_MESSAGES/messages.po``), the
English text being the message id. The ``.po`` files are the only committed form: they
are compiled in memory on first use (``babel.messages.mofile.write_mo``), so a fresh
``pip install -e .`` needs no build step. Money and dates go through Babel too
(``R$ 1.234,56`` in pt-BR, ``R$1,234.56`` in English), dates in the viewer's time zone.
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from starlette.requests import Request

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_COOKIE",
    "Formatter",
    "pick_locale",
    "translations",
]

LOCALES = ("en", "pt_BR")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "aigw_lang"
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
        """A decimal for an input field: ``40.0000000000`` -> ``40``, ``0.5`` stays."""
        amount = _decimal(value).normalize()
        return format(amount, "f")

    def budget(self, value: object, budget_type: str) -> str:
        """A budget amount in its unit: money for brl/usd, a count for tokens."""
        if budget_type in ("brl", "usd"):
            return self.money(value, budget_type)
        return self.number(value) + " tokens"

    def when(self, value: datetime | str | None, fmt: str = "short") -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value.astimezone(self.zone), fmt, locale=self.locale)

    def day(self, value: datetime | str | None) -> str:
        return self.when(value, "d MMM")
