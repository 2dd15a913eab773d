"""Password hashing (argon2) and the password policy."""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.settings import get_settings


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    s = get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_cost, s.argon2_parallelism)


def hash_password(password: str) -> str:
    return hasher().hash(password)


# A published password (the demo accounts': printed by ``pharmaqms demo``, in the guide)
# protects nothing, so a costly hash of it buys no security, while the demo verifies it at
# each of its hundreds of signatures. Such accounts get argon2's light parameters; the first
# login with the password upgrades the hash to the installation's (``needs_rehash``), and a
# changed password is hashed with them anyway. Never for a password a person chose.
PUBLISHED_PASSWORD_PARAMETERS = (1, 1024, 1)  # time cost, memory (KiB), parallelism


def hash_published_password(password: str) -> str:
    return _hasher(*PUBLISHED_PASSWORD_PARAMETERS).hash(password)


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters than the installation's."""
    try:
        return hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or not password:
        return False
    try:
        return hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# zxcvbn judges at most this many characters (its own limit); a longer passphrase is judged
# by its start, which for a real passphrase is already far beyond the threshold.
STRENGTH_WINDOW = 72
# Letters people write as digits or symbols ("P@ssw0rd"), undone before the word checks.
LEET = str.maketrans(
    {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
# Words of a product's own context that anyone would try first.
SITE_WORDS = ("pharmaqms",)


def _plain(text: str) -> str:
    return text.lower().translate(LEET)


@lru_cache(maxsize=1)
def _common_passwords() -> dict[str, int]:
    """The 30,000 most common passwords of zxcvbn's frequency lists, by rank."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return {word: rank for rank, word in enumerate(FREQUENCY_LISTS["passwords"], 1)}


def context_words(username: str, full_name: str = "") -> list[str]:
    """What a password must not contain: the username, the parts of the username and of the
    full name (four letters or more), the site's name."""
    words = {username.lower()} if username else set()
    for part in re.split(r"[^a-z]+", f"{username} {full_name}".lower()):
        if len(part) >= 4:
            words.add(part)
    site = get_settings().site_name.lower()
    words.update(w for w in (*SITE_WORDS, *re.split(r"[^a-z]+", site)) if len(w) >= 4)
    return sorted(words)


def _built_from_common_words(password: str) -> bool:
    """True when every word in the password (letters, after undoing digit-for-letter swaps) is
    among the 10,000 most common passwords: "Password1234", "Welcome-2026!", "Qwerty-Dragon-1"."""
    common = _common_passwords()
    # Read both ways: "Passw0rd" is "password" with a swap, "Password1234" is "password" and
    # digits (whose 1 must not become an l).
    for text in (password.lower(), _plain(password)):
        words = [w for w in re.split(r"[^a-z]+", text) if len(w) >= 3]
        if words and all(common.get(w, 10**9) <= 10_000 for w in words):
            return True
    return False


def policy_problems(password: str, *, username: str, full_name: str = "") -> list[str]:
    """Reasons a new password is refused; empty when it meets the policy: length, a mix of
    character kinds, none of the account's or the site's own words, not built from common
    passwords, and hard enough to guess by zxcvbn's estimate."""
    from zxcvbn import zxcvbn

    s = get_settings()
    problems = []
    if len(password) < s.password_min_length:
        problems.append(f"it must be at least {s.password_min_length} characters long")
    if len(password) > 256:
        problems.append("it must be at most 256 characters long")
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if classes < 3:
        problems.append(
            "it must mix at least three of: lower case, upper case, digits, other characters"
        )
    if username and username.lower() in password.lower():
        problems.append("it must not contain the username")
    texts = (password.lower(), _plain(password))
    found = [
        w
        for w in context_words(username, full_name)
        if w != username.lower() and any(w in text for text in texts)
    ]
    if found:
        problems.append(
            "it must not contain your name or the site's name (" + ", ".join(found) + ")"
        )
    if problems:
        # Guessability is judged once the rules above are met: one round of reasons at a time.
        return problems
    if _built_from_common_words(password):
        problems.append("it is made of commonly used passwords")
    else:
        result = zxcvbn(password[:STRENGTH_WINDOW], user_inputs=context_words(username, full_name))
        if result["score"] < s.password_min_strength:
            warning = result["feedback"].get("warning") or "it follows a common pattern"
            problems.append(
                f"it is too easy to guess (strength {result['score']} of 4, at least "
                f"{s.password_min_strength} needed): {warning.rstrip('.').lower()}"
            )
    return problems


def check_policy(password: str, *, username: str, full_name: str = "") -> None:
    problems = policy_problems(password, username=username, full_name=full_name)
    if problems:
        raise InvalidInput(
            "the password does not meet the policy: " + "; ".join(problems),
            field="password",
            reasons=problems,
        )
