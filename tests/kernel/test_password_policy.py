"""The password policy refuses what attackers try first: common passwords (zxcvbn's list and
its estimate of guesses), passwords made of common words, and the account's or the site's own
words; each refusal says why and writes nothing."""

from __future__ import annotations

import pytest
from tests.conftest import People
from tests.kernel.helpers import snapshot

from pharmaqms.kernel import auth, password_resets
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.passwords import context_words, policy_problems
from pharmaqms.kernel.uow import unit_of_work


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Password1234", "it is made of commonly used passwords"),
        ("P@ssw0rd2026!!", "it is made of commonly used passwords"),
        ("Welcome-2026!", "it is made of commonly used passwords"),
        ("Letmein12345!", "it is made of commonly used passwords"),
        (
            "Qwerty123456!",
            "it is made of commonly used passwords",
        ),
        (
            "Administrator1!",
            "it is too easy to guess (strength 2 of 4, at least 3 needed): it follows a common "
            "pattern",
        ),
        ("Pharmaqms-2026!", "it must not contain your name or the site's name (pharmaqms)"),
        ("Ph4rm4qms-Lab-77", "it must not contain your name or the site's name (pharmaqms)"),
        ("Hashimoto-Rules-9", "it must not contain your name or the site's name (hash)"),
        ("Clean-Room-Hana-1", "it must not contain the username"),
    ],
)
def test_common_and_context_passwords_are_refused_with_the_reason(
    db: Database, people: People, password: str, reason: str
) -> None:
    before = snapshot(db)

    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=people.admin,
            username="hana",
            full_name="Hana Hash",
            roles=["qc_analyst"],
            password=password,
        )

    assert refused.value.reasons == [reason]
    assert refused.value.detail == f"the password does not meet the policy: {reason}"
    assert snapshot(db) == before


def test_strong_passphrases_pass() -> None:
    for password in ("Correct-Horse-9!", "Quality-First-2026!", "Clean-Room-Demo-26!"):
        assert policy_problems(password, username="qc", full_name="Chloe Chemist") == []


def test_the_password_chosen_after_a_reset_is_judged_against_the_owner_s_name(
    db: Database, people: People
) -> None:
    with unit_of_work(db) as s:
        temporary = password_resets.reset_password(
            s, actor=people.admin, user_id=people.qc.user_id, reason="forgotten"
        ).secret
    before = snapshot(db)

    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as s:
        auth.change_password(
            s,
            username=people.qc.username,
            old_password=temporary,
            new_password="Chemist-Of-The-Year-1",
        )

    assert refused.value.reasons == ["it must not contain your name or the site's name (chemist)"]
    assert snapshot(db) == before


def test_the_context_words_are_the_username_its_parts_the_name_and_the_site() -> None:
    assert context_words("quinn.qa", "Quinn Okafor-Ng") == [
        "okafor",
        "pharmaqms",
        "quinn",
        "quinn.qa",
    ]
