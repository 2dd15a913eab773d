"""Numbers as people type them: one comma is a decimal mark ("1,5", as typed in Europe), but a
comma that may be a thousands separator ("1,500": 1500 to one person, 1.5 to another) is refused
rather than guessed. Shared by forms on the shop floor and by the data platform's governance."""

from __future__ import annotations

import re

from pharmaqms.kernel.errors import InvalidInput

# A comma before exactly three digits, after a non-zero whole part.
_AMBIGUOUS_COMMA = re.compile(r"[+-]?0*[1-9]\d*,\d{3}")


def ambiguous_comma(text: str) -> bool:
    """Whether the comma in ``text`` could as well be a thousands separator."""
    return bool(_AMBIGUOUS_COMMA.fullmatch(text.strip()))


def typed_number(typed: str, field: str) -> float:
    """The number typed, with a decimal comma read as a point; refused (naming ``field``) when
    empty, ambiguous, with both ',' and '.', or not a number."""
    text = typed.strip()
    if not text:
        raise InvalidInput(f"{field} must be a number", field=field)
    if "," in text and "." in text:
        raise InvalidInput(
            f"{field}: {typed!r} has both ',' and '.': write one decimal mark and no "
            "thousands separator",
            field=field,
        )
    if ambiguous_comma(text):
        thousands = int(text.replace(",", ""))
        decimal = float(text.replace(",", "."))
        raise InvalidInput(
            f"{field}: write {thousands} or {decimal!r}: {typed!r} is ambiguous",
            field=field,
        )
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise InvalidInput(f"{field}: {typed!r} is not a number", field=field) from None
