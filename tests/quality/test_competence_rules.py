"""The pure parts of competence: an authorisation's state from its dates, the gap it leaves,
and the rule tables (every duty and check names its regulatory basis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pharmaqms.quality.training.competence.models import Authorisation
from pharmaqms.quality.training.competence.rules import AUTHORISATION_KINDS, CHECKS, DUTY_RULES
from pharmaqms.quality.training.competence.status import (
    AuthorisationState,
    authorisation_gap,
    authorisation_state,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def nomination(number: str, status: str = "granted", **dates: datetime | None) -> Authorisation:
    return Authorisation(
        number=number,
        status=status,
        kind="qp_certification",
        user_id=7,
        effective_from=dates.get("start", NOW - timedelta(days=10)),
        effective_to=dates.get("end"),
        revocation_reason="left the company" if status == "revoked" else "",
    )


def test_the_state_of_an_authorisation_is_read_from_its_dates() -> None:
    states = [
        authorisation_state(a, NOW)
        for a in (
            nomination("AUTH-1", "proposed"),
            nomination("AUTH-2", "revoked"),
            nomination("AUTH-3", start=NOW + timedelta(days=1)),
            nomination("AUTH-4", end=NOW),
            nomination("AUTH-5", end=NOW + timedelta(days=60)),
            nomination("AUTH-6", end=NOW + timedelta(days=61)),
            nomination("AUTH-7"),
        )
    ]
    assert states == [
        AuthorisationState.PROPOSED,
        AuthorisationState.REVOKED,
        AuthorisationState.NOT_YET_EFFECTIVE,
        AuthorisationState.EXPIRED,  # the end is exclusive
        AuthorisationState.EXPIRING_SOON,
        AuthorisationState.IN_FORCE,
        AuthorisationState.IN_FORCE,
    ]


def test_the_gap_names_the_nearest_authorisation_and_what_is_wrong_with_it() -> None:
    label = "Qualified Person (batch certification)"
    expired = nomination("AUTH-1", end=NOW - timedelta(days=1))
    assert authorisation_gap([], "qp_certification", NOW) == f"{label}: no authorisation"
    assert authorisation_gap([expired], "qp_certification", NOW) == (
        f"{label}: AUTH-1 expired on 2026-03-01"
    )
    assert authorisation_gap([nomination("AUTH-2", "revoked")], "qp_certification", NOW) == (
        f"{label}: AUTH-2 revoked (left the company)"
    )
    assert authorisation_gap(
        [nomination("AUTH-3", start=NOW + timedelta(days=3))], "qp_certification", NOW
    ) == (f"{label}: AUTH-3 is effective only from 2026-03-05")
    # one in force is enough, whatever else the person held
    assert authorisation_gap([expired, nomination("AUTH-4")], "qp_certification", NOW) is None
    # another kind does not count
    assert authorisation_gap([nomination("AUTH-5")], "gdp_responsible_person", NOW) == (
        "Responsible Person for good distribution practice: no authorisation"
    )


def test_every_rule_names_its_regulatory_basis() -> None:
    assert [(r.record_type, r.step, r.authorisation.value) for r in DUTY_RULES] == [
        ("batch_release", "release", "qp_certification")
    ]
    assert "Annex 16" in DUTY_RULES[0].basis and "2001/83/EC" in DUTY_RULES[0].basis
    assert all(info.basis for info in AUTHORISATION_KINDS.values())
    assert {c.code for c in CHECKS} == {
        "training_current",
        "assessment_valid",
        "authorisation_in_force",
        "holds_duty_role",
    }
    assert all("211.25" in c.basis or "Chapter 2" in c.basis for c in CHECKS)
