"""The seed's load test as a locustfile: WhatsApp customers of several tenants asking
their bots questions in Portuguese (:mod:`benchmarks.load.traffic`), half of the answers
streamed, each user thinking 0.5 to 2 s between messages.

Run it through ``python -m benchmarks.load`` (which starts the cluster, seeds the
tenants and reports the gateway's own figures), or by hand against a running gateway::

    LOAD_KEYS_FILE=keys.json locust -f benchmarks/load/locustfile.py --headless \\
        --users 50 --spawn-rate 10 --run-time 5m --host http://127.0.0.1:8080

``keys.json`` is a JSON list of client API keys, one per tenant. A call's time is from
sending it to the last byte of its answer (for a stream, its ``[DONE]``): locust's own
client stops the clock at the headers of a streamed answer, so the calls are timed here
and reported as locust request events, named ``chat`` or ``stream`` and ``HIT`` or
``MISS`` (the gateway's ``x-ai-gateway-cache`` header).
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import requests
from locust import User, between, task

from benchmarks.load.traffic import LoadTraffic

_KEYS: list[str] = json.loads(Path(os.environ["LOAD_KEYS_FILE"]).read_text())
_TRAFFIC = LoadTraffic(len(_KEYS))


class WhatsAppCustomer(User):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self._rng = random.Random()
        self._http = requests.Session()

    def on_stop(self) -> None:
        self._http.close()

    @task
    def ask(self) -> None:
        call = _TRAFFIC.next_call(self._rng)
        headers = {
            "Authorization": f"Bearer {_KEYS[call.tenant]}",
            "X-Conversation-Id": call.conversation_id,
        }
        kind = "stream" if call.stream else "chat"
        started = time.perf_counter()
        error: Exception | None = None
        length, hit = 0, False
        try:
            with self._http.post(
                f"{self.host}/v1/chat/completions",
                json=call.body,
                headers=headers,
                stream=call.stream,
                timeout=60,
            ) as answer:
                body = answer.content  # the whole answer, streamed or not
                length = len(body)
                hit = answer.headers.get("x-ai-gateway-cache") == "HIT"
                if answer.status_code != 200:
                    error = RuntimeError(f"HTTP {answer.status_code}")
                elif call.stream and not body.rstrip().endswith(b"[DONE]"):
                    error = RuntimeError("the stream ended without [DONE]")
        except requests.RequestException as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="POST",
            name=f"{kind} {'HIT' if hit else 'MISS'}",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )
