"""The parts of the command grammar that every command file uses: the malformed result and amounts."""

from dataclasses import dataclass
from decimal import Decimal

from bot.understanding.numbers import parse_number


@dataclass(frozen=True)
class Malformed:
    """A command word with arguments the grammar cannot read; `usage` is the Chinese hint."""

    usage: str


def decimal_amount(text: str) -> Decimal | None:
    """Return a positive amount written with optional 元 or 块, rounded to cents, or None."""
    number = parse_number(text.strip().removesuffix("元").removesuffix("块"))
    return None if number is None or number <= 0 else Decimal(str(round(number, 2)))
