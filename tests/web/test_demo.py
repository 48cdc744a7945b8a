"""``serve --demo`` data: realistic, seeded once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ai_gateway.demo import CLIENTS, DEMO_MODEL, seed_demo
from ai_gateway.metering.current_usage import current_usage
from ai_gateway.storage import migrate
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AiModel, Client, UsageLog


def test_demo_seeds_once_with_weeks_of_traffic(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate.upgrade(db)
    keys = seed_demo(db, scale=0.2)
    assert keys is not None and keys.admin_key.startswith("aigw_")
    assert seed_demo(db, scale=0.2) is None
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == len(CLIENTS)
        model = s.get(AiModel, DEMO_MODEL)
        assert model is not None and model.is_active
        first, last, rows = s.execute(
            select(func.min(UsageLog.created_at), func.max(UsageLog.created_at), func.count())
        ).one()
        assert rows > 1000
        assert (last - first).days >= 20
        hits = s.scalar(select(func.count()).where(UsageLog.cache_hit.is_(True)))
        fallbacks, errors = s.execute(
            select(func.count(UsageLog.fallback_from), func.count(UsageLog.error_code))
        ).one()
        assert hits and fallbacks and errors
        client_id = s.scalar(select(Client.id).where(Client.name == keys.client_name))
        assert client_id is not None
        assert current_usage(s, client_id=client_id).usage > 0
    db.dispose()
