"""Small HL7 v3 XML helpers shared by the reader and the writer.

Reading goes through XPath on the ``urn:hl7-org:v3`` namespace; every helper that finds "the"
element refuses the message when it finds two, since a second value the model has no room for
would otherwise be dropped without a word. Writing builds elements in the order the ICH schema
requires (HL7 v3 schemas are sequences: order is part of validity).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final, TypeVar

from lxml import etree

from pharmaqms.lifecycle.use.e2b.codes import HL7_NS, XSI_NS, NullFlavor
from pharmaqms.lifecycle.use.e2b.dates import HL7Time
from pharmaqms.lifecycle.use.e2b.icsr import RefusalReason
from pharmaqms.lifecycle.use.e2b.model import MedDRA, Quantity, TermId

NS: Final = {"h": HL7_NS, "xsi": XSI_NS}
XSI_TYPE: Final = f"{{{XSI_NS}}}type"
E = TypeVar("E", bound=StrEnum)


class MessageError(Exception):
    """One message cannot be taken; carries the refusal reason and the element at fault."""

    def __init__(self, reason: RefusalReason, element: str, detail: str) -> None:
        super().__init__(f"{element}: {detail}")
        self.reason = reason
        self.element = element
        self.detail = detail


# --- reading -------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compiled(path: str) -> Any:
    # Compiling an XPath costs more than running it; the reader uses a few hundred paths.
    return etree.XPath(path, namespaces=NS)


def find_all(node: Any, path: str, **variables: str) -> list[Any]:
    return list(_compiled(path)(node, **variables))


def find(node: Any, path: str, element: str, **variables: str) -> Any | None:
    """The one element at ``path``, or None; two or more refuse the message."""
    found = find_all(node, path, **variables)
    if len(found) > 1:
        raise MessageError(RefusalReason.REPEATED_ELEMENT, element, f"{len(found)} × {path}")
    return found[0] if found else None


def attr(node: Any | None, name: str) -> str | None:
    if node is None:
        return None
    value = node.get(name)
    return None if value is None else str(value)


def code_attr(node: Any | None, name: str = "code") -> str | None:
    """A code or identifier attribute: surrounding blanks are not part of a code."""
    value = attr(node, name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def text(node: Any | None) -> str | None:
    """The character content of a text element, exactly as sent (whitespace included)."""
    if node is None or node.text is None:
        return None
    return str(node.text)


# The elements whose null flavour the reader put into the model, for the message being read:
# any other null flavour in the message is reported (a finding), never dropped in silence.
_HELD: ContextVar[set[str] | None] = ContextVar("e2b_held_null_flavours", default=None)


@contextmanager
def tracking_null_flavours() -> Iterator[set[str]]:
    held: set[str] = set()
    token = _HELD.set(held)
    try:
        yield held
    finally:
        _HELD.reset(token)


def null_flavour(node: Any | None, element: str) -> NullFlavor | None:
    if node is None:
        return None
    value = code_attr(node, "nullFlavor")
    if value is None:
        return None
    held = _HELD.get()
    if held is not None:
        held.add(node.getroottree().getpath(node))
    try:
        return NullFlavor(value)
    except ValueError:
        raise MessageError(
            RefusalReason.UNKNOWN_CODE, element, f"nullFlavor {value!r} is not an HL7 null flavour"
        ) from None


def timestamp(value: str | None, element: str) -> HL7Time | None:
    if value is None:
        return None
    try:
        return HL7Time.parse(value)
    except ValueError as exc:
        raise MessageError(RefusalReason.INVALID_DATE, element, str(exc)) from None


def decimal(value: str | None, element: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise MessageError(
            RefusalReason.INVALID_NUMBER, element, f"{value!r} is not a number"
        ) from None
    if not number.is_finite():
        raise MessageError(RefusalReason.INVALID_NUMBER, element, f"{value!r} is not finite")
    return number


def coded(enum: type[E], value: str | None, element: str) -> E | None:
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        raise MessageError(
            RefusalReason.UNKNOWN_CODE,
            element,
            f"code {value!r} is not in the {enum.__name__} list",
        ) from None


def quantity(node: Any | None, element: str, *, value: str = "value") -> Quantity | None:
    """A PQ (``value`` + ``unit``); a number without a unit is the UCUM unity "1"."""
    number = decimal(attr(node, value), element)
    if number is None:
        return None
    return Quantity(number, code_attr(node, "unit") or "1")


def meddra(node: Any | None) -> MedDRA | None:
    version, code = code_attr(node, "codeSystemVersion"), code_attr(node, "code")
    return None if version is None and code is None else MedDRA(version, code)


def term(node: Any | None) -> TermId | None:
    code, version = code_attr(node, "code"), code_attr(node, "codeSystemVersion")
    if code is None and version is None:
        return None
    return TermId(code, version, code_attr(node, "codeSystem"))


def boolean(node: Any | None, element: str) -> bool | None:
    value = code_attr(node, "value")
    if value is None:
        return None
    if value not in ("true", "false"):
        raise MessageError(RefusalReason.UNKNOWN_CODE, element, f"BL value {value!r}")
    return value == "true"


# --- writing -------------------------------------------------------------------------------


def sub(parent: Any, name: str, text_value: str | None = None, **attrs: str | None) -> Any:
    """A child element in the HL7 namespace; ``None`` attributes are left out."""
    child = etree.SubElement(parent, f"{{{HL7_NS}}}{name}")
    for key, value in attrs.items():
        if value is not None:
            child.set(XSI_TYPE if key == "xsi_type" else key, value)
    if text_value is not None:
        child.text = text_value
    return child


def number(value: Decimal) -> str:
    """A decimal as an HL7 REAL literal: plain notation, never an exponent."""
    return format(value, "f")


def ts_or_null(value: HL7Time | NullFlavor | None) -> dict[str, str | None]:
    """Attributes for a TS element holding a value or a null flavour."""
    if isinstance(value, NullFlavor):
        return {"nullFlavor": value.value}
    return {"value": None if value is None else value.format()}


def text_or_null(parent: Any, name: str, value: str | NullFlavor | None, **attrs: str) -> Any:
    if value is None:
        return None
    if isinstance(value, NullFlavor):
        return sub(parent, name, nullFlavor=value.value, **attrs)
    return sub(parent, name, value, **attrs)
