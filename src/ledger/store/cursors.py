"""Sealed cursors: a listing position, encrypted and authenticated under one secret.

A cursor is `base64url(version | nonce | ciphertext | tag)`. The position is encrypted
with a keystream of HMAC-SHA256 blocks over (nonce, counter), so the cursor shows no item
key, and the tag is an HMAC-SHA256 over the version, nonce and ciphertext and over the
cursor's binding (the listing, its parameters and its caller), which the cursor does not
carry: a cursor opens only for the binding it was sealed for. Encrypt-then-MAC, with
separate keys derived from the one secret. Only the standard library is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from ledger.domain.errors import ValidationError

secret_bytes = 32
nonce_bytes = 16
# HMAC-SHA256 truncated to 128 bits: forging a cursor still takes 2^128 guesses.
tag_bytes = 16
format_version = b"\x01"
_block_bytes = hashlib.sha256().digest_size
_alphabet = re.compile(r"[A-Za-z0-9_-]*")


def foreign_cursor() -> ValidationError:
    """The one refusal of any cursor that does not open: garbled, tampered or moved."""
    return ValidationError("cursor", "cursor is not one this listing returned")


def new_secret() -> bytes:
    """A fresh random secret for a deployment's cursors."""
    return secrets.token_bytes(secret_bytes)


class CursorSeal:
    """Seals listing positions under one secret and opens only what it sealed."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < secret_bytes:
            raise ValueError(f"a cursor secret has at least {secret_bytes} bytes")
        self._cipher_key = _derived(secret, b"ledger cursor cipher")
        self._tag_key = _derived(secret, b"ledger cursor tag")

    def seal(self, binding: bytes, position: bytes) -> str:
        """A cursor for `position` that opens only for `binding`."""
        nonce = secrets.token_bytes(nonce_bytes)
        ciphertext = _xor(position, self._keystream(nonce, len(position)))
        sealed = format_version + nonce + ciphertext
        token = sealed + self._tag(sealed, binding)
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def open(self, binding: bytes, cursor: str) -> bytes:
        """The position a cursor holds; `foreign_cursor()` unless it was sealed for `binding`."""
        if not _alphabet.fullmatch(cursor) or len(cursor) % 4 == 1:
            raise foreign_cursor()
        token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(token) < len(format_version) + nonce_bytes + tag_bytes:
            raise foreign_cursor()
        sealed, tag = token[:-tag_bytes], token[-tag_bytes:]
        if not hmac.compare_digest(tag, self._tag(sealed, binding)):
            raise foreign_cursor()
        nonce = sealed[len(format_version) : len(format_version) + nonce_bytes]
        ciphertext = sealed[len(format_version) + nonce_bytes :]
        return _xor(ciphertext, self._keystream(nonce, len(ciphertext)))

    def _keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = (length + _block_bytes - 1) // _block_bytes
        stream = b"".join(
            hmac.digest(self._cipher_key, nonce + counter.to_bytes(4, "big"), "sha256")
            for counter in range(blocks)
        )
        return stream[:length]

    def _tag(self, sealed: bytes, binding: bytes) -> bytes:
        # The sealed part's length goes first, so no two (sealed, binding) pairs collide.
        message = len(sealed).to_bytes(4, "big") + sealed + binding
        return hmac.digest(self._tag_key, message, "sha256")[:tag_bytes]


def _derived(secret: bytes, purpose: bytes) -> bytes:
    return hmac.digest(secret, purpose, "sha256")


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(left ^ right for left, right in zip(data, stream, strict=True))
