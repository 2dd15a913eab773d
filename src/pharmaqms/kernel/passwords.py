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


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or not password:
        return False
    try:
        return hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def policy_problems(password: str, *, username: str) -> list[str]:
    """Reasons a new password is refused; empty when it meets the policy."""
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
    return problems


def check_policy(password: str, *, username: str) -> None:
    problems = policy_problems(password, username=username)
    if problems:
        raise InvalidInput(
            "the password does not meet the policy: " + "; ".join(problems),
            field="password",
            reasons=problems,
        )
