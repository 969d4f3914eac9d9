"""Password hashes, session tokens and CSRF tokens."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher

from api.auth import security


def test_password_hashes_are_argon2id_and_salted() -> None:
    first = security.hash_password("a long password")
    second = security.hash_password("a long password")
    assert first.startswith("$argon2id$")
    assert first != second
    assert security.verify_password(first, "a long password")
    assert not security.verify_password(first, "a long passworD")
    assert not security.verify_password("not a hash", "a long password")


def test_a_hash_made_with_weaker_parameters_asks_to_be_redone() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert security.needs_rehash(weak)
    assert not security.needs_rehash(security.hash_password("pw"))


def test_session_tokens_are_random_and_stored_as_sha256() -> None:
    tokens = {security.new_session_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) >= 43
    assert security.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


def test_a_csrf_token_is_genuine_only_under_the_secret_that_minted_it() -> None:
    token = security.new_csrf_token("server secret one")
    assert security.csrf_token_is_genuine(token, "server secret one")
    assert not security.csrf_token_is_genuine(token, "server secret two")
    nonce, _, signature = token.partition(".")
    assert not security.csrf_token_is_genuine(
        nonce + "." + "0" * len(signature), "server secret one"
    )
    assert not security.csrf_token_is_genuine(nonce + "x." + signature, "server secret one")
    for junk in ("", ".", nonce, "." + signature, "x" * 500):
        assert not security.csrf_token_is_genuine(junk, "server secret one")


def test_csrf_tokens_differ_per_call() -> None:
    assert security.new_csrf_token("s") != security.new_csrf_token("s")
