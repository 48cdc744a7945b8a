"""The long-lived WhatsApp bot: owned by the :class:`~ai_gateway.gateway.Gateway`,
started and stopped with it.

The webhook hands it a verified notification and answers Meta at once; the service
processes each message in a background task it owns, so shutdown waits for replies in
flight. Per message: find the number (unknown: logged, ignored) -> claim the wamid (a
redelivery or a racing delivery stops here) -> (a voice note: download and transcribe it;
an image: download it for a vision model, see :mod:`.media`) -> generate the answer ->
store it -> send it through the Graph API with one shared aiohttp session. Messages of
one contact are processed in arrival order (one lock per contact), so the history each
answer sees is the one the contact saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from ai_gateway.settings import Settings
from ai_gateway.storage import whatsapp as store
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import get_secret
from ai_gateway.storage.whatsapp import NumberInfo
from ai_gateway.vault import MasterKey
from ai_gateway.whatsapp.graph import GraphClient, GraphSendError
from ai_gateway.whatsapp.media import image_data_url, transcribe_voice_note
from ai_gateway.whatsapp.payload import InboundMessage, parse_notification
from ai_gateway.whatsapp.replies import reply_for
from ai_gateway.whatsapp.responder import (
    CallAi,
    Reply,
    Transcribe,
    generate_ai_response,
    notice,
)

__all__ = [
    "APP_SECRET_ID",
    "VERIFY_TOKEN_ID",
    "WebhookSecrets",
    "WhatsAppService",
]

log = logging.getLogger("ai_gateway.whatsapp")

#: Vault ids of the webhook secrets, used when the environment does not set them.
VERIFY_TOKEN_ID = "whatsapp:verify_token"
APP_SECRET_ID = "whatsapp:app_secret"
_SECRETS_TTL_S = 30.0
_STOP_WAIT_S = 30.0
_GRAPH_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


@dataclass(frozen=True, slots=True)
class WebhookSecrets:
    verify_token: str | None
    app_secret: str | None


class _ContactLocks:
    """One lock per (number, contact), dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class WhatsAppService:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        master: MasterKey | None,
        call_ai: CallAi,
        transcribe: Transcribe | None = None,
    ) -> None:
        self._settings = settings
        self._db = db
        self._master = master
        self._call_ai = call_ai
        self._transcribe = transcribe
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks = _ContactLocks()
        self._http: aiohttp.ClientSession | None = None
        self._graph: GraphClient | None = None
        self._secrets: tuple[float, WebhookSecrets] | None = None
        self._closing = False
        self.processed = 0

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=_GRAPH_TIMEOUT)
        self._graph = GraphClient(self._http, self._settings.whatsapp_graph_base_url)

    async def stop(self) -> None:
        """Refuse new work, wait for replies in flight (up to 30 s), close."""
        self._closing = True
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=_STOP_WAIT_S)
            for task in pending:
                log.warning("whatsapp reply cancelled at shutdown", extra={"task": task.get_name()})
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self._http is not None:
            await self._http.close()

    async def drain(self) -> None:
        """Wait until every message accepted so far is processed (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- webhook side --------------------------------------------------------------------

    async def webhook_secrets(self) -> WebhookSecrets:
        """The verify token and app secret: the environment's, else the vault's (re-read
        every 30 s, so ``ai-gateway whatsapp set-secret`` needs no restart)."""
        cfg = self._settings
        if cfg.whatsapp_verify_token and cfg.whatsapp_app_secret:
            return WebhookSecrets(cfg.whatsapp_verify_token, cfg.whatsapp_app_secret)
        now = time.monotonic()
        if self._secrets is None or now - self._secrets[0] > _SECRETS_TTL_S:
            verify, secret = await self._db.run(self._vault_secrets)
            found = WebhookSecrets(
                cfg.whatsapp_verify_token or verify, cfg.whatsapp_app_secret or secret
            )
            self._secrets = (now, found)
        return self._secrets[1]

    def _vault_secrets(self) -> tuple[str | None, str | None]:
        if self._master is None:
            return None, None
        with self._db.session() as session:
            return (
                get_secret(session, master=self._master, secret_id=VERIFY_TOKEN_ID),
                get_secret(session, master=self._master, secret_id=APP_SECRET_ID),
            )

    @property
    def accepting(self) -> bool:
        return not self._closing

    def accept(self, payload: object) -> int:
        """Schedule every message of a verified notification; how many were scheduled."""
        messages = parse_notification(payload)
        for message in messages:
            task = asyncio.create_task(self._run(message), name=f"whatsapp:{message.wamid}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(messages)

    # -- per message ---------------------------------------------------------------------

    async def _run(self, message: InboundMessage) -> None:
        try:
            async with self._locks.hold((message.phone_number_id, message.contact_wa_id)):
                await self._process(message)
        except asyncio.CancelledError:
            raise
        except Exception:  # a background task has no caller: log it with its traceback
            log.exception("whatsapp message failed", extra={"wamid": message.wamid})

    async def _process(self, message: InboundMessage) -> None:
        number = await self._db.run(self._number, message.phone_number_id)
        if number is None or not number.is_active:
            log.warning(
                "whatsapp message for an unknown number ignored",
                extra={"phone_number_id": message.phone_number_id},
            )
            return
        claim = await self._db.run(self._claim, number, message)
        if claim is None:
            log.info("whatsapp redelivery ignored", extra={"wamid": message.wamid})
            return
        reply = await self._reply(number, message, claim)
        if reply is None:
            await self._db.run(self._set_status, claim, "ignored", None)
        else:
            await self._deliver(number, message, claim, reply)
        self.processed += 1

    async def _reply(self, number: NumberInfo, message: InboundMessage, claim: int) -> Reply | None:
        image_url, model = None, None
        if message.media_id is not None and message.message_type in ("audio", "image"):
            assert self._graph is not None, "WhatsAppService.start() was not awaited"
            token = await self._db.run(self._token, number.phone_number_id)
            if token is None:
                log.error("whatsapp media without an access token", extra={"wamid": message.wamid})
                return notice(number, "apology")
            if message.message_type == "audio" and self._transcribe is not None:
                heard = await transcribe_voice_note(
                    graph=self._graph,
                    token=token,
                    transcribe=self._transcribe,
                    number=number,
                    message=message,
                    model=self._settings.whatsapp_transcription_model,
                    max_seconds=self._settings.whatsapp_max_voice_seconds,
                )
                if heard.text is None:
                    return heard.reply
                await self._db.run(self._set_text, claim, heard.text)
            elif message.message_type == "image":
                image_url = await image_data_url(graph=self._graph, token=token, message=message)
                if image_url is None:
                    return notice(number, "apology")
                model = self._settings.whatsapp_vision_model
                if not message.text:
                    await self._db.run(self._set_text, claim, "[image]")
        elif message.message_type != "text":
            text = reply_for("text_only", language=number.language, overrides=number.replies)
            return Reply(text, "notice", "text_only") if text else None
        history = await self._db.run(self._history, number, message.contact_wa_id)
        return await generate_ai_response(
            call_ai=self._call_ai,
            number=number,
            contact_wa_id=message.contact_wa_id,
            history=history,
            image_url=image_url,
            model=model,
        )

    async def _deliver(
        self, number: NumberInfo, message: InboundMessage, claim: int, reply: Reply
    ) -> None:
        assert self._graph is not None, "WhatsAppService.start() was not awaited"
        wamid, error = None, None
        token = await self._db.run(self._token, number.phone_number_id)
        if token is None:
            error = f"no access token in the vault for number {number.phone_number_id}"
        else:
            try:
                wamid = await self._graph.send_text(
                    phone_number_id=number.phone_number_id,
                    token=token,
                    to=message.contact_wa_id,
                    body=reply.text,
                )
            except GraphSendError as exc:
                error = exc.message
        if error is not None:
            log.error(
                "whatsapp reply not sent",
                extra={"phone_number_id": number.phone_number_id, "error": error},
            )
        await self._db.run(self._store_reply, number, message, claim, reply, wamid, error)

    # -- storage (worker threads) --------------------------------------------------------

    def _number(self, phone_number_id: str) -> NumberInfo | None:
        with self._db.session() as session:
            return store.get_number(session, phone_number_id)

    def _claim(self, number: NumberInfo, message: InboundMessage) -> int | None:
        with self._db.write() as session:
            return store.claim_inbound(
                session,
                number=number,
                contact_wa_id=message.contact_wa_id,
                wamid=message.wamid,
                message_type=message.message_type,
                text=message.text,
            )

    def _history(self, number: NumberInfo, contact_wa_id: str) -> list[store.StoredMessage]:
        with self._db.session() as session:
            return store.recent_messages(
                session,
                phone_number_id=number.phone_number_id,
                contact_wa_id=contact_wa_id,
                limit=max(1, number.history_length),
            )

    def _token(self, phone_number_id: str) -> str | None:
        if self._master is None:
            return None
        with self._db.session() as session:
            return store.access_token(session, master=self._master, phone_number_id=phone_number_id)

    def _set_text(self, message_id: int, text: str) -> None:
        with self._db.write() as session:
            store.set_message_text(session, message_id=message_id, text=text)

    def _set_status(self, message_id: int, status: str, error: str | None) -> None:
        with self._db.write() as session:
            store.set_message_status(session, message_id=message_id, status=status, error=error)

    def _store_reply(
        self,
        number: NumberInfo,
        message: InboundMessage,
        claim: int,
        reply: Reply,
        wamid: str | None,
        error: str | None,
    ) -> None:
        with self._db.write() as session:
            store.record_outbound(
                session,
                number=number,
                contact_wa_id=message.contact_wa_id,
                text=reply.text,
                message_type=reply.kind,
                status="failed" if error else "sent",
                wamid=wamid,
                request_id=reply.request_id,
                error=error,
            )
            store.set_message_status(
                session,
                message_id=claim,
                status="failed" if error else "answered",
                error=error,
            )
