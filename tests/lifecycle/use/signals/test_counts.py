"""Counting reports per drug–event pair, per drug, per event, and stratified expected counts."""

import polars as pl
import pytest

from pharmaqms.lifecycle.use.signals import SignalInputError, age_band, count_pairs
from pharmaqms.lifecycle.use.signals import counts as counts_module

# Report 1 names aspirin twice (two rows per event) with headache and nausea; report 2
# aspirin and ibuprofen with headache; report 3 ibuprofen with rash; report 4 warfarin with
# headache; a row without an event counts for nothing.
ROWS = pl.DataFrame(
    {
        "report_id": ["r1", "r1", "r1", "r1", "r2", "r2", "r3", "r4", "r5"],
        "drug": ["ASPIRIN", "ASPIRIN", "ASPIRIN", "ASPIRIN", "ASPIRIN", "IBUPROFEN",
                 "IBUPROFEN", "WARFARIN", "WARFARIN"],
        "event": ["HEADACHE", "NAUSEA", "HEADACHE", "NAUSEA", "HEADACHE", "HEADACHE",
                  "RASH", "HEADACHE", None],
        "age": [34.0, 34.0, 34.0, 34.0, 70.0, 70.0, None, 80.0, 12.0],
        "sex": ["F", "F", "F", "F", "M", "M", "F", None, "M"],
        "year": [2020, 2020, 2020, 2020, 2021, 2021, 2020, 2021, 2021],
    }
)  # fmt: skip


def test_counts_are_of_reports_and_duplicates_count_once() -> None:
    counts = count_pairs(ROWS)
    assert counts.reports == 4
    assert counts.stratified_by == ()
    assert counts.pairs.rows() == [
        ("ASPIRIN", "HEADACHE", 2, 2, 3),
        ("ASPIRIN", "NAUSEA", 1, 2, 1),
        ("IBUPROFEN", "HEADACHE", 1, 2, 3),
        ("IBUPROFEN", "RASH", 1, 2, 1),
        ("WARFARIN", "HEADACHE", 1, 1, 3),
    ]
    assert counts.pairs.columns == ["drug", "event", "a", "n_drug", "n_event"]


def test_integer_report_ids_and_a_lazy_frame_count_the_same() -> None:
    numbered = ROWS.with_columns(pl.col("report_id").str.slice(1).cast(pl.Int64))
    assert count_pairs(numbered.lazy()).pairs.equals(count_pairs(ROWS).pairs)


def test_report_numbers_too_sparse_to_pack_are_renumbered() -> None:
    # Report numbers near 2⁶² cannot be packed with drug and event codes into 64 bits as they
    # are; they are renumbered densely first, and the counts do not change.
    numbered = ROWS.with_columns(
        (pl.col("report_id").str.slice(1).cast(pl.Int64) + 2**62).alias("report_id")
    )
    assert count_pairs(numbered).pairs.equals(count_pairs(ROWS).pairs)
    assert count_pairs(numbered, stratify_by=["sex"]).pairs.equals(
        count_pairs(ROWS, stratify_by=["sex"]).pairs
    )


def test_stratified_expected_counts_sum_over_strata() -> None:
    # Strata by sex: F = {r1, r3}, M = {r2}, unknown = {r4}. Aspirin–headache:
    # F: 1·1/2 (r1 has both), M: 1·1/1, unknown: 0·1/1 → E = 1.5; crude 2·3/4 = 1.5.
    # Ibuprofen–rash: F: 1·1/2, M: 1·0/1 → 0.5; warfarin–headache: unknown 1·1/1 → 1.
    counts = count_pairs(ROWS, stratify_by=["sex"])
    expected = dict(
        zip(
            zip(counts.pairs["drug"], counts.pairs["event"], strict=True),
            counts.pairs["E_stratified"],
            strict=True,
        )
    )
    assert expected == pytest.approx(
        {
            ("ASPIRIN", "HEADACHE"): 1.5,
            ("ASPIRIN", "NAUSEA"): 0.5,
            ("IBUPROFEN", "HEADACHE"): 0.5 + 1.0,
            ("IBUPROFEN", "RASH"): 0.5,
            ("WARFARIN", "HEADACHE"): 1.0,
        }
    )
    assert counts.stratified_by == ("sex",)


def test_age_and_year_strata() -> None:
    # age bands: r1 18-44, r2 65-74, r3 unknown, r4 >=75; with the year every report is
    # alone in its stratum, so E = Σ n_drug,s·n_event,s/1 = reports naming both = a.
    counts = count_pairs(ROWS, stratify_by=["age", "year"])
    assert counts.pairs["E_stratified"].to_list() == [2.0, 1.0, 1.0, 1.0, 1.0]


def test_age_bands() -> None:
    ages = pl.DataFrame(
        {"age": [None, -1.0, 0.0, 17.9, 18.0, 44.5, 45.0, 64.0, 65.0, 74.9, 75.0, 101.0]}
    )
    assert ages.select(age_band(pl.col("age")).alias("band"))["band"].to_list() == [
        "unknown", "unknown", "<18", "<18", "18-44", "18-44", "45-64", "45-64", "65-74",
        "65-74", ">=75", ">=75",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("frame", "strata", "message"),
    [
        (ROWS.drop("event"), (), "the rows have no column event"),
        (ROWS, ("country",), "cannot stratify by country: choose from age, sex, year"),
        (ROWS.drop("sex"), ("sex",), "stratified by sex, but the rows have no such column"),
        (ROWS.filter(pl.col("event").is_null()), (), "no report with a drug and an event"),
    ],
)
def test_rows_that_cannot_be_counted_are_refused(frame, strata, message) -> None:
    with pytest.raises(SignalInputError) as error:
        count_pairs(frame, stratify_by=strata)
    assert error.value.detail.startswith(message)


def test_the_hash_count_of_sparse_cells_gives_the_dense_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Few pairs out of many possible (drug, event) cells are counted by hashing instead of
    # through an array with a slot per cell; the counts and their order are the same.
    dense = count_pairs(ROWS)
    dense_stratified = count_pairs(ROWS, stratify_by=["sex"])
    monkeypatch.setattr(counts_module, "_DENSE_CELLS", 0)
    assert count_pairs(ROWS).pairs.equals(dense.pairs)
    assert count_pairs(ROWS, stratify_by=["sex"]).pairs.equals(dense_stratified.pairs)
