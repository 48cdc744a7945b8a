"""The seed's integration test, in Python: a signed WhatsApp notification POSTed to the
running service is answered through the shared gateway, logged for the right tenant and
conversation, priced in BRL at the stored rate, and charged to the client's budget — on
SQLite and on PostgreSQL. Plus redelivery, bad signatures, a paused client and a dead
provider chain."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import func, select

from ai_gateway.metering.pricing import ModelPrice, compute_cost, to_brl
from ai_gateway.storage.clients import update_client
from ai_gateway.storage.tables import AiModel, UsageLog, WhatsAppMessage
from ai_gateway.storage.whatsapp import add_number
from ai_gateway.vault import MasterKey
from ai_gateway.whatsapp.replies import LANGUAGES
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.whatsapp_payloads import notification, post_signed, status_notification
from tests.harness import Harness

NUMBER = "106540352242922"
CONTACT = "5511987654321"
TOKEN = "EAAGtestWHATSAPPtoken000123"
MODEL = "openai/gpt-4o-mini"
PT = LANGUAGES["pt-BR"]


def register_number(h: Harness, **overrides: object) -> None:
    assert h.settings.master_key is not None
    with h.db.write() as s:
        add_number(
            s,
            master=MasterKey.from_base64(h.settings.master_key),
            client_id=h.client.id,
            phone_number_id=NUMBER,
            model=MODEL,
            access_token=TOKEN,
            system_prompt="Você é o assistente da Acme. Responda em português.",
            **overrides,  # type: ignore[arg-type]
        )


async def settle(h: Harness) -> None:
    async with asyncio.timeout(10):
        await h.gateway.whatsapp.drain()
    await h.drain()


def usage_rows(h: Harness) -> list[UsageLog]:
    with h.db.session() as s:
        return list(s.scalars(select(UsageLog).order_by(UsageLog.id)))


def message_count(h: Harness) -> int:
    with h.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(WhatsAppMessage)) or 0)


async def test_message_is_answered_metered_and_billed(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register_number(harness)
    status, _ = await post_signed(
        harness.url, notification(phone_number_id=NUMBER, wamid="wamid.A1")
    )
    assert status == 200
    await settle(harness)

    # The reply reached the Graph API with the number's own token.
    [sent] = fake_graph.requests
    assert sent.phone_number_id == NUMBER and sent.to == CONTACT
    assert sent.text == "Fake openai answer to: Oi, tudo bem?"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body["messaging_product"] == "whatsapp" and sent.body["type"] == "text"
    # The model saw the system prompt and the contact's message.
    upstream = harness.fake.last_request("openai").body["messages"]
    assert upstream[0]["role"] == "system" and upstream[-1]["content"] == "Oi, tudo bem?"

    # One usage row, for the right tenant and conversation, priced at the stored rate.
    [row] = usage_rows(harness)
    assert row.client_id == harness.client.id
    assert row.conversation_id == f"whatsapp:{CONTACT}"
    assert row.status == "success" and row.model_used == MODEL
    assert row.exchange_rate == Decimal("5.00")
    with harness.db.session() as s:
        model = s.get(AiModel, MODEL)
        assert model is not None
        price = ModelPrice(
            model.input_price_per_1m, model.output_price_per_1m, model.cached_input_price_per_1m
        )
    cost = compute_cost(
        price,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cached_tokens=row.cached_tokens,
    )
    assert row.input_tokens > 0 and row.output_tokens > 0
    assert row.cost_usd == cost.usd > 0
    assert row.cost_brl == to_brl(cost.usd, row.exchange_rate)
    # The budget (enterprise plan: BRL) grew by exactly that.
    assert harness.budget_usage(harness.client.id) == row.cost_brl

    with harness.db.session() as s:
        stored = s.scalars(select(WhatsAppMessage).order_by(WhatsAppMessage.id)).all()
    assert [(m.direction, m.status) for m in stored] == [("in", "answered"), ("out", "sent")]
    assert stored[1].text == sent.text and stored[1].request_id == row.request_id


async def test_history_feeds_the_next_answer(harness: Harness, fake_graph: FakeGraph) -> None:
    register_number(harness, history_length=2)
    for i, text in enumerate(["primeira", "segunda", "terceira"]):
        payload = notification(phone_number_id=NUMBER, wamid=f"wamid.H{i}", text=text)
        assert (await post_signed(harness.url, payload))[0] == 200
        await settle(harness)
    last = harness.fake.last_request("openai").body["messages"]
    # system + the last 2 stored messages: the previous answer and the new question.
    assert [m["role"] for m in last] == ["system", "assistant", "user"]
    assert last[1]["content"] == "Fake openai answer to: segunda"
    assert last[2]["content"] == "terceira"
    assert len(fake_graph.requests) == 3


async def test_redelivery_is_answered_and_billed_once(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register_number(harness)
    payload = notification(phone_number_id=NUMBER, wamid="wamid.DUP")
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    assert (await post_signed(harness.url, payload))[0] == 200  # Meta retries
    racing = notification(phone_number_id=NUMBER, wamid="wamid.RACE")
    results = await asyncio.gather(*(post_signed(harness.url, racing) for _ in range(5)))
    assert {status for status, _ in results} == {200}
    await settle(harness)
    assert len(fake_graph.requests) == 2
    assert len(harness.fake.requests_for("openai")) == 2
    rows = usage_rows(harness)
    assert len(rows) == 2
    assert harness.budget_usage(harness.client.id) == sum(r.cost_brl for r in rows)
    assert message_count(harness) == 4  # two in, two out


async def test_bad_or_missing_signature_is_401_and_nothing_happens(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register_number(harness)
    payload = notification(phone_number_id=NUMBER, wamid="wamid.FORGED")
    assert (await post_signed(harness.url, payload, secret="wrong-secret"))[0] == 401
    assert (await post_signed(harness.url, payload, secret=None))[0] == 401
    assert (await post_signed(harness.url, payload, signature="sha256=zz"))[0] == 401
    await settle(harness)
    assert fake_graph.requests == [] and harness.fake.requests_for("openai") == []
    assert message_count(harness) == 0 and usage_rows(harness) == []


async def test_paused_client_gets_a_polite_reply_and_no_llm_call(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register_number(harness)
    with harness.db.write() as s:
        update_client(s, client_id=harness.client.id, changes={"status": "paused"})
    payload = notification(phone_number_id=NUMBER, wamid="wamid.PAUSED")
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    [sent] = fake_graph.requests
    assert sent.to == CONTACT and sent.text == PT["paused"]
    assert harness.fake.requests_for("openai") == []
    assert harness.budget_usage(harness.client.id) == 0


async def test_exhausted_budget_gets_the_budget_reply_and_no_llm_call(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    from decimal import Decimal

    from ai_gateway.storage.budgets import BudgetSettings, increment_budget_usage, set_client_budget

    register_number(harness)
    with harness.db.write() as s:
        set_client_budget(
            s,
            client_id=harness.client.id,
            actor="test",
            settings=BudgetSettings(
                budget_type="brl",
                limit=Decimal("1"),
                period="monthly",
                alert_thresholds=[80, 90, 100],
                pause_at_limit=False,
            ),
        )
        increment_budget_usage(s, client_id=harness.client.id, amount=Decimal("1"))
    harness.gateway.budgets.forget(harness.client.id)
    payload = notification(phone_number_id=NUMBER, wamid="wamid.BROKE")
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    [sent] = fake_graph.requests
    assert sent.to == CONTACT and sent.text == PT["budget"]
    assert harness.fake.requests_for("openai") == []
    assert harness.budget_usage(harness.client.id) == Decimal("1")


async def test_provider_chain_down_sends_the_apology(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register_number(harness)
    harness.configure(fallback_chain=["groq/llama-3.3-70b"])
    harness.fake.enqueue_failure("openai", status=500)
    harness.fake.enqueue_failure("groq", status=500)
    payload = notification(phone_number_id=NUMBER, wamid="wamid.DOWN")
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    assert len(harness.fake.requests_for("openai")) == 1
    assert len(harness.fake.requests_for("groq")) == 1
    [sent] = fake_graph.requests
    assert sent.text == PT["apology"]
    assert "error" not in sent.text.lower() and "500" not in sent.text
    [row] = usage_rows(harness)
    assert row.status == "error" and harness.budget_usage(harness.client.id) == 0


async def test_statuses_unknown_numbers_and_media(harness: Harness, fake_graph: FakeGraph) -> None:
    register_number(harness, language="en", replies={"text_only": "Text only, please."})
    posts = [
        status_notification(phone_number_id=NUMBER, wamid="wamid.OUT1"),
        notification(phone_number_id="999999", wamid="wamid.UNKNOWN"),
        # Voice notes and images are read (tests/integration/test_whatsapp_media.py);
        # a sticker is still media the bot cannot answer.
        notification(phone_number_id=NUMBER, wamid="wamid.STK", message_type="sticker"),
    ]
    for payload in posts:
        assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    [sent] = fake_graph.requests
    assert sent.text == "Text only, please."
    assert harness.fake.requests_for("openai") == [] and usage_rows(harness) == []


async def test_subscription_handshake(harness: Harness) -> None:
    import aiohttp

    from tests.fakes.whatsapp_payloads import VERIFY_TOKEN

    url = harness.url + "/webhooks/whatsapp"
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=query) as resp:
            assert resp.status == 200 and await resp.text() == "1158201444"
            assert resp.headers["content-type"].startswith("text/plain")
        async with session.get(url, params={**query, "hub.verify_token": "nope"}) as resp:
            assert resp.status == 403
