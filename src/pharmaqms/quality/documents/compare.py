"""Two versions of a document side by side: the lines of each, aligned, and what changed
between them (the reviewer of a revision reads the change, not the whole text again)."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Kind = Literal["same", "changed", "removed", "added"]


@dataclass(frozen=True)
class Row:
    kind: Kind
    left_no: int | None
    left: str
    right_no: int | None
    right: str


@dataclass(frozen=True)
class Comparison:
    rows: list[Row]

    @property
    def changed(self) -> int:
        return sum(1 for r in self.rows if r.kind != "same")


def side_by_side(old: str, new: str) -> Comparison:
    a = (old or "").splitlines()
    b = (new or "").splitlines()
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(
                Row("same", i + 1, a[i], j + 1, b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
        elif tag == "delete":
            rows.extend(Row("removed", i + 1, a[i], None, "") for i in range(i1, i2))
        elif tag == "insert":
            rows.extend(Row("added", None, "", j + 1, b[j]) for j in range(j1, j2))
        else:  # replace: pair the lines, the longer side's rest stands alone
            left, right = list(range(i1, i2)), list(range(j1, j2))
            for k in range(max(len(left), len(right))):
                i = left[k] if k < len(left) else None
                j = right[k] if k < len(right) else None
                kind: Kind = (
                    "changed"
                    if i is not None and j is not None
                    else ("removed" if j is None else "added")
                )
                rows.append(
                    Row(
                        kind,
                        None if i is None else i + 1,
                        "" if i is None else a[i],
                        None if j is None else j + 1,
                        "" if j is None else b[j],
                    )
                )
    return Comparison(rows)
