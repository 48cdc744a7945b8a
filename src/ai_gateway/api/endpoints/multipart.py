"""``multipart/form-data`` bodies (audio uploads), read with ``python-multipart``'s
streaming parser over a body the runner has already size-capped.

Every malformed body is a 400 naming what is wrong; a field sent twice keeps its first
value (OpenAI's form fields are all single-valued, and ``x[]`` lists are not needed here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import ParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ai_gateway.errors import InvalidRequest

__all__ = ["FormPart", "parse_form"]

_MAX_PARTS = 32


@dataclass(slots=True)
class FormPart:
    name: str
    filename: str | None = None
    content_type: str = "application/octet-stream"
    chunks: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class _Collector:
    """Callbacks of :class:`MultipartParser`: builds the parts one by one."""

    def __init__(self) -> None:
        self.parts: list[FormPart] = []
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self._part: FormPart | None = None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode(
            "utf-8", "replace"
        )
        self._field = self._value = b""

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise InvalidRequest("every multipart part needs a form-data name", code="invalid_form")
        if len(self.parts) >= _MAX_PARTS:
            raise InvalidRequest(f"at most {_MAX_PARTS} form fields", code="invalid_form")
        filename = options.get(b"filename")
        self._part = FormPart(
            name=options[b"name"].decode("utf-8", "replace"),
            filename=filename.decode("utf-8", "replace") if filename is not None else None,
            content_type=self._headers.get("content-type", "application/octet-stream"),
        )
        self.parts.append(self._part)
        self._headers = {}

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part is not None:
            self._part.chunks.append(data[start:end])


def parse_form(content_type: str | None, body: bytes) -> dict[str, FormPart]:
    """The form's parts by name (the first of each name)."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequest(
            "send the body as multipart/form-data (with a boundary)", code="invalid_form"
        )
    collector = _Collector()
    parser = MultipartParser(
        boundary,
        {
            "on_header_field": collector.header_field,
            "on_header_value": collector.header_value,
            "on_header_end": collector.header_end,
            "on_headers_finished": collector.headers_finished,
            "on_part_data": collector.part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except ParseError as exc:
        raise InvalidRequest(
            f"the multipart body is malformed: {exc}", code="invalid_form"
        ) from None
    except UnicodeError:
        # A part header outside Latin-1 (the multipart parser's header encoding).
        raise InvalidRequest(
            "a part header of the multipart body is not valid text", code="invalid_form"
        ) from None
    parts: dict[str, FormPart] = {}
    for part in collector.parts:
        parts.setdefault(part.name, part)
    return parts
