"""What the sign-up and sign-in forms accept, and how they explain a refusal."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.auth.schemas import Credentials, Registration, normalise_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Alice@Example.com", "alice@example.com"),
        ("  bob.smith+invest@mail.co.uk ", "bob.smith+invest@mail.co.uk"),
        ("X@Y.IO", "x@y.io"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored
    assert Registration(email=typed, password="long enough pw").email == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a b@example.com",
        "a@@example.com",
        "a@exa mple.com",
        "a@example.c",
        "a\x00@example.com",
        "a" * 65 + "@example.com",
    ],
)
def test_malformed_emails_are_refused_with_an_example(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Registration(email=typed, password="long enough pw")
    assert "name@example.com" in str(refused.value)


@pytest.mark.parametrize("length", [0, 9, 129, 1000])
def test_a_password_outside_10_to_128_characters_is_refused_clearly(length: int) -> None:
    with pytest.raises(ValidationError) as refused:
        Registration(email="a@example.com", password="p" * length)
    message = str(refused.value)
    assert "10 to 128 characters" in message
    assert f"(it has {length})" in message


@pytest.mark.parametrize("length", [10, 64, 128])
def test_passwords_of_10_to_128_characters_are_accepted(length: int) -> None:
    assert len(Registration(email="a@example.com", password="é" * length).password) == length


def test_sign_in_accepts_any_nonempty_password_so_a_wrong_one_is_just_wrong() -> None:
    assert Credentials(email="a@example.com", password="short").password == "short"
    with pytest.raises(ValidationError):
        Credentials(email="a@example.com", password="")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        Registration.model_validate(
            {"email": "a@example.com", "password": "long enough pw", "is_admin": True}
        )
