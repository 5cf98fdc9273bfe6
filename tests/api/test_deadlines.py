"""The API's deadline comes from the Lambda's remaining time; a guard mismatch is logged
and counted."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.api import app as app_module
from ledger.domain import limits
from ledger.domain.errors import GuardMismatch

from . import harness
from .builders import deposit, new_account, new_ledger
from .harness import Api


def test_a_lambda_too_close_to_its_end_answers_503_not_applied_and_writes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a funded wallet, and invocations left with less time than one DynamoDB call takes
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    deposit(api, wallet, "10.00")
    remaining_s = (limits.dynamodb_call_ms_max + limits.deadline_margin_ms) / 1000 - 0.5
    monkeypatch.setattr(harness, "invocation_timeout_s", remaining_s)
    # WHEN a spend and a listing are asked for
    with api.nothing_written():
        spend = api.call("POST", "/v1/spends", {"account_id": wallet, "amount": "1.00"})
    listing = api.call("GET", "/v1/entries", query={"ledger_id": ledger_id})
    # THEN both answer 503 conflict, before the Lambda is cut off, saying nothing was applied
    assert spend.error() == (503, "conflict", {"outcome": "not_applied"})
    assert listing.error() == (503, "conflict", {"outcome": "not_applied"})


def test_a_lambda_with_time_left_answers_as_usual(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN invocations left with just enough time for one DynamoDB call
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    remaining_s = (limits.dynamodb_call_ms_max + limits.deadline_margin_ms) / 1000 + 0.5
    monkeypatch.setattr(harness, "invocation_timeout_s", remaining_s)
    # WHEN a deposit is made
    reply = api.call("POST", "/v1/deposits", {"account_id": wallet, "amount": "1.00"})
    # THEN it lands
    assert reply.status == 201, reply.json


class Recorder:
    """Stands in for the API's logger and metric counter."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, dict[str, Any]]] = []
        self.counts: list[str] = []

    def error(self, message: str, *, extra: dict[str, Any]) -> None:
        self.errors.append((message, extra))

    def count(self, name: str, value: int = 1) -> None:
        self.counts.append(name)


def test_a_guard_mismatch_is_logged_counted_and_answered_as_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the API's logger and counter recorded
    recorder = Recorder()
    monkeypatch.setattr(app_module, "logger", recorder)
    monkeypatch.setattr(app_module, "count", recorder.count)
    mismatch = GuardMismatch("ApplyDelta", "account acc_x", "not_applied")
    # WHEN a guard mismatch reaches the API
    response = app_module.refused(mismatch)
    # THEN it is a 500 internal_error, logged with the operation and item, counted apart
    assert response.status_code == 500
    assert '"code":"internal_error"' in str(response.body)
    assert recorder.errors == [
        (
            "a condition DynamoDB refused passes its own check",
            {"operation": "ApplyDelta", "target": "account acc_x"},
        )
    ]
    assert recorder.counts == ["GuardMismatch"]
