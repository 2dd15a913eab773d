"""Reading the shipped manuals: each file a short header between ``---`` lines (document type,
area, periodic review months) and Markdown whose first ``#`` heading is the title.

A file that does not follow the form is refused by name with what is wrong, and nothing of any
file is loaded: a half-loaded set of manuals would leave the register out of step with the
release."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.quality.documents.models import DocumentType

# docs/manuals of the checkout pharmaqms runs from (src/pharmaqms/compliance/manuals/ → repo);
# PHARMAQMS_MANUALS_DIR points elsewhere (an installation that keeps its own copy).
SHIPPED = Path(__file__).resolve().parents[4] / "docs" / "manuals"
HEADER_KEYS = {"type", "area", "review_months"}
INDEX = "README.md"  # the folder's own index, not a manual


class ManualError(InvalidInput):
    code = "bad_manual"
    title = "Manual file not in the expected form"


@dataclass(frozen=True)
class Manual:
    file: str
    doc_type: str
    area: str
    review_months: int
    title: str
    body: str  # the Markdown after the header, title line included

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


def manuals_dir() -> Path:
    configured = os.environ.get("PHARMAQMS_MANUALS_DIR", "").strip()
    return Path(configured) if configured else SHIPPED


def _header(name: str, lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in HEADER_KEYS:
            raise ManualError(f"{name}: header line {line!r} is not one of {sorted(HEADER_KEYS)}")
        found[key.strip()] = value.strip()
    missing = HEADER_KEYS - set(found)
    if missing:
        raise ManualError(f"{name}: the header lacks {', '.join(sorted(missing))}")
    return found


def parse(name: str, text: str) -> Manual:
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---" or "---" not in [s.strip() for s in lines[1:]]:
        raise ManualError(f"{name}: does not start with a header between '---' lines")
    end = 1 + [s.strip() for s in lines[1:]].index("---")
    header = _header(name, [s for s in lines[1:end] if s.strip()])
    kinds = [t.value for t in DocumentType]
    if header["type"] not in kinds:
        raise ManualError(f"{name}: type {header['type']!r} is not one of {', '.join(kinds)}")
    if not header["review_months"].isdigit() or not 1 <= int(header["review_months"]) <= 60:
        raise ManualError(f"{name}: review_months must be a whole number from 1 to 60")
    body = "\n".join(lines[end + 1 :]).strip() + "\n"
    first = next((s for s in body.split("\n") if s.strip()), "")
    if not first.startswith("# "):
        raise ManualError(f"{name}: the text does not start with a '# ' title")
    title = first[2:].strip()
    if not title or len(title) > 300:
        raise ManualError(f"{name}: the title must have 1 to 300 characters")
    return Manual(name, header["type"], header["area"], int(header["review_months"]), title, body)


def read_all(directory: Path | None = None) -> list[Manual]:
    folder = directory or manuals_dir()
    if not folder.is_dir():
        raise ManualError(f"no manuals folder at {folder} (set PHARMAQMS_MANUALS_DIR)")
    manuals = [
        parse(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.md"))
        if path.name != INDEX
    ]
    titles = [m.title for m in manuals]
    doubled = sorted({t for t in titles if titles.count(t) > 1})
    if doubled:
        raise ManualError(f"two manuals share the title {doubled[0]!r}")
    return manuals
