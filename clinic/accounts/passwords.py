"""Password hashing with argon2id.

The strong profile is argon2-cffi's RFC 9106 default. Tests use a cheap
profile so the suite stays fast; it is never used outside tests.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_PROFILES = {
    "strong": PasswordHasher(),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
# Verified against when the email is unknown, so both answers take as long.
_DUMMY_HASHES: dict[str, str] = {}


def hasher(profile: str) -> PasswordHasher:
    return _PROFILES[profile]


def hash_password(password: str, profile: str) -> str:
    return hasher(profile).hash(password)


def verify_password(stored_hash: str, password: str, profile: str) -> bool:
    try:
        return hasher(profile).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, profile: str) -> bool:
    return hasher(profile).check_needs_rehash(stored_hash)


def burn_time(password: str, profile: str) -> None:
    """Spend one verification's worth of time for an unknown account."""
    if profile not in _DUMMY_HASHES:
        _DUMMY_HASHES[profile] = hash_password("not-a-real-password", profile)
    verify_password(_DUMMY_HASHES[profile], password, profile)
