"""What the accounts endpoints accept and answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

PASSWORD_MIN = 10
PASSWORD_MAX = 128

# Deliberately plain: one @, no spaces, a dotted domain. Deliverability is the mail
# server's business; this only catches typos and keeps the column tidy.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z0-9-]{2,63}$")


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("enter an email address like name@example.com")
    return email


def _password_length(value: str) -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise ValueError(
            f"the password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long "
            f"(it has {len(value)})"
        )
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(normalise_email)]
NewPassword = Annotated[str, AfterValidator(_password_length)]


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email = Field(examples=["investor@example.com"])
    password: NewPassword = Field(description=f"{PASSWORD_MIN} to {PASSWORD_MAX} characters")


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email = Field(examples=["investor@example.com"])
    # Any length up to the maximum: a wrong password is "wrong", not "invalid".
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class Account(BaseModel):
    id: int
    email: str
    created_at: datetime


class CsrfToken(BaseModel):
    csrf_token: str = Field(description="Send this value in the X-CSRF-Token header")
