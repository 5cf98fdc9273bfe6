"""The batch's typed operations: planned exactly as the mappings they stand for, naming
their accounts, and refused like them, naming the operation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from unit_builders import EUR, USD, a_ledger_id, an_account_id, created

from ledger.domain.errors import LedgerMismatch, ValidationError
from ledger.domain.ids import world_account_id
from ledger.domain.inputs import LineInput
from ledger.domain.model import Side
from ledger.planning.batch import (
    BatchOperation,
    Conversion,
    Escrow,
    Hold,
    OperationType,
    Preset,
    RawEntry,
    Transfer,
    plan_batch,
)

business_date = datetime(2025, 12, 31, tzinfo=UTC)


def _every_type() -> tuple[list[BatchOperation], list[dict[str, Any]]]:
    """One operation of each type, typed and as the mapping it stands for."""
    ledger_id = a_ledger_id()
    wallet, friend = an_account_id(ledger_id, USD, Side.CREDIT), an_account_id(ledger_id)
    euros = an_account_id(ledger_id, EUR, Side.CREDIT)
    options: dict[str, Any] = {"reference": "r-1", "metadata": {"k": "v"}}
    typed: list[BatchOperation] = [
        Preset(
            wallet,
            "5.00",
            friend,
            type=OperationType.DEPOSIT,
            description="in",
            effective_at=business_date,
        ),
        Preset(wallet, "1.00", type=OperationType.REFUND),
        Preset(wallet, "1.00", type=OperationType.WITHDRAWAL, **options),
        Preset(wallet, "1.00", type=OperationType.SPEND),
        Hold(wallet, "2.00", None, 60),
        Transfer(wallet, friend, "1.50"),
        Escrow(wallet, friend, "0.50", 30),
        Conversion(wallet, euros, "1.00", "0.90"),
        RawEntry(
            [LineInput(friend, "debit", "0.25"), LineInput(wallet, Side.CREDIT, "0.25", "USD")],
            ledger_id,
            description="raw",
        ),
    ]
    mappings: list[dict[str, Any]] = [
        {
            "type": "deposit",
            "account_id": wallet,
            "amount": "5.00",
            "counterparty_account_id": friend,
            "description": "in",
            "effective_at": business_date,
        },
        {"type": "refund", "account_id": wallet, "amount": "1.00"},
        {"type": "withdrawal", "account_id": wallet, "amount": "1.00", **options},
        {"type": "spend", "account_id": wallet, "amount": "1.00"},
        {"type": "hold", "account_id": wallet, "amount": "2.00", "expires_in": 60},
        {"type": "transfer", "from_account_id": wallet, "to_account_id": friend, "amount": "1.50"},
        {
            "type": "escrow",
            "buyer_account_id": wallet,
            "seller_account_id": friend,
            "amount": "0.50",
            "expires_in": 30,
        },
        {
            "type": "conversion",
            "from_account_id": wallet,
            "to_account_id": euros,
            "from_amount": "1.00",
            "to_amount": "0.90",
        },
        {
            "type": "entry",
            "ledger_id": ledger_id,
            "lines": [
                {"account_id": friend, "side": "debit", "amount": "0.25"},
                {"account_id": wallet, "side": "credit", "amount": "0.25", "currency": "USD"},
            ],
            "description": "raw",
        },
    ]
    return typed, mappings


def test_typed_operations_plan_exactly_as_their_mappings() -> None:
    # GIVEN one operation of each type, typed and as a mapping
    typed, mappings = _every_type()
    # WHEN both batches are planned with one key
    from_typed = plan_batch(typed, "k", False, created)
    from_mappings = plan_batch(mappings, "k", False, created)
    # THEN the entries (ids and request hashes included) and the plans are the same
    assert from_typed.entries == from_mappings.entries
    assert from_typed.plan == from_mappings.plan
    assert from_typed.owners == from_mappings.owners
    # AND a batch mixing both forms plans the same again
    mixed = [*typed[:4], *mappings[4:]]
    assert plan_batch(mixed, "k", False, created).entries == from_typed.entries


def test_an_option_given_as_null_is_the_option_left_out() -> None:
    # GIVEN a deposit, and the same deposit naming every option as null
    _, mappings = _every_type()
    nulls = {"description": None, "reference": None, "metadata": None, "effective_at": None}
    spelled = {**mappings[1], **nulls}
    # WHEN both are planned with one key
    first = plan_batch([mappings[1]], "k", False, created)
    second = plan_batch([spelled], "k", False, created)
    # THEN they are the same batch: a replay, not a reused key
    assert second.entries == first.entries


def test_typed_operations_name_the_accounts_they_move() -> None:
    # GIVEN one operation of each type
    typed, mappings = _every_type()
    # WHEN asked for their accounts
    named = [operation.account_ids() for operation in typed]
    # THEN each names the accounts of its mapping, in the mapping's order
    fields = (
        "account_id",
        "counterparty_account_id",
        "from_account_id",
        "to_account_id",
        "buyer_account_id",
        "seller_account_id",
    )
    for accounts, mapping in zip(named[:8], mappings[:8], strict=True):
        given = [mapping[name] for name in fields if name in mapping]
        assert [account for account in accounts if account] == given
    assert named[1][1] is None
    assert named[8] == tuple(line["account_id"] for line in mappings[8]["lines"])


def test_a_typed_entry_naming_another_ledger_is_refused_as_its_operation() -> None:
    # GIVEN a raw entry whose lines are of one ledger but which names another
    ledger_id = a_ledger_id()
    bank, wallet = an_account_id(ledger_id), an_account_id(ledger_id, USD, Side.CREDIT)
    lines = [LineInput(bank, "debit", "1"), LineInput(wallet, "credit", "1")]
    deposit = Preset(wallet, "1", type=OperationType.DEPOSIT)
    # WHEN planned as the second operation of a batch
    with pytest.raises(LedgerMismatch) as caught:
        plan_batch([deposit, RawEntry(lines, a_ledger_id())], None, False, created)
    # THEN it is refused, naming the field and the operation
    assert caught.value.details == {"field": "ledger_id", "operation_index": 1}
    # AND naming the lines' own ledger is accepted, the deposit against the world
    planned = plan_batch([deposit, RawEntry(lines, ledger_id)], None, False, created)
    assert planned.entries[0].lines[1].account_id == world_account_id(ledger_id, USD)


@pytest.mark.parametrize("kind", [OperationType.HOLD, OperationType.TRANSFER, "gift"])
def test_a_preset_is_only_a_deposit_refund_withdrawal_or_spend(kind: Any) -> None:
    # GIVEN an account
    wallet = an_account_id()
    # WHEN a preset of another type is made
    with pytest.raises(ValidationError) as caught:
        Preset(wallet, "1", type=kind)
    # THEN it is refused, naming the field and the four types
    assert caught.value.field == "type"
    assert caught.value.message == "a preset is one of deposit, refund, withdrawal, spend"
