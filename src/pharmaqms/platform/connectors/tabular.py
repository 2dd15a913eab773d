"""Reading CSV and JSON deliveries into rows, strictly and with positions, and applying a
source's column mapping (its column names → our field names)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from pharmaqms.kernel.errors import DocumentRefused


def decode(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentRefused(f"the file is not UTF-8 text (byte {err.start})") from None
    if not text.strip():
        raise DocumentRefused("the file is empty")
    return text


def sniff_format(content: bytes, declared: str | None) -> str:
    if declared in ("csv", "json"):
        return declared
    head = content.lstrip()[:1]
    if head in (b"{", b"["):
        return "json"
    _refuse_json_scalar(content)
    return "csv"


def _refuse_json_scalar(content: bytes) -> None:
    """A document that is one JSON value but no object or list (``"abc"``, ``42``, ``null``)
    would read as a CSV header without rows — a "completed" delivery of nothing. It is refused:
    it is not records at all. (A real CSV is not valid JSON, and fails on its first cell.)"""
    try:
        value = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return
    kind = "null" if value is None else type(value).__name__
    raise DocumentRefused(f"the document is a single JSON {kind}, not a list of records")


def _lines(reader: Any) -> Iterator[list[str]]:
    """The reader's lines; a line the csv module can't read (a cell above its field limit,
    a stray quote in strict dialects) refuses the file instead of escaping as ``csv.Error``."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            limit = csv.field_size_limit()
            if "field limit" in str(err):
                raise DocumentRefused(
                    f"line {reader.line_num}: a cell is longer than {limit:,} characters"
                ) from None
            raise DocumentRefused(f"line {reader.line_num}: not readable as CSV: {err}") from None
        yield cells


def load_json(text: str) -> Any:
    """``json.loads`` that refuses a document instead of raising: invalid JSON, and JSON
    nested deeper than the parser's recursion limit (as the EPCIS reader does)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise DocumentRefused("the JSON nests too deeply") from None
    except json.JSONDecodeError as err:
        raise DocumentRefused(
            f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None


def csv_records(
    content: bytes, delimiter: str | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    text = decode(content)
    if delimiter is None:
        first = text.splitlines()[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as err:
        raise DocumentRefused(f"no CSV header line: {err}") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise DocumentRefused("the CSV header names a column twice")
    for number, cells in enumerate(_lines(reader), start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            # A short or long line is a row problem (quarantined), not a reason to refuse
            # the file: the rest of the delivery is still taken.
            yield (
                f"line {number}",
                {
                    "__malformed__": f"{len(cells)} cells, header has {len(header)}",
                    **dict(zip(header, cells, strict=False)),
                },
            )
            continue
        yield f"line {number}", dict(zip(header, cells, strict=True))


def json_records(content: bytes, key: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    document = load_json(decode(content))
    items = document.get(key) if key and isinstance(document, dict) else document
    if isinstance(document, dict) and key is None:
        # {"results": [...]} or {"rows": [...]}: the first list found at the top.
        lists = [v for v in document.values() if isinstance(v, list)]
        items = lists[0] if len(lists) == 1 else None
    if not isinstance(items, list):
        raise DocumentRefused("the JSON document holds no list of records")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            yield f"record {index}", {"__malformed__": f"record {index} is not an object"}
            continue
        yield f"record {index}", item


def apply_mapping(values: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """Rename the source's columns to our field names; unmapped columns keep their name so
    that governance reports them as unknown (a silent drop would lose data)."""
    if not columns:
        return dict(values)
    return {columns.get(k, k): v for k, v in values.items()}
