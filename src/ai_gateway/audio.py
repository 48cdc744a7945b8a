"""How long an audio file lasts, read from the file itself.

Transcriptions are billed per minute, so the duration must be the gateway's own reading:
a caller's claim, or an upstream's, could be anything. WAV is read with the standard
library's ``wave``; MP3, MP4/M4A, Ogg (Opus/Vorbis: WhatsApp voice notes), FLAC and the
other formats ``mutagen`` knows through ``mutagen`` (pure Python, reads headers only).
A file whose duration cannot be read is refused before any upstream call.
"""

from __future__ import annotations

import hashlib
import io
import wave
from decimal import Decimal

import mutagen
from mutagen import MutagenError

from ai_gateway.errors import InvalidRequest
from ai_gateway.providers.base import AudioFile

__all__ = [
    "MAX_AUDIO_BYTES",
    "SUPPORTED_FORMATS",
    "UnreadableAudio",
    "audio_duration",
    "read_audio_file",
]

#: OpenAI's and Groq's upload limit for a transcription.
MAX_AUDIO_BYTES = 25 * 1024 * 1024
SUPPORTED_FORMATS = "wav, mp3, m4a/mp4, ogg (opus, vorbis), flac"
_MILLISECOND = Decimal("0.001")


class UnreadableAudio(InvalidRequest):
    default_code = "unreadable_audio"


def _wav_seconds(data: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate = wav.getframerate()
            return wav.getnframes() / rate if rate > 0 else None
    except (wave.Error, EOFError):
        return None  # not PCM WAV; mutagen may still know it


def _mutagen_seconds(data: bytes) -> float | None:
    try:
        found = mutagen.File(io.BytesIO(data))
    except (MutagenError, ValueError, EOFError):
        return None
    length = getattr(getattr(found, "info", None), "length", None)
    return float(length) if isinstance(length, int | float) else None


def audio_duration(data: bytes) -> Decimal:
    """Seconds, to the millisecond. Raises :class:`UnreadableAudio` (400)."""
    seconds = _wav_seconds(data) if data[:4] == b"RIFF" else None
    if seconds is None:
        seconds = _mutagen_seconds(data)
    if seconds is None or not seconds > 0:
        raise UnreadableAudio(
            f"could not read the audio's duration; send one of: {SUPPORTED_FORMATS}",
            param="file",
        )
    return Decimal(repr(seconds)).quantize(_MILLISECOND)


def read_audio_file(data: bytes, *, filename: str, content_type: str) -> AudioFile:
    """An upload as the pipeline's :class:`AudioFile`: its duration and digest read here."""
    return AudioFile(
        filename=filename,
        content_type=content_type,
        data=data,
        duration_seconds=audio_duration(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
