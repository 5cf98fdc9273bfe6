"""DynamoDBStore end to end on DynamoDB Local: a realistic flow and every rejection it decodes."""

from __future__ import annotations

import secrets
import threading
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import pytest

from ledger.domain.errors import (
    AccountInactive,
    CodeTaken,
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
)
from ledger.domain.ids import new_account_id, world_account_id
from ledger.domain.model import Account, AccountStatus, Entry, EntryKind, LedgerRecord, Side
from ledger.domain.money import builtin_currencies
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

usd = builtin_currencies["USD"]


@pytest.fixture(scope="module")
def table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """One table for the module: every test makes its own ledger, and all reads are per ledger."""
    name = f"ledger-test-{secrets.token_hex(6)}"
    ensure_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def ledger(dynamodb_client: DynamoDBClient, table_name: str) -> Ledger:
    return Ledger(DynamoDBStore(table_name, client=dynamodb_client))


@pytest.fixture
def book(ledger: Ledger) -> LedgerRecord:
    return ledger.create_ledger("Marketplace", owner_id=f"owner-{secrets.token_hex(4)}")


def wallet(ledger: Ledger, book: LedgerRecord, name: str, **options: Any) -> Account:
    """A customer wallet: a USD liability of the platform, no overdraft."""
    return ledger.create_account(book.id, name, "liability", "USD", **options)


def all_entries(ledger: Ledger, ledger_id: str, page_size: int = 100) -> list[Entry]:
    """Every entry of a ledger, newest first, following cursors (bounded)."""
    entries: list[Entry] = []
    cursor: str | None = None
    for _ in range(1000):
        page = ledger.list_entries(ledger_id, limit=page_size, cursor=cursor)
        entries += page.items
        cursor = page.next_cursor
        if cursor is None:
            return entries
    raise AssertionError("listing did not end")


def all_accounts(ledger: Ledger, ledger_id: str, page_size: int = 100) -> list[Account]:
    """Every account of a ledger, following cursors (bounded)."""
    accounts: list[Account] = []
    cursor: str | None = None
    for _ in range(1000):
        page = ledger.list_accounts(ledger_id, limit=page_size, cursor=cursor)
        accounts += page.items
        cursor = page.next_cursor
        if cursor is None:
            return accounts
    raise AssertionError("listing did not end")


def posted_by_side(accounts: list[Account]) -> dict[str, Counter[Side]]:
    """Per currency, the sum of posted debits and of posted credits over the accounts."""
    sums: dict[str, Counter[Side]] = defaultdict(Counter)
    for account in accounts:
        sums[account.currency.code][Side.DEBIT] += account.totals.posted_debits
        sums[account.currency.code][Side.CREDIT] += account.totals.posted_credits
    return sums


# The realistic flow


def test_marketplace_flow(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN two customer wallets and a fee revenue account
    alice = wallet(ledger, book, "Alice", owner_id="alice")
    bob = wallet(ledger, book, "Bob", owner_id="bob")
    fees = ledger.create_account(book.id, "Fees", "revenue", "USD", code="fees")
    world_id = world_account_id(book.id, usd)

    # WHEN money comes in, moves, and goes out
    deposit = ledger.deposit(alice.id, "100.00", idempotency_key="dep-1", reference="topup")
    transfer = ledger.transfer(alice.id, bob.id, "30.00", description="rent share")
    bob_spend = ledger.spend(bob.id, "12.50")
    fee = ledger.spend(alice.id, "7.25", counterparty_account_id=fees.id)

    # THEN each balance is exactly what the entries say
    alice_balance = ledger.get_balance(alice.id)
    assert (alice_balance.posted, alice_balance.available) == (6275, 6275)
    assert (alice_balance.total_in, alice_balance.total_out) == (10000, 3725)
    assert alice_balance.version == 3
    assert ledger.get_balance(bob.id).available == 1750
    assert ledger.get_balance(fees.id).posted == 725
    assert ledger.get_balance(world_id).posted == -8750

    # AND the journal lists newest first, two per page, across cursors
    first = ledger.list_entries(book.id, limit=2)
    assert first.next_cursor is not None
    second = ledger.list_entries(book.id, limit=2, cursor=first.next_cursor)
    assert second.next_cursor is None
    listed = first.items + second.items
    assert [entry.id for entry in listed] == [fee.id, bob_spend.id, transfer.id, deposit.id]
    assert [entry.kind for entry in listed] == [
        EntryKind.SPEND,
        EntryKind.SPEND,
        EntryKind.TRANSFER,
        EntryKind.DEPOSIT,
    ]
    assert ledger.get_entry(transfer.id) == transfer
    assert ledger.list_entries(book.id, reference="topup").items == [deposit]

    # AND the accounts list (world included), paginated, with debits equal to credits
    accounts = all_accounts(ledger, book.id, page_size=3)
    assert {account.id for account in accounts} == {alice.id, bob.id, fees.id, world_id}
    assert len(accounts) == 4
    sums = posted_by_side(accounts)["USD"]
    assert sums[Side.DEBIT] == sums[Side.CREDIT] == 10000 + 3000 + 1250 + 725
    owned = ledger.list_accounts(book.id, owner_id="bob").items
    assert [account.id for account in owned] == [bob.id]


# Rejections, each decoded into its precise error, each writing nothing


def test_missing_account_is_not_found(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN a ledger with one wallet and a well-formed id that names no account
    alice = wallet(ledger, book, "Alice")
    ledger.deposit(alice.id, "10.00")
    ghost_id = new_account_id(book.id, usd, Side.CREDIT, None)
    # WHEN money is deposited to, or transferred to, the missing account
    with pytest.raises(NotFound) as deposit_error:
        ledger.deposit(ghost_id, "1.00")
    with pytest.raises(NotFound) as transfer_error:
        ledger.transfer(alice.id, ghost_id, "1.00")
    # THEN not_found names it, and nothing moved
    assert deposit_error.value.code == "not_found"
    assert deposit_error.value.details == {"resource": "account", "id": ghost_id}
    assert transfer_error.value.details == {"resource": "account", "id": ghost_id}
    assert ledger.get_balance(alice.id).available == 1000
    assert len(all_entries(ledger, book.id)) == 1


def test_suspended_account_is_inactive(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN Alice with funds and Bob suspended
    alice, bob = wallet(ledger, book, "Alice"), wallet(ledger, book, "Bob")
    ledger.deposit(alice.id, "10.00")
    ledger.update_account(bob.id, status=AccountStatus.SUSPENDED)
    # WHEN money is transferred or deposited to Bob
    with pytest.raises(AccountInactive) as transfer_error:
        ledger.transfer(alice.id, bob.id, "1.00")
    with pytest.raises(AccountInactive) as deposit_error:
        ledger.deposit(bob.id, "1.00")
    # THEN account_inactive names Bob, and Alice kept her money
    assert transfer_error.value.code == "account_inactive"
    assert transfer_error.value.details == {"account_id": bob.id}
    assert deposit_error.value.details == {"account_id": bob.id}
    assert ledger.get_balance(alice.id).available == 1000
    # AND once reactivated, Bob takes money again
    ledger.update_account(bob.id, status=AccountStatus.ACTIVE)
    ledger.transfer(alice.id, bob.id, "1.00")
    assert ledger.get_balance(bob.id).available == 100


def test_overspending_is_insufficient_funds(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN Alice with 10.00 and Bob with nothing
    alice, bob = wallet(ledger, book, "Alice"), wallet(ledger, book, "Bob")
    ledger.deposit(alice.id, "10.00")
    # WHEN Alice spends 10.01 or transfers 10.01, and Bob withdraws 0.01
    with pytest.raises(InsufficientFunds) as spend_error:
        ledger.spend(alice.id, "10.01")
    with pytest.raises(InsufficientFunds) as transfer_error:
        ledger.transfer(alice.id, bob.id, "10.01")
    with pytest.raises(InsufficientFunds) as withdraw_error:
        ledger.withdraw(bob.id, "0.01")
    # THEN insufficient_funds names the payer each time and nothing moved
    assert spend_error.value.code == "insufficient_funds"
    assert spend_error.value.details == {"account_id": alice.id}
    assert transfer_error.value.details == {"account_id": alice.id}
    assert withdraw_error.value.details == {"account_id": bob.id}
    assert ledger.get_balance(alice.id).available == 1000
    assert ledger.get_balance(bob.id).total_in == 0
    # AND exactly the whole balance can still be spent
    ledger.spend(alice.id, "10.00")
    assert ledger.get_balance(alice.id).available == 0


def test_duplicate_code_is_code_taken(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN an account with code "cash"
    cash = ledger.create_account(book.id, "Cash", "asset", "USD", code="cash")
    # WHEN another account asks for the same code
    with pytest.raises(CodeTaken) as raised:
        ledger.create_account(book.id, "Petty cash", "asset", "USD", code="cash")
    # THEN code_taken, and the second account was not created
    assert raised.value.code == "code_taken"
    assert raised.value.details == {"field": "code", "code": "cash"}
    accounts = ledger.list_accounts(book.id, type="asset").items
    assert [account.id for account in accounts] == [cash.id]
    # AND another ledger may use the same code
    other = ledger.create_ledger("Other")
    assert ledger.create_account(other.id, "Cash", "asset", "USD", code="cash").code == "cash"


def test_same_key_same_request_is_a_replay(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN a deposit made with an idempotency key
    alice = wallet(ledger, book, "Alice")
    original = ledger.deposit(alice.id, "10.00", idempotency_key="order-42")
    # WHEN the very same request comes again
    replay = ledger.deposit(alice.id, "10.00", idempotency_key="order-42")
    # THEN the original entry comes back marked as a replay, and money moved once
    assert original.replayed is False
    assert replay.replayed is True
    assert (replay.id, replay.lines, replay.created_at) == (
        original.id,
        original.lines,
        original.created_at,
    )
    assert ledger.get_balance(alice.id).available == 1000
    assert [entry.id for entry in all_entries(ledger, book.id)] == [original.id]


def test_same_key_other_request_is_refused(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN a deposit made with an idempotency key
    alice = wallet(ledger, book, "Alice")
    original = ledger.deposit(alice.id, "10.00", idempotency_key="order-43")
    # WHEN the key comes back with another amount
    with pytest.raises(IdempotencyKeyReused) as raised:
        ledger.deposit(alice.id, "11.00", idempotency_key="order-43")
    # THEN idempotency_key_reused, and only the original moved money
    assert raised.value.code == "idempotency_key_reused"
    assert ledger.get_balance(alice.id).available == 1000
    assert [entry.id for entry in all_entries(ledger, book.id)] == [original.id]


def test_account_creation_replays_and_refuses_like_entries(
    ledger: Ledger, book: LedgerRecord
) -> None:
    # GIVEN an account created with an idempotency key
    first = wallet(ledger, book, "Alice", idempotency_key="signup-alice")
    # WHEN the same request and then a different one come with that key
    again = wallet(ledger, book, "Alice", idempotency_key="signup-alice")
    with pytest.raises(IdempotencyKeyReused):
        wallet(ledger, book, "Alicia", idempotency_key="signup-alice")
    # THEN the first is replayed, the second refused, and one account exists besides world
    assert (again.id, again.replayed, first.replayed) == (first.id, True, False)
    ids = {account.id for account in all_accounts(ledger, book.id)}
    assert ids == {first.id, world_account_id(book.id, usd)}


# The cancellation itself explains the failure


class CallCounter:
    """Counts GetItem calls and keeps TransactWriteItems cancellation reasons of one client."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.get_items = 0
        self.reasons: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()
        client.meta.events.register("before-call.dynamodb.GetItem", self._count_get_item)
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", self._keep_reasons)

    def _count_get_item(self, **_: Any) -> None:
        with self._lock:
            self.get_items += 1

    def _keep_reasons(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.reasons.append(parsed.get("CancellationReasons", []))


def test_failed_spend_is_explained_without_a_read(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    # GIVEN a store on a client whose GetItem calls are counted, and a wallet with 5.00
    client = dynamodb_local.client()
    calls = CallCounter(client)
    ledger = Ledger(DynamoDBStore(table_name, client=client))
    book = ledger.create_ledger("Counted")
    alice = wallet(ledger, book, "Alice")
    ledger.deposit(alice.id, "5.00")
    reads_before = calls.get_items
    # WHEN Alice spends 6.00
    with pytest.raises(InsufficientFunds):
        ledger.spend(alice.id, "6.00")
    # THEN no item was read: the cancellation returned Alice's item as it was (ALL_OLD)
    assert calls.get_items == reads_before
    reasons = calls.reasons[-1]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed", "None"]
    returned = reasons[1]["Item"]
    assert returned["id"] == {"S": alice.id}
    assert returned["headroom"] == {"N": "500"}


def test_missing_account_costs_one_read(dynamodb_local: DynamoDBLocal, table_name: str) -> None:
    # GIVEN a store on a client whose GetItem calls are counted
    client = dynamodb_local.client()
    calls = CallCounter(client)
    ledger = Ledger(DynamoDBStore(table_name, client=client))
    book = ledger.create_ledger("Counted")
    wallet(ledger, book, "Alice")
    reads_before = calls.get_items
    # WHEN a deposit names an account that does not exist
    with pytest.raises(NotFound):
        ledger.deposit(new_account_id(book.id, usd, Side.CREDIT, None), "1.00")
    # THEN there was no old item to return, so exactly one consistent read confirmed it missing
    assert calls.get_items == reads_before + 1
    assert "Item" not in calls.reasons[-1][1]
