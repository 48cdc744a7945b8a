"""``POST /v1/audio/transcriptions``: the official SDK unchanged, OpenAI and Groq Whisper,
the simulated model, billing by the duration read from the file, cache, bad input."""

from __future__ import annotations

import io
import wave
from decimal import Decimal

import httpx
import pytest
from openai import AsyncOpenAI

from tests.api.endpoints.helpers import assert_priced, rows
from tests.harness import PROVIDER_KEYS, Harness

URL = "/v1/audio/transcriptions"


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def mp3(frames: int) -> bytes:
    """MPEG-1 layer III frames (128 kbit/s, 44.1 kHz): 1152 samples each."""
    return (bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 413) * frames


def sdk(h: Harness) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=h.url + "/v1", api_key=h.key, max_retries=0)


async def post(h: Harness, files: dict[str, object], data: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=h.url, timeout=60) as http:
        return await http.post(URL, files=files, data=data, headers=h.headers())  # type: ignore[arg-type]


async def test_sdk_transcription_is_billed_by_the_files_duration(harness: Harness) -> None:
    client = sdk(harness)
    audio = wav(3.0)
    transcript = await client.audio.transcriptions.create(
        model="openai/whisper-1", file=("note.wav", audio, "audio/wav"), language="pt"
    )
    await client.close()
    assert transcript.text == f"Fake openai transcript of note.wav ({len(audio)} bytes)"
    sent = harness.fake.last_request("openai")
    assert sent.path == "/openai/v1/audio/transcriptions"
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_KEYS['openai']}"
    assert sent.body["model"] == "whisper-1" and sent.body["language"] == "pt"
    assert sent.body["file"]["size"] == len(audio)

    await harness.drain()
    [row] = rows(harness)
    assert (row.endpoint, row.status, row.provider) == ("audio.transcriptions", "success", "openai")
    # 3 s at $0.006 a minute — not the 9999 s the upstream claimed.
    assert_priced(row, Decimal("3.000") * Decimal("0.006") / 60)
    assert row.telemetry is not None and row.telemetry["audio_seconds"] == "3.000"
    assert harness.budget_usage(harness.client.id) == row.cost_brl


async def test_groq_verbose_json_reports_the_gateways_duration(harness: Harness) -> None:
    response = await post(
        harness,
        {"file": ("voz.wav", wav(2.5), "audio/wav")},
        {"model": "groq/whisper-large-v3-turbo", "response_format": "verbose_json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duration"] == 2.5 and body["segments"]
    assert body["text"].startswith("Fake groq transcript of voz.wav")
    sent = harness.fake.last_request("groq")
    assert sent.body["model"] == "whisper-large-v3-turbo"
    assert sent.body["response_format"] == "verbose_json"
    await harness.drain()
    [row] = rows(harness)
    assert_priced(row, Decimal("2.5") * Decimal("0.000667") / 60)


async def test_text_format_and_an_mp3_on_the_simulated_model_cached(harness: Harness) -> None:
    client = sdk(harness)
    audio = mp3(100)  # constant bit rate: 41,700 bytes at 128 kbit/s = 2.606 s
    first = await client.audio.transcriptions.create(
        model="simulated/demo-transcribe", file=("a.mp3", audio), response_format="text"
    )
    again = await client.audio.transcriptions.with_raw_response.create(
        model="simulated/demo-transcribe", file=("b.mp3", audio), response_format="text"
    )
    await client.close()
    assert isinstance(first, str) and first
    assert again.headers["x-ai-gateway-cache"] == "HIT" and again.parse() == first
    assert harness.fake.requests == []
    await harness.drain()
    miss, hit = rows(harness)
    assert_priced(miss, Decimal("2.606") * Decimal("0.006") / 60)
    assert hit.cache_hit and hit.cost_usd == 0 and hit.saved_usd == miss.cost_usd


@pytest.mark.parametrize(
    ("files", "data", "param"),
    [
        ({}, {"model": "openai/whisper-1"}, "file"),
        ({"file": ("a.wav", wav(1))}, {}, "model"),
        ({"file": ("a.wav", b"not audio at all" * 10)}, {"model": "openai/whisper-1"}, "file"),
        (
            {"file": ("a.wav", wav(1))},
            {"model": "openai/whisper-1", "response_format": "srt"},
            "response_format",
        ),
        (
            {"file": ("a.wav", wav(1))},
            {"model": "openai/whisper-1", "language": "Portuguese"},
            "language",
        ),
        (
            {"file": ("a.wav", wav(1))},
            {"model": "openai/whisper-1", "temperature": "hot"},
            "temperature",
        ),
        ({"file": ("a.wav", wav(1))}, {"model": "openai/gpt-4o", "language": "pt"}, "model"),
    ],
)
async def test_bad_input_is_a_400_without_an_upstream_call(
    harness: Harness, files: dict[str, object], data: dict[str, str], param: str
) -> None:
    if not files:
        files = {"other": ("x.txt", b"x")}
    response = await post(harness, files, data)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert harness.fake.requests == []


async def test_json_body_and_oversized_file_are_refused(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url, timeout=60) as http:
        not_form = await http.post(
            URL, json={"model": "openai/whisper-1"}, headers=harness.headers()
        )
        assert not_form.status_code == 400
        assert not_form.json()["error"]["code"] == "invalid_form"
        huge = await http.post(
            URL,
            files={"file": ("big.wav", b"\x00" * (26 * 1024 * 1024))},
            data={"model": "openai/whisper-1"},
            headers=harness.headers(),
        )
        assert huge.status_code == 413
    assert harness.fake.requests == []


async def test_a_part_header_outside_latin1_is_a_400(harness: Harness) -> None:
    """Found by the schemathesis run: a non-Latin-1 character in a part's
    Content-Disposition made the multipart parser raise (a 500)."""
    boundary = "aigwboundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="model"; filename="\U000771d4.wav"\r\n\r\n'
        "openai/whisper-1\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    async with httpx.AsyncClient(base_url=harness.url, timeout=60) as http:
        response = await http.post(
            URL,
            content=body,
            headers={
                **harness.headers(),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_form"
    assert harness.fake.requests == []
