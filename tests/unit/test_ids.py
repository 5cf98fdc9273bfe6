"""Identifiers: random or derived from idempotency keys; account ids carry their facts."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from unit_builders import ETH, JPY, USD, a_ledger_id

from ledger.domain.errors import NotFound
from ledger.domain.ids import (
    entry_ledger_id,
    ledger_token,
    new_account_id,
    new_entry_id,
    new_ledger_id,
    parse_account_id,
    world_account_id,
)
from ledger.domain.model import Side
from ledger.domain.money import Currency


def a_key() -> str:
    """A random idempotency key."""
    return secrets.token_urlsafe(12)


# --- ledgers -------------------------------------------------------------------------------


def test_ledger_ids_without_a_key_are_random() -> None:
    # GIVEN no idempotency key
    # WHEN making two ledger ids
    first, second = new_ledger_id("owner", None), new_ledger_id("owner", None)
    # THEN they differ and both are well formed
    assert first != second
    assert ledger_token(first) != ledger_token(second)


def test_ledger_ids_derive_from_owner_and_key() -> None:
    # GIVEN an owner and an idempotency key
    key = a_key()
    # WHEN making ledger ids from them, and from a changed owner or key
    same = new_ledger_id("alice", key), new_ledger_id("alice", key)
    other_owner = new_ledger_id("bob", key)
    no_owner = new_ledger_id(None, key)
    other_key = new_ledger_id("alice", a_key())
    # THEN the same inputs give the same id and any change gives another
    assert same[0] == same[1]
    assert len({same[0], other_owner, no_owner, other_key}) == 4


def test_ledger_token_is_the_part_after_the_prefix() -> None:
    # GIVEN a fresh ledger id
    ledger_id = a_ledger_id()
    # WHEN taking its token
    token = ledger_token(ledger_id)
    # THEN the id is the prefix plus the token
    assert ledger_id == f"ldg_{token}"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ldg_",
        "ldg_short",
        "ldg_ABCDEFGHIJKLMNOP",  # upper case is not in the alphabet
        "ldg_abcdefghijklmnop1",  # 1 is not base32
        "ldg_abcdefghijklmnopq",  # one character too many
        "xyz_abcdefghijklmnop",
        " ldg_abcdefghijklmnop",
        "ldg_abcdefghijklmnop\n",
    ],
)
def test_ledger_token_rejects_malformed_ids_as_not_found(bad: str) -> None:
    # GIVEN a string no ledger id can be
    # WHEN taking its token
    with pytest.raises(NotFound) as raised:
        ledger_token(bad)
    # THEN it is reported as a ledger that does not exist
    assert raised.value.details == {"resource": "ledger", "id": bad}


# --- accounts ------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", [USD, JPY, ETH, Currency("POINTS9", 4)])
@pytest.mark.parametrize("side", [Side.DEBIT, Side.CREDIT])
def test_account_id_carries_ledger_currency_scale_and_side(currency: Currency, side: Side) -> None:
    # GIVEN a ledger
    ledger_id = a_ledger_id()
    # WHEN making an account id and parsing it back
    account_id = new_account_id(ledger_id, currency, side, None)
    ref = parse_account_id(account_id)
    # THEN the id names its ledger, currency with scale, and normal side; it is no world account
    assert ref.id == account_id
    assert ref.ledger_id == ledger_id
    assert ref.currency == currency
    assert ref.normal_balance is side
    assert ref.is_world is False


def test_account_ids_derive_from_ledger_and_key() -> None:
    # GIVEN a ledger and a key
    ledger_id, key = a_ledger_id(), a_key()
    # WHEN making account ids with the same and with other inputs
    first = new_account_id(ledger_id, USD, Side.DEBIT, key)
    again = new_account_id(ledger_id, USD, Side.DEBIT, key)
    other_key = new_account_id(ledger_id, USD, Side.DEBIT, a_key())
    other_ledger = new_account_id(a_ledger_id(), USD, Side.DEBIT, key)
    random_ones = {new_account_id(ledger_id, USD, Side.DEBIT, None) for _ in range(3)}
    # THEN only the same ledger and key repeat an id
    assert first == again
    assert len({first, other_key, other_ledger, *random_ones}) == 6


def test_new_account_id_refuses_a_malformed_ledger_id() -> None:
    # GIVEN a malformed ledger id
    # WHEN making an account id in it
    with pytest.raises(NotFound) as raised:
        new_account_id("not-a-ledger", USD, Side.DEBIT, None)
    # THEN the ledger is reported missing
    assert raised.value.details["resource"] == "ledger"


@pytest.mark.parametrize("currency", [USD, ETH])
def test_world_account_id_is_deterministic_credit_normal_and_marked(currency: Currency) -> None:
    # GIVEN a ledger
    ledger_id = a_ledger_id()
    # WHEN asking for its world account id twice, and parsing it
    world = world_account_id(ledger_id, currency)
    ref = parse_account_id(world)
    # THEN it is stable, names the ledger and currency, is credit-normal and a world account
    assert world == world_account_id(ledger_id, currency)
    assert world != world_account_id(a_ledger_id(), currency)
    assert (ref.ledger_id, ref.currency, ref.normal_balance) == (ledger_id, currency, Side.CREDIT)
    assert ref.is_world is True


def test_world_accounts_of_different_currencies_differ() -> None:
    # GIVEN a ledger
    ledger_id = a_ledger_id()
    # WHEN asking for world ids in two currencies and two scales of one code
    ids = {
        world_account_id(ledger_id, USD),
        world_account_id(ledger_id, ETH),
        world_account_id(ledger_id, Currency("USD", 3)),
    }
    # THEN each is its own account
    assert len(ids) == 3


def _valid_account_id() -> str:
    return new_account_id(a_ledger_id(), USD, Side.DEBIT, None)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda good: "",
        lambda good: "acc_",
        lambda good: good.replace("-2-", "-19-"),  # scale beyond the maximum
        lambda good: good.replace("-2-", "-123-"),  # three-digit scale
        lambda good: good.replace("-d_", "-x_"),  # no such side
        lambda good: good.replace("USD", "usd"),
        lambda good: good.upper(),
        lambda good: good[:-1],
        lambda good: good + "a",
        lambda good: good.rsplit("_", 1)[0] + "_earth",
        lambda good: "ACC" + good[3:],
        lambda good: good + "\n",
        lambda good: " " + good,
    ],
    ids=[
        "empty",
        "prefix-only",
        "scale-19",
        "scale-3-digits",
        "bad-side",
        "lower-currency",
        "upper-token",
        "token-short",
        "token-long",
        "unknown-word-token",
        "upper-prefix",
        "trailing-newline",
        "leading-space",
    ],
)
def test_parse_account_id_rejects_ids_no_account_can_have(mangle: Callable[[str], str]) -> None:
    # GIVEN a well-formed account id, mangled
    bad = mangle(_valid_account_id())
    # WHEN parsing it
    with pytest.raises(NotFound) as raised:
        parse_account_id(bad)
    # THEN it is an account that does not exist
    assert raised.value.details == {"resource": "account", "id": bad}


def test_parse_account_id_accepts_the_largest_scale() -> None:
    # GIVEN an account id of an 18-decimal currency
    account_id = new_account_id(a_ledger_id(), ETH, Side.CREDIT, None)
    # WHEN parsing it
    # THEN its currency has scale 18
    assert parse_account_id(account_id).currency.scale == 18


# --- entries -------------------------------------------------------------------------------


def test_entry_id_names_its_ledger() -> None:
    # GIVEN a ledger
    ledger_id = a_ledger_id()
    # WHEN making an entry id
    entry_id = new_entry_id(ledger_id, None)
    # THEN its ledger can be read back from it
    assert entry_ledger_id(entry_id) == ledger_id


def test_entry_ids_derive_from_ledger_and_key() -> None:
    # GIVEN a ledger and a key
    ledger_id, key = a_ledger_id(), a_key()
    # WHEN making entry ids with the same and with other inputs
    first, again = new_entry_id(ledger_id, key), new_entry_id(ledger_id, key)
    other_key = new_entry_id(ledger_id, a_key())
    other_ledger = new_entry_id(a_ledger_id(), key)
    random_ones = {new_entry_id(ledger_id, None) for _ in range(3)}
    # THEN only the same ledger and key repeat an id
    assert first == again
    assert len({first, other_key, other_ledger, *random_ones}) == 6


def test_ids_of_different_kinds_from_one_key_differ() -> None:
    # GIVEN one ledger and one key used for an account and an entry
    ledger_id, key = a_ledger_id(), a_key()
    # WHEN deriving both ids
    account_token = new_account_id(ledger_id, USD, Side.DEBIT, key).rsplit("_", 1)[1]
    entry_token = new_entry_id(ledger_id, key).rsplit("_", 1)[1]
    # THEN the derived tokens are unrelated
    assert not entry_token.startswith(account_token)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda good: "",
        lambda good: good[:-1],
        lambda good: good + "a",
        lambda good: good.upper(),
        lambda good: "ent" + good[3:].replace("_", "-", 1),
        lambda good: good + "\n",
    ],
    ids=["empty", "short", "long", "upper", "dash-separator", "trailing-newline"],
)
def test_entry_ledger_id_rejects_malformed_ids_as_not_found(mangle: Callable[[str], str]) -> None:
    # GIVEN a well-formed entry id, mangled
    bad = mangle(new_entry_id(a_ledger_id(), None))
    # WHEN reading its ledger
    with pytest.raises(NotFound) as raised:
        entry_ledger_id(bad)
    # THEN it is an entry that does not exist
    assert raised.value.details == {"resource": "entry", "id": bad}
