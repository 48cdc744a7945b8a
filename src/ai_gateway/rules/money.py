"""The scale money and budget amounts are kept at, everywhere.

Ten decimal places (1e-10 USD is far below a cent) in Python and in both databases
(``storage.types.Money``); computed amounts are quantized to it with the column's rounding,
so what a caller saw is what is read back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

__all__ = ["MONEY_QUANTUM", "MONEY_SCALE"]

#: Decimal places kept for money and token counts in budgets.
MONEY_SCALE: Final = 10
#: The smallest amount stored (1e-10); every stored amount is a multiple of it.
MONEY_QUANTUM: Final = Decimal(1).scaleb(-MONEY_SCALE)
