"""One exception hierarchy; every error carries the stable code of the HTTP contract."""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose; `code` and `status` are the contract."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    # Set by the HTTP client from the response's X-Request-Id, for support and logs.
    request_id: str | None = None

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The error body of the HTTP contract."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationError(LedgerError):
    """Input that can never be valid, whatever the ledger holds; `details.field` names it."""

    code = "validation_error"
    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, {"field": field})
        self.field = field


class UnbalancedEntry(LedgerError):
    """An entry whose debits and credits differ in some currency: it would create money."""

    code = "unbalanced_entry"
    status = 400


class NotFound(LedgerError):
    """The named ledger, account or entry does not exist (or is outside the caller's scope)."""

    code = "not_found"
    status = 404

    def __init__(self, resource: str, identifier: str) -> None:
        super().__init__(
            f"{resource} {identifier} not found", {"resource": resource, "id": identifier}
        )


class IdempotencyKeyReused(LedgerError):
    """An idempotency key came back with a different request: replaying it would lie."""

    code = "idempotency_key_reused"
    status = 409


class AlreadyResolved(LedgerError):
    """A pending entry resolves once: it was posted, voided or expired already."""

    code = "already_resolved"
    status = 409


class AlreadyReversed(LedgerError):
    """An entry is reversed at most once."""

    code = "already_reversed"
    status = 409


class CodeTaken(LedgerError):
    """Another account of the ledger already has this code."""

    code = "code_taken"
    status = 409


class InsufficientFunds(LedgerError):
    """The outflow would take an account below its overdraft floor."""

    code = "insufficient_funds"
    status = 422


class AccountInactive(LedgerError):
    """A suspended or closed account cannot take part in new entries."""

    code = "account_inactive"
    status = 422


class AccountNotEmpty(LedgerError):
    """Only an account with zero balances and nothing pending may be closed."""

    code = "account_not_empty"
    status = 422


class CreditLimitInUse(LedgerError):
    """A credit limit cannot drop below what the account has drawn on it."""

    code = "credit_limit_in_use"
    status = 422


class AmountExceedsPending(LedgerError):
    """A pending entry can be posted for at most its amount."""

    code = "amount_exceeds_pending"
    status = 422


class PendingExpired(LedgerError):
    """A pending entry past its expiry can no longer be posted."""

    code = "pending_expired"
    status = 422


class NotPending(LedgerError):
    """Only an entry created pending can be posted or voided."""

    code = "not_pending"
    status = 422


class CurrencyMismatch(LedgerError):
    """An amount in one currency was aimed at an account of another."""

    code = "currency_mismatch"
    status = 422


class LedgerMismatch(LedgerError):
    """Accounts of different ledgers can never share an entry or a chart-of-accounts tree."""

    code = "ledger_mismatch"
    status = 422


class TypeMismatch(LedgerError):
    """A parent account must have the same type as its children."""

    code = "type_mismatch"
    status = 422


class ReportTooLarge(LedgerError):
    """A report or reconciliation would read more than its bound; the API never scans."""

    code = "report_too_large"
    status = 422


class TooManyMonitors(LedgerError):
    """The account holds the most monitors it may (`limits.monitors_per_account_max`): the
    monitors consumer reads them all on each change of the account."""

    code = "too_many_monitors"
    status = 422


class AuditNotKept(LedgerError):
    """The store keeps no audit chain: only the table the audit consumer writes does."""

    code = "audit_not_kept"
    status = 501


class HistoryNotKept(LedgerError):
    """The store's reads find no balance history: its stream consumers do not run, so what
    is read from history (an account's entries) cannot be answered."""

    code = "history_not_kept"
    status = 501


class MonitorsNotKept(LedgerError):
    """The store keeps no monitors (a custom store without `KeepsMonitors`)."""

    code = "monitors_not_kept"
    status = 501


class MatchesNotKept(LedgerError):
    """The store keeps no statement matches (a custom store without `KeepsStatementMatches`)."""

    code = "matches_not_kept"
    status = 501


class ExternalChecksNotKept(LedgerError):
    """The store keeps no external balance checks (a custom store without
    `KeepsExternalChecks`)."""

    code = "external_checks_not_kept"
    status = 501


class Conflict(LedgerError):
    """Contention or an unknown outcome outlasted the bounded retries; retry with the same key."""

    code = "conflict"
    status = 503


class Unauthorized(LedgerError):
    """No API key, or one the ledger does not know or has revoked."""

    code = "unauthorized"
    status = 401


class Forbidden(LedgerError):
    """The API key's role or scope does not allow this write."""

    code = "forbidden"
    status = 403


class RateLimited(LedgerError):
    """Too many requests for now; retry after a pause."""

    code = "rate_limited"
    status = 429


class InternalError(LedgerError):
    """A failure of the ledger itself, never of the request; safe to retry with the same key."""

    code = "internal_error"
    status = 500


class GuardMismatch(InternalError):
    """DynamoDB refused a condition that the operation's own check finds met: the two
    statements of one rule disagree. A bug of the ledger, never retried."""

    def __init__(self, operation: str, target: str, outcome: str) -> None:
        super().__init__(
            "the ledger could not explain why its write was refused; retrying will not help",
            {"outcome": outcome},
        )
        self.operation = operation
        self.target = target


class UnbalancedPlan(InternalError):
    """A plan whose debit and credit deltas differ in some currency: the ledger's own bug,
    refused before any store writes it."""


class MisnamedEntry(InternalError):
    """An entry whose id names another ledger than its `ledger_id`: never planned, never
    returned from a read."""


def error_classes() -> dict[str, type[LedgerError]]:
    """Every error class by its code, so a client can raise what the server raised; a class
    that keeps its parent's code (GuardMismatch) leaves the code to the parent."""
    classes: dict[str, type[LedgerError]] = {}
    pending = list(LedgerError.__subclasses__())
    while pending:
        cls = pending.pop()
        # A subclass sharing its parent's code (an internal error) keeps the parent's class.
        classes.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return classes
