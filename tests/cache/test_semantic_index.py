"""The semantic cache's in-memory scan: best match above the threshold with the same
literals, expiry, bounds, removal, and the stored vector format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from ai_gateway.cache.semantic_index import (
    IndexedEntry,
    ScopeIndex,
    SemanticIndex,
    vector_from_bytes,
    vector_to_bytes,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _entry(
    entry_id: str,
    vector: np.ndarray,
    literals: set[str] | None = None,
    *,
    expires: float = 2e9,
    age: int = 0,
) -> IndexedEntry:
    return IndexedEntry(
        entry_id, vector, frozenset(literals or ()), expires, NOW + timedelta(seconds=age)
    )


def test_the_best_live_match_with_the_same_literals_wins() -> None:
    scope = ScopeIndex(3, 10)
    scope.add(_entry("close", _unit(1, 0.1, 0)))
    scope.add(_entry("closer", _unit(1, 0.01, 0), {"15"}))
    scope.add(_entry("far", _unit(0, 1, 0)))
    query = _unit(1, 0, 0)
    assert scope.best(query, frozenset(), 0.9, 0)[0] == "close"  # type: ignore[index]
    assert scope.best(query, frozenset({"15"}), 0.9, 0)[0] == "closer"  # type: ignore[index]
    assert scope.best(query, frozenset({"14"}), 0.9, 0) is None
    assert scope.best(query, frozenset(), 0.999, 0) is None
    assert scope.best(_unit(1, 0), frozenset(), 0.5, 0) is None  # another model's size


def test_expired_entries_do_not_match() -> None:
    scope = ScopeIndex(2, 10)
    scope.add(_entry("old", _unit(1, 0), expires=100.0))
    assert scope.best(_unit(1, 0), frozenset(), 0.9, 50.0) is not None
    assert scope.best(_unit(1, 0), frozenset(), 0.9, 100.0) is None


def test_bounds_drop_the_oldest_and_removal_keeps_the_rest() -> None:
    scope = ScopeIndex(2, 3)
    for number in range(20):  # grows past its first buffer, then evicts
        scope.add(_entry(str(number), _unit(1, number / 10), age=number))
    assert len(scope) == 3 and scope.ids == ["17", "18", "19"]
    assert scope.newest == NOW + timedelta(seconds=19)
    scope.remove("18")
    scope.remove("nope")
    assert scope.ids == ["17", "19"]
    assert scope.best(_unit(1, 1.9), frozenset(), 0.999, 0)[0] == "19"  # type: ignore[index]
    scope.add(_entry("19", _unit(1, 0)))  # loaded twice: kept once
    assert len(scope) == 2


def test_the_index_keeps_a_bounded_number_of_scopes() -> None:
    index = SemanticIndex(max_scopes=2, max_entries=5)
    for name in ("a", "b"):
        index.create("c1", name, 2).add(_entry(name, _unit(1, 0)))
    assert index.get("c1", "a") is not None  # "a" is now the most recent
    index.create("c2", "c", 2)
    assert index.get("c1", "b") is None and index.get("c1", "a") is not None
    assert len(index) == 1
    index.remove("a")
    assert len(index) == 0
    index.forget(client_id="c1")
    assert index.get("c1", "a") is None and index.get("c2", "c") is not None
    index.forget()
    assert index.get("c2", "c") is None


def test_vectors_are_stored_as_little_endian_float32() -> None:
    vector = _unit(3, 4)
    data = vector_to_bytes(vector)
    assert data == np.asarray([0.6, 0.8], dtype="<f4").tobytes()
    assert np.array_equal(vector_from_bytes(data), vector)
