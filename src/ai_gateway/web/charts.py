"""Chart data built from the REST API's answers, for the pages' ``<script type=
"application/json">`` blocks: labels in the viewer's language, money as exact decimal
strings (Chart.js's linear scale parses them; no float ever holds a price)."""

from __future__ import annotations

from typing import Any

from ai_gateway.i18n import Formatter
from ai_gateway.services.schemas import CostSavings

__all__ = ["savings_chart"]


def savings_chart(savings: CostSavings, fmt: Formatter) -> dict[str, Any]:
    """Per day: BRL saved by the response cache and by prompt caching, and the cost
    reduction (%) they add up to."""
    series = savings.series
    return {
        "labels": [fmt.day(point.day) for point in series],
        "cache": [format(point.cache_saved_brl, "f") for point in series],
        "prompt": [format(point.prompt_cache_saved_brl, "f") for point in series],
        "reduction": [format(point.cost_reduction_percent, "f") for point in series],
    }
