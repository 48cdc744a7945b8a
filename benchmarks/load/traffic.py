"""What the load test's users send: WhatsApp customers of a few Brazilian small
businesses asking their bot questions in Portuguese.

The questions are the workload benchmark's FAQ (``benchmarks/workload/traffic.py``:
intents asked as the bot's list option or typed as one of several phrasings, plus
greetings) with a skewed popularity (Zipf over intents and over phrasings), so popular
questions repeat and the response cache has something to do; a share of messages are
one-offs that never repeat (an order number, a CEP). Each tenant has its own short
system prompt and API key, and the cache is per client, so a question repeats only
within a tenant. About half of the calls stream, as a bot that types its answer out
does.

Everything comes from a ``random.Random`` the caller seeds, so the locust users and the
asyncio driver of the CI variant send the same kind of traffic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from benchmarks.workload.traffic import BUSINESSES, CITIES, GREETINGS, INTENTS, zipf_weights

__all__ = ["MODEL", "LoadCall", "LoadTraffic"]

#: The simulated chat model (no network): the load is the gateway's, not a provider's.
MODEL = "simulated/demo-chat"
_INTENT_WEIGHTS = zipf_weights(len(INTENTS), 1.1)
_GREETING_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class LoadCall:
    """One request: which tenant's key, the body, and a conversation id."""

    tenant: int
    body: dict[str, Any]
    conversation_id: str

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


def _system_prompt(index: int) -> str:
    business, noun, items = BUSINESSES[index % len(BUSINESSES)]
    city = CITIES[index % len(CITIES)]
    return (
        f"Você é o assistente virtual da {business} Exemplo {index + 1}, em {city}. "
        f"Responda em português, com educação e em poucas frases. Nossos {noun}: "
        f"{', '.join(items)}. Atendemos de segunda a sábado, das 9h às 19h. "
        "Aceitamos Pix, cartão de crédito e débito. Não invente preços nem prazos."
    )


class LoadTraffic:
    def __init__(
        self, tenants: int, *, stream_share: float = 0.5, one_off_share: float = 0.15
    ) -> None:
        self.tenants = tenants
        self.stream_share = stream_share
        self.one_off_share = one_off_share
        self._prompts = [_system_prompt(i) for i in range(tenants)]
        # Busier tenants send more (Zipf over tenants, as real platforms see).
        self._tenant_weights = zipf_weights(tenants, 0.8)

    def question(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < self.one_off_share:
            return rng.choice(
                [
                    f"cadê meu pedido {rng.randrange(10_000, 99_999)}?",
                    f"entregam no CEP {rng.randrange(10_000, 99_999)}-{rng.randrange(100, 999)}?",
                    f"meu nome é cliente {rng.randrange(1_000_000)}, quero agendar",
                ]
            )
        if roll < self.one_off_share + _GREETING_SHARE:
            return rng.choice(GREETINGS)
        title, phrasings = rng.choices(INTENTS, weights=_INTENT_WEIGHTS)[0]
        if rng.random() < 0.5:
            return title  # a tap on the bot's list: the option's exact text
        return rng.choices(phrasings, weights=zipf_weights(len(phrasings), 1.2))[0]

    def next_call(self, rng: random.Random) -> LoadCall:
        tenant = rng.choices(range(self.tenants), weights=self._tenant_weights)[0]
        stream = rng.random() < self.stream_share
        body: dict[str, Any] = {
            "model": MODEL,
            "messages": [
                {"role": "system", "content": self._prompts[tenant]},
                {"role": "user", "content": self.question(rng)},
            ],
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        conversation = f"wa-{tenant}-{rng.randrange(100_000)}"
        return LoadCall(tenant=tenant, body=body, conversation_id=conversation)
