"""The simulated provider's embeddings: a hashed bag of words, word pairs and character
trigrams, normalised to a unit vector.

A test and demo embedder, not a semantic model: two texts are close when they share
words (case, accents, punctuation and word order matter little), so a reworded question with the
same words matches and a question about another product or date moves away. That is
enough to exercise the semantic cache end to end without a model; a real deployment
points the cache at a provider's embedding model. Deterministic for a (model, text).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata

__all__ = ["simulated_vector"]

_WORD = re.compile(r"\w+", re.UNICODE)

#: Weights per kind of feature: whole words carry the meaning, pairs the order, trigrams
#: absorb small spelling differences (plurals, typos).
_WORD_WEIGHT, _PAIR_WEIGHT, _TRIGRAM_WEIGHT = 1.0, 0.5, 0.25


def _fold(text: str) -> str:
    """Case and accents out ("Horário" and "horario" are one word): how people type."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _features(text: str) -> list[tuple[str, float]]:
    words = _WORD.findall(_fold(text))
    features = [(f"w:{word}", _WORD_WEIGHT) for word in words]
    features += [(f"p:{a} {b}", _PAIR_WEIGHT) for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f"^{word}$"
        features += [(f"t:{padded[i : i + 3]}", _TRIGRAM_WEIGHT) for i in range(len(padded) - 2)]
    return features


def simulated_vector(model_id: str, text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text`` (all zeros but one for a text without
    words, so the result is always a unit vector)."""
    vector = [0.0] * dimensions
    salt = model_id.encode()
    for feature, weight in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=8, key=salt[:64]).digest()
        number = int.from_bytes(digest, "little")
        vector[number % dimensions] += weight if number >> 63 else -weight
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [x / norm for x in vector]
