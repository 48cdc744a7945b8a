"""A loopback stand-in for the Banco Central do Brasil PTAX OData API.

It answers ``CotacaoDolarPeriodo(...)`` the way the real service does (an OData JSON
document with a ``value`` list), or misbehaves on request: ``mode`` picks the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

__all__ = ["FakePtax", "bulletin"]

RESOURCE = "CotacaoDolarPeriodo(dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"


def bulletin(venda: str, when: str, compra: str | None = None) -> str:
    """One ``value`` entry as raw JSON text (so numbers keep their exact digits)."""
    compra = compra or venda
    return f'{{"cotacaoCompra": {compra}, "cotacaoVenda": {venda}, "dataHoraCotacao": "{when}"}}'


class FakePtax:
    def __init__(self) -> None:
        self.mode = "ok"
        self.bulletins: list[str] = [bulletin("5.6351", "2025-06-05 13:10:27.443", "5.6345")]
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/olinda/servico/PTAX/versao/v1/odata"
        return self.base_url

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append({"path": request.path, "query": dict(request.query)})
        if self.delay:
            await asyncio.sleep(self.delay)
        if not request.path.endswith("/" + RESOURCE):
            return web.json_response({"error": "unknown resource"}, status=404)
        if self.mode == "hang":
            await self._release.wait()
        if self.mode == "error":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "garbage":
            return web.Response(text="<html>Serviço indisponível", content_type="application/json")
        entries = {"empty": [], "ok": self.bulletins}.get(self.mode, self.bulletins)
        body = (
            '{"@odata.context": "https://was-p.bcnet.bcb.gov.br/olinda/servico/PTAX/versao/v1/'
            'odata$metadata#_CotacaoDolarPeriodo(cotacaoCompra,cotacaoVenda,dataHoraCotacao)",'
            f' "value": [{", ".join(entries)}]}}'
        )
        return web.Response(text=body, content_type="application/json")
