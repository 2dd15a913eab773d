"""The periodic summary's counts on the hand-built case set (psur_steps.hand_built_cases): the
interval's first and last minute included, the minute after excluded, invalid cases and other
products not counted; terms by MedDRA code, else by verbatim folded to lower case."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.lifecycle.use.psur.psur_steps import PRODUCT, hand_built_cases

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.psur import service
from pharmaqms.lifecycle.use.psur.figures import region_of

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


@pytest.fixture
def made(db: Any, people: Any, frozen_clock: clock.FrozenClock) -> dict[str, str]:
    return hand_built_cases(db, people)


@pytest.mark.postgres
def test_interval_and_cumulative_counts_are_the_hand_worked_ones(db: Any, made: Any) -> None:
    with unit_of_work(db, write=False) as s:
        f = service.summary(s, PRODUCT, *JANUARY).figures
    assert f["totals"] == {
        "interval": {"cases": 3, "serious": 2, "non_serious": 1, "fatal": 1},
        "cumulative": {"cases": 4, "serious": 2, "non_serious": 2, "fatal": 1},
    }
    assert [c["number"] for c in f["cases"]] == [made["C2"], made["C3"], made["C7"]]
    terms = {t["term"]: (t["interval"], t["cumulative"]) for t in f["terms"]}
    assert list(terms) == ["MedDRA 10037844", "hepatic failure", "anaphylaxis"]
    assert terms["MedDRA 10037844"] == (
        {"cases": 1, "serious": 0, "non_serious": 1, "fatal": 0},
        {"cases": 2, "serious": 0, "non_serious": 2, "fatal": 0},
    )
    assert terms["hepatic failure"] == (
        {"cases": 2, "serious": 1, "non_serious": 1, "fatal": 1},
        {"cases": 2, "serious": 1, "non_serious": 1, "fatal": 1},
    )
    assert terms["anaphylaxis"][1] == {"cases": 1, "serious": 1, "non_serious": 0, "fatal": 0}
    assert f["terms"][0]["label"] == "10037844 (skin rash)"
    by = {
        k: {r["group"]: (r["interval"], r["cumulative"]) for r in f[k]}
        for k in ("sources", "report_types", "regions", "countries")
    }
    assert by["sources"] == {"staff": (1, 2), "e2b": (1, 1), "faers": (1, 1)}
    assert by["report_types"] == {"spontaneous": (2, 3), "study": (1, 1)}
    assert by["regions"] == {"EU/EEA": (1, 2), "US": (1, 1), "rest of world": (1, 1)}
    assert by["countries"] == {"DE": (0, 1), "FR": (1, 1), "US": (1, 1), "JP": (1, 1)}
    assert "both days included" in f["boundaries"]


def test_the_next_month_starts_with_the_first_minute_of_february(db: Any, made: Any) -> None:
    with unit_of_work(db, write=False) as s:
        f = service.summary(s, PRODUCT, date(2026, 2, 1), date(2026, 2, 28)).figures
        by_code = service.summary(s, "para500", *JANUARY).figures
    assert [c["number"] for c in f["cases"]] == [made["C4"]]
    assert f["totals"]["cumulative"]["cases"] == 5
    # the product's code stands for its name only when the master data holds it: here it does not
    assert by_code["totals"]["cumulative"]["cases"] == 0


def test_the_same_case_base_gives_the_same_figures_and_hash(db: Any, made: Any) -> None:
    with unit_of_work(db, write=False) as s:
        one = service.summary(s, PRODUCT, *JANUARY)
        again = service.summary(s, PRODUCT, *JANUARY)
        shouted = service.summary(s, PRODUCT.upper(), *JANUARY)
    assert one.figures_sha256 == again.figures_sha256
    # the name is matched without regard to case; what was asked is kept as asked
    assert shouted.figures["totals"] == one.figures["totals"]
    assert shouted.figures["asked"] == PRODUCT.upper()


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (date(2026, 2, 1), date(2026, 1, 1), "to", "ends before"),
        (date(2026, 3, 1), date(2026, 3, 31), "to", "future"),
        (date(2000, 1, 1), date(2026, 1, 1), "to", "ten years"),
    ],
)
def test_a_period_that_means_nothing_is_refused(
    db: Any, made: Any, start: date, end: date, field: str, message: str
) -> None:
    with unit_of_work(db, write=False) as s, pytest.raises(InvalidInput, match=message) as found:
        service.summary(s, PRODUCT, start, end)
    assert found.value.field == field


def test_regions() -> None:
    assert [region_of(c) for c in ("de", "GR", "US", "CN", "JP", None)] == [
        "EU/EEA",
        "EU/EEA",
        "US",
        "China",
        "rest of world",
        "unknown",
    ]
