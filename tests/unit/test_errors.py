"""The error hierarchy: stable codes and statuses of the HTTP contract (API.md, Errors)."""

from __future__ import annotations

import pytest

from ledger.domain import errors
from ledger.domain.errors import LedgerError, NotFound, ValidationError

# The API.md errors table, plus account_not_empty, credit_limit_in_use, too_many_monitors,
# audit_not_kept, history_not_kept, monitors_not_kept, matches_not_kept and
# external_checks_not_kept (additions); the ledger's own broken invariants are internal errors.
contract = {
    "ValidationError": ("validation_error", 400),
    "UnbalancedEntry": ("unbalanced_entry", 400),
    "NotFound": ("not_found", 404),
    "IdempotencyKeyReused": ("idempotency_key_reused", 409),
    "CodeTaken": ("code_taken", 409),
    "AlreadyResolved": ("already_resolved", 409),
    "AlreadyReversed": ("already_reversed", 409),
    "AmountExceedsPending": ("amount_exceeds_pending", 422),
    "PendingExpired": ("pending_expired", 422),
    "NotPending": ("not_pending", 422),
    "CreditLimitInUse": ("credit_limit_in_use", 422),
    "InsufficientFunds": ("insufficient_funds", 422),
    "AccountInactive": ("account_inactive", 422),
    "AccountNotEmpty": ("account_not_empty", 422),
    "CurrencyMismatch": ("currency_mismatch", 422),
    "LedgerMismatch": ("ledger_mismatch", 422),
    "TypeMismatch": ("type_mismatch", 422),
    "ReportTooLarge": ("report_too_large", 422),
    "TooManyMonitors": ("too_many_monitors", 422),
    "Unauthorized": ("unauthorized", 401),
    "Forbidden": ("forbidden", 403),
    "RateLimited": ("rate_limited", 429),
    "AuditNotKept": ("audit_not_kept", 501),
    "HistoryNotKept": ("history_not_kept", 501),
    "MonitorsNotKept": ("monitors_not_kept", 501),
    "MatchesNotKept": ("matches_not_kept", 501),
    "ExternalChecksNotKept": ("external_checks_not_kept", 501),
    "Conflict": ("conflict", 503),
    "InternalError": ("internal_error", 500),
    "GuardMismatch": ("internal_error", 500),
    "UnbalancedPlan": ("internal_error", 500),
    "MisnamedEntry": ("internal_error", 500),
    "LedgerError": ("internal_error", 500),
}


@pytest.mark.parametrize(("name", "expected"), sorted(contract.items()))
def test_each_error_has_its_contract_code_and_status(name: str, expected: tuple[str, int]) -> None:
    # GIVEN an error class of the hierarchy
    error_class = getattr(errors, name)
    # WHEN reading its code and status
    # THEN they are the contract's, and it belongs to the one hierarchy
    assert (error_class.code, error_class.status) == expected
    assert issubclass(error_class, LedgerError)


def test_every_error_class_is_in_the_contract() -> None:
    # GIVEN every LedgerError subclass the module defines
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, LedgerError)
    }
    # WHEN comparing with the contract table
    # THEN none is unaccounted for
    assert defined == set(contract)


def test_to_dict_is_the_error_body_of_the_contract() -> None:
    # GIVEN an error with details
    error = errors.InsufficientFunds("account a cannot cover 1.00 USD", {"account_id": "a"})
    # WHEN rendering it
    # THEN the body is {"error": {code, message, details}}
    assert error.to_dict() == {
        "error": {
            "code": "insufficient_funds",
            "message": "account a cannot cover 1.00 USD",
            "details": {"account_id": "a"},
        }
    }
    assert str(error) == "account a cannot cover 1.00 USD"


def test_details_default_to_an_empty_map_of_their_own() -> None:
    # GIVEN two errors without details
    first, second = errors.Conflict("busy"), errors.Conflict("busy")
    # WHEN changing one's details
    first.details["attempts"] = 8
    # THEN the other is untouched
    assert second.details == {}
    assert second.to_dict()["error"]["details"] == {}


def test_validation_and_not_found_fill_their_details() -> None:
    # GIVEN a validation error and a not-found error
    invalid = ValidationError("lines[0].amount", "bad amount")
    missing = NotFound("account", "acc_x")
    # WHEN reading their details
    # THEN they name the field, and the resource and id
    assert (invalid.field, invalid.details) == ("lines[0].amount", {"field": "lines[0].amount"})
    assert missing.details == {"resource": "account", "id": "acc_x"}
    assert missing.message == "account acc_x not found"


def test_error_classes_maps_each_code_to_its_most_specific_class() -> None:
    # GIVEN the hierarchy
    # WHEN indexing it by code
    classes = errors.error_classes()
    # THEN every contract code but the base's maps to its class; internal_error to InternalError
    expected = {code: getattr(errors, name) for name, (code, _) in contract.items()}
    expected["internal_error"] = errors.InternalError
    assert classes == expected
