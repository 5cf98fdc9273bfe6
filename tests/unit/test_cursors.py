"""Sealed cursors: encrypted, authenticated, and bound to what they were sealed for."""

from __future__ import annotations

import base64
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.errors import ValidationError
from ledger.store.cursors import CursorSeal, new_secret, nonce_bytes, secret_bytes, tag_bytes


def _bytes_of(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _text_of(token: bytes) -> str:
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _refused(seal: CursorSeal, binding: bytes, cursor: str) -> bool:
    with pytest.raises(ValidationError) as caught:
        seal.open(binding, cursor)
    assert caught.value.details == {"field": "cursor"}
    return caught.value.message == "cursor is not one this listing returned"


@settings(max_examples=30, deadline=None)
@given(position=st.binary(max_size=300), binding=st.binary(max_size=100))
def test_a_sealed_position_opens_for_its_binding(position: bytes, binding: bytes) -> None:
    # GIVEN a seal and any position, several keystream blocks long or empty
    seal = CursorSeal(new_secret())
    # WHEN sealing it and opening it with the same binding
    cursor = seal.seal(binding, position)
    # THEN the position comes back, from url-safe unpadded text of a fixed overhead
    assert seal.open(binding, cursor) == position
    assert "=" not in cursor
    assert len(_bytes_of(cursor)) == 1 + nonce_bytes + len(position) + tag_bytes


def test_the_position_is_encrypted_and_every_seal_differs() -> None:
    # GIVEN a readable position
    seal = CursorSeal(new_secret())
    position = b'["LEDGER#ldg_secret","LEDGER","LEDGER#2026-01-01T00:00:00.000000Z#ldg_secret"]'
    # WHEN sealing it twice
    first, second = seal.seal(b"listing", position), seal.seal(b"listing", position)
    # THEN neither cursor holds the position or any part of it, and they differ (fresh nonce)
    for cursor in (first, second):
        assert b"ldg_secret" not in _bytes_of(cursor)
        assert b"LEDGER" not in _bytes_of(cursor)
        assert "ldg_secret" not in cursor
    assert first != second


def test_a_cursor_opens_for_no_other_binding() -> None:
    # GIVEN a cursor sealed for one listing and caller
    seal = CursorSeal(new_secret())
    cursor = seal.seal(b'["gsi2","OWNER#a",null,"key_one"]', b"position")
    # WHEN opening it for another listing, another caller, or no binding
    others = [b'["gsi2","OWNER#b",null,"key_one"]', b'["gsi2","OWNER#a",null,"key_two"]', b""]
    # THEN it is refused every time
    assert all(_refused(seal, binding, cursor) for binding in others)


def test_a_cursor_of_another_secret_is_refused() -> None:
    # GIVEN a cursor of another deployment
    cursor = CursorSeal(new_secret()).seal(b"listing", b"position")
    # WHEN this deployment opens it for the same listing
    # THEN it is refused
    assert _refused(CursorSeal(new_secret()), b"listing", cursor)


def test_any_changed_byte_is_refused() -> None:
    # GIVEN a genuine cursor
    seal = CursorSeal(new_secret())
    token = _bytes_of(seal.seal(b"listing", b"a position of some length"))
    # WHEN any one byte of it (version, nonce, ciphertext or tag) is flipped
    tampered = [
        _text_of(token[:index] + bytes([token[index] ^ 0x01]) + token[index + 1 :])
        for index in range(len(token))
    ]
    # THEN every variant is refused
    assert all(_refused(seal, b"listing", cursor) for cursor in tampered)


@pytest.mark.parametrize(
    "cursor",
    ["", "a", "abcde", "not a cursor", "é", "ab+/", "abc=", _text_of(b"\x01" + b"\x00" * 31)],
    ids=[
        "empty",
        "one-char",
        "bad-length",
        "spaces",
        "non-ascii",
        "std-alphabet",
        "padded",
        "short",
    ],
)
def test_malformed_cursors_are_refused(cursor: str) -> None:
    # GIVEN text that is not a whole sealed cursor
    # WHEN opening it
    # THEN it is refused as a foreign cursor
    assert _refused(CursorSeal(new_secret()), b"listing", cursor)


def test_a_cut_cursor_is_refused() -> None:
    # GIVEN a genuine cursor, cut short by one to five characters
    seal = CursorSeal(new_secret())
    cursor = seal.seal(b"listing", secrets.token_bytes(40))
    # WHEN opening each cut
    # THEN each is refused
    assert all(_refused(seal, b"listing", cursor[:-cut]) for cut in range(1, 6))


def test_a_short_secret_is_refused() -> None:
    # GIVEN a secret shorter than the seal needs
    # WHEN making a seal of it
    # THEN it is refused
    with pytest.raises(ValueError, match=f"at least {secret_bytes} bytes"):
        CursorSeal(b"\x00" * (secret_bytes - 1))
