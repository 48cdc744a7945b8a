"""CPU per call of planning it: the attempt plan (``routing.plan_attempts``) and the budget
reservation's worst case (``estimate.reservation_estimator``), the two steps of the
pipeline's first half that price or build something for every model of the fallback chain.

    PYTHONPATH=src:. python -m benchmarks.call_planning [--calls 20000] [--repeat 7]

The seeded registry and fallback chain on a fresh SQLite file; the best of ``--repeat``
runs (the minimum is the figure least disturbed by a busy machine).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from ai_gateway.pipeline.config_cache import ConfigCache
from ai_gateway.pipeline.estimate import reservation_estimator
from ai_gateway.pipeline.routing import plan_attempts, resolve_model
from ai_gateway.pipeline.validation import parse_chat_request
from ai_gateway.settings import Settings
from ai_gateway.storage import migrate
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database

BODY = {
    "model": "openai/gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "Você é o assistente da Loja Exemplo. " * 20},
        {"role": "user", "content": "Qual o horário de funcionamento no sábado?"},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        migrate.upgrade(db)
        with db.write() as session:
            client = create_client(session, name="bench", plan="enterprise")
        settings = Settings(data_dir=Path(folder))
        snapshot = asyncio.run(ConfigCache(db, None, settings).reload())
        request, _options = parse_chat_request(BODY)
        model = resolve_model(snapshot, "openai/gpt-4o-mini")
        rate = Decimal("5.4321")

        def plan_one() -> Decimal:
            attempts = plan_attempts(
                snapshot, route="direct", model=model, requested_fallbacks=None, client=client
            )
            return reservation_estimator(request, [a.model for a in attempts], rate)("brl")

        chain = len(
            plan_attempts(
                snapshot, route="direct", model=model, requested_fallbacks=None, client=client
            )
        )
        best = float("inf")
        for _ in range(args.repeat):
            started = time.process_time()
            for _ in range(args.calls):
                plan_one()
            best = min(best, time.process_time() - started)
        print(f"{chain} models in the chain: {best / args.calls * 1e6:.1f} µs CPU per call")
        db.dispose()


if __name__ == "__main__":
    main()
