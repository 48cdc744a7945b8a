"""CSV for a spreadsheet in the reader's language.

Without a locale the export stays a machine file (``,``, dot decimals, UTC ISO times,
column ids). With ``locale=pt_BR`` it is what Excel and LibreOffice in Brazil open as a
table: ``;`` between cells (the comma is the decimal mark), comma decimals, a UTF-8 BOM
(else Excel reads "Clínica" as "ClÃ­nica"), times in the client's time zone and
translated headers. Amounts stay exact: a Decimal is written digit for digit, with its
trailing zeros dropped, never through a float.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from ai_gateway.i18n import Formatter, number_symbols, translations

__all__ = ["BOM", "CONVERSATION_HEADERS", "write_csv"]

BOM = "\ufeff"

#: column id -> English header (a message id of the catalog).
CONVERSATION_HEADERS = {
    "conversation_id": "Conversation",
    "requests": "Requests",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "cost_usd": "Cost (USD)",
    "cost_brl": "Cost (BRL)",
    "errors": "Errors",
    "cache_hits": "Cache hits",
    "avg_latency_ms": "Avg. latency (ms)",
    "first_at": "First call",
    "last_at": "Last call",
}

_TIME = {"en": "yyyy-MM-dd HH:mm:ss", "pt_BR": "dd/MM/yyyy HH:mm:ss"}


def write_csv(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    *,
    locale: str | None,
    timezone: str,
    headers: dict[str, str],
) -> str:
    """The rows as CSV; ``locale`` None: the machine form."""
    out = io.StringIO()
    if locale is None:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_machine(row[c]) for c in columns])
        return out.getvalue()
    symbols = number_symbols(locale)
    delimiter = ";" if symbols["decimal"] == "," else ","
    writer = csv.writer(out, delimiter=delimiter)
    gettext = translations(locale).gettext
    writer.writerow([gettext(headers.get(c, c)) for c in columns])
    fmt = Formatter(locale, timezone)
    zone = ZoneInfo(fmt.timezone)
    pattern = _TIME.get(locale, _TIME["en"])
    for row in rows:
        writer.writerow(
            [_local(row[c], symbols["decimal"], zone, pattern, locale) for c in columns]
        )
    return BOM + out.getvalue()


def _machine(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _exact(value)
    return _safe(value)


def _local(value: Any, decimal: str, zone: ZoneInfo, pattern: str, locale: str) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(zone), pattern, locale=locale)
    if isinstance(value, float):
        value = Decimal(str(round(value)))  # averages (latency): whole milliseconds
    if isinstance(value, Decimal):
        return _exact(value).replace(".", decimal)
    return _safe(value)


def _exact(value: Decimal) -> str:
    normalized = value.normalize()
    return format(normalized, "f") if normalized else "0"


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to a spreadsheet: defuse caller-set ids.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
