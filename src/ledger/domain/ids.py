"""Identifiers: random, or derived from an idempotency key; account ids carry their facts.

An account id names its ledger, currency, scale, normal side and shard count, and a ledger
id the shard count of its `world` accounts. Those facts never change, so a write can be
planned from the ids alone, with no read; the write's conditions still check them against
the stored account (a forged id names no stored item).

A count of one shard is written as nothing, so ids made before accounts had shards keep
their form and their meaning: `ldg_<token>` has a one-item world, `ldg_<token>-w8` one of
eight shards; `acc_..._<token>` is one item, `acc_..._<token>-s8` eight.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

from ledger.domain.errors import NotFound
from ledger.domain.limits import currency_scale_max
from ledger.domain.model import Side
from ledger.domain.money import Currency

_token_length = 16
_entry_token_length = 26
_world_token = "world"
_token_alphabet = "[a-z2-7]"
# A shard count of 2 to 64, without leading zeros: one count, one spelling.
_shard_count = "(?:[2-9]|[1-5][0-9]|6[0-4])"
_ledger_token = rf"{_token_alphabet}{{{_token_length}}}(?:-w(?P<world_shards>{_shard_count}))?"
_account_id = re.compile(
    rf"^acc_(?P<ledger>{_ledger_token})"
    r"_(?P<currency>[A-Z][A-Z0-9]{1,11})-(?P<scale>[0-9]{1,2})-(?P<side>[cd])"
    rf"_(?:(?P<token>{_token_alphabet}{{{_token_length}}})(?:-s(?P<shards>{_shard_count}))?"
    rf"|(?P<world>{_world_token}))$"
)
_ledger_id = re.compile(rf"^ldg_(?P<token>{_ledger_token})$")
_entry_id = re.compile(
    rf"^ent_(?P<ledger>{_ledger_token})_{_token_alphabet}{{{_entry_token_length}}}$"
)


def _token(length: int, seed: str | None) -> str:
    """A base32 token: random, or a digest of `seed` so the same seed gives the same token."""
    raw = secrets.token_bytes(20) if seed is None else hashlib.sha256(seed.encode()).digest()
    return base64.b32encode(raw).decode().lower()[:length]


@dataclass(frozen=True)
class AccountRef:
    """The immutable facts an account id carries."""

    id: str
    ledger_id: str
    currency: Currency
    normal_balance: Side
    is_world: bool
    # How many items hold its balances: its own count, or its ledger's for a `world`.
    shards: int = 1


def _count_suffix(marker: str, shards: int) -> str:
    return "" if shards == 1 else f"-{marker}{shards}"


def _count(value: str | None) -> int:
    return 1 if value is None else int(value)


def new_ledger_id(owner_id: str | None, idempotency_key: str | None, world_shards: int = 1) -> str:
    """A ledger id whose `world` accounts have `world_shards` shards (1 to 64); the same
    owner and key always give the same token, whatever the count."""
    seed = None if idempotency_key is None else f"ledger\0{owner_id or ''}\0{idempotency_key}"
    return f"{bare_ledger_id(_token(_token_length, seed))}{_count_suffix('w', world_shards)}"


def bare_ledger_id(token: str) -> str:
    """The ledger id of a token alone, without a shard count: what one idempotency key
    names whatever count its ledger was given."""
    return f"ldg_{token[:_token_length]}"


def ledger_token(ledger_id: str) -> str:
    """The token part of a well-formed ledger id (its shard count included); NotFound for
    anything else."""
    match = _ledger_id.fullmatch(ledger_id)
    if match is None:
        raise NotFound("ledger", ledger_id)
    return match.group("token")


def world_shards_of(ledger_id: str) -> int:
    """How many shards the `world` accounts of a well-formed ledger id have."""
    match = _ledger_id.fullmatch(ledger_id)
    if match is None:
        raise NotFound("ledger", ledger_id)
    return _count(match.group("world_shards"))


def new_account_id(
    ledger_id: str,
    currency: Currency,
    normal_balance: Side,
    idempotency_key: str | None,
    shards: int = 1,
) -> str:
    """An account id in `ledger_id` of `shards` shards (1 to 64); the same ledger and key
    always give the same token, whatever the count."""
    seed = None if idempotency_key is None else f"account\0{ledger_id}\0{idempotency_key}"
    token = _token(_token_length, seed) + _count_suffix("s", shards)
    return _account_id_of(ledger_id, currency, normal_balance, token)


def world_account_id(ledger_id: str, currency: Currency) -> str:
    """The id of the ledger's `world` account of `currency`: equity, so credit-normal."""
    return _account_id_of(ledger_id, currency, Side.CREDIT, _world_token)


def _account_id_of(ledger_id: str, currency: Currency, side: Side, token: str) -> str:
    side_letter = "c" if side is Side.CREDIT else "d"
    return f"acc_{ledger_token(ledger_id)}_{currency.code}-{currency.scale}-{side_letter}_{token}"


def parse_account_id(account_id: str) -> AccountRef:
    """The facts of a well-formed account id; NotFound for an id no account can have."""
    match = _account_id.fullmatch(account_id)
    if match is None or int(match.group("scale")) > currency_scale_max:
        raise NotFound("account", account_id)
    is_world = match.group("world") is not None
    shards = match.group("world_shards") if is_world else match.group("shards")
    return AccountRef(
        id=account_id,
        ledger_id=f"ldg_{match.group('ledger')}",
        currency=Currency(match.group("currency"), int(match.group("scale"))),
        normal_balance=Side.CREDIT if match.group("side") == "c" else Side.DEBIT,
        is_world=is_world,
        shards=_count(shards),
    )


def shard_of(entry_id: str, shards: int) -> int:
    """The shard (0 to `shards` - 1) an entry moves: a digest of its id, so a retry or a
    replay moves the same one and concurrent entries spread over all of them."""
    digest = hashlib.sha256(entry_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def new_entry_id(ledger_id: str, idempotency_key: str | None) -> str:
    """An entry id in `ledger_id`; the same ledger and key always give the same id."""
    seed = None if idempotency_key is None else f"entry\0{ledger_id}\0{idempotency_key}"
    return f"ent_{ledger_token(ledger_id)}_{_token(_entry_token_length, seed)}"


def derived_entry_id(source_entry_id: str, purpose: str) -> str:
    """The one entry that `purpose` (posting, reversal) derives from another entry."""
    ledger_id = entry_ledger_id(source_entry_id)
    seed = f"{purpose}\0{source_entry_id}"
    return f"ent_{ledger_token(ledger_id)}_{_token(_entry_token_length, seed)}"


def entry_ledger_id(entry_id: str) -> str:
    """The ledger a well-formed entry id belongs to; NotFound for anything else."""
    match = _entry_id.fullmatch(entry_id)
    if match is None:
        raise NotFound("entry", entry_id)
    return f"ldg_{match.group('ledger')}"


def entry_names_ledger(entry_id: str, ledger_id: str) -> bool:
    """Whether `entry_id` is a well-formed entry id of `ledger_id`."""
    match = _entry_id.fullmatch(entry_id)
    return match is not None and f"ldg_{match.group('ledger')}" == ledger_id


_monitor_id = re.compile(rf"^mon_{_token_alphabet}{{{_token_length}}}$")


def new_monitor_id(account_id: str, idempotency_key: str | None) -> str:
    """A monitor id; the same account and key always give the same id."""
    seed = None if idempotency_key is None else f"monitor\0{account_id}\0{idempotency_key}"
    return f"mon_{_token(_token_length, seed)}"


def is_monitor_id(monitor_id: str) -> bool:
    """Whether `monitor_id` is well formed (one that is not names no monitor)."""
    return _monitor_id.fullmatch(monitor_id) is not None


def new_match_run_id() -> str:
    """A random id of one statement matching run."""
    return f"mrun_{_token(_token_length, None)}"


def new_external_check_id(ledger_id: str, idempotency_key: str | None) -> str:
    """An external balance check id; the same ledger and key always give the same id."""
    seed = None if idempotency_key is None else f"external\0{ledger_id}\0{idempotency_key}"
    return f"ext_{_token(_token_length, seed)}"
