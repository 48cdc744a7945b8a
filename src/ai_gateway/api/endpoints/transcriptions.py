"""``POST /v1/audio/transcriptions`` in OpenAI's multipart format (``file``, ``model``,
``language``, ``prompt``, ``temperature``, ``response_format``: ``json``, ``text`` or
``verbose_json``) for OpenAI's and Groq's Whisper models and the simulated one.

The file may be 25 MB (the providers' limit; larger is a 413 before anything else) and
its duration is read here, from the file: that is what the call is priced by, what the
budget reserves, and the ``duration`` a ``verbose_json`` answer reports. The same file
with the same options is answered from the cache (keyed by the file's SHA-256).
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

from ai_gateway.api.endpoints.base import CallContext, Codec, Parsed, Rendered
from ai_gateway.api.endpoints.multipart import FormPart, parse_form
from ai_gateway.audio import MAX_AUDIO_BYTES, read_audio_file
from ai_gateway.errors import InvalidRequest, PayloadTooLarge
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.providers.base import AudioFile, ChatRequest

__all__ = ["MAX_AUDIO_BYTES", "TranscriptionsCodec"]

# Room for the form's other fields and boundaries around the file.
_FORM_OVERHEAD = 64 * 1024
_FORMATS = ("json", "text", "verbose_json")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _field(parts: dict[str, FormPart], name: str) -> str | None:
    part = parts.get(name)
    return part.text.strip() if part is not None else None


def _params(parts: dict[str, FormPart]) -> tuple[dict[str, Any], str]:
    fmt = _field(parts, "response_format") or "json"
    if fmt not in _FORMATS:
        raise _bad(f"response_format must be one of {', '.join(_FORMATS)}", "response_format")
    if (_field(parts, "stream") or "false").lower() not in ("false", "0"):
        raise _bad("stream is not supported on this endpoint", "stream")
    params: dict[str, Any] = {}
    if fmt == "verbose_json":  # only this changes what goes upstream (segments)
        params["response_format"] = fmt
    language = _field(parts, "language")
    if language:
        if not _LANGUAGE.match(language):
            raise _bad("language must be an ISO-639-1 code such as 'pt' or 'en'", "language")
        params["language"] = language
    prompt = _field(parts, "prompt")
    if prompt:
        params["prompt"] = prompt
    temperature = _field(parts, "temperature")
    if temperature:
        try:
            value = float(temperature)
        except ValueError:
            raise _bad("temperature must be a number", "temperature") from None
        if not 0 <= value <= 1:
            raise _bad("temperature must be between 0 and 1", "temperature")
        params["temperature"] = value
    return params, fmt


def _audio(parts: dict[str, FormPart]) -> AudioFile:
    upload = parts.get("file")
    if upload is None or upload.filename is None:
        raise _bad("file is required (an audio file part with a filename)", "file")
    data = upload.data
    if len(data) > MAX_AUDIO_BYTES:
        raise PayloadTooLarge(f"the audio file is larger than {MAX_AUDIO_BYTES} bytes")
    if not data:
        raise _bad("file is empty", "file")
    return read_audio_file(
        data, filename=upload.filename or "audio", content_type=upload.content_type
    )


class TranscriptionsCodec(Codec):
    path = "/v1/audio/transcriptions"
    endpoint = "audio.transcriptions"

    def body_limit(self, default: int) -> int:
        return max(default, MAX_AUDIO_BYTES + _FORM_OVERHEAD)

    async def parse(self, ctx: CallContext, body: bytes) -> Parsed:
        parts = parse_form(ctx.headers.get("content-type"), body)
        model = _field(parts, "model")
        if not model:
            raise _bad("model is required", "model")
        params, fmt = _params(parts)
        request = ChatRequest(
            model=model, messages=[], params=params, kind="transcription", audio=_audio(parts)
        )
        return Parsed(request, state=fmt)

    async def render(self, ctx: CallContext, parsed: Parsed, result: CallResult) -> Rendered:
        text = str(result.body.get("text") or "")
        if parsed.state == "text":
            return Rendered(text.encode(), b"text/plain; charset=utf-8")
        seconds = parsed.request.audio_seconds
        if parsed.state == "json":
            usage = {"type": "duration", "seconds": math.ceil(seconds)}
            return Rendered(orjson.dumps({"text": text, "usage": usage}))
        answer = {
            "task": "transcribe",
            "language": result.body.get("language") or parsed.request.params.get("language"),
            "duration": float(seconds),  # the gateway's reading, not the upstream's
            "text": text,
            "segments": result.body.get("segments") or [],
        }
        if result.body.get("words") is not None:
            answer["words"] = result.body["words"]
        return Rendered(orjson.dumps(answer))
