"""Local time through the web: a reader in Shanghai sees a record's times at +08:00 on the page
and in its PDF, an operator in Berlin types local times and UTC is stored, a time the clocks
skip is refused with nothing changed, the API stays UTC, and zones are chosen on one's account
page or set by an administrator (audited; an unknown zone changes nothing)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from tests.conftest import People
from tests.web.support import counts, flash_of

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, UserTimeZone
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.user_time_zones import set_time_zone, time_zone_of
from pharmaqms.quality.deviations import service as deviations
from pharmaqms.quality.deviations.models import Deviation

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCCURRED = datetime(2025, 11, 3, 22, 15, tzinfo=UTC)


def choose(db: Database, people: People, username: str, zone: str) -> None:
    actor = people.actor(username)
    with unit_of_work(db) as s:
        set_time_zone(s, actor=actor, user_id=actor.user_id, time_zone=zone)


def raise_deviation(db: Database, people: People) -> tuple[int, str, datetime]:
    with unit_of_work(db) as s:
        deviation = deviations.report_deviation(
            s,
            actor=people.operator,
            title="Press stopped",
            description="The tablet press stopped mid-batch.",
            area="Production",
            occurred_at=OCCURRED,
            discovered_at=OCCURRED,
        )
        s.flush()
        return deviation.id, deviation.number, deviation.updated_at


def deviation_rows(db: Database) -> list[tuple[str, datetime, datetime]]:
    with unit_of_work(db, write=False) as s:
        return [
            (d.title, d.occurred_at, d.discovered_at)
            for d in s.scalars(select(Deviation).order_by(Deviation.id))
        ]


def test_a_reader_in_shanghai_sees_a_record_s_times_at_plus_eight_on_the_page_and_in_the_pdf(
    ui: Any, db: Database, people: People
) -> None:
    deviation_id, number, updated_at = raise_deviation(db, people)
    choose(db, people, "qa", "Asia/Shanghai")
    qa = ui("qa")

    page = qa.get(f"/deviations/{deviation_id}").text
    report = qa.get(f"/records/deviation/{deviation_id}/report.pdf")

    # 22:15 UTC on the 3rd is 06:15 on the 4th in Shanghai.
    assert "<dt>Occurred</dt><dd>2025-11-04 06:15 CST (+08:00)</dd>" in page
    assert 'times in <span data-testid="time-zone">Asia/Shanghai</span>' in page
    # Every time of the page is in the reader's zone: none is left in UTC.
    assert "+00:00" not in page and " UTC" not in page
    assert report.status_code == 200, report.text
    text = re.sub(
        r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.content)).pages)
    )
    assert number in text
    assert f"Last changed {format_time(updated_at, zone=SHANGHAI)}" in text
    assert "+08:00" in text and "+00:00" not in text
    # Someone without a zone of their own reads the same record in the site's zone (UTC).
    assert (
        "<dd>2025-11-03 22:15 UTC (+00:00)</dd>"
        in ui("qa2").get(f"/deviations/{deviation_id}").text
    )


def test_times_typed_in_berlin_are_stored_utc_and_a_time_the_clocks_skip_is_refused(
    ui: Any, db: Database, people: People
) -> None:
    choose(db, people, "operator", "Europe/Berlin")
    operator = ui("operator")
    form = operator.get("/deviations/new").text
    assert "Occurred (Europe/Berlin)" in form
    # The newest time that may be typed is now on the Berlin clock.
    now_in_berlin = clock.now().astimezone(ZoneInfo("Europe/Berlin"))
    assert f'max="{now_in_berlin:%Y-%m-%dT%H:%M}"' in form
    fields = {
        "title": "Label roll mix-up",
        "description": "A 250 mg label roll was loaded for a 500 mg batch.",
        "area": "Packaging",
    }

    winter = operator.post(
        "/deviations",
        {**fields, "occurred_at": "2025-01-15T10:30", "discovered_at": "2025-07-15T10:30"},
        referer="/deviations/new",
    )
    assert winter.status_code == 303, winter.text
    page = operator.follow(winter).text
    assert "<dd>2025-01-15 10:30 CET (+01:00)</dd>" in page
    assert "<dd>2025-07-15 10:30 CEST (+02:00)</dd>" in page
    stored = deviation_rows(db)
    assert stored == [
        (
            "Label roll mix-up",
            datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
            datetime(2025, 7, 15, 8, 30, tzinfo=UTC),
        )
    ]

    before = counts(db)
    gap = operator.post(
        "/deviations",
        {**fields, "occurred_at": "2025-03-30T02:30", "discovered_at": "2025-03-30T04:00"},
        referer="/deviations/new",
    )
    message = flash_of(operator.follow(gap).text) if gap.status_code == 303 else gap.text
    assert "2025-03-30 02:30 does not exist in Europe/Berlin" in message
    assert "+01:00 (CET) to +02:00 (CEST)" in message
    assert deviation_rows(db) == stored
    assert counts(db) == before


def test_the_api_gives_utc_whatever_the_reader_s_zone(
    api: Any, db: Database, people: People
) -> None:
    deviation_id, _number, _updated = raise_deviation(db, people)
    choose(db, people, "qa", "Asia/Shanghai")
    utc_reader = api("qa2").get(f"/api/v1/deviations/{deviation_id}").json()

    shown = api("qa").get(f"/api/v1/deviations/{deviation_id}").json()

    assert shown == utc_reader
    assert shown["occurred_at"] in ("2025-11-03T22:15:00Z", "2025-11-03T22:15:00+00:00")


def test_a_person_chooses_their_zone_on_their_account_page(ui: Any, db: Database) -> None:
    qc = ui("qc")
    page = qc.get("/account/time-zone").text
    assert 'href="/account/time-zone"' in page and ">UTC</a>" in page

    saved = qc.post("/account/time-zone", {"time_zone": "Asia/Shanghai"})
    after = qc.follow(saved).text

    assert flash_of(after) == "Times are now shown in Asia/Shanghai."
    assert ">Asia/Shanghai</a>" in after
    assert 'times in <span data-testid="time-zone">Asia/Shanghai</span>' in after
    before = counts(db)
    refused = qc.follow(qc.post("/account/time-zone", {"time_zone": "Asia/Shangai"})).text
    assert flash_of(refused).startswith(
        "'Asia/Shangai' is not a time zone name of the IANA database"
    )
    assert counts(db) == before
    with unit_of_work(db, write=False) as s:
        assert time_zone_of(s, user_id_of(s, "qc")) == "Asia/Shanghai"


def user_id_of(session: Any, username: str) -> int:
    from pharmaqms.kernel.auth import user_by_username

    user = user_by_username(session, username)
    assert user is not None
    return user.id


@pytest.mark.parametrize("zone", ["Europe/Paris"])
def test_an_administrator_sets_someone_s_zone_with_a_reason_and_it_is_audited(
    ui: Any, db: Database, zone: str
) -> None:
    admin = ui("admin")
    with unit_of_work(db, write=False) as s:
        qc_id = user_id_of(s, "qc")
    page = admin.get(f"/admin/users/{qc_id}").text
    assert 'data-testid="user-time-zone">site default (UTC)</dd>' in page

    before = counts(db)
    unknown = admin.post(
        f"/admin/users/{qc_id}/time-zone",
        {"time_zone": "Europe/Pariss", "reason": "moved to Paris"},
        referer=f"/admin/users/{qc_id}",
    )
    assert unknown.status_code in (303, 422)
    assert counts(db) == before
    with unit_of_work(db, write=False) as s:
        assert s.scalars(select(UserTimeZone)).all() == []

    saved = admin.post(
        f"/admin/users/{qc_id}/time-zone",
        {"time_zone": zone, "reason": "moved to the Paris site"},
        referer=f"/admin/users/{qc_id}",
    )
    after = admin.follow(saved).text
    assert flash_of(after) == f"Time zone of qc: {zone}."
    assert f'data-testid="user-time-zone">{zone}</dd>' in after
    with unit_of_work(db, write=False) as s:
        [entry] = s.scalars(
            select(AuditEntry).where(AuditEntry.record_type == "user_time_zone")
        ).all()
        assert (entry.action, entry.record_label, entry.reason, entry.actor_username) == (
            "create",
            "time zone of qc",
            "moved to the Paris site",
            "admin",
        )


def test_the_audit_trail_s_date_filter_is_the_reader_s_calendar_day(
    ui: Any, db: Database, people: People
) -> None:
    # Recorded at 22:15 UTC on the 3rd: the 4th in Shanghai, the 3rd in UTC.
    with clock.frozen_at(OCCURRED):
        _id, number, _updated = raise_deviation(db, people)
    choose(db, people, "qa", "Asia/Shanghai")
    shanghai, utc_reader = ui("qa"), ui("qa2")

    def listed(client: Any, day: str) -> bool:
        page = client.get(f"/audit?record_type=deviation&since={day}&until={day}").text
        return number in page

    assert (listed(shanghai, "2025-11-03"), listed(shanghai, "2025-11-04")) == (False, True)
    assert (listed(utc_reader, "2025-11-03"), listed(utc_reader, "2025-11-04")) == (True, False)
