"""Password hashing, session tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id with the library's defaults (RFC 9106's second recommended profile: 64 MiB,
# 3 passes); stored hashes carry their parameters, so raising them later rehashes on login.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _unknown_user_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def burn_verification_time(password: str) -> None:
    """Spend what verifying a real hash costs, so an unknown email answers as slowly."""
    verify_password(_unknown_user_hash(), password)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _csrf_signature(nonce: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def new_csrf_token(secret: str) -> str:
    """``<nonce>.<hmac>``: only this server can mint one, so a cookie planted by a sibling
    subdomain (which can set cookies but not read our secret) is rejected."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_csrf_signature(nonce, secret)}"


def csrf_token_is_genuine(token: str, secret: str) -> bool:
    nonce, dot, signature = token.partition(".")
    if not dot or not nonce or len(token) > 200:
        return False
    return hmac.compare_digest(signature, _csrf_signature(nonce, secret))


def same_token(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
