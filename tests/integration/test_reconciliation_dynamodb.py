"""Reconciliation on DynamoDB Local over more than one page of accounts and of entries."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import pytest

from ledger.domain import limits
from ledger.domain.ids import world_account_id
from ledger.domain.money import builtin_currencies
from ledger.domain.results import CurrencyTotals, Mismatch
from ledger.planning.steps import Target
from ledger.service import Ledger, LineInput
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.schema import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

USD = builtin_currencies["USD"]
# Pages smaller than the real ones (the same code reads them), so that a few dozen writes,
# slow on DynamoDB Local, make a ledger of several pages.
page_size = 25


def test_reconcile_walks_every_page_and_finds_an_altered_item(
    dynamodb_client: DynamoDBClient, local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN pages of 25 records, and more wallets than a page holds, each funded with 1.00
    # from world, then in pairs paying each other 0.25 and 0.10 back, and one hold: more
    # accounts and more entries than a page holds
    monkeypatch.setattr(limits, "report_page_size", page_size)
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client, projections=()))
    book = ledger.create_ledger("Paged", owner_id=f"owner-{secrets.token_hex(4)}").id
    world = world_account_id(book, USD)
    pairs = page_size // 2 + 3
    wallets = [
        ledger.create_account(book, f"wallet {index}", "liability", "USD").id
        for index in range(2 * pairs)
    ]
    per_entry = limits.lines_per_entry_max - 1
    for start in range(0, len(wallets), per_entry):
        funded = wallets[start : start + per_entry]
        lines = [LineInput(wallet, "credit", "1.00") for wallet in funded]
        ledger.create_entry(book, [LineInput(world, "debit", f"{len(funded)}.00"), *lines])
    for payer, payee in zip(wallets[::2], wallets[1::2], strict=True):
        ledger.transfer(payer, payee, "0.25")
        ledger.transfer(payee, payer, "0.10")
    ledger.hold(wallets[0], "0.40")
    funding_entries = -(-len(wallets) // per_entry)
    # WHEN the ledger is reconciled
    result = ledger.reconcile(book)
    # THEN every account (world included) and every entry was checked, and all agree
    assert (result.ok, result.mismatches) == (True, ())
    assert result.accounts_checked == 2 * pairs + 1 > page_size
    assert result.entries_checked == funding_entries + 2 * pairs + 1 > page_size
    assert result.totals == {
        "USD": CurrencyTotals(
            USD,
            posted_debits=200 * pairs + 35 * pairs,
            posted_credits=200 * pairs + 35 * pairs,
            pending_debits=40,
            pending_credits=40,
            # Every wallet's 1.00, less the 0.40 held.
            available=100 * 2 * pairs - 40,
        )
    }
    # AND the trial balance over the same pages balances: world gave what the wallets hold
    report = ledger.trial_balance(book, "USD")
    assert len(report.lines) == 2 * pairs + 1
    credits = {line.account_id: line.credit for line in report.lines if not line.system}
    assert set(credits.values()) == {85, 115}
    assert [(line.account_id, line.debit) for line in report.lines if line.system] == [
        (world, 200 * pairs)
    ]
    assert (report.total_debits, report.total_credits, report.balanced) == (
        200 * pairs,
        200 * pairs,
        True,
    )

    # GIVEN the last wallet's posted credits altered in the table, behind the ledger's back
    last = wallets[-1]
    dynamodb_client.update_item(
        TableName=local_table,
        Key={name: {"S": value} for name, value in item_key(Target("account", last)).items()},
        UpdateExpression="SET posted_credits = :altered",
        ExpressionAttributeValues={":altered": {"N": "999"}},
    )
    # WHEN the ledger is reconciled again
    altered = ledger.reconcile(book)
    # THEN exactly that attribute of that account is reported, and the ledger is not ok
    assert altered.mismatches == (Mismatch(last, "posted_credits", 100 + 25, 999),)
    assert not altered.ok
    assert not altered.totals["USD"].balanced
