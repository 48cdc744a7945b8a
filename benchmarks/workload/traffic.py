"""The synthetic traffic: tenants (Brazilian small businesses answering on WhatsApp),
their long system prompts, an FAQ of intents asked in Portuguese, and conversations.

What makes it look like a WhatsApp FAQ bot's day (and what drives the figures):

* every tenant has a long, stable system prompt (persona, rules, hours, payment,
  delivery, policies and a price list: ~1,500 to ~2,500 tokens), sent on every call;
* tenants get unequal traffic (Zipf, s = 0.8 over tenants);
* a conversation often opens with a greeting from a short list ("oi", "bom dia", ...);
* questions are FAQ intents with a skewed popularity (Zipf, s = 1.1 over ~24 intents);
  half are taps on the bot's interactive list (the option's title: identical text),
  the rest are typed, as one of several paraphrases (Zipf over the phrasings, the usual
  one dominating) with the typing noise people make (case, accents, "vcs", no "?");
* some messages are one-offs that never repeat (an order number, a CEP, a name);
* conversations have 1 to 4 user turns; each call carries the history so far.

Everything comes from one seeded ``random.Random``: the same seed, the same traffic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Conversation", "Faq", "Tenant", "Workload", "build_workload", "zipf_weights"]

BUSINESSES = [
    ("Pizzaria", "pizzas", ["Margherita", "Calabresa", "Portuguesa", "Quatro Queijos"]),
    ("Clínica Odontológica", "tratamentos", ["Limpeza", "Clareamento", "Restauração", "Canal"]),
    ("Loja de Roupas", "peças", ["Camiseta", "Calça jeans", "Vestido", "Jaqueta"]),
    ("Pet Shop", "serviços", ["Banho", "Tosa", "Consulta", "Vacina V10"]),
    ("Academia", "planos", ["Mensal", "Trimestral", "Semestral", "Anual"]),
    ("Salão de Beleza", "serviços", ["Corte", "Escova", "Manicure", "Coloração"]),
    ("Oficina Mecânica", "serviços", ["Troca de óleo", "Alinhamento", "Revisão", "Freios"]),
    ("Farmácia", "produtos", ["Dipirona", "Protetor solar", "Vitamina C", "Fralda"]),
    ("Escola de Idiomas", "cursos", ["Inglês", "Espanhol", "Francês", "Alemão"]),
    ("Hamburgueria", "lanches", ["Clássico", "Bacon", "Vegetariano", "Duplo"]),
]
CITIES = ["São Paulo", "Recife", "Belo Horizonte", "Curitiba", "Salvador", "Porto Alegre"]
GREETINGS = ["oi", "olá", "bom dia", "boa tarde", "Oi, tudo bem?", "boa noite", "oii"]

#: intent -> (the interactive list's option title, typed phrasings, most usual first)
INTENTS: list[tuple[str, list[str]]] = [
    (
        "Horário de funcionamento",
        [
            "qual o horário de funcionamento?",
            "que horas vocês abrem?",
            "vcs abrem domingo?",
            "até que horas funciona hoje?",
            "horario",
        ],
    ),
    (
        "Formas de pagamento",
        [
            "quais as formas de pagamento?",
            "aceita cartão?",
            "posso pagar no débito?",
            "formas de pagamento",
            "aceitam vale refeição?",
        ],
    ),
    (
        "Pagamento com Pix",
        ["aceita pix?", "qual a chave pix?", "posso pagar com pix?", "pix", "vcs tem pix"],
    ),
    (
        "Endereço",
        [
            "qual o endereço?",
            "onde fica a loja?",
            "endereço por favor",
            "como chego aí?",
            "fica perto do metrô?",
        ],
    ),
    (
        "Entrega",
        [
            "vocês entregam?",
            "fazem entrega no meu bairro?",
            "tem delivery?",
            "entrega",
            "entregam hoje?",
        ],
    ),
    (
        "Taxa de entrega",
        ["qual a taxa de entrega?", "quanto é o frete?", "frete grátis?", "valor da entrega"],
    ),
    (
        "Prazo de entrega",
        [
            "quanto tempo demora a entrega?",
            "qual o prazo de entrega?",
            "chega hoje?",
            "demora muito?",
        ],
    ),
    (
        "Tabela de preços",
        [
            "quanto custa?",
            "qual o preço?",
            "me manda a tabela de preços",
            "valores",
            "tem promoção?",
        ],
    ),
    (
        "Promoções",
        ["tem alguma promoção?", "promoção de hoje", "tem desconto?", "cupom de desconto"],
    ),
    (
        "Agendar horário",
        [
            "quero agendar",
            "tem horário amanhã?",
            "como faço pra marcar?",
            "agendamento",
            "posso marcar pra sábado?",
        ],
    ),
    (
        "Cancelar ou remarcar",
        ["quero cancelar", "preciso remarcar", "como cancelo?", "cancelamento"],
    ),
    (
        "Trocas e devoluções",
        ["como faço uma troca?", "posso devolver?", "política de troca", "prazo pra troca"],
    ),
    (
        "Status do pedido",
        [
            "cadê meu pedido?",
            "meu pedido já saiu?",
            "status do pedido",
            "quanto falta pro meu pedido chegar?",
        ],
    ),
    (
        "Falar com atendente",
        ["quero falar com um atendente", "atendente", "falar com humano", "tem alguém aí?"],
    ),
    (
        "Parcelamento",
        ["parcela no cartão?", "em quantas vezes posso parcelar?", "parcelamento", "faz em 3x?"],
    ),
    ("Nota fiscal", ["emite nota fiscal?", "preciso da nota fiscal", "nota fiscal com cnpj"]),
    ("Estacionamento", ["tem estacionamento?", "onde posso estacionar?", "estacionamento"]),
    ("Feriados", ["abre no feriado?", "funciona feriado?", "vai abrir no carnaval?"]),
    ("Garantia", ["tem garantia?", "qual a garantia?", "garantia de quanto tempo?"]),
    (
        "Cardápio / catálogo",
        ["me manda o cardápio", "tem catálogo?", "o que vocês têm?", "cardapio"],
    ),
    (
        "Primeira vez",
        ["é minha primeira vez, como funciona?", "como funciona?", "nunca comprei aí"],
    ),
    ("Trabalhe conosco", ["vocês estão contratando?", "tem vaga?", "trabalhe conosco"]),
    ("Acessibilidade", ["tem acessibilidade?", "tem rampa?", "acessível pra cadeirante?"]),
    ("Wi-Fi", ["tem wifi?", "qual a senha do wifi?", "wi-fi"]),
]


def zipf_weights(n: int, s: float) -> list[float]:
    """Weights of ranks 1..n under Zipf's law with exponent ``s``."""
    return [1 / (rank**s) for rank in range(1, n + 1)]


@dataclass(frozen=True)
class Faq:
    title: str
    phrasings: list[str]


@dataclass(frozen=True)
class Tenant:
    name: str
    system_prompt: str


@dataclass
class Conversation:
    tenant: int
    contact: str
    #: the user's messages, in order; the assistant's answers come from the gateway.
    turns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Workload:
    tenants: list[Tenant]
    conversations: list[Conversation]

    @property
    def requests(self) -> int:
        return sum(len(c.turns) for c in self.conversations)


def _system_prompt(rng: random.Random, index: int) -> tuple[str, str]:
    kind, noun, items = BUSINESSES[index % len(BUSINESSES)]
    city = CITIES[index % len(CITIES)]
    name = (
        f"{kind} {rng.choice(['Bom Sabor', 'Central', 'Vida', 'Sol', 'Estrela', 'Real'])} {index}"
    )
    opens, closes = rng.choice([(8, 18), (9, 19), (10, 22), (7, 17), (11, 23)])
    lines = [
        f"Você é o assistente virtual da {name}, em {city}, e atende clientes pelo WhatsApp.",
        "Responda sempre em português do Brasil, de forma curta, simpática e objetiva, em no",
        "máximo três frases. Nunca invente informações: se não souber, ofereça falar com um",
        "atendente humano. Não peça dados pessoais além do necessário e nunca peça senhas.",
        f"Horário: de segunda a sexta das {opens}h às {closes}h; sábados das {opens}h às 14h;",
        "domingos e feriados fechado, salvo aviso nas redes sociais.",
        f"Endereço: Rua {rng.choice(['das Flores', 'XV de Novembro', 'da Praia', 'Augusta'])},"
        f" {rng.randint(10, 2000)}, {city}. Há estacionamento conveniado na mesma quadra.",
        "Pagamento: Pix (chave CNPJ), cartões de crédito e débito, dinheiro e vale-refeição;",
        "parcelamento em até 3x sem juros no cartão acima de R$ 150,00.",
        f"Entrega: raio de {rng.randint(3, 12)} km, taxa de R$ {rng.randint(4, 12)},00, grátis",
        f"acima de R$ {rng.choice([80, 100, 120])},00; prazo médio de 40 a 60 minutos.",
    ]
    # Policies and a price list: what makes a real bot's prompt long and stable.
    for section in ("Trocas e devoluções", "Cancelamentos", "Privacidade", "Atendimento"):
        lines.append(f"{section}:")
        for rule in range(rng.randint(6, 9)):
            lines.append(
                f"- Regra {rule + 1} de {section.lower()}: o cliente deve ser informado com"
                f" clareza sobre prazos de {rng.randint(1, 30)} dias, condições e exceções,"
                " sempre com respeito e sem prometer o que a loja não pode cumprir."
            )
    lines.append(f"Tabela de {noun} (preços em reais):")
    for item in items:
        for size in ("pequeno", "médio", "grande", "família", "promocional"):
            price = rng.randint(15, 400)
            lines.append(
                f"- {item} {size}: R$ {price},{rng.randint(0, 99):02d}; disponível"
                f" {rng.choice(['todos os dias', 'de terça a sábado', 'sob encomenda'])}."
            )
    lines.append("Perguntas frequentes: responda com base apenas nas informações acima.")
    return name, "\n".join(lines)


def _noise(rng: random.Random, text: str) -> str:
    """How people type: sometimes no capital, no accent, no '?', 'vcs' for 'vocês'."""
    roll = rng.random()
    if roll < 0.08:
        return text.rstrip("?")
    if roll < 0.13:
        return text.capitalize()
    if roll < 0.16:
        return text.replace("vocês", "vcs").replace("ê", "e").replace("ã", "a")
    return text


def build_workload(
    *,
    tenants: int = 40,
    conversations: int = 2500,
    seed: int = 7,
    button_share: float = 0.5,
    one_off_share: float = 0.1,
) -> Workload:
    rng = random.Random(seed)
    built = [Tenant(*_system_prompt(rng, i)) for i in range(tenants)]
    tenant_weights = zipf_weights(tenants, 0.8)
    intent_weights = zipf_weights(len(INTENTS), 1.1)
    greeting_weights = zipf_weights(len(GREETINGS), 1.2)
    convs: list[Conversation] = []
    for number in range(conversations):
        tenant = rng.choices(range(tenants), tenant_weights)[0]
        conversation = Conversation(tenant, f"55119{number:08d}")
        if rng.random() < 0.5:
            conversation.turns.append(rng.choices(GREETINGS, greeting_weights)[0])
        for _ in range(rng.choices([1, 2, 3], [0.6, 0.3, 0.1])[0]):
            conversation.turns.append(_question(rng, intent_weights, button_share, one_off_share))
        convs.append(conversation)
    return Workload(built, convs)


def _question(
    rng: random.Random, weights: list[float], button_share: float, one_off_share: float
) -> str:
    if rng.random() < one_off_share:
        return rng.choice(
            [
                f"meu pedido {rng.randint(10000, 99999)} não chegou",
                f"vocês entregam no CEP {rng.randint(10000, 99999)}-{rng.randint(100, 999)}?",
                f"aqui é {rng.choice(['Ana', 'João', 'Maria', 'Pedro'])}, "
                f"queria saber do pedido de {rng.randint(1, 28)}/{rng.randint(1, 12)}",
            ]
        )
    title, phrasings = rng.choices(INTENTS, weights)[0]
    if rng.random() < button_share:
        return title
    return _noise(rng, rng.choices(phrasings, zipf_weights(len(phrasings), 1.0))[0])
