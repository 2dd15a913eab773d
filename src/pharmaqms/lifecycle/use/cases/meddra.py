"""MedDRA, when the organisation is licensed: its own ASCII release files (never shipped with
pharmaqms) loaded into terminology tables, and the events coded against them.

The files are MSSO's "MedAscii" distribution: ``$``-separated, one record a line, a trailing
``$``. What is read:

- ``llt.asc``  llt_code $ llt_name $ pt_code $ … $ llt_currency (Y/N, the 10th field) $ …
- ``pt.asc``   pt_code $ pt_name $ null $ pt_soc_code (the PT's *primary* SOC) $ …
- either ``mdhier.asc`` (pt_code $ hlt_code $ hlgt_code $ soc_code $ pt_name $ hlt_name $
  hlgt_name $ soc_name $ soc_abbrev $ null $ pt_soc_code $ primary_soc_fg $), whose row with
  primary_soc_fg = Y gives a PT's primary SOC and its name,
- or the chain ``hlt_pt.asc`` (hlt $ pt), ``hlgt_hlt.asc`` (hlgt $ hlt), ``soc_hlgt.asc``
  (soc $ hlgt) with ``soc.asc`` (soc_code $ soc_name $ soc_abbrev $) for the names: the primary
  SOC is pt.asc's pt_soc_code, and it must be one the chain reaches.
- ``meddra_release.asc`` (version $ language $ …) gives the version when no version is named.

A file that is missing, a line with too few fields, a code that is not 8 digits, an LLT whose
PT is not in pt.asc: refused, naming the file and line, nothing loaded. Without a release the
cases keep verbatim terms and the mapping table as before."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.use.cases.models import (
    MedDRALowLevelTerm,
    MedDRAPreferredTerm,
    MedDRARelease,
)

CODE = re.compile(r"^\d{8}$")
VERSION = re.compile(r"^\d{1,2}\.\d$")
MAX_FILE_BYTES = 64 * 1024 * 1024
CHAIN = ("hlt_pt.asc", "hlgt_hlt.asc", "soc_hlgt.asc", "soc.asc")


@dataclass(frozen=True, slots=True)
class PT:
    code: str
    name: str
    soc_code: str
    soc_name: str
    soc_abbrev: str


@dataclass(frozen=True, slots=True)
class LLT:
    code: str
    name: str
    pt_code: str
    current: bool


@dataclass(frozen=True, slots=True)
class Parsed:
    version: str
    language: str
    llts: list[LLT]
    pts: list[PT]
    files: dict[str, str]  # file name → SHA-256


@dataclass(frozen=True, slots=True)
class Coded:
    """An event's code placed in the loaded hierarchy."""

    llt_code: str
    llt_name: str
    pt_code: str
    pt_name: str
    soc_code: str
    soc_name: str
    version: str


def _records(directory: Path, name: str, fields: int, files: dict[str, str]) -> list[list[str]]:
    path = directory / name
    if not path.is_file():
        raise InvalidInput(f"{name} is missing from {directory}", field="directory")
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB", field=name)
    files[name] = hashlib.sha256(data).hexdigest()
    # MSSO ships the English files in Latin-1 on older releases and UTF-8 on newer ones.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("$")
        if len(parts) < fields:
            raise InvalidInput(
                f"{name} line {number}: {len(parts)} fields, a MedDRA {name} line has at least "
                f"{fields}",
                field=name,
            )
        rows.append([p.strip() for p in parts])
    return rows


def _code(value: str, name: str, line: int, what: str) -> str:
    if not CODE.match(value):
        raise InvalidInput(
            f"{name} record {line}: the {what} {value[:20]!r} is not an 8-digit MedDRA code",
            field=name,
        )
    return value


def _pts_from_mdhier(directory: Path, files: dict[str, str]) -> dict[str, PT]:
    pts: dict[str, PT] = {}
    for i, r in enumerate(_records(directory, "mdhier.asc", 12, files), start=1):
        if r[11].upper() != "Y":
            continue  # a secondary SOC path: the PT is counted under its primary SOC only
        code = _code(r[0], "mdhier.asc", i, "PT code")
        pts[code] = PT(code, r[4], _code(r[3], "mdhier.asc", i, "SOC code"), r[7], r[8])
    return pts


def _pts_from_chain(directory: Path, files: dict[str, str]) -> dict[str, PT]:
    pt_rows = _records(directory, "pt.asc", 4, files)
    hlt_of: dict[str, set[str]] = {}
    for i, r in enumerate(_records(directory, "hlt_pt.asc", 2, files), start=1):
        hlt_of.setdefault(_code(r[1], "hlt_pt.asc", i, "PT code"), set()).add(r[0])
    hlgt_of: dict[str, set[str]] = {}
    for i, r in enumerate(_records(directory, "hlgt_hlt.asc", 2, files), start=1):
        hlgt_of.setdefault(_code(r[1], "hlgt_hlt.asc", i, "HLT code"), set()).add(r[0])
    soc_of: dict[str, set[str]] = {}
    for i, r in enumerate(_records(directory, "soc_hlgt.asc", 2, files), start=1):
        soc_of.setdefault(_code(r[1], "soc_hlgt.asc", i, "HLGT code"), set()).add(r[0])
    socs = {r[0]: (r[1], r[2]) for r in _records(directory, "soc.asc", 3, files)}
    pts: dict[str, PT] = {}
    for i, r in enumerate(pt_rows, start=1):
        code = _code(r[0], "pt.asc", i, "PT code")
        primary = _code(r[3], "pt.asc", i, "primary SOC code")
        reached = {
            soc
            for hlt in hlt_of.get(code, ())
            for hlgt in hlgt_of.get(hlt, ())
            for soc in soc_of.get(hlgt, ())
        }
        if primary not in reached:
            raise InvalidInput(
                f"pt.asc record {i}: PT {code}'s primary SOC {primary} is not reached through "
                "hlt_pt.asc, hlgt_hlt.asc and soc_hlgt.asc",
                field="pt.asc",
            )
        if primary not in socs:
            raise InvalidInput(f"soc.asc has no SOC {primary} (PT {code})", field="soc.asc")
        name, abbrev = socs[primary]
        pts[code] = PT(code, r[1], primary, name, abbrev)
    return pts


def parse_release(directory: Path, version: str | None = None) -> Parsed:
    """Read a MedAscii directory; a refusal names the file and the record."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory", field="directory")
    files: dict[str, str] = {}
    language = ""
    if (directory / "meddra_release.asc").is_file():
        release = _records(directory, "meddra_release.asc", 2, files)
        if release:
            version = version or release[0][0]
            language = release[0][1][:40]
    if not version or not VERSION.match(version.strip()):
        raise InvalidInput(
            "the MedDRA version (e.g. 27.0) is needed: name it, or load the release's "
            "meddra_release.asc with the files",
            field="version",
        )
    if (directory / "mdhier.asc").is_file():
        pts = _pts_from_mdhier(directory, files)
        names = (
            {r[0]: r[1] for r in _records(directory, "pt.asc", 2, files)}
            if (directory / "pt.asc").is_file()
            else {}
        )
        for code, name in names.items():
            if code in pts and name and name != pts[code].name:
                raise InvalidInput(
                    f"PT {code} is {name!r} in pt.asc but {pts[code].name!r} in mdhier.asc",
                    field="pt.asc",
                )
    elif all((directory / n).is_file() for n in CHAIN):
        pts = _pts_from_chain(directory, files)
    else:
        raise InvalidInput(
            "the hierarchy is missing: give mdhier.asc, or hlt_pt.asc, hlgt_hlt.asc, "
            "soc_hlgt.asc and soc.asc with pt.asc",
            field="directory",
        )
    llts = []
    for i, r in enumerate(_records(directory, "llt.asc", 10, files), start=1):
        code = _code(r[0], "llt.asc", i, "LLT code")
        pt = _code(r[2], "llt.asc", i, "PT code")
        if pt not in pts:
            raise InvalidInput(
                f"llt.asc record {i}: LLT {code} points to PT {pt}, which the hierarchy lacks",
                field="llt.asc",
            )
        llts.append(LLT(code, r[1][:200], pt, r[9].upper() != "N"))
    if not llts:
        raise InvalidInput("llt.asc holds no terms", field="llt.asc")
    return Parsed(version.strip(), language, llts, list(pts.values()), files)


def load_release(
    session: Session, *, actor: Actor, directory: Path, version: str | None = None
) -> MedDRARelease:
    """Load a release into the terminology tables (one transaction: all or nothing)."""
    actor.require("pv.meddra", "load MedDRA releases")
    parsed = parse_release(directory, version)
    if session.scalar(select(MedDRARelease.id).where(MedDRARelease.version == parsed.version)):
        raise Conflict(f"MedDRA {parsed.version} is loaded already")
    release = MedDRARelease(
        version=parsed.version,
        language=parsed.language,
        files=parsed.files,
        llt_count=len(parsed.llts),
        pt_count=len(parsed.pts),
        loaded_at=clock.now(),
        loaded_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"MedDRA {parsed.version} loaded"):
        session.add(release)
        session.flush()
        session.add_all(
            MedDRAPreferredTerm(
                release_id=release.id,
                pt_code=p.code,
                pt_name=p.name[:200],
                soc_code=p.soc_code,
                soc_name=p.soc_name[:200],
                soc_abbrev=p.soc_abbrev[:10],
            )
            for p in parsed.pts
        )
        session.add_all(
            MedDRALowLevelTerm(
                release_id=release.id,
                llt_code=t.code,
                llt_name=t.name,
                pt_code=t.pt_code,
                current=t.current,
            )
            for t in parsed.llts
        )
        session.flush()
    return release


def current_release(session: Session) -> MedDRARelease | None:
    """The release events are coded against: the latest loaded (by its version number)."""
    releases = list(session.scalars(select(MedDRARelease)))
    if not releases:
        return None
    return max(releases, key=lambda r: tuple(int(p) for p in r.version.split(".")))


def classify(session: Session, codes: set[str]) -> dict[str, Coded]:
    """The LLT (or PT: every PT is also an LLT) codes found in the current release."""
    release = current_release(session)
    if release is None or not codes:
        return {}
    rows = session.execute(
        select(MedDRALowLevelTerm, MedDRAPreferredTerm)
        .join(
            MedDRAPreferredTerm,
            (MedDRAPreferredTerm.release_id == MedDRALowLevelTerm.release_id)
            & (MedDRAPreferredTerm.pt_code == MedDRALowLevelTerm.pt_code),
        )
        .where(MedDRALowLevelTerm.release_id == release.id, MedDRALowLevelTerm.llt_code.in_(codes))
    )
    return {
        llt.llt_code: Coded(
            llt.llt_code,
            llt.llt_name,
            pt.pt_code,
            pt.pt_name,
            pt.soc_code,
            pt.soc_name,
            release.version,
        )
        for llt, pt in rows
    }


def code_term(session: Session, code: str, verbatim: str) -> Coded | None:
    """An event's coding: its code when the release knows it, else the current LLT whose name
    is the verbatim term (case and spacing aside); None without a release or a match."""
    release = current_release(session)
    if release is None:
        return None
    if code:
        return classify(session, {code}).get(code)
    words = " ".join(verbatim.lower().split())
    found = session.scalars(
        select(MedDRALowLevelTerm.llt_code).where(
            MedDRALowLevelTerm.release_id == release.id,
            MedDRALowLevelTerm.current.is_(True),
            func.lower(MedDRALowLevelTerm.llt_name) == words,
        )
    ).first()
    return classify(session, {found}).get(found) if found else None
