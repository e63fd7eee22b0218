"""Passwords (argon2id), API and one-time tokens (random, stored as SHA-256), signed values."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults follow RFC 9106's second recommended profile (argon2id, 64 MiB).
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

TOKEN_PREFIX = "voice_"  # noqa: S105  (a public prefix, not a secret)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; an unknown account or one without a password costs the same time."""
    usable = bool(password_hash) and password_hash != UNUSABLE_PASSWORD
    try:
        return _hasher.verify(password_hash if usable else _DUMMY_HASH, password) and usable  # type: ignore[arg-type]
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # The token carries 256 bits of randomness, so a fast hash is enough (no need for argon2 here).
    return hashlib.sha256(token.encode()).hexdigest()


# A password hash that no password matches: accounts waiting for their owner to set one (invitations)
# and accounts that sign in only through the single sign-on.
UNUSABLE_PASSWORD = "!"  # noqa: S105  (not a secret: the marker of "no password")


def one_time_token() -> str:
    """A token for a link sent by e-mail (256 random bits)."""
    return secrets.token_urlsafe(32)


def sign(secret: str, payload: str) -> str:
    """``payload.signature``: an HMAC-SHA256 that only holders of the secret key can make."""
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def unsign(secret: str, value: str) -> str | None:
    """The payload of a value made by ``sign``, or None if it was altered."""
    payload = value.rpartition(".")[0]
    if not payload or not hmac.compare_digest(sign(secret, payload), value):
        return None
    return payload
