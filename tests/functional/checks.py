"""Checks shared by the tests of money movements: a refusal writes nothing, and the
invariants every flow must leave true over a whole ledger.

The invariants read every stored item of the ledger straight from the store's state (not
through listings, which are tested elsewhere): nothing escapes them, and they cost no calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from ledger.consumers.stream import known_entities
from ledger.domain.errors import LedgerError
from ledger.domain.model import (
    Account,
    AccountShard,
    Entry,
    EntryKind,
    EntryStatus,
    OverdraftMode,
    Side,
)
from ledger.store.dynamodb.codec import decode
from ledger.store.dynamodb.secret import secret_item_key

from .helpers import Backend, NothingWritten


def refused(
    nothing_written: NothingWritten, attempt: Callable[[], Any], error: type[LedgerError]
) -> LedgerError:
    """Run a request that must fail; check it wrote nothing and return its error."""
    with nothing_written(), pytest.raises(error) as caught:
        attempt()
    return caught.value


@dataclass
class _Recomputed:
    """An account's totals as the journal says they must be."""

    posted: dict[Side, int] = field(default_factory=lambda: defaultdict(int))
    pending: dict[Side, int] = field(default_factory=lambda: defaultdict(int))
    held: int = 0
    escrowed: int = 0


def stored_records(backend: Backend, ledger_id: str) -> tuple[list[Account], list[Entry]]:
    """Every account and entry of a ledger the store holds, decoded where it holds items;
    a sharded account is its items summed, as the stores read it."""
    accounts: list[Account] = []
    shards: dict[str, list[AccountShard]] = defaultdict(list)
    entries: list[Entry] = []
    for item in backend.state().values():
        if isinstance(item, dict) and item["pk"]["S"] == secret_item_key["pk"]["S"]:
            continue  # the table's cursor secret, not a record
        if isinstance(item, dict) and item.get("entity", {}).get("S") not in known_entities:
            continue  # derived events, rules: no ledger record
        record: Any = decode(item) if isinstance(item, dict) else item
        if isinstance(record, Account) and record.ledger_id == ledger_id:
            accounts.append(record)
        elif isinstance(record, AccountShard) and record.ledger_id == ledger_id:
            shards[record.account_id].append(record)
        elif isinstance(record, Entry) and record.ledger_id == ledger_id:
            entries.append(record)
    return [account.with_shards(shards[account.id]) for account in accounts], entries


def _from_journal(entries: list[Entry]) -> dict[str, _Recomputed]:
    """Each account's totals recomputed from the journal: a directly posted entry (posting
    entries included) moves posted totals; an unresolved pending entry moves pending totals,
    and its first line's amount is the payer's held or escrowed part."""
    accounts: dict[str, _Recomputed] = defaultdict(_Recomputed)
    for entry in entries:
        if entry.status is EntryStatus.PENDING:
            for line in entry.lines:
                accounts[line.account_id].pending[line.side] += line.amount
            payer = accounts[entry.lines[0].account_id]
            if entry.kind is EntryKind.HOLD:
                payer.held += entry.lines[0].amount
            elif entry.kind is EntryKind.ESCROW:
                payer.escrowed += entry.lines[0].amount
        elif not entry.was_pending:
            for line in entry.lines:
                accounts[line.account_id].posted[line.side] += line.amount
    return accounts


def assert_invariants(backend: Backend, ledger_id: str) -> list[Account]:
    """Check every account of the ledger and the ledger as a whole; return the accounts.

    Per account: its totals are what the journal says; posted == total_in - total_out;
    held + escrowed never exceed the pending outflow; available never below the floor.
    Per currency: posted debits == posted credits, and pending debits == pending credits.
    """
    accounts, entries = stored_records(backend, ledger_id)
    assert entries, "the ledger holds no entry: nothing was checked"
    journal = _from_journal(entries)
    posted: dict[str, dict[Side, int]] = defaultdict(lambda: defaultdict(int))
    pending: dict[str, dict[Side, int]] = defaultdict(lambda: defaultdict(int))
    for account in accounts:
        totals, expected = account.totals, journal[account.id]
        assert (
            totals.posted_debits,
            totals.posted_credits,
            totals.pending_debits,
            totals.pending_credits,
            totals.held,
            totals.escrowed,
        ) == (
            expected.posted[Side.DEBIT],
            expected.posted[Side.CREDIT],
            expected.pending[Side.DEBIT],
            expected.pending[Side.CREDIT],
            expected.held,
            expected.escrowed,
        ), f"account {account.id} disagrees with the journal"
        balance = account.balance()
        assert balance.posted == balance.total_in - balance.total_out, account.id
        assert 0 <= balance.held + balance.escrowed <= balance.pending_out, account.id
        assert min(balance.held, balance.escrowed, balance.pending_in) >= 0, account.id
        if account.overdraft.mode is not OverdraftMode.ALLOW:
            assert balance.spendable >= 0, f"account {account.id} is below its floor"
            assert balance.credit_used <= balance.credit_limit, account.id
        assert account.headroom == balance.spendable, f"account {account.id}: stale headroom"
        code = account.currency.code
        posted[code][Side.DEBIT] += totals.posted_debits
        posted[code][Side.CREDIT] += totals.posted_credits
        pending[code][Side.DEBIT] += totals.pending_debits
        pending[code][Side.CREDIT] += totals.pending_credits
    assert set(journal) <= {account.id for account in accounts}, "an entry names no account"
    for code in posted:
        assert posted[code][Side.DEBIT] == posted[code][Side.CREDIT], f"{code} posted"
        assert pending[code][Side.DEBIT] == pending[code][Side.CREDIT], f"{code} pending"
    return accounts
