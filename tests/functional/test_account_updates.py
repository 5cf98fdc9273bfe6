"""Renaming an account and replacing its metadata: labels change, money and version do not."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.errors import NotFound, ValidationError
from ledger.domain.ids import world_account_id
from ledger.domain.model import AccountStatus
from ledger.domain.money import builtin_currencies
from ledger.service import Ledger

from .checks import refused
from .helpers import NothingWritten, missing_account_id, open_account


def test_rename_and_new_metadata_leave_balance_and_version_alone(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet with metadata that has taken two deposits
    wallet = open_account(ledger, book, metadata={"tier": "gold", "region": "eu"})
    ledger.deposit(wallet.id, "10.00")
    ledger.deposit(wallet.id, "2.50")
    before = ledger.get_account(wallet.id)
    # WHEN it is renamed and its metadata replaced
    updated = ledger.update_account(wallet.id, name="Alice's wallet", metadata={"tier": "silver"})
    # THEN the returned account is the stored one, with the new name and only the new metadata
    assert updated == ledger.get_account(wallet.id)
    assert (updated.name, updated.metadata) == ("Alice's wallet", {"tier": "silver"})
    # AND its balances, guard and version are as they were; only updated_at moved on
    assert (updated.totals, updated.headroom, updated.version) == (
        before.totals,
        before.headroom,
        before.version,
    )
    assert updated.version == 2
    assert updated.updated_at > before.updated_at
    # AND it still takes entries, each of which steps the version as before
    ledger.deposit(wallet.id, "1.00")
    after = ledger.get_account(wallet.id)
    assert (after.version, after.balance().posted, after.name) == (3, 1350, "Alice's wallet")


def test_name_alone_keeps_metadata_and_metadata_alone_keeps_name(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet with metadata
    wallet = open_account(ledger, book, metadata={"tier": "gold"})
    # WHEN only its name is changed
    renamed = ledger.update_account(wallet.id, name="Savings")
    # THEN its metadata is kept
    assert (renamed.name, renamed.metadata) == ("Savings", {"tier": "gold"})
    # WHEN only its metadata is changed
    tagged = ledger.update_account(wallet.id, metadata={"tier": "basic", "risk": "low"})
    # THEN its name is kept
    assert (tagged.name, tagged.metadata) == ("Savings", {"tier": "basic", "risk": "low"})
    # WHEN its metadata is replaced by an empty map
    cleared = ledger.update_account(wallet.id, metadata={})
    # THEN it has none
    assert (cleared.name, cleared.metadata) == ("Savings", {})


def test_listing_shows_the_new_name(ledger: Ledger, book: str) -> None:
    # GIVEN an account that is renamed
    account = open_account(ledger, book, type="asset")
    ledger.update_account(account.id, name="Operating bank")
    # WHEN the ledger's assets are listed
    listed = ledger.list_accounts(book, type="asset").items
    # THEN the listing shows the account under its new name
    assert [(item.id, item.name) for item in listed] == [(account.id, "Operating bank")]


def test_suspended_and_closed_accounts_can_be_relabelled(ledger: Ledger, book: str) -> None:
    # GIVEN a suspended account and a closed one
    suspended = open_account(ledger, book)
    closed = open_account(ledger, book)
    ledger.update_account(suspended.id, status="suspended")
    ledger.update_account(closed.id, status="closed")
    # WHEN each gets a new name and metadata
    relabelled = [
        ledger.update_account(account.id, name="Archived", metadata={"reason": "migration"})
        for account in (suspended, closed)
    ]
    # THEN they are relabelled and keep their status
    assert [(account.name, account.metadata, account.status) for account in relabelled] == [
        ("Archived", {"reason": "migration"}, AccountStatus.SUSPENDED),
        ("Archived", {"reason": "migration"}, AccountStatus.CLOSED),
    ]


def test_world_account_takes_metadata_but_keeps_its_name(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN the ledger's USD world account
    open_account(ledger, book)
    world_id = world_account_id(book, builtin_currencies["USD"])
    # WHEN it is renamed
    error = refused(
        nothing_written, lambda: ledger.update_account(world_id, name="Outside"), ValidationError
    )
    # THEN it is refused, naming the field, and nothing is written
    assert (error.code, error.details) == ("validation_error", {"field": "name"})
    assert ledger.get_account(world_id).name == "World USD"
    # WHEN only its metadata changes
    tagged = ledger.update_account(world_id, metadata={"purpose": "settlement"})
    # THEN that is accepted
    assert (tagged.name, tagged.metadata) == ("World USD", {"purpose": "settlement"})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "name"),
        ({"name": None, "metadata": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Fine", "metadata": "tier=gold"}, "metadata"),
        ({"metadata": {f"k{index}": "v" for index in range(51)}}, "metadata"),
        ({"metadata": {"": "v"}}, "metadata"),
        ({"metadata": {"tier": 1}}, "metadata.tier"),
        ({"metadata": {"note": "x" * 1001}}, "metadata.note"),
        ({"status": "suspended", "overdraft": "allow"}, "overdraft"),
        ({"status": "closed", "credit_limit": "5.00"}, "overdraft"),
        ({"name": "Fine", "status": "frozen"}, "status"),
    ],
    ids=repr,
)
def test_malformed_update_is_refused(
    ledger: Ledger,
    book: str,
    nothing_written: NothingWritten,
    change: dict[str, Any],
    field: str,
) -> None:
    # GIVEN a wallet with a name and metadata
    wallet = open_account(ledger, book, metadata={"tier": "gold"})
    # WHEN it is updated with nothing, or with one malformed value
    error = refused(
        nothing_written, lambda: ledger.update_account(wallet.id, **change), ValidationError
    )
    # THEN the field is named and nothing is written
    assert (error.code, error.details) == ("validation_error", {"field": field})
    stored = ledger.get_account(wallet.id)
    assert (stored.name, stored.metadata) == (wallet.name, {"tier": "gold"})


def test_longest_name_and_fullest_metadata_are_accepted(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet
    wallet = open_account(ledger, book)
    metadata = {f"key-{index}": "v" * 1000 for index in range(50)}
    # WHEN it gets a name and metadata at their limits
    updated = ledger.update_account(wallet.id, name="n" * 200, metadata=metadata)
    # THEN both are stored unchanged
    assert ledger.get_account(wallet.id) == updated
    assert (updated.name, updated.metadata) == ("n" * 200, metadata)


@pytest.mark.parametrize("well_formed", [True, False])
def test_updating_a_missing_account_is_not_found(
    ledger: Ledger, book: str, nothing_written: NothingWritten, well_formed: bool
) -> None:
    # GIVEN an account id that names no account (well-formed or not)
    open_account(ledger, book)
    account_id = missing_account_id(book) if well_formed else "acc_?"
    # WHEN it is renamed
    error = refused(
        nothing_written, lambda: ledger.update_account(account_id, name="Ghost"), NotFound
    )
    # THEN the account is not found, and nothing is written
    assert (error.code, error.details) == ("not_found", {"resource": "account", "id": account_id})
