"""``GET /api/ai-gateway/usage-quarantine``: the usage rows the database refused (admin).

They hold every client's rows, so only the operator sees them. Each carries the
database's reason and whether its budget amount was counted; the JSON document of the
row is there to fix and replay it.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ai_gateway.api.common import ERRORS, PageDep
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.storage.usage import count_quarantined, list_quarantined

__all__ = ["QuarantinedPublic", "QuarantinedsPublic", "router"]

router = APIRouter(
    prefix="/api/ai-gateway/usage-quarantine", tags=["usage quarantine"], responses=ERRORS
)


class QuarantinedPublic(BaseModel):
    id: str
    client_id: str | None
    request_id: str | None
    reason: str
    budget_applied: bool
    quarantined_at: datetime
    payload: str


class QuarantinedsPublic(BaseModel):
    data: list[QuarantinedPublic]
    count: int


@router.get("", summary="Usage rows the database refused, newest first")
async def read_quarantine(
    gateway: GatewayDep, _admin: AdminDep, page: PageDep
) -> QuarantinedsPublic:
    def run() -> QuarantinedsPublic:
        with gateway.db.session() as s:
            return _page(s, page.limit, page.offset)

    return await gateway.db.run(run)


def _page(session: Session, limit: int, offset: int) -> QuarantinedsPublic:
    rows = list_quarantined(session, limit=limit, offset=offset)
    return QuarantinedsPublic(
        data=[
            QuarantinedPublic(
                id=r.id,
                client_id=r.client_id,
                request_id=r.request_id,
                reason=r.reason,
                budget_applied=r.budget_applied,
                quarantined_at=r.quarantined_at,
                payload=r.payload,
            )
            for r in rows
        ],
        count=count_quarantined(session),
    )
