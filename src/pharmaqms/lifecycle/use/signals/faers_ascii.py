"""Report–drug–event rows from the FDA's FAERS quarterly data extract in ASCII form.

Source of the layout: the FDA's "ASC_NTS" readme of the FAERS Quarterly Data Extract (QDE,
revised June 2015) and its FAQs (revised July 2020), as distributed inside each quarterly ZIP
(``faers_ascii_2024Q1.zip``) from fis.fda.gov/extensions/FPD-QDE-FAERS.

The extract holds seven '$'-separated text files with a header row, named
``<KIND>yyQq.txt`` (``DEMO24Q1.txt``; the case of the name and of the ``ASCII/`` folder
varies over the years), and from 2019 a list of deleted case ids (``Deleted/DELETE24Q1.txt``,
one ``caseid`` a line). Text fields are not quoted, so '$' is the only separator.

Fields read (all others, and the OUTC, THER, RPSR and INDI files, are not needed to count
drug–event pairs and are not read):

- DEMO (one row per case version): ``primaryid`` (case id and version, the key the other
  files link on), ``caseid``, ``caseversion``, ``age`` with ``age_cod`` (YR, MON, WK, DY, HR,
  DEC), ``sex`` (M, F; UNK and NS are unknown; ``gndr_cod`` before 2014Q3), ``fda_dt`` (date
  FDA received this version, YYYYMMDD) and ``init_fda_dt`` (date of the first version);
- DRUG (one row per drug per case): ``primaryid``, ``role_cod`` (PS primary suspect, SS
  secondary suspect, C concomitant, I interacting), ``drugname`` (verbatim) and ``prod_ai``
  (active ingredient, from 2014Q3);
- REAC (one row per MedDRA term per case): ``primaryid`` and ``pt`` (preferred term).

The FDA's rules for analysts, applied here:

- a case may appear in several versions: only the latest ``caseversion`` of each ``caseid`` is
  kept (a tie goes to the later ``fda_dt``, then the larger ``primaryid``), across all the
  quarters given together;
- a case listed in a deleted-cases file is left out;
- the drug is ``prod_ai`` when present, else ``drugname``, upper-cased with its whitespace
  collapsed; suspect drugs (PS, SS) are counted unless concomitants are asked for, which adds
  C and I;
- the event is the ``pt``, compared without regard to case (the spelling shown is the most
  frequent one in the extract);
- age in years from ``age`` × its unit; sex M or F; year from ``fda_dt``, else ``init_fda_dt``.

The report id of a row is the ``caseid``. Everything is columnar (Polars reads each file's
needed columns, the rules are frame operations, never a Python loop over rows); a ZIP is
checked member by member (no absolute or ``..`` path, bounded declared sizes and compression
ratio) before its needed members are copied to a temporary directory, and the rows are read
whole before that directory goes. Legacy AERS files (before 2012Q4: ``isr``, ``case``) are
not this layout and are refused for want of ``primaryid``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

import polars as pl

from pharmaqms.lifecycle.use.signals.counts import DRUG, EVENT, REPORT
from pharmaqms.lifecycle.use.signals.errors import SignalInputError

KINDS: Final = ("DEMO", "DRUG", "REAC", "OUTC", "THER", "RPSR", "INDI")
NEEDED: Final = ("DEMO", "DRUG", "REAC")
DELETED: Final = "DELETED"
COLUMNS: Final = {
    "DEMO": ("primaryid", "caseid", "caseversion"),
    "DRUG": ("primaryid", "role_cod", "drugname"),
    "REAC": ("primaryid", "pt"),
}
# Older names of an optional column: DEMO's sex was ``gndr_cod`` until 2014Q2.
ALIASES: Final = {"sex": ("gndr_cod",)}
OPTIONAL: Final = {
    "DEMO": ("age", "age_cod", "sex", "fda_dt", "init_fda_dt"),
    "DRUG": ("prod_ai",),
    "REAC": (),
}
SUSPECT: Final = ("PS", "SS")
CONCOMITANT: Final = ("C", "I")
# age_cod → years per unit (ASC_NTS, DEMO file).
AGE_UNIT_YEARS: Final = {
    "DEC": 10.0,
    "YR": 1.0,
    "MON": 1 / 12,
    "WK": 7 / 365.25,
    "DY": 1 / 365.25,
    "HR": 1 / 8766,
}
SEXES: Final = ("M", "F")
ENCODINGS: Final = ("utf-8", "latin-1")
_NAME: Final = re.compile(r"^(DEMO|DRUG|REAC|OUTC|THER|RPSR|INDI)\d{2}Q[1-4]\.TXT$", re.IGNORECASE)
# ZIP guards: a quarter's largest member (DRUG) is about 1 GB, text compresses about 10:1.
MAX_MEMBER_BYTES: Final = 8 * 1024**3
MAX_TOTAL_BYTES: Final = 24 * 1024**3
MAX_RATIO: Final = 200
_COPY_CHUNK: Final = 16 * 1024**2


@dataclass(frozen=True, slots=True)
class FaersRows:
    """The rows (``report_id, drug, event, age, sex, year``, in no particular order) and what
    was left out, one sentence each, for the analyst to read."""

    rows: pl.DataFrame
    notes: tuple[str, ...]


def is_faers_extract(path: Path) -> bool:
    """A directory or a ZIP file: the only two forms a quarterly extract comes in."""
    return path.is_dir() or (path.is_file() and zipfile.is_zipfile(path))


def read_faers(path: Path, *, concomitant: bool = False, encoding: str = "utf-8") -> FaersRows:
    """The report–drug–event rows of one or more quarterly extracts in ``path`` (a directory,
    searched recursively, or a ZIP). Refuses, reading nothing, when a needed file or column is
    missing, the ZIP is unsafe, or the text is not in ``encoding``."""
    if encoding not in ENCODINGS:
        raise SignalInputError(f"encoding {encoding!r}: choose from {', '.join(ENCODINGS)}")
    if not path.exists():
        raise SignalInputError(f"no such file or directory: {path}")
    with tempfile.TemporaryDirectory(prefix="faers-") as scratch:
        if path.is_dir():
            found = _classify((p.relative_to(path).as_posix(), p) for p in path.rglob("*"))
            files = {kind: paths for kind, paths in found.items() if kind in (*NEEDED, DELETED)}
        else:
            files = _unpack(path, Path(scratch))
        if encoding == "latin-1":
            files = {
                kind: [_to_utf8(p, Path(scratch)) for p in paths] for kind, paths in files.items()
            }
        return _rows(files, concomitant=concomitant)


def _classify(entries: Iterable[tuple[str, Path]]) -> dict[str, list[Path]]:
    """The extract's files by kind (DEMO, DRUG, …, DELETED) from their relative paths."""
    found: dict[str, list[Path]] = defaultdict(list)
    for relative, target in entries:
        parts = PurePosixPath(relative).parts
        name = parts[-1] if parts else ""
        if not name.upper().endswith(".TXT"):
            continue
        if match := _NAME.match(name):
            found[match.group(1).upper()].append(target)
        elif "DELETE" in name.upper() or any(p.upper() == "DELETED" for p in parts[:-1]):
            found[DELETED].append(target)
    missing = [kind for kind in NEEDED if not found.get(kind)]
    if missing:
        raise SignalInputError(
            "not a FAERS quarterly extract: no "
            + ", ".join(f"{kind}yyQq.txt" for kind in missing)
            + " file found (give the quarter's ZIP itself, or the folder it was unpacked into)"
        )
    return {kind: sorted(paths) for kind, paths in found.items()}


def _unpack(archive_path: Path, scratch: Path) -> dict[str, list[Path]]:
    """Check every member of the ZIP, then copy the needed ones into ``scratch``."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise SignalInputError(f"{archive_path.name}: not a readable ZIP: {error}") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        total = 0
        for info in members:
            name = info.filename.replace("\\", "/")
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
                raise SignalInputError(
                    f"{archive_path.name}: unsafe member path {info.filename!r}; nothing read"
                )
            if info.file_size > MAX_MEMBER_BYTES or (
                info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            ):
                raise SignalInputError(
                    f"{archive_path.name}: member {info.filename!r} would unpack to "
                    f"{info.file_size:,} bytes from {info.compress_size:,} (over the limit of "
                    f"{MAX_MEMBER_BYTES:,} bytes or {MAX_RATIO}:1); nothing read"
                )
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise SignalInputError(
                f"{archive_path.name}: would unpack to {total:,} bytes (limit "
                f"{MAX_TOTAL_BYTES:,}); nothing read"
            )
        by_name = {info.filename.replace("\\", "/"): info for info in members}
        wanted = _classify((name, Path(name)) for name in by_name)
        unpacked: dict[str, list[Path]] = {}
        for kind, names in wanted.items():
            if kind not in (*NEEDED, DELETED):
                continue
            unpacked[kind] = []
            for position, member in enumerate(names):
                # Kept under its own name, so a refusal names the member the analyst knows.
                folder = scratch / f"{kind}-{position}"
                folder.mkdir()
                target = folder / member.name
                try:
                    with (
                        archive.open(by_name[member.as_posix()]) as source,
                        target.open("wb") as sink,
                    ):
                        shutil.copyfileobj(source, sink, _COPY_CHUNK)
                except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
                    raise SignalInputError(
                        f"{archive_path.name}: member {member.as_posix()!r} is damaged: {error}"
                    ) from None
                except (NotImplementedError, RuntimeError) as error:  # method, encryption
                    raise SignalInputError(
                        f"{archive_path.name}: member {member.as_posix()!r} cannot be read here "
                        f"({error}); unpack the ZIP with another tool and give the folder"
                    ) from None
                unpacked[kind].append(target)
        return unpacked


def _to_utf8(path: Path, scratch: Path) -> Path:
    """A Latin-1 text file re-encoded as UTF-8 (in blocks, never per row)."""
    folder = scratch / f"utf8-{len(list(scratch.iterdir()))}"
    folder.mkdir()
    target = folder / path.name
    with (
        path.open(encoding="latin-1", newline="") as source,
        target.open("w", encoding="utf-8", newline="") as sink,
    ):
        shutil.copyfileobj(source, sink, _COPY_CHUNK)
    return target


def _scan(kind: str, path: Path) -> pl.LazyFrame:
    """One '$' file with the columns this reader uses, header names lower-cased, all text."""
    shown = path.name
    try:
        header = pl.scan_csv(
            path, separator="$", quote_char=None, infer_schema=False, n_rows=0
        ).collect_schema()
    except pl.exceptions.PolarsError as error:
        raise SignalInputError(
            f"{kind} file {shown}: not readable: {str(error).splitlines()[0]}"
        ) from None
    names = {name.strip().lower(): name for name in header}
    missing = [name for name in COLUMNS[kind] if name not in names]
    if missing:
        raise SignalInputError(f"{kind} file {shown}: no column {', '.join(missing)}")
    frame = pl.scan_csv(path, separator="$", quote_char=None, infer_schema=False)
    optional = []
    for name in OPTIONAL[kind]:
        found = next((names[n] for n in (name, *ALIASES.get(name, ())) if n in names), None)
        optional.append((pl.lit(None, pl.String) if found is None else pl.col(found)).alias(name))
    return frame.select([pl.col(names[name]).alias(name) for name in COLUMNS[kind]] + optional)


def _collect(kind: str, paths: list[Path]) -> pl.DataFrame:
    """All the files of one kind (one per quarter given), each read whole or refused."""
    frames = []
    for path in paths:
        try:
            frames.append(_scan(kind, path).collect())
        except pl.exceptions.PolarsError as error:
            detail = str(error).splitlines()[0]
            if "utf-8" in detail.lower() or "utf8" in detail.lower():
                detail += " (the text is not UTF-8: give --encoding latin-1 if it is Latin-1)"
            raise SignalInputError(f"{kind} file {path.name}: not readable: {detail}") from None
    return pl.concat(frames, how="vertical")


def _deleted(paths: list[Path]) -> pl.Series:
    """Case ids of the deleted-cases files: the first field of each line, header or not."""
    ids: list[pl.Series] = []
    for path in paths:
        try:
            lines = pl.read_csv(
                path, separator="$", quote_char=None, has_header=False, infer_schema=False
            )
        except pl.exceptions.NoDataError:
            continue
        except pl.exceptions.PolarsError as error:
            raise SignalInputError(
                f"deleted-cases file {path.name}: not readable: {str(error).splitlines()[0]}"
            ) from None
        ids.append(lines.to_series(0).str.strip_chars())
    if not ids:
        return pl.Series("caseid", [], pl.String)
    column = pl.concat(ids)
    return column.filter(column.str.contains(r"^\d+$")).unique().alias("caseid")


def _count(number: int, thing: str) -> str:
    return f"{number:,} {thing}" + ("" if number == 1 else "s")


def _number(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().cast(pl.Int64, strict=False)


def _clean(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().str.replace_all(r"\s+", " ")


def _rows(files: dict[str, list[Path]], *, concomitant: bool) -> FaersRows:
    """The rules, step by step on frames in memory (each step is counted for the notes, and a
    lazy plan would recompute the shared steps for each count)."""
    demo = _collect("DEMO", files["DEMO"])
    drug = _collect("DRUG", files["DRUG"])
    reac = _collect("REAC", files["REAC"])
    deleted = _deleted(files.get(DELETED, []))

    # Latest version of each case; then the deleted cases out. primaryid is a number (case id
    # and version run together): the files are joined on it as one.
    demo = demo.with_columns(
        pl.col("caseid").str.strip_chars(),
        _number(pl.col("primaryid")),
        _number(pl.col("caseversion")),
        pl.col("fda_dt").str.strip_chars(),
    )
    unkeyed = pl.col("primaryid").is_null() | (pl.col("caseid").str.len_chars() == 0)
    latest = (
        demo.filter(~unkeyed)
        .sort(
            pl.col("caseversion"),
            _number(pl.col("fda_dt")),
            pl.col("primaryid"),
            nulls_last=False,
        )
        .unique("caseid", keep="last", maintain_order=False)
    )
    kept = latest.filter(~pl.col("caseid").is_in(deleted.implode())) if deleted.len() else latest

    age = pl.col("age").str.strip_chars().cast(pl.Float64, strict=False)
    unit = (
        pl.col("age_cod")
        .str.strip_chars()
        .str.to_uppercase()
        .replace_strict(AGE_UNIT_YEARS, default=None, return_dtype=pl.Float64)
    )
    year_text = pl.coalesce(
        pl.col("fda_dt").str.slice(0, 4).replace("", None),
        pl.col("init_fda_dt").str.strip_chars().str.slice(0, 4).replace("", None),
    )
    sex = pl.col("sex").str.strip_chars().str.to_uppercase()
    cases = kept.select(
        pl.col("primaryid"),
        pl.col("caseid").alias(REPORT),
        (age * unit).alias("age"),
        pl.when(sex.is_in(SEXES)).then(sex).otherwise(None).alias("sex"),
        year_text.cast(pl.Int64, strict=False).alias("year"),
    )
    kept_ids = cases.select("primaryid")

    # Drugs of the cases kept: the roles asked, the active ingredient else the verbatim name.
    roles = (*SUSPECT, *CONCOMITANT) if concomitant else SUSPECT
    # A DRUG or REAC row whose primaryid is in no DEMO row (a broken line, a mismatched file) is
    # counted apart from the rows of superseded and deleted versions.
    known = demo.filter(~unkeyed).get_column("primaryid").implode()
    drug = drug.with_columns(_number(pl.col("primaryid")))
    drug_orphans = drug.filter(~pl.col("primaryid").is_in(known).fill_null(False)).height
    drug = drug.join(kept_ids, on="primaryid", how="semi").with_columns(
        pl.col("role_cod").str.strip_chars().str.to_uppercase()
    )
    used = drug.filter(pl.col("role_cod").is_in(roles)).with_columns(
        _clean(
            pl.coalesce(
                pl.col("prod_ai").str.strip_chars().replace("", None),
                pl.col("drugname").str.strip_chars().replace("", None),
            )
        )
        .str.to_uppercase()
        .alias(DRUG)
    )
    drugs = used.filter(pl.col(DRUG).is_not_null()).select("primaryid", DRUG).unique()

    # Events: the PT without regard to case, shown in its most frequent spelling.
    reac = reac.with_columns(_number(pl.col("primaryid")))
    reac_orphans = reac.filter(~pl.col("primaryid").is_in(known).fill_null(False)).height
    reac = reac.join(kept_ids, on="primaryid", how="semi").with_columns(
        _clean(pl.col("pt")).replace("", None).alias(EVENT)
    )
    terms = reac.filter(pl.col(EVENT).is_not_null()).with_columns(
        pl.col(EVENT).str.to_lowercase().alias("key")
    )
    spelling = (
        terms.group_by("key", EVENT)
        .len()
        .sort(["key", "len", EVENT], descending=[False, True, False])
        .unique("key", keep="first")
        .select("key", pl.col(EVENT).alias("shown"))
    )
    events = (
        terms.select("primaryid", "key")
        .unique()
        .join(spelling, on="key")
        .select("primaryid", pl.col("shown").alias(EVENT))
    )

    rows = (
        cases.join(drugs, on="primaryid")
        .join(events, on="primaryid")
        .select(REPORT, DRUG, EVENT, "age", "sex", "year")
    )
    unkeyed_n = demo.filter(unkeyed).height
    versions, latest_n, cases_n = demo.height - unkeyed_n, latest.height, cases.height
    unused = drug.filter(~pl.col("role_cod").is_in(roles)).height
    drug_unnamed = used.filter(pl.col(DRUG).is_null()).height
    reac_unnamed = reac.filter(pl.col(EVENT).is_null()).height
    counted = rows.select(pl.col(REPORT).n_unique()).item()

    notes: list[str] = []
    if unkeyed_n:
        notes.append(
            _count(unkeyed_n, "DEMO row") + " without a numeric primaryid or a caseid left out"
        )
    for orphans, kind in ((drug_orphans, "DRUG"), (reac_orphans, "REAC")):
        if orphans:
            notes.append(_count(orphans, f"{kind} row") + " of no DEMO case left out")
    if versions > latest_n:
        notes.append(_count(versions - latest_n, "earlier case version") + " superseded")
    if latest_n > cases_n:
        notes.append(_count(latest_n - cases_n, "deleted case") + " left out")
    if unused:
        notes.append(
            _count(unused, "DRUG row")
            + " of other roles not used"
            + ("" if concomitant else " (--concomitant counts C and I too)")
        )
    if drug_unnamed:
        notes.append(_count(drug_unnamed, "DRUG row") + " without a name left out")
    if reac_unnamed:
        notes.append(_count(reac_unnamed, "REAC row") + " without a term left out")
    if counted < cases_n:
        notes.append(
            _count(cases_n - counted, "case")
            + " without both a counted drug and a term gave no row"
        )
    return FaersRows(rows, tuple(notes))
