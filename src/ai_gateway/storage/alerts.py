"""Sent alerts: ``budget_alerts`` (per client, threshold, period, channel) and
``gateway_alerts`` (per anomaly kind, scope, window).

"At most once" is the database's job: an alert is *claimed* by inserting its row, and the
unique key makes a second claim (another call crossing the same threshold, the hourly
job, another replica) fail, so only the claimer sends. Each claim is its own short
transaction, committed before anything is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AiModel, BudgetAlert, GatewayAlert

__all__ = [
    "claim_budget_alert",
    "claim_gateway_alert",
    "finish_budget_alert",
    "finish_gateway_alert",
    "sent_thresholds",
    "unpriced_models",
]


def claim_budget_alert(
    db: Database,
    *,
    client_id: str,
    threshold: int,
    period_start: datetime,
    channel: str,
    recipient: str | None,
) -> int | None:
    """The new row's id, or None when this alert was claimed already."""
    return _claim(
        db,
        BudgetAlert(
            client_id=client_id,
            threshold=threshold,
            period_start=period_start,
            channel=channel,
            recipient=recipient,
        ),
    )


def finish_budget_alert(db: Database, *, alert_id: int, error: str | None) -> None:
    _finish(db, BudgetAlert, alert_id, error)


def _claim(db: Database, row: BudgetAlert | GatewayAlert) -> int | None:
    """Insert the alert's row in its own transaction: its unique key lets exactly one
    caller (task, job or replica) win the right to send it."""
    try:
        with db.write() as session:
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        return None


def _finish(
    db: Database, table: type[BudgetAlert] | type[GatewayAlert], alert_id: int, error: str | None
) -> None:
    with db.write() as session:
        session.execute(
            update(table).where(table.id == alert_id).values(delivered=error is None, error=error)
        )


def sent_thresholds(db: Database, *, client_id: str, period_start: datetime) -> set[int]:
    """Thresholds with at least one claimed alert in the period."""
    with db.session() as session:
        return set(
            session.scalars(
                select(BudgetAlert.threshold).where(
                    BudgetAlert.client_id == client_id, BudgetAlert.period_start == period_start
                )
            )
        )


def claim_gateway_alert(
    db: Database, *, kind: str, scope: str, window_start: datetime, details: dict[str, Any]
) -> int | None:
    return _claim(
        db, GatewayAlert(kind=kind, scope=scope, window_start=window_start, details=details)
    )


def finish_gateway_alert(db: Database, *, alert_id: int, error: str | None) -> None:
    _finish(db, GatewayAlert, alert_id, error)


def unpriced_models(session: Session) -> list[tuple[str, datetime]]:
    """Models calls were made with while they had no price (alerted once each), that
    still have none: what the dashboard warns about. (model id, first seen)."""
    seen = session.execute(
        select(GatewayAlert.scope, GatewayAlert.created_at)
        .where(GatewayAlert.kind == "unpriced_model")
        .order_by(GatewayAlert.created_at)
    ).all()
    priced = set(
        session.scalars(
            select(AiModel.id).where(
                AiModel.input_price_per_1m.is_not(None), AiModel.output_price_per_1m.is_not(None)
            )
        )
    )
    return [(scope, at) for scope, at in seen if scope not in priced]
