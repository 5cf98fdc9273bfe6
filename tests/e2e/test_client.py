"""The Python client against `ledger dev`: a realistic flow with Decimal amounts, replays,
pagination over HTTP, and refusals raised as the library's own exceptions."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from dev_process import request_timeout_s
from ledger.client import LedgerClient
from ledger.domain.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
    Unauthorized,
    ValidationError,
)
from ledger.domain.model import EntryKind, EntryStatus, Line, Side

from .builders import token
from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")


@dataclass(frozen=True)
class Wallets:
    """A ledger of the module with two wallets, Alice's holding 100."""

    ledger_id: str
    alice: str
    bob: str


@pytest.fixture(scope="module")
def client(dev_server: DevServer) -> LedgerClient:
    """A client with the admin key."""
    return LedgerClient(dev_server.url, dev_server.admin_key, timeout_s=request_timeout_s)


@pytest.fixture(scope="module")
def wallets(client: LedgerClient) -> Wallets:
    """Two wallets for the module's replays and refusals."""
    ledger = client.create_ledger(f"wallets-{token()}", owner_id=f"owner-{token()}")
    alice = client.create_account(ledger.id, "Alice", "liability", "USD")
    bob = client.create_account(ledger.id, "Bob", "liability", "USD")
    client.deposit(alice.id, Decimal("100"))
    return Wallets(ledger.id, alice.id, bob.id)


def posted(client: LedgerClient, account_id: str) -> int:
    """An account's posted balance, in minor units."""
    return client.get_balance(account_id).posted


def test_a_marketplace_day_through_the_client(client: LedgerClient) -> None:
    # GIVEN a ledger with Alice, Bob and a merchant, and 100.00 deposited for Alice
    ledger = client.create_ledger(f"market-{token()}", owner_id=f"owner-{token()}")
    ledger_id = ledger.id
    alice, bob, merchant = (
        client.create_account(ledger_id, name, "liability", "USD").id
        for name in ("Alice", "Bob", "Merchant")
    )
    assert client.deposit(alice, Decimal("100.00")).status is EntryStatus.POSTED

    # WHEN Alice pays Bob 30, a hold of 20 for the merchant is confirmed for 15, Bob's escrow
    # of 10 to the merchant is released, and a batch refunds Alice 5 and tops Bob up by 2.50
    transfer = client.transfer(alice, bob, Decimal("30"), reference="rent")
    hold = client.hold(alice, Decimal("20"), counterparty_account_id=merchant, expires_in=600)
    confirmed = client.confirm_hold(hold.id, Decimal("15"))
    escrow = client.escrow(bob, merchant, Decimal("10"))
    released = client.release_escrow(escrow.id)
    batch = client.batch(
        [
            {
                "type": "transfer",
                "from_account_id": merchant,
                "to_account_id": alice,
                "amount": Decimal("5"),
            },
            {"type": "deposit", "account_id": bob, "amount": Decimal("2.50")},
        ]
    )

    # THEN each step answered as the library does, amounts in minor units
    assert transfer.lines[0] == Line(alice, Side.DEBIT, 3000, "USD")
    assert (hold.status, confirmed.status, confirmed.posting_entry_id is not None) == (
        EntryStatus.PENDING,
        EntryStatus.POSTED,
        True,
    )
    assert (escrow.status, released.status) == (EntryStatus.PENDING, EntryStatus.POSTED)
    assert [entry.kind for entry in batch.entries] == [EntryKind.TRANSFER, EntryKind.DEPOSIT]
    # AND the balances add up: 100 - 30 - 15 + 5, 30 - 10 + 2.50, 15 + 10 - 5
    assert (posted(client, alice), posted(client, bob), posted(client, merchant)) == (
        6000,
        2250,
        2000,
    )
    alice_balance = client.get_balance(alice)
    assert (alice_balance.held, alice_balance.available) == (0, 6000)
    # AND the reports agree: 102.50 came in, the books balance, the journal matches
    trial = client.trial_balance(ledger_id, "USD")
    assert (trial.balanced, trial.total_debits, trial.total_credits) == (True, 10250, 10250)
    sheet = client.balance_sheet(ledger_id, "USD")
    assert (sheet.balanced, sheet.liabilities) == (True, 10250)
    # (the projections follow the writes within about a second under ledger dev)
    deadline = time.monotonic() + 10
    report = client.reconcile(ledger_id)
    while not report.ok and time.monotonic() < deadline:
        time.sleep(0.2)
        report = client.reconcile(ledger_id)
    assert (report.ok, report.mismatches) == (True, ())
    assert report.checks == ("journal", "history", "audit")
    assert {alice, bob, merchant} <= {
        account.id for account in client.iter_accounts(ledger_id, type="liability")
    }


def test_iterating_entries_follows_cursors_over_http(
    client: LedgerClient, wallets: Wallets
) -> None:
    # GIVEN a ledger with at least five entries
    for _ in range(4):
        client.deposit(wallets.bob, Decimal("0.01"))

    # WHEN its entries are iterated two per page
    iterated = [entry.id for entry in client.iter_entries(wallets.ledger_id, page_size=2)]

    # THEN the pages join into the one-page listing, each entry once
    listed = client.list_entries(wallets.ledger_id, limit=100)
    assert listed.next_cursor is None
    assert iterated == [entry.id for entry in listed.items]
    assert len(iterated) == len(set(iterated)) >= 5


def test_the_same_idempotency_key_replays_instead_of_moving_twice(
    client: LedgerClient, wallets: Wallets
) -> None:
    # GIVEN Bob's balance and a fresh key
    before = posted(client, wallets.bob)
    key = token()

    # WHEN the same deposit is sent twice with the key
    first = client.deposit(wallets.bob, Decimal("1.25"), idempotency_key=key)
    assert client.last_response is not None
    first_replayed, first_request = client.last_response.replayed, client.last_response.request_id
    second = client.deposit(wallets.bob, Decimal("1.25"), idempotency_key=key)

    # THEN the second is a replay of the first, with its own request id, and 1.25 moved once
    assert client.last_response is not None
    assert (first_replayed, client.last_response.replayed) == (False, True)
    assert first_request
    assert client.last_response.request_id not in (None, first_request)
    assert second == replace(first, replayed=True)
    assert posted(client, wallets.bob) == before + 125


def test_a_refusal_is_raised_as_the_library_error_with_its_request_id(
    client: LedgerClient, wallets: Wallets
) -> None:
    # GIVEN Alice's balance
    before = posted(client, wallets.alice)

    # WHEN she withdraws more than she has
    with pytest.raises(InsufficientFunds) as refused:
        client.withdraw(wallets.alice, Decimal("1000000"))

    # THEN the error carries the code, details and request id, and nothing moved
    assert (refused.value.code, refused.value.details) == (
        "insufficient_funds",
        {"account_id": wallets.alice},
    )
    assert refused.value.request_id
    assert posted(client, wallets.alice) == before


def test_an_unknown_ledger_is_raised_as_not_found(client: LedgerClient) -> None:
    # GIVEN / WHEN a well-formed ledger id that names nothing is read
    ledger_id = f"ldg_{'b' * 16}"
    with pytest.raises(NotFound) as missing:
        client.get_ledger(ledger_id)

    # THEN NotFound names it and carries the request id
    assert missing.value.details == {"resource": "ledger", "id": ledger_id}
    assert missing.value.request_id


def test_a_bad_amount_is_raised_as_a_validation_error_naming_the_field(
    client: LedgerClient, wallets: Wallets
) -> None:
    # GIVEN / WHEN a deposit's amount has more decimals than the currency
    with pytest.raises(ValidationError) as invalid:
        client.deposit(wallets.bob, "1.001")

    # THEN the error names the field
    assert (invalid.value.field, invalid.value.status) == ("amount", 400)
    assert invalid.value.request_id


def test_a_reused_key_with_another_amount_is_raised(client: LedgerClient, wallets: Wallets) -> None:
    # GIVEN a deposit made with a key
    key = token()
    client.deposit(wallets.bob, Decimal("1"), idempotency_key=key)

    # WHEN the key is sent with another amount
    with pytest.raises(IdempotencyKeyReused) as reused:
        client.deposit(wallets.bob, Decimal("2"), idempotency_key=key)

    # THEN it is refused as reused
    assert (reused.value.status, reused.value.request_id is not None) == (409, True)


def test_a_client_without_a_valid_key_reads_health_only(
    dev_server: DevServer, wallets: Wallets
) -> None:
    # GIVEN a client with a key the server never issued
    stranger = LedgerClient(dev_server.url, f"not-a-key-{token()}", timeout_s=request_timeout_s)

    # WHEN it asks for health, then for a ledger
    health = stranger.health()
    with pytest.raises(Unauthorized) as refused:
        stranger.get_ledger(wallets.ledger_id)

    # THEN health answers and the ledger is 401
    assert health == {"status": "ok"}
    assert (refused.value.status, refused.value.request_id is not None) == (401, True)
