"""Type names shared by every layer.

``JSON`` is a decoded JSON object as it crosses a wire boundary (a provider's body, a
client's request, a cached answer): kept loose on purpose, because each codec checks the
fields it reads.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
