"""A write whose earlier attempt committed answers that success, not the refusal its retry
meets: voids, releases, refunds, status and overdraft changes, against a scripted client."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from store_fakes import (
    FakeClient,
    SleepRecorder,
    account_record,
    client_error,
    endpoint_url,
    store_with,
)
from unit_builders import an_account_id, an_entry

from ledger.domain.errors import (
    AccountInactive,
    AccountNotEmpty,
    AlreadyResolved,
    Conflict,
    LedgerError,
)
from ledger.domain.model import (
    Account,
    AccountStatus,
    Entry,
    EntryKind,
    EntryStatus,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.service import Ledger
from ledger.store.dynamodb.codec import encode

unknown_outcomes = pytest.mark.parametrize(
    "unknown",
    [
        ReadTimeoutError(endpoint_url=endpoint_url),
        ConnectionClosedError(endpoint_url=endpoint_url),
        client_error("InternalServerError"),
    ],
    ids=["read-timeout", "connection-closed", "internal-server-error"],
)


def refused_with(current: Entry | Account, actions: int) -> Exception:
    """The cancellation of a retry: the first action's condition failed on `current`."""
    reasons: list[dict[str, Any]] = [{"Code": "ConditionalCheckFailed", "Item": encode(current)}]
    reasons += [{"Code": "None"}] * (actions - 1)
    return client_error("TransactionCanceledException", reasons)


def a_hold(kind: EntryKind = EntryKind.HOLD) -> Entry:
    """A stored pending hold (or escrow): its first line is the payer's."""
    return replace(an_entry(), kind=kind, status=EntryStatus.PENDING)


def a_wallet(**changes: Any) -> Account:
    """A stored credit-normal USD wallet."""
    return account_record(an_account_id(side=Side.CREDIT), **changes)


def items_of(record: Entry | Account) -> dict[str, dict[str, Any]]:
    prefix = "ENTRY" if isinstance(record, Entry) else "ACCOUNT"
    return {f"{prefix}#{record.id}": encode(record)}


@unknown_outcomes
@pytest.mark.parametrize("kind", [EntryKind.HOLD, EntryKind.ESCROW])
def test_void_whose_lost_attempt_committed_is_that_success(
    unknown: Exception, kind: EntryKind
) -> None:
    # GIVEN a pending hold or escrow, a first void attempt whose answer was lost, and a retry
    # cancelled because the entry is voided already, as that attempt would have left it
    pending = a_hold(kind)
    voided = replace(pending, status=EntryStatus.VOIDED)
    client = FakeClient([unknown, refused_with(voided, 3)], items=items_of(pending))
    ledger = Ledger(store_with(client, SleepRecorder()))
    # WHEN it is released (refunded, for an escrow)
    if kind is EntryKind.HOLD:
        result = ledger.release_hold(pending.id)
    else:
        result = ledger.refund_escrow(pending.id)
    # THEN the answer is the void that committed, not already_resolved, and both attempts
    # were one request to DynamoDB (one token)
    assert (result.id, result.status) == (pending.id, EntryStatus.VOIDED)
    assert len(client.tokens) == 2
    assert len(set(client.tokens)) == 1


def test_void_refused_without_an_unknown_outcome_is_already_resolved() -> None:
    # GIVEN a pending entry another request voids first: this void's one attempt is cancelled
    pending = a_hold()
    voided = replace(pending, status=EntryStatus.VOIDED)
    client = FakeClient([refused_with(voided, 3)], items=items_of(pending))
    # WHEN it is voided
    with pytest.raises(AlreadyResolved):
        Ledger(store_with(client, SleepRecorder())).void_entry(pending.id)
    # THEN it is the refusal it is: no attempt of this call can have voided it
    assert len(client.tokens) == 1


@unknown_outcomes
def test_void_after_an_unknown_outcome_that_finds_another_resolution_is_refused(
    unknown: Exception,
) -> None:
    # GIVEN a lost void attempt, and a retry that finds the entry expired by the sweeper
    pending = a_hold()
    expired = replace(pending, status=EntryStatus.EXPIRED)
    client = FakeClient([unknown, refused_with(expired, 3)], items=items_of(pending))
    # WHEN it is voided
    with pytest.raises(AlreadyResolved) as raised:
        Ledger(store_with(client, SleepRecorder())).void_entry(pending.id)
    # THEN the state is not what this void leaves behind, so it is no success of ours
    assert raised.value.details == {"entry_id": pending.id}


@unknown_outcomes
def test_closing_whose_lost_attempt_committed_is_that_success(unknown: Exception) -> None:
    # GIVEN an empty wallet, a lost first attempt to close it, and a retry cancelled because
    # the wallet is closed already
    closed = a_wallet(status=AccountStatus.CLOSED)
    client = FakeClient([unknown, refused_with(closed, 1)], items=items_of(closed))
    # WHEN it is closed
    account = Ledger(store_with(client, SleepRecorder())).update_account(closed.id, status="closed")
    # THEN the answer is the closed account, not account_inactive
    assert account.status is AccountStatus.CLOSED
    assert len(set(client.tokens)) == 1


def test_closing_a_closed_account_without_an_unknown_outcome_is_refused() -> None:
    # GIVEN a wallet closed by someone else; this call's one attempt is cancelled
    closed = a_wallet(status=AccountStatus.CLOSED)
    client = FakeClient([refused_with(closed, 1)], items=items_of(closed))
    # WHEN it is closed
    # THEN account_inactive, as before
    with pytest.raises(AccountInactive):
        Ledger(store_with(client, SleepRecorder())).update_account(closed.id, status="closed")


@unknown_outcomes
def test_overdraft_change_whose_lost_attempt_committed_is_that_success(unknown: Exception) -> None:
    # GIVEN a wallet without credit, a lost first attempt to give it a 100.00 line, and a
    # retry cancelled because the policy is no longer the one it started from
    wallet = a_wallet()
    changed = replace(wallet, overdraft=Overdraft(OverdraftMode.LIMIT, 10_000), headroom=10_000)
    client = FakeClient([unknown, refused_with(changed, 1)], items=items_of(wallet))
    # WHEN the credit line is set
    Ledger(store_with(client, SleepRecorder())).update_account(
        wallet.id, overdraft="limit", credit_limit="100.00"
    )
    # THEN it is that success, not conflict: two attempts, one token, and one read each
    # before (the policy to replace) and after (the answer)
    assert len(client.tokens) == 2
    assert len(set(client.tokens)) == 1
    assert len(client.get_item_calls) == 2


@unknown_outcomes
def test_overdraft_change_that_finds_another_policy_is_refused(unknown: Exception) -> None:
    # GIVEN a lost attempt, and a retry finding a 50.00 line where this change sets 100.00
    wallet = a_wallet()
    other = replace(wallet, overdraft=Overdraft(OverdraftMode.LIMIT, 5_000), headroom=5_000)
    client = FakeClient([unknown, refused_with(other, 1)], items=items_of(wallet))
    # WHEN the credit line is set
    with pytest.raises(Conflict) as raised:
        Ledger(store_with(client, SleepRecorder())).update_account(
            wallet.id, overdraft="limit", credit_limit="100.00"
        )
    # THEN the policy changed meanwhile, by someone else: refused, as before
    assert raised.value.details == {"outcome": "not_applied"}


@pytest.mark.parametrize(
    ("found", "target", "refusal"),
    [
        (a_wallet(totals=Totals(posted_credits=500), headroom=500), "closed", AccountNotEmpty),
        (a_wallet(status=AccountStatus.CLOSED), "suspended", AccountInactive),
    ],
    ids=["closing-finds-a-balance", "suspending-finds-it-closed"],
)
def test_status_change_that_finds_another_status_is_refused(
    found: Account, target: str, refusal: type[LedgerError]
) -> None:
    # GIVEN a lost attempt, and a retry that finds the account without the status asked for
    unknown = ReadTimeoutError(endpoint_url=endpoint_url)
    client = FakeClient([unknown, refused_with(found, 1)], items=items_of(found))
    # WHEN the status is changed
    # THEN the refusal stands: the account shows no trace of this change
    with pytest.raises(refusal):
        Ledger(store_with(client, SleepRecorder())).update_account(found.id, status=target)
