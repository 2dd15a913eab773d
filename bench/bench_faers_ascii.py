"""Reading a FAERS quarterly ASCII extract at the size of a real quarter.

A seeded synthetic quarter (the FDA's 2024 quarters hold about 400,000 cases): DEMO with 5 %
of cases in two versions and 1 % deleted, 4 drugs per case version (roles PS/SS/C/I), 3.3
MedDRA terms per case version, the column layout of the real files (extra columns included),
written '$'-separated by Polars.

(a) project: ``read_faers`` on the unpacked directory (latest version, deleted cases, roles,
    names, PT spellings, age units, the cross product, the notes);
(b) the same from the ZIP (members checked, copied out, then read as (a));
(c) ceiling: Polars parsing the three files' needed columns and joining DRUG × REAC on
    primaryid, with none of the rules.

    .venv/bin/python bench/bench_faers_ascii.py [--cases 400000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import polars as pl

from pharmaqms.lifecycle.use.signals.faers_ascii import read_faers

sys.path.insert(0, str(Path(__file__).parent))
from bench_signals import machine

ROLES = np.array(["PS", "SS", "C", "C", "I"])
AGE_CODES = np.array(["YR", "YR", "YR", "MON", "DEC", "WK", ""])


def write_quarter(folder: Path, cases: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    ascii_dir = folder / "ASCII"
    ascii_dir.mkdir(parents=True)
    caseid = np.arange(10_000_000, 10_000_000 + cases)
    twice = caseid[rng.random(cases) < 0.05]
    demo_case = np.concatenate([caseid, twice])
    version = np.concatenate([np.ones(cases, np.int64), np.full(twice.size, 2)])
    primary = demo_case.astype(np.int64) * 10 + version
    n = demo_case.size
    pl.DataFrame(
        {
            "primaryid": primary,
            "caseid": demo_case,
            "caseversion": version,
            "i_f_code": np.where(version == 1, "I", "F"),
            "init_fda_dt": np.full(n, "20231215"),
            "fda_dt": np.where(rng.random(n) < 0.02, "", "20240210"),
            "age": rng.integers(1, 95, n),
            "age_cod": rng.choice(AGE_CODES, n),
            "sex": rng.choice(np.array(["M", "F", "UNK"]), n),
            "wt": rng.integers(3, 120, n),
            "occr_country": rng.choice(np.array(["US", "FR", "JP", "DE"]), n),
        }
    ).write_csv(ascii_dir / "DEMO24Q1.txt", separator="$", quote_style="never")
    drugs_per = 4
    drug_names = np.array([f"DRUG NUMBER {i}" for i in range(3_000)])
    weights = 1 / np.arange(1, drug_names.size + 1)
    pick = rng.choice(drug_names.size, n * drugs_per, p=weights / weights.sum())
    prod_ai = np.where(rng.random(n * drugs_per) < 0.1, "", drug_names[pick])
    pl.DataFrame(
        {
            "primaryid": np.repeat(primary, drugs_per),
            "caseid": np.repeat(demo_case, drugs_per),
            "drug_seq": np.tile(np.arange(1, drugs_per + 1), n),
            "role_cod": rng.choice(ROLES, n * drugs_per),
            "drugname": np.char.lower(drug_names[pick]),
            "prod_ai": prod_ai,
            "route": np.full(n * drugs_per, "Oral"),
        }
    ).write_csv(ascii_dir / "DRUG24Q1.txt", separator="$", quote_style="never")
    terms = np.array([f"Preferred term {i}" for i in range(6_000)])
    per_case = rng.integers(1, 6, n)
    tw = 1 / np.arange(1, terms.size + 1)
    reac_pick = rng.choice(terms.size, per_case.sum(), p=tw / tw.sum())
    pl.DataFrame(
        {
            "primaryid": np.repeat(primary, per_case),
            "caseid": np.repeat(demo_case, per_case),
            "pt": terms[reac_pick],
            "drug_rec_act": np.full(per_case.sum(), ""),
        }
    ).write_csv(ascii_dir / "REAC24Q1.txt", separator="$", quote_style="never")
    deleted = folder / "Deleted"
    deleted.mkdir()
    gone = caseid[rng.random(cases) < 0.01]
    (deleted / "DELETE24Q1.txt").write_text("".join(f"{c}\n" for c in gone))


def zip_quarter(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.rglob("*.txt")):
            archive.write(path, path.relative_to(folder).as_posix())


def ceiling(folder: Path) -> int:
    options = {"separator": "$", "quote_char": None, "infer_schema": False}
    drug = pl.scan_csv(folder / "ASCII/DRUG24Q1.txt", **options).select("primaryid", "drugname")
    reac = pl.scan_csv(folder / "ASCII/REAC24Q1.txt", **options).select("primaryid", "pt")
    demo = pl.scan_csv(folder / "ASCII/DEMO24Q1.txt", **options).select("primaryid", "caseid")
    return demo.join(drug, on="primaryid").join(reac, on="primaryid").collect().height


def best(rounds: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "faers_ascii_2024Q1"
        write_quarter(folder, args.cases)
        archive = Path(scratch) / "faers_ascii_2024Q1.zip"
        zip_quarter(folder, archive)
        sizes = {p.name: p.stat().st_size for p in folder.rglob("*.txt")}
        lines = {
            name: sum(1 for _ in (folder / "ASCII" / name).open("rb")) - 1
            for name in sizes
            if name != "DELETE24Q1.txt"
        }
        print(f"quarter: {lines} rows; {sum(sizes.values()) / 1e6:.0f} MB of text, ZIP "
              f"{archive.stat().st_size / 1e6:.0f} MB")  # fmt: skip
        t_dir, extract = best(args.rounds, lambda: read_faers(folder))
        t_zip, _ = best(args.rounds, lambda: read_faers(archive))
        t_ceiling, joined = best(args.rounds, lambda: ceiling(folder))
        rows = extract.rows.height  # type: ignore[attr-defined]
        print(f"(a) read_faers(directory): {t_dir:.2f} s, {rows:,} rows")
        for note in extract.notes:  # type: ignore[attr-defined]
            print(f"    {note}")
        print(f"(b) read_faers(ZIP):       {t_zip:.2f} s")
        print(f"(c) ceiling parse + join:  {t_ceiling:.2f} s, {joined:,} rows (no rules)")
        print(f"ratio (c)/(a) = {t_ceiling / t_dir:.2f}; (c)/(b) = {t_ceiling / t_zip:.2f}")
        print(machine())


if __name__ == "__main__":
    main()
