"""WhatsApp storage: a wamid is claimed once even by racing writers; history order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.whatsapp import (
    NumberInfo,
    add_number,
    claim_inbound,
    recent_messages,
    record_outbound,
)
from ai_gateway.vault import MasterKey, generate_master_key


def _number(db: Database) -> NumberInfo:
    with db.write() as s:
        client = create_client(s, name="acme", plan="pro")
        return add_number(
            s,
            master=MasterKey.from_base64(generate_master_key()),
            client_id=client.id,
            phone_number_id="123",
            model="openai/gpt-4o-mini",
            access_token="EAAGtoken0000000000",
        )


def test_racing_claims_of_one_wamid_yield_one_row(db: Database) -> None:
    number = _number(db)

    def claim(_: int) -> int | None:
        with db.write() as s:
            return claim_inbound(
                s, number=number, contact_wa_id="55", wamid="wamid.R", message_type="text", text="x"
            )

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(claim, range(8)))
    assert len([i for i in ids if i is not None]) == 1


def test_recent_messages_are_the_last_n_in_order_without_notices(db: Database) -> None:
    number = _number(db)
    with db.write() as s:
        for i in range(4):
            claim_inbound(
                s,
                number=number,
                contact_wa_id="55",
                wamid=f"w{i}",
                message_type="text",
                text=f"q{i}",
            )
            record_outbound(
                s,
                number=number,
                contact_wa_id="55",
                text=f"a{i}",
                message_type="text",
                status="sent",
            )
        record_outbound(
            s, number=number, contact_wa_id="55", text="aviso", message_type="notice", status="sent"
        )
        record_outbound(
            s, number=number, contact_wa_id="55", text="lost", message_type="text", status="failed"
        )
        claim_inbound(
            s, number=number, contact_wa_id="99", wamid="o", message_type="text", text="z"
        )
    with db.session() as s:
        last = recent_messages(s, phone_number_id="123", contact_wa_id="55", limit=3)
    assert [m.text for m in last] == ["a2", "q3", "a3"]
