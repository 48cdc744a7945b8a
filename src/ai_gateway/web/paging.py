"""Pagers for the dashboard's truncated lists (conversations, fallback events): "showing
26-50 of 60" with previous/next links that keep every other query parameter of the page
(period, source, client, the other list's page), and land on the list's own card.

The REST twins already page by ``limit``/``offset``; a page is a plain link, so paging
works without JavaScript and a page can be bookmarked."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

__all__ = ["MAX_OFFSET", "Pager", "offset_pager"]

#: The deepest offset a page link may ask for (the API's own bound).
MAX_OFFSET = 1_000_000


@dataclass(frozen=True, slots=True)
class Pager:
    first: int
    last: int
    count: int
    previous_href: str | None
    next_href: str | None

    @property
    def needed(self) -> bool:
        return self.previous_href is not None or self.next_href is not None


def _href(request: Request, param: str, offset: int, anchor: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != param]
    if offset:
        query.append((param, str(offset)))
    return f"{request.url.path}?{urlencode(query)}#{anchor}"


def offset_pager(
    request: Request, *, param: str, offset: int, limit: int, shown: int, count: int, anchor: str
) -> Pager:
    previous = _href(request, param, max(0, offset - limit), anchor) if offset > 0 else None
    following = offset + limit
    more = following < count and following <= MAX_OFFSET
    return Pager(
        first=offset + 1 if shown else 0,
        last=offset + shown,
        count=count,
        previous_href=previous,
        next_href=_href(request, param, following, anchor) if more else None,
    )
