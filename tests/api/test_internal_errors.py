"""The API's answer to the ledger's own broken invariants: a 500 in the error contract,
counted where an alarm watches; and the entry schema carries the resolved amounts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.api import app
from ledger.domain.errors import (
    Conflict,
    InsufficientFunds,
    InternalError,
    LedgerError,
    MisnamedEntry,
    UnbalancedPlan,
)
from ledger.domain.ids import new_account_id, new_entry_id, new_ledger_id
from ledger.domain.model import Entry, EntryKind, EntryStatus, Line, Side
from ledger.domain.money import builtin_currencies
from ledger.domain.views import entry_view


@pytest.mark.parametrize(
    ("error", "metrics"),
    [
        (UnbalancedPlan("the plan does not balance", {"currency": "USD"}), ["ImbalancedEntries"]),
        (MisnamedEntry("misnamed", {"entry_id": "ent_x"}), []),
        (InternalError("the ledger failed"), []),
        (InsufficientFunds("short", {"account_id": "acc_x"}), ["InsufficientFunds"]),
        (Conflict("busy"), ["Conflicts"]),
    ],
    ids=["unbalanced", "misnamed", "internal", "insufficient", "conflict"],
)
def test_each_error_is_answered_in_the_contract_and_counted_by_its_class(
    error: LedgerError, metrics: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the API's metric counter, watched
    counted: list[str] = []
    monkeypatch.setattr(app, "count", counted.append)
    # WHEN an error is answered
    response = app.error_response(error)
    # THEN its status and body are the contract's, and only its own metric was counted:
    # an unbalanced plan is ImbalancedEntries, which must stay at zero
    assert response.status_code == error.status
    assert json.loads(str(response.body))["error"]["code"] == error.code
    assert counted == metrics


def test_the_resolved_amounts_render_with_the_currencys_scale() -> None:
    # GIVEN a JPY hold and an ETH hold, resolved for part of their amount, and one unresolved
    ledger_id = new_ledger_id(None, None)
    entries = []
    for code, posted, released in (("JPY", 3, 2), ("ETH", 10**18, 5)):
        currency = builtin_currencies[code]
        accounts = [new_account_id(ledger_id, currency, Side.CREDIT, None) for _ in range(2)]
        entry = Entry(
            id=new_entry_id(ledger_id, None),
            ledger_id=ledger_id,
            kind=EntryKind.HOLD,
            status=EntryStatus.POSTED,
            lines=(
                Line(accounts[0], Side.DEBIT, posted + released, code),
                Line(accounts[1], Side.CREDIT, posted + released, code),
            ),
            effective_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
            request_hash="h",
        )
        entries.append(replace(entry, posted_amount=posted, released_amount=released))
    unresolved = replace(
        entries[0], status=EntryStatus.PENDING, posted_amount=None, released_amount=None
    )
    # WHEN rendering them
    views = [entry_view(entry) for entry in (*entries, unresolved)]
    # THEN the amounts are decimal strings with each currency's scale, null while pending
    assert [(view["posted_amount"], view["released_amount"]) for view in views] == [
        ("3", "2"),
        ("1.000000000000000000", "0.000000000000000005"),
        (None, None),
    ]


def test_the_entry_schema_documents_what_a_resolved_pending_entry_posted_and_released() -> None:
    # GIVEN the OpenAPI document
    schemas = app.openapi()["components"]["schemas"]
    # WHEN reading the entry's schema
    properties = schemas["EntryView"]["properties"]
    # THEN both amounts are there, strings or null
    for name in ("posted_amount", "released_amount"):
        kinds = {each.get("type") for each in properties[name]["anyOf"]}
        assert kinds == {"string", "null"}, properties[name]
