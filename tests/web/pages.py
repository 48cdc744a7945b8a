"""Helpers of the browser tests: sign in, wait for charts, read a chart's data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page


async def sign_in(page: Page, base: str, key: str, *, next_path: str = "") -> None:
    await page.goto(f"{base}/signin" + (f"?next={next_path}" if next_path else ""))
    await page.fill("#api_key", key)
    await page.click("form[action='/signin'] button[type=submit]")
    await page.wait_for_load_state("networkidle")


async def open_page(page: Page, url: str) -> int:
    response = await page.goto(url)
    await page.wait_for_selector("body[data-ready='1']")
    return response.status if response else 0


async def chart_points(page: Page, canvas_id: str) -> list[int]:
    """How many points each dataset of the Chart.js chart on ``canvas_id`` holds."""
    counts: list[int] = await page.evaluate(
        """(id) => {
            const chart = window.aigwCharts[id];
            return chart ? chart.data.datasets.map((d) => d.data.length) : [];
        }""",
        canvas_id,
    )
    return counts


async def painted_pixels(page: Page, canvas_id: str) -> int:
    """Non-transparent pixels of a canvas: a rendered chart has thousands."""
    count: int = await page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const context = canvas.getContext('2d');
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
            return painted;
        }""",
        canvas_id,
    )
    return count


async def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def cookie_header(cookies: list[Any]) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)
