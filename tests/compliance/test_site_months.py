"""Monthly figures count by the site's calendar: a moment late on the 31st in Berlin is that
month's everywhere (quality trends, production KPIs, the outcome dashboard), a month's bounds
are the site's midnights, and with the default zone (UTC) nothing moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from pharmaqms.compliance.outcomes import figures
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.timezones import reading_in
from pharmaqms.lifecycle.production.kpi import service as production_kpi
from pharmaqms.quality.trends import Month, month_of, months_back

# 23:30 UTC on 31 January is 00:30 on 1 February in Berlin, 07:30 in Shanghai.
LATE = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PHARMAQMS_SITE_TIME_ZONE", "Europe/Berlin")
    reset_settings_cache()
    yield
    monkeypatch.delenv("PHARMAQMS_SITE_TIME_ZONE")
    reset_settings_cache()


def test_a_late_moment_counts_in_the_sites_month_in_every_figure(berlin: None) -> None:
    assert month_of(LATE) == Month(2026, 2)
    assert production_kpi.month_of(LATE) == date(2026, 2, 1)
    assert figures._month_of(LATE) == date(2026, 2, 1)
    # The reader's own zone does not move it: a Shanghai reader sees the site's months.
    with reading_in("Asia/Shanghai"):
        assert month_of(LATE) == Month(2026, 2)
        assert production_kpi.month_of(LATE) == date(2026, 2, 1)


def test_a_months_bounds_are_the_sites_midnights(berlin: None) -> None:
    february = Month(2026, 2)
    assert february.start == datetime(2026, 1, 31, 23, 0, tzinfo=UTC)  # CET, +01:00
    july = Month(2026, 7)
    assert july.start == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # CEST, +02:00
    assert july.end == datetime(2026, 7, 31, 22, 0, tzinfo=UTC)
    window = months_back(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 3)  # 1 April in Berlin
    assert [m.label for m in window] == ["2026-02", "2026-03", "2026-04"]


def test_with_the_default_zone_months_are_utcs() -> None:
    reset_settings_cache()
    assert month_of(LATE) == Month(2026, 1)
    assert Month(2026, 2).start == datetime(2026, 2, 1, tzinfo=UTC)
    assert production_kpi.month_of(LATE) == date(2026, 1, 1)
