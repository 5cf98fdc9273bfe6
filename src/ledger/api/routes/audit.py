"""The audit chain: an account's records and their verification, a ledger's digest and
the digest's verification (docs/audit.md)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.audit_views import (
    AuditDigestView,
    AuditPageView,
    AuditVerificationView,
    DigestVerificationView,
    audit_digest_view,
    audit_page_view,
    audit_verification_view,
    digest_verification_view,
)
from ledger.api.bodies import Body, Moment
from ledger.api.observability import count, logger
from ledger.api.routing import Cursor, Limit, Router, answers, reply
from ledger.domain import limits
from ledger.domain.ids import parse_account_id

router = Router()


class DigestCheck(Body):
    """A digest kept outside the ledger, and the time it was taken as of."""

    digest: str
    at: Moment


def _readable_account(account_id: str) -> None:
    ledger_id = parse_account_id(account_id).ledger_id
    router.runtime().scope.read(router.caller(), ledger_id, "account", account_id)


def _readable_ledger(ledger_id: str) -> None:
    router.runtime().scope.read(router.caller(), ledger_id, "ledger", ledger_id)


@router.get(
    "/v1/accounts/<account_id>/audit",
    responses=answers(200, AuditPageView, "A page of the account's audit records"),
    summary="List an account's audit records",
    tags=["audit"],
)
def list_audit(
    account_id: str, limit: Limit = limits.page_size_default, cursor: Cursor = None
) -> Response[AuditPageView]:
    """The account's audit records, oldest first (a sharded account's item by item)."""
    _readable_account(account_id)
    page = router.runtime().ledger.audit_records(
        account_id, limit=limit, cursor=cursor, caller=router.caller().key_id
    )
    return reply(200, audit_page_view(page))


@router.get(
    "/v1/accounts/<account_id>/audit/verify",
    responses=answers(200, AuditVerificationView, "What the verification found"),
    summary="Verify an account's audit chain",
    tags=["audit"],
)
def verify_audit(account_id: str) -> Response[AuditVerificationView]:
    """Recompute the account's chains and compare them with its history and its items."""
    _readable_account(account_id)
    result = router.runtime().ledger.verify_audit(account_id)
    if not result.ok:
        logger.error(
            "audit chain does not hold",
            extra={"account_id": account_id, "version": result.first_bad_version},
        )
        count("AuditChainBroken", 1)
    return reply(200, audit_verification_view(result))


@router.get(
    "/v1/ledgers/<ledger_id>/audit/digest",
    responses=answers(200, AuditDigestView, "The ledger's digest"),
    summary="Take a ledger's audit digest",
    tags=["audit"],
)
def audit_digest(ledger_id: str) -> Response[AuditDigestView]:
    """One sha256 over the chain head of every balance item of the ledger."""
    _readable_ledger(ledger_id)
    return reply(200, audit_digest_view(router.runtime().ledger.audit_digest(ledger_id)))


@router.post(
    "/v1/ledgers/<ledger_id>/audit/digest/verify",
    responses=answers(200, DigestVerificationView, "Whether the digest holds"),
    summary="Verify a ledger's audit digest",
    tags=["audit"],
)
def verify_audit_digest(ledger_id: str, body: DigestCheck) -> Response[DigestVerificationView]:
    """Recompute the digest from the chains as of `at` and compare it with the one kept."""
    _readable_ledger(ledger_id)
    result = router.runtime().ledger.verify_audit_digest(ledger_id, body.digest, body.at)
    if not result.ok:
        logger.error(
            "audit digest does not hold",
            extra={"ledger_id": ledger_id, "account_id": result.first_bad_account_id},
        )
        count("AuditDigestMismatch", 1)
    return reply(200, digest_verification_view(result))
