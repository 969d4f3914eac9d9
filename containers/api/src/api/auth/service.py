"""Accounts and sessions as plain functions over a SQLAlchemy session.

Writes commit here, so a caller (a route, a seed script, a test) gets a finished unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import security
from api.auth.tables import User, UserSession
from api.errors import ApiError, ConflictError, NotFoundError


class InvalidCredentialsError(ApiError):
    def __init__(self) -> None:
        # One answer for an unknown email and a wrong password: nothing to enumerate.
        super().__init__(401, "invalid_credentials", "wrong email or password")


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # the raw session token, for the cookie; only its hash is stored
    expires_at: datetime


def register(db: Session, email: str, password: str) -> User:
    """Create an account (``email`` already normalised). 409 if the email is taken."""
    password_hash = security.hash_password(password)
    if db.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ConflictError("an account with this email already exists", field="email")
    user = User(email=email, password_hash=password_hash)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        # Two registrations raced past the check above; the unique constraint decides.
        db.rollback()
        raise ConflictError("an account with this email already exists", field="email") from None
    return user


def authenticate(db: Session, email: str, password: str) -> User:
    """The user these credentials belong to, else :class:`InvalidCredentialsError`."""
    user = db.scalar(sa.select(User).where(User.email == email))
    if user is None:
        security.burn_verification_time(password)
        raise InvalidCredentialsError()
    if not security.verify_password(user.password_hash, password):
        raise InvalidCredentialsError()
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
        db.commit()
    return user


def start_session(db: Session, user: User, days: int, *, replacing: str | None = None) -> SignedIn:
    """A new session for ``user``; ``replacing`` (the browser's previous token) is ended,
    so a token planted before sign-in never becomes a signed-in one."""
    now = datetime.now(UTC)
    token = security.new_session_token()
    expires_at = now + timedelta(days=days)
    if replacing:
        db.execute(
            sa.delete(UserSession).where(UserSession.token_hash == security.token_hash(replacing))
        )
    db.execute(
        sa.delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    db.add(
        UserSession(
            token_hash=security.token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    db.commit()
    return SignedIn(user=user, token=token, expires_at=expires_at)


def end_session(db: Session, token: str) -> bool:
    """Delete the session of ``token``; True if there was one."""
    result = db.execute(
        sa.delete(UserSession).where(UserSession.token_hash == security.token_hash(token))
    )
    db.commit()
    return bool(getattr(result, "rowcount", 0))


def user_id_for_token(db: Session | sa.Connection, token: str) -> int | None:
    """The user an unexpired session token belongs to."""
    user_id: int | None = db.execute(
        sa.select(UserSession.user_id).where(
            UserSession.token_hash == security.token_hash(token),
            UserSession.expires_at > sa.func.now(),
        )
    ).scalar_one_or_none()
    return user_id


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError("no such account")
    return user
