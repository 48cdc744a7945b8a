"""A labelled set of question pairs for the semantic cache's false-hit rate.

Each pair is asked in a scope of its own (first question, then the second); a pair is
labelled **equivalent** when the second may reuse the first's answer, **not** when the
answer differs. The non-equivalent pairs are the hard case of semantic caching: the same
words with another product, size, plan, date, weekday, time, quantity or city — nearly
the same sentence, a different answer. The equivalent pairs are rewordings a WhatsApp
user types (case, accents, punctuation, a greeting or "por favor" around the question),
so the set also shows what share of true paraphrases the cache catches.

Deterministic for a seed: the same pairs every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from benchmarks.workload.traffic import BUSINESSES, CITIES

__all__ = ["LabelledPair", "build_pairs"]

_SIZES = ["pequena", "média", "grande", "família"]
_PLANS = ["mensal", "trimestral", "semestral", "anual"]
_WEEKDAYS = ["segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo"]
_RELATIVE = [("hoje", "amanhã"), ("hoje", "ontem"), ("amanhã", "sábado")]


@dataclass(frozen=True)
class LabelledPair:
    first: str
    second: str
    equivalent: bool
    #: what differs (``product``, ``date``, ...) or ``paraphrase``
    kind: str


def _two(rng: random.Random, options: list[str]) -> tuple[str, str]:
    a, b = rng.sample(options, 2)
    return a, b


def _non_equivalent(rng: random.Random) -> LabelledPair:
    kind = rng.choice(["product", "size", "plan", "date", "weekday", "time", "times", "city"])
    _business, _noun, items = rng.choice(BUSINESSES)
    tail = rng.choice(["", " pra entrega hoje à noite", " no cartão", " com desconto"])
    if kind == "product":
        a, b = _two(rng, items)
        template = rng.choice(
            [
                "quanto custa {x}{tail}?",
                "qual o preço do {x} tamanho grande{tail}?",
                "vocês têm {x} disponível{tail}?",
            ]
        )
        # Typed in lower case, as on WhatsApp: no capital letter to tell the names apart.
        return LabelledPair(
            template.format(x=a.lower(), tail=tail),
            template.format(x=b.lower(), tail=tail),
            False,
            kind,
        )
    if kind == "size":
        a, b = _two(rng, _SIZES)
        item = rng.choice(items).lower()
        template = "quanto custa a {item} {x}{tail}?"
        return LabelledPair(
            template.format(item=item, x=a, tail=tail),
            template.format(item=item, x=b, tail=tail),
            False,
            kind,
        )
    if kind == "plan":
        a, b = _two(rng, _PLANS)
        template = "qual o valor do plano {x} da academia{tail}?"
        return LabelledPair(
            template.format(x=a, tail=tail), template.format(x=b, tail=tail), False, kind
        )
    if kind == "date":
        day, month = rng.randint(1, 27), rng.randint(1, 12)
        template = "tem horário disponível no dia {d}/{m} pra {item}?"
        item = rng.choice(items).lower()
        return LabelledPair(
            template.format(d=day, m=month, item=item),
            template.format(d=day + 1, m=month, item=item),
            False,
            kind,
        )
    if kind == "weekday":
        if rng.random() < 0.5:
            a, b = _two(rng, _WEEKDAYS)
        else:
            a, b = rng.choice(_RELATIVE)
        template = rng.choice(["vocês abrem {x}?", "tem entrega {x} no meu bairro?"])
        return LabelledPair(template.format(x=a), template.format(x=b), False, kind)
    if kind == "time":
        hour = rng.randint(8, 19)
        template = "tem horário às {h}h pra {item}?"
        item = rng.choice(items).lower()
        return LabelledPair(
            template.format(h=hour, item=item),
            template.format(h=hour + 1, item=item),
            False,
            kind,
        )
    if kind == "times":
        n = rng.randint(2, 9)
        template = "posso parcelar em {n}x sem juros{tail}?"
        return LabelledPair(
            template.format(n=n, tail=tail), template.format(n=n + 1, tail=tail), False, kind
        )
    a, b = _two(rng, CITIES)
    template = "vocês entregam em {x}{tail}?"
    return LabelledPair(
        template.format(x=a, tail=tail), template.format(x=b, tail=tail), False, kind
    )


def _reworded(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.25:
        return text.rstrip("?")
    if roll < 0.5:
        return text.capitalize()
    if roll < 0.7:
        return f"oi, {text}"
    if roll < 0.85:
        return text.rstrip("?") + ", por favor?"
    return text.replace("á", "a").replace("ç", "c").replace("ê", "e").replace("ã", "a")


def _paraphrase(rng: random.Random) -> LabelledPair:
    _business, _noun, items = rng.choice(BUSINESSES)
    item = rng.choice(items).lower()
    question = rng.choice(
        [
            f"quanto custa {item}?",
            f"qual o preço do {item} tamanho grande?",
            "qual o horário de funcionamento no sábado?",
            "vocês aceitam pix e cartão de crédito?",
            f"vocês entregam em {rng.choice(CITIES)}?",
            "qual o endereço da loja?",
            f"tem horário às {rng.randint(8, 19)}h pra {item}?",
            "como faço uma troca de produto?",
        ]
    )
    second = _reworded(rng, question)
    if second == question:
        second = question.rstrip("?")
    return LabelledPair(question, second, True, "paraphrase")


def build_pairs(
    *, non_equivalent: int = 400, equivalent: int = 100, seed: int = 11
) -> list[LabelledPair]:
    rng = random.Random(seed)
    pairs = [_non_equivalent(rng) for _ in range(non_equivalent)]
    pairs += [_paraphrase(rng) for _ in range(equivalent)]
    return [p for p in pairs if p.first != p.second]
