"""Replay a stored body as chunks, and assemble chunks back into a storable body."""

from __future__ import annotations

import copy

from ai_gateway.cache.stream import (
    StreamAccumulator,
    completion_to_chunks,
    split_pieces,
    split_text,
    with_usage,
)
from ai_gateway.providers.base import Usage
from tests.cache._helpers import completion

TOOL_CALLS = [
    {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Recife"}'},
    },
    {
        "id": "call_2",
        "type": "function",
        "function": {"name": "get_time", "arguments": '{"tz": "America/Sao_Paulo"}'},
    },
]


def _reassemble(chunks: list[dict]) -> StreamAccumulator:
    acc = StreamAccumulator()
    for chunk in chunks:
        acc.add(chunk)
    acc.mark_ended()
    return acc


def test_split_text_keeps_every_character_and_prefers_spaces() -> None:
    text = "lorem ipsum dolor sit amet " * 20
    pieces = split_text(text, 32)
    assert "".join(pieces) == text
    assert all(len(p) <= 32 for p in pieces)
    assert all(p.endswith(" ") for p in pieces[:-1])
    assert split_text("x" * 100, 32) == ["x" * 32, "x" * 32, "x" * 32, "x" * 4]
    assert split_text("") == []


def test_replay_shape() -> None:
    body = completion("word " * 40)
    chunks = completion_to_chunks(body, chunk_chars=32)

    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["id"] == body["id"] and c["model"] == body["model"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len(chunks) > 4
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert all("usage" not in c for c in chunks)


def test_replay_reassembles_to_the_same_body() -> None:
    body = completion("Olá! " + "Isto é uma resposta longa. " * 30)
    acc = _reassemble(completion_to_chunks(body, include_usage=True))
    assert acc.complete
    assert acc.body() == body


def test_replay_with_include_usage_ends_with_a_usage_chunk() -> None:
    body = completion()
    chunks = completion_to_chunks(body, include_usage=True)

    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == body["usage"]
    assert all(c["usage"] is None for c in chunks[:-1])


def test_replay_of_tool_calls_round_trips() -> None:
    body = completion(None, tool_calls=copy.deepcopy(TOOL_CALLS))
    chunks = completion_to_chunks(body)

    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    [tool_chunk] = [c for c in chunks if "tool_calls" in c["choices"][0]["delta"]]
    assert [t["index"] for t in tool_chunk["choices"][0]["delta"]["tool_calls"]] == [0, 1]
    acc = _reassemble(chunks)
    expected = copy.deepcopy(body)
    del expected["usage"]  # no usage chunk was asked for
    assert acc.body() == expected


def test_replay_does_not_share_state_with_the_body() -> None:
    body = completion(None, tool_calls=copy.deepcopy(TOOL_CALLS))
    chunks = completion_to_chunks(body)
    chunks[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = "changed"
    assert body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"


def _live_tool_stream() -> list[dict]:
    """Chunks as OpenAI streams parallel tool calls: name once, arguments in fragments,
    calls interleaved by index."""
    head = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def c(delta: dict, finish: str | None = None, **extra: object) -> dict:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**head, "choices": [choice], **extra}

    def call(index: int, **fields: object) -> dict:
        return {"tool_calls": [{"index": index, **fields}]}

    return [
        c({"role": "assistant", "content": None}),
        c(call(0, id="call_1", type="function", function={"name": "get_weather", "arguments": ""})),
        c(call(0, function={"arguments": '{"ci'})),
        c(call(1, id="call_2", type="function", function={"name": "get_time", "arguments": ""})),
        c(call(0, function={"arguments": 'ty": "Recife"}'})),
        c(call(1, function={"arguments": '{"tz": "America/Sao_Paulo"}'})),
        c({}, "tool_calls"),
        {**head, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
    ]


def test_accumulator_merges_tool_call_deltas_by_index() -> None:
    acc = _reassemble(_live_tool_stream())

    body = acc.body()

    assert acc.complete
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": None,
        "tool_calls": TOOL_CALLS,
    }
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 4}
    assert acc.usage == body["usage"]


def test_cut_stream_is_not_complete() -> None:
    chunks = completion_to_chunks(completion("a long answer " * 10), chunk_chars=16)

    cut = StreamAccumulator()
    for chunk in chunks[:-1]:  # the finish_reason chunk never came
        cut.add(chunk)
    cut.mark_ended()
    assert not cut.complete

    unended = StreamAccumulator()
    for chunk in chunks:  # everything arrived, but the caller saw the stream fail
        unended.add(chunk)
    assert not unended.complete

    assert not StreamAccumulator().complete
    empty = StreamAccumulator()
    empty.mark_ended()
    assert not empty.complete


def test_multiple_choices_need_every_finish_reason() -> None:
    body = completion("first")
    second = copy.deepcopy(body["choices"][0])
    second["index"] = 1
    second["message"]["content"] = "second"
    body["choices"].append(second)
    chunks = completion_to_chunks(body)

    acc = _reassemble(chunks)
    assert acc.complete
    assert acc.body()["choices"] == body["choices"]

    partial = StreamAccumulator()
    for chunk in chunks[:-1]:
        partial.add(chunk)
    partial.mark_ended()
    assert not partial.complete


def test_refusal_round_trips() -> None:
    body = completion(None, refusal="I can't help with that.")
    body["choices"][0]["finish_reason"] = "stop"
    acc = _reassemble(completion_to_chunks(body, include_usage=True))
    assert acc.body() == body


def test_replay_cuts_text_where_the_original_stream_did() -> None:
    acc = StreamAccumulator()
    deltas = ["Olá", ", tudo", " bem", "?"]
    acc.add({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
    for piece in deltas:
        acc.add({"choices": [{"index": 0, "delta": {"content": piece}}]})
    acc.add({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    acc.mark_ended()
    assert acc.pieces() == {0: [3, 6, 4, 1]}
    chunks = completion_to_chunks(acc.body(), pieces=acc.pieces())
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:-1]] == deltas


def test_inconsistent_pieces_fall_back_to_word_pieces() -> None:
    assert split_pieces("abcdef", [2, 2]) is None
    assert split_pieces("abcdef", []) is None
    assert split_pieces("abcdef", [2, 4]) == ["ab", "cdef"]
    body = completion("uma resposta que não bate com os pedaços guardados")
    chunks = completion_to_chunks(body, pieces={0: [1, 2, 3]})
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == body["choices"][0]["message"]["content"]
    assert len(chunks) > 4


def test_with_usage_fills_a_missing_usage_without_mutating() -> None:
    body = completion()
    del body["usage"]
    filled = with_usage(body, Usage(input_tokens=12, output_tokens=5, cached_tokens=4))
    assert "usage" not in body
    assert filled["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 5,
        "total_tokens": 17,
        "prompt_tokens_details": {"cached_tokens": 4},
    }
    own = completion()
    assert with_usage(own, Usage(1, 1)) is own
