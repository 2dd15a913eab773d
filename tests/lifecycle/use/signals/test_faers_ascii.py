"""The FAERS quarterly ASCII extract as scan input: the FDA's rules for analysts (latest case
version, deleted cases, drug roles and names, PT case, age units, year), the same rows from a
ZIP and a directory, a PRR by hand, and the refusals (each leaving nothing behind)."""

import io
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from tests.lifecycle.use.signals.faers_quarter import (
    CONCOMITANT_ROWS,
    DRUG,
    FILES,
    SUSPECT_NOTES,
    SUSPECT_ROWS,
    write_directory,
    write_zip,
)

from pharmaqms.lifecycle.use.signals import SignalInputError, read_source, scan
from pharmaqms.lifecycle.use.signals.faers_ascii import read_faers


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files of the reader go here, so a test can see none is left behind."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def assert_rows(frame: pl.DataFrame, expected: list[tuple]) -> None:
    assert frame.columns == ["report_id", "drug", "event", "age", "sex", "year"]
    got = frame.sort("report_id", "drug", "event").rows()
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in got] == [
        (e[0], e[1], e[2], e[4], e[5]) for e in expected
    ]
    for row, want in zip(got, expected, strict=True):
        assert row[3] == (None if want[3] is None else pytest.approx(want[3]))


@pytest.mark.parametrize("write", [write_zip, write_directory])
def test_a_quarter_gives_the_rows_of_the_fda_rules(tmp_path: Path, scratch: Path, write) -> None:
    # Given a quarter as the FDA ships it (ZIP) or unpacked (directory)
    source = write(tmp_path)
    # When it is read with suspect drugs only
    extract = read_faers(source)
    # Then only the latest version of each case, without the deleted one, gives rows
    assert_rows(extract.rows, SUSPECT_ROWS)
    assert extract.notes == SUSPECT_NOTES
    assert list(scratch.iterdir()) == []


def test_concomitant_and_interacting_drugs_count_when_asked(tmp_path: Path) -> None:
    extract = read_faers(write_zip(tmp_path), concomitant=True)
    assert_rows(extract.rows, CONCOMITANT_ROWS)
    assert "rows of other roles" not in " ".join(extract.notes)
    assert "cases without both" not in " ".join(extract.notes)


def test_prr_of_a_pair_by_hand(tmp_path: Path) -> None:
    # Reports 1001, 1003, 1004, 1005. METFORMIN HYDROCHLORIDE with Headache: a = 1 (1003),
    # b = 0, c = 1 (1004), d = 2 (1001, 1005): PRR = (1/1) / (1/3) = 3.
    source = read_source(write_directory(tmp_path))
    assert source.kind == "faers"
    pairs = scan(source.rows, methods=["prr"]).pairs
    pair = pairs.filter(
        (pl.col("drug") == "METFORMIN HYDROCHLORIDE") & (pl.col("event") == "Headache")
    ).row(0, named=True)
    assert (pair["a"], pair["b"], pair["c"], pair["d"], pair["N"]) == (1, 0, 1, 2, 4)
    assert pair["PRR"] == pytest.approx(3.0)
    # With concomitants case 1006 counts too: d = 3, PRR = 1 / (1/4) = 4.
    source = read_source(write_directory(tmp_path / "again"), concomitant=True)
    pairs = scan(source.rows, methods=["prr"]).pairs
    pair = pairs.filter(
        (pl.col("drug") == "METFORMIN HYDROCHLORIDE") & (pl.col("event") == "Headache")
    ).row(0, named=True)
    assert (pair["a"], pair["b"], pair["c"], pair["d"]) == (1, 0, 1, 3)
    assert pair["PRR"] == pytest.approx(4.0)


def test_the_strata_read_the_faers_age_sex_and_year(tmp_path: Path) -> None:
    result = scan(read_source(write_zip(tmp_path)).rows, methods=["ic"], stratify_by=["age"])
    assert result.stratified_by == ("age",)
    assert result.reports == 4


def test_several_quarters_together_keep_the_latest_version_across_them(tmp_path: Path) -> None:
    later = {
        "ASCII/DEMO24Q2.txt": "primaryid$caseid$caseversion$fda_dt$age$age_cod$sex\n"
        "10013$1001$3$20240420$1$DEC$F\n",
        "ASCII/DRUG24Q2.txt": "primaryid$role_cod$drugname$prod_ai\n10013$PS$Naproxen$\n",
        "ASCII/REAC24Q2.txt": "primaryid$pt\n10013$Dizziness\n",
    }
    rows = read_faers(write_directory(tmp_path, {**FILES, **later})).rows
    assert rows.filter(pl.col("report_id") == "1001").rows() == [
        ("1001", "NAPROXEN", "Dizziness", 10.0, "F", 2024)
    ]
    assert rows.height == len(SUSPECT_ROWS)


def test_the_sex_column_of_2012_to_2014_is_read_by_its_old_name(tmp_path: Path) -> None:
    demo = FILES["ASCII/DEMO24Q1.txt"].replace("$sex$", "$gndr_cod$")
    extract = read_faers(write_zip(tmp_path, {**FILES, "ASCII/DEMO24Q1.txt": demo}))
    assert_rows(extract.rows, SUSPECT_ROWS)


def test_latin_1_text_is_read_when_said(tmp_path: Path) -> None:
    text = DRUG.replace("Warfarin", "Caf\xe9ine") + "10041$1004$2$PS$Caf\xe9ine$$1$Oral\n"
    files = {**FILES, "ascii/drug24q1.TXT": text.encode("latin-1")}
    rows = read_faers(write_zip(tmp_path, files), encoding="latin-1").rows
    assert ("1004", "CAFÉINE", "Nausea") in [r[:3] for r in rows.rows()]


def refused(source: Path, message: str, scratch: Path, **options) -> None:
    with pytest.raises(SignalInputError) as caught:
        read_faers(source, **options)
    assert caught.value.detail.startswith(message), caught.value.detail
    assert "\n" not in caught.value.detail
    assert list(scratch.iterdir()) == []


def test_refuses_a_missing_path(tmp_path: Path, scratch: Path) -> None:
    refused(tmp_path / "faers_ascii_2024Q1.zip", "no such file or directory", scratch)


@pytest.mark.parametrize("missing", ["ASCII/DEMO24Q1.txt", "ascii/drug24q1.TXT"])
def test_refuses_a_quarter_without_a_needed_file(tmp_path: Path, scratch: Path, missing) -> None:
    files = {name: text for name, text in FILES.items() if name != missing}
    kind = Path(missing).name[:4].upper()
    message = f"not a FAERS quarterly extract: no {kind}yyQq.txt file found"
    refused(write_zip(tmp_path, files), message, scratch)
    refused(write_directory(tmp_path, files), message, scratch)


def test_refuses_a_file_without_a_needed_column(tmp_path: Path, scratch: Path) -> None:
    files = {**FILES, "ascii/drug24q1.TXT": DRUG.replace("role_cod", "role")}
    refused(write_zip(tmp_path, files), "DRUG file drug24q1.TXT: no column role_cod", scratch)


def test_refuses_a_zip_member_outside_the_extract(tmp_path: Path, scratch: Path) -> None:
    for bad in ("../DEMO24Q1.txt", "/etc/DEMO24Q1.txt", "ASCII/../../x.txt"):
        refused(
            write_zip(tmp_path, {**FILES, bad: "x"}),
            f"faers_ascii_2024Q1.zip: unsafe member path {bad!r}",
            scratch,
        )


def test_refuses_a_zip_bomb(tmp_path: Path, scratch: Path) -> None:
    # 2 MiB of one byte deflates about 1000:1, far beyond any text file's ratio.
    files = {**FILES, "ASCII/THER24Q1.txt": "0" * (2 * 1024**2)}
    path = write_zip(tmp_path, files)
    refused(path, "faers_ascii_2024Q1.zip: member 'ASCII/THER24Q1.txt' would unpack", scratch)


def test_refuses_text_that_is_not_utf8(tmp_path: Path, scratch: Path) -> None:
    files = {**FILES, "ASCII/Reac24Q1.txt": "primaryid$pt\n10031$Naus\xe9e\n".encode("latin-1")}
    refused(
        write_directory(tmp_path, files),
        "REAC file Reac24Q1.txt: not readable: invalid utf-8",
        scratch,
    )


def test_refuses_a_damaged_zip(tmp_path: Path, scratch: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in FILES.items():
            archive.writestr(name, text)
    content = bytearray(buffer.getvalue())
    start = content.index(b"PK\x03\x04") + 30 + len("ASCII/DEMO24Q1.txt")
    content[start + 5 : start + 25] = b"\xff" * 20  # corrupt DEMO's compressed bytes
    path = tmp_path / "faers_ascii_2024Q1.zip"
    path.write_bytes(bytes(content))
    refused(path, "faers_ascii_2024Q1.zip: member 'ASCII/DEMO24Q1.txt' is damaged", scratch)


def test_refuses_a_zip_whose_compression_python_cannot_read(tmp_path: Path, scratch: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in FILES.items():
            archive.writestr(name, text)
    content = bytearray(buffer.getvalue())
    # Mark every member Deflate64 (method 9), in the local and the central headers.
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = content.find(signature)
        while start != -1:
            content[start + offset : start + offset + 2] = (9).to_bytes(2, "little")
            start = content.find(signature, start + 4)
    path = tmp_path / "faers_ascii_2024Q1.zip"
    path.write_bytes(bytes(content))
    message = "faers_ascii_2024Q1.zip: member 'ASCII/DEMO24Q1.txt' cannot be read here"
    refused(path, message, scratch)


def test_refuses_an_unknown_encoding(tmp_path: Path, scratch: Path) -> None:
    refused(write_zip(tmp_path), "encoding 'cp1252': choose from utf-8, latin-1", scratch,
            encoding="cp1252")  # fmt: skip
