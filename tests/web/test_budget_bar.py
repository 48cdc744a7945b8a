"""The BudgetProgressBar tells the truth: its words depend on the pause setting ("new calls
are refused" only when they are), and its colour on where the period is heading, not only
on what is used."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from ai_gateway.api.budget import CurrentUsagePublic
from ai_gateway.i18n import Formatter
from ai_gateway.web.client_views import _tone
from ai_gateway.web.render import _environment


def usage(used: str, projected: str, limit: str = "100") -> CurrentUsagePublic:
    u, p, lim = Decimal(used), Decimal(projected), Decimal(limit)
    return CurrentUsagePublic(
        client_id="c1",
        usage=u,
        limit=lim,
        percentage=u * 100 / lim,
        remaining=max(lim - u, Decimal(0)),
        budget_type="brl",
        period="monthly",
        period_start="2026-11-01T00:00:00+00:00",
        period_end="2026-12-01T00:00:00+00:00",
        days_left=20,
        projected_usage=p,
    )


@pytest.mark.parametrize(
    ("used", "projected", "tone"),
    [
        ("10", "40", "green"),
        ("10", "95", "yellow"),  # heading for 95 %
        ("10", "130", "orange"),  # 10 % used, but the period ends past the limit
        ("10", "250", "red"),  # heading for 2.5x the limit
        ("72", "80", "yellow"),
        ("90", "95", "orange"),
        ("100", "100", "red"),
    ],
)
def test_the_colour_follows_the_projection_too(used: str, projected: str, tone: str) -> None:
    assert _tone(usage(used, projected)) == tone


def _render(
    view: CurrentUsagePublic, *, pause: bool, paused: bool = False, lang: str = "en"
) -> str:
    viewer = SimpleNamespace(principal=SimpleNamespace(is_admin=False))
    template = _environment(lang).get_template("_budget_progress_bar.html")
    return template.render(
        usage=view,
        tone=_tone(view),
        pause_at_limit=pause,
        paused=paused,
        over_projection=view.projected_usage > view.limit,
        client=SimpleNamespace(id="c1"),
        viewer=viewer,
        fmt=Formatter(lang, "America/Sao_Paulo"),
    )


def test_the_words_depend_on_the_pause_setting() -> None:
    full = usage("120", "200")
    assert "new calls are refused" in _render(full, pause=True)
    without = _render(full, pause=False)
    assert "refused" not in without and "calls go on" in without
    heading = usage("20", "150")
    assert "will be refused once the limit is reached" in _render(heading, pause=True)
    assert "calls will go on past it" in _render(heading, pause=False)
    assert 'data-budget-state="paused"' in _render(usage("20", "30"), pause=False, paused=True)
    assert "alert" not in _render(usage("20", "30"), pause=True)
    portuguese = _render(full, pause=False, lang="pt_BR")
    assert "as chamadas continuam" in portuguese and "recusadas" not in portuguese
