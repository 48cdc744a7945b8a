"""Which chat requests the semantic cache may answer, within which scope, and what a
reused answer must share with the new question. Pure functions, no I/O.

A semantic hit reuses the answer to a question *of the same meaning*, so everything but
the meaning of the last user message must be identical: the **scope** is a SHA-256 of
the client, the model, every earlier message (system prompt and conversation so far) and
every parameter that can change the answer (the exact cache's canonical form, minus the
last message). Only the last user message is embedded.

Embeddings say "close", not "equal": "the price of the iPhone 15" and "the price of the
iPhone 14" are nearly the same vector. So a candidate must also carry the same
**literals** as the question: every token with a digit (models, sizes, dates, amounts),
every capitalised word that does not start a sentence (names, products, places) and the
relative-date words (today, tomorrow, weekdays; in English and Portuguese). A question
about another product or date never reuses an answer, whatever the similarity.

Skipped (the answer may legitimately differ, or the caller asked for variety): tools or
functions, ``n > 1``, a temperature above 1.0 (OpenAI's default; lower ones are part of
the scope), ``top_p`` below 1, a last message that is not the user's plain text (images,
audio), and questions over :data:`MAX_QUERY_CHARS`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson

from ai_gateway.cache.keys import IGNORED_PARAMS, _normalise
from ai_gateway.providers.base import ChatRequest

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_QUERY_CHARS",
    "SemanticQuery",
    "literals_of",
    "semantic_query",
]

#: The cosine similarity a hit needs by default (an admin sets it per client). Chosen on
#: the workload benchmark's labelled pairs (docs/PERFORMANCE.md): with the literal guard,
#: no non-equivalent pair hits from 0.92 up with the demo embedder; 0.93 keeps a margin.
#: Cosines are the embedding model's own scale: re-run the pairs for another model.
DEFAULT_THRESHOLD = 0.93

#: Longer questions are not embedded: rarely repeated, dear to embed.
MAX_QUERY_CHARS = 4000

_TOKEN = re.compile(r"\w+|[.!?¿¡:;\n]", re.UNICODE)
_SENTENCE_END = frozenset(".!?¿¡:;\n")


def _fold(token: str) -> str:
    """Case and accents out: "Sábado" and "sabado" are one literal, as people type them."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_DATE_WORDS = frozenset(
    _fold(word)
    for word in {
        *("today", "tomorrow", "yesterday", "tonight", "weekend", "next", "last"),
        *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("hoje", "amanhã", "ontem", "próximo", "próxima", "passado", "passada"),
        *("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo"),
    }
)


@dataclass(frozen=True, slots=True)
class SemanticQuery:
    """What the semantic cache embeds and where it may look."""

    scope_hash: str
    text: str
    literals: frozenset[str]


def _last_user_text(messages: list[dict[str, Any]]) -> str | None:
    if not messages:
        return None
    last = messages[-1]
    if last.get("role") != "user":
        return None
    content = last.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        return None
    texts: list[str] = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "text":
            return None  # an image or audio part: its meaning is not in the text
        text = part.get("text")
        if not isinstance(text, str):
            return None
        texts.append(text)
    return "\n".join(texts)


def _skip_reason(params: dict[str, Any]) -> str | None:
    if params.get("tools") or params.get("functions") or params.get("tool_choice"):
        return "tools present"
    n = params.get("n")
    if n is not None and n != 1:
        return "n > 1"
    temperature = params.get("temperature")
    if isinstance(temperature, int | float) and temperature > 1.0:
        return "temperature above 1.0"
    top_p = params.get("top_p")
    if isinstance(top_p, int | float) and top_p < 1.0:
        return "top_p below 1"
    return None


def semantic_query(request: ChatRequest, client_id: str) -> SemanticQuery | str:
    """The query for ``request``, or why the semantic cache must not answer it."""
    if request.kind != "chat":
        return f"{request.kind} request"
    reason = _skip_reason(request.params)
    if reason is not None:
        return reason
    text = _last_user_text(request.messages)
    if text is None or not text.strip():
        return "last message is not the user's text"
    if len(text) > MAX_QUERY_CHARS:
        return "question too long"
    params = {k: v for k, v in request.params.items() if k not in IGNORED_PARAMS}
    document = {
        "client": client_id,
        "model": request.model,
        "context": _normalise(request.messages[:-1]),
        "params": _normalise(params),
    }
    digest = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return SemanticQuery(digest, text, literals_of(text))


def literals_of(text: str) -> frozenset[str]:
    """The tokens a reused answer must share with ``text`` (see the module docstring)."""
    found: set[str] = set()
    sentence_start = True
    for token in _TOKEN.findall(text):
        if token in _SENTENCE_END:
            sentence_start = True
            continue
        folded = _fold(token)
        if (
            any(c.isdigit() for c in token)
            or (not sentence_start and token != "I" and any(c.isupper() for c in token))
            or folded in _DATE_WORDS
        ):
            found.add(folded)
        sentence_start = False
    return frozenset(found)
