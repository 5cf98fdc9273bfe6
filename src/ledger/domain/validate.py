"""Checks on loose input that turn it into typed values or raise ValidationError."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.model import Actor, Metadata

E = TypeVar("E", bound=StrEnum)

_printable = re.compile(r"^[\x20-\x7e]+$")
_code = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
# C0 control characters (NUL included) break logs, terminals and whatever a caller keys on;
# only prose (descriptions, metadata values) may hold line feeds and tabs.
_control = re.compile(r"[\x00-\x1f]")
_prose_control = re.compile(r"[\x00-\x08\x0b-\x1f]")
control_message = "control characters (U+0000 to U+001F) are not allowed"
prose_control_message = "control characters other than line feed and tab are not allowed"
key_control_message = "keys may not hold control characters (U+0000 to U+001F)"


def has_control(value: str) -> bool:
    """Whether `value` holds a C0 control character (NUL included)."""
    return _control.search(value) is not None


def has_prose_control(value: str) -> bool:
    """Whether `value` holds a C0 control character other than a line feed or a tab."""
    return _prose_control.search(value) is not None


def text(field: str, value: object, length_max: int) -> str:
    """A non-blank string of at most `length_max` characters, without control characters."""
    checked = _bounded(field, value, length_max)
    if has_control(checked):
        raise ValidationError(field, f"{field}: {control_message}")
    return checked


def _bounded(field: str, value: object, length_max: int) -> str:
    """A non-blank string of at most `length_max` characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{field} must be a string")
    if not value.strip():
        raise ValidationError(field, f"{field} must not be blank")
    if len(value) > length_max:
        raise ValidationError(field, f"{field} is longer than {length_max} characters")
    return value


def optional_text(field: str, value: object, length_max: int) -> str | None:
    """Like `text`, but None passes through."""
    return None if value is None else text(field, value, length_max)


def description(value: object) -> str | None:
    """An optional description: prose, where line feeds and tabs are the only control
    characters allowed."""
    if value is None:
        return None
    checked = _bounded("description", value, limits.description_length_max)
    if has_prose_control(checked):
        raise ValidationError("description", f"description: {prose_control_message}")
    return checked


def code(value: object) -> str | None:
    """An account code: letters, digits and . _ : - , unique within its ledger."""
    if value is None:
        return None
    checked = text("code", value, limits.code_length_max)
    if not _code.fullmatch(checked):
        raise ValidationError("code", "code may hold only letters, digits and . _ : -")
    return checked


def source_name(field: str, value: object) -> str:
    """The name of an outside source: letters, digits and . _ : - (as an account code),
    so it can stand in a key between separators."""
    checked = text(field, value, limits.source_name_length_max)
    if not _code.fullmatch(checked):
        raise ValidationError(field, f"{field} may hold only letters, digits and . _ : -")
    return checked


def choice(field: str, enum: type[E], value: object) -> E:
    """One of an enum's values, given as the enum or its string."""
    if isinstance(value, enum):
        return value
    allowed = ", ".join(member.value for member in enum)
    if not isinstance(value, str) or value not in enum._value2member_map_:
        raise ValidationError(field, f"{field} must be one of: {allowed}")
    return enum(value)


def metadata(value: object) -> Metadata:
    """A bounded map of string keys to string values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("metadata", "metadata must be an object of string values")
    if len(value) > limits.metadata_keys_max:
        raise ValidationError("metadata", f"metadata has more than {limits.metadata_keys_max} keys")
    checked: Metadata = {}
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= limits.metadata_key_length_max:
            raise ValidationError(
                "metadata",
                "metadata keys must be strings of 1 to "
                f"{limits.metadata_key_length_max} characters",
            )
        if has_control(key):
            raise ValidationError("metadata", f"metadata: {key_control_message}")
        if not isinstance(item, str) or len(item) > limits.metadata_value_length_max:
            raise ValidationError(
                f"metadata.{key}",
                f"metadata values must be strings of at most "
                f"{limits.metadata_value_length_max} characters",
            )
        if has_prose_control(item):
            raise ValidationError(f"metadata.{key}", f"metadata.{key}: {prose_control_message}")
        checked[key] = item
    return checked


def idempotency_key(value: object) -> str | None:
    """An idempotency key: 1 to 255 printable ASCII characters."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > limits.idempotency_key_length_max
        or not _printable.fullmatch(value)
    ):
        raise ValidationError(
            "idempotency_key",
            f"idempotency key must be 1 to {limits.idempotency_key_length_max} "
            "printable ASCII characters",
        )
    return value


def moment(field: str, value: object) -> datetime | None:
    """A timezone-aware time, normalised to UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, f"{field} must be a timezone-aware time")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(field, f"{field} is outside the years 1 to 9999 in UTC") from None


def shard_count(field: str, value: object) -> int:
    """A number of shards: a whole number from 1 to `limits.shards_max`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"{field} must be a whole number")
    if not 1 <= value <= limits.shards_max:
        raise ValidationError(field, f"{field} must be from 1 to {limits.shards_max}")
    return value


def actor(value: object) -> Actor | None:
    """Who caused an entry: an `Actor` whose fields are each absent or a bounded text
    without control characters."""
    if value is None:
        return None
    if not isinstance(value, Actor):
        raise ValidationError("actor", "actor must be an Actor")
    for name, length_max in _actor_lengths.items():
        optional_text(f"actor.{name}", getattr(value, name), length_max)
    return value


_actor_lengths = {
    "key_id": limits.actor_id_length_max,
    "role": limits.actor_id_length_max,
    "request_id": limits.actor_id_length_max,
    "source_ip": limits.source_ip_length_max,
    "user_agent": limits.user_agent_length_max,
}
