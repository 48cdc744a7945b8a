"""The in-memory index of the semantic cache: per scope, a numpy matrix of unit vectors
scanned with one matrix-vector product.

Why a scan and not an approximate-nearest-neighbour library: a scope is one client, one
model, one system prompt and one conversation context, so it holds tens to a few
thousand entries; a float32 scan of 2,000 x 1,536 takes well under a millisecond
(measured in ``benchmarks/semantic_cache.py``), exact, with no index to build or keep in
step with the database. The bounds (scopes kept, entries per scope) cap the memory.

The database is the truth (every replica writes its entries there): a scope is loaded
lazily on its first question, then topped up with newer rows every
``refresh_seconds``; an entry purged elsewhere is dropped here when its answer is
fetched and found gone.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

__all__ = ["IndexedEntry", "ScopeIndex", "SemanticIndex", "vector_from_bytes", "vector_to_bytes"]

Vector = npt.NDArray[np.float32]


def vector_to_bytes(vector: Vector) -> bytes:
    """float32, little-endian: what the ``vector`` column holds."""
    return vector.astype("<f4", copy=False).tobytes()


def vector_from_bytes(data: bytes) -> Vector:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """What the index keeps of a stored entry (never its answer)."""

    id: str
    vector: Vector
    literals: frozenset[str]
    expires_at: float
    created_at: datetime


@dataclass(slots=True)
class ScopeIndex:
    """The entries of one scope. ``newest`` is the latest ``created_at`` loaded, where the
    next top-up starts."""

    dimensions: int
    max_entries: int
    ids: list[str] = field(default_factory=list)
    literals: list[frozenset[str]] = field(default_factory=list)
    expires: list[float] = field(default_factory=list)
    newest: datetime | None = None
    loaded_at: float = 0.0
    _matrix: Vector | None = None
    _size: int = 0

    def __len__(self) -> int:
        return self._size

    def add(self, entry: IndexedEntry) -> None:
        if entry.vector.shape != (self.dimensions,) or entry.id in self.ids:
            return  # another embedding model's vector, or loaded twice
        if self.newest is None or entry.created_at > self.newest:
            self.newest = entry.created_at
        if self._size >= self.max_entries:
            self._drop(0)  # the oldest goes first
        if self._matrix is None or self._size == self._matrix.shape[0]:
            grown = np.zeros((max(8, self._size * 2), self.dimensions), dtype=np.float32)
            if self._matrix is not None:
                grown[: self._size] = self._matrix[: self._size]
            self._matrix = grown
        self._matrix[self._size] = entry.vector
        self._size += 1
        self.ids.append(entry.id)
        self.literals.append(entry.literals)
        self.expires.append(entry.expires_at)

    def remove(self, entry_id: str) -> None:
        if entry_id in self.ids:
            self._drop(self.ids.index(entry_id))

    def _drop(self, index: int) -> None:
        assert self._matrix is not None
        self._matrix[index : self._size - 1] = self._matrix[index + 1 : self._size]
        self._size -= 1
        del self.ids[index], self.literals[index], self.expires[index]

    def best(
        self, vector: Vector, literals: frozenset[str], threshold: float, now: float
    ) -> tuple[str, float] | None:
        """The most similar live entry at or above ``threshold`` whose literals are the
        question's, with its cosine similarity (vectors are unit length)."""
        if self._matrix is None or self._size == 0 or vector.shape != (self.dimensions,):
            return None
        scores = self._matrix[: self._size] @ vector
        candidates = np.flatnonzero(scores >= threshold)
        for index in candidates[np.argsort(-scores[candidates])]:
            position = int(index)
            if self.expires[position] > now and self.literals[position] == literals:
                return self.ids[position], float(scores[position])
        return None


class SemanticIndex:
    """Scope indexes by ``(client_id, scope_hash)``, the least recently used dropped past
    ``max_scopes``."""

    def __init__(self, *, max_scopes: int, max_entries: int) -> None:
        self.max_scopes = max_scopes
        self.max_entries = max_entries
        self._scopes: OrderedDict[tuple[str, str], ScopeIndex] = OrderedDict()

    def __len__(self) -> int:
        """Entries held in memory, over every scope."""
        return sum(len(scope) for scope in self._scopes.values())

    def get(self, client_id: str, scope_hash: str) -> ScopeIndex | None:
        key = (client_id, scope_hash)
        scope = self._scopes.get(key)
        if scope is not None:
            self._scopes.move_to_end(key)
        return scope

    def create(self, client_id: str, scope_hash: str, dimensions: int) -> ScopeIndex:
        scope = ScopeIndex(dimensions, self.max_entries, loaded_at=time.monotonic())
        self._scopes[(client_id, scope_hash)] = scope
        while len(self._scopes) > self.max_scopes:
            self._scopes.popitem(last=False)
        return scope

    def forget(self, *, client_id: str | None = None) -> None:
        """Drop the scopes of ``client_id`` (``None``: all); they reload on their next
        question."""
        if client_id is None:
            self._scopes.clear()
            return
        for key in [k for k in self._scopes if k[0] == client_id]:
            del self._scopes[key]

    def remove(self, entry_id: str) -> None:
        for scope in self._scopes.values():
            scope.remove(entry_id)
