"""Response bodies of the audit routes, and their renderers from the domain."""

from __future__ import annotations

from typing import Any

from ledger.api.views import View
from ledger.domain.results import (
    AuditDigest,
    AuditLink,
    AuditPage,
    AuditVerification,
    DigestVerification,
)
from ledger.domain.views import moment


class AuditActorView(View):
    """Who asked for the entry of a record."""

    key_id: str | None
    role: str | None
    request_id: str | None
    source_ip: str | None
    user_agent: str | None


class AuditRecordView(View):
    """One audit record: its canonical fields (docs/audit.md) and its two hashes."""

    account_id: str
    shard: str
    version: str
    entry_id: str | None
    kind: str
    actor: AuditActorView | None
    before: dict[str, str]
    after: dict[str, str]
    recorded_at: str
    status: str | None
    previous_hash: str
    hash: str


class AuditPageView(View):
    """A page of an account's audit records, oldest first."""

    items: list[AuditRecordView]
    next_cursor: str | None


class AuditVerificationView(View):
    """An account's chains recomputed and compared with its history and its items."""

    ok: bool
    records: int
    head_hash: str
    first_bad_version: int | None = None
    reason: str | None = None


class AuditDigestView(View):
    """One sha256 over the chain heads of a ledger's items."""

    ledger_id: str
    digest: str
    accounts: int
    at: str


class DigestVerificationView(View):
    """Whether a digest kept outside the ledger still holds."""

    ok: bool
    first_bad_account_id: str | None = None


def audit_record_view(link: AuditLink) -> dict[str, Any]:
    """A record as the audit route answers it: its hash covers all but the two hashes."""
    return {**link.record.document(), "previous_hash": link.previous_hash, "hash": link.hash}


def audit_page_view(page: AuditPage) -> dict[str, Any]:
    """A page of audit records."""
    return {
        "items": [audit_record_view(link) for link in page.links],
        "next_cursor": page.next_cursor,
    }


def audit_verification_view(result: AuditVerification) -> dict[str, Any]:
    """A verification: the first bad version and the reason are null when it holds."""
    return {
        "ok": result.ok,
        "records": result.records,
        "head_hash": result.head_hash,
        "first_bad_version": result.first_bad_version,
        "reason": result.reason,
    }


def audit_digest_view(result: AuditDigest) -> dict[str, Any]:
    """A ledger's digest and the time it is as of."""
    return {
        "ledger_id": result.ledger_id,
        "digest": result.digest,
        "accounts": result.accounts,
        "at": moment(result.at),
    }


def digest_verification_view(result: DigestVerification) -> dict[str, Any]:
    """A digest verification: the first bad account is null when it holds, or when no one
    account's chain shows the break."""
    return {"ok": result.ok, "first_bad_account_id": result.first_bad_account_id}
