"""Client routes for the audit chain: records, verification, digests (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime

from ledger.client.base import ClientBase, moment_text
from ledger.client.decode import Json, moment
from ledger.client.transport import Call, path
from ledger.domain.audit import AuditRecord
from ledger.domain.results import (
    AuditDigest,
    AuditLink,
    AuditPage,
    AuditVerification,
    DigestVerification,
)


class AuditClient(ClientBase):
    """An account's audit records and their verification; a ledger's digest."""

    def audit_records(
        self, account_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> AuditPage:
        """A page of the account's audit records, oldest first."""
        call = Call(
            "GET", path("accounts", account_id, "audit"), {"limit": limit, "cursor": cursor}
        )
        body = self._send(call)
        return AuditPage([_link(item) for item in body["items"]], body["next_cursor"])

    def verify_audit(self, account_id: str) -> AuditVerification:
        """Recompute the account's chains and compare them with its history and items."""
        body = self._send(Call("GET", path("accounts", account_id, "audit", "verify")))
        return AuditVerification(
            account_id=account_id,
            ok=body["ok"],
            records=body["records"],
            head_hash=body["head_hash"],
            first_bad_version=body.get("first_bad_version"),
            reason=body.get("reason"),
        )

    def audit_digest(self, ledger_id: str) -> AuditDigest:
        """One sha256 over the chain heads of the ledger's balance items."""
        body = self._send(Call("GET", path("ledgers", ledger_id, "audit", "digest")))
        return AuditDigest(body["ledger_id"], body["digest"], body["accounts"], moment(body["at"]))

    def verify_audit_digest(self, ledger_id: str, digest: str, at: datetime) -> DigestVerification:
        """Recompute the ledger's digest as of `at` and compare it with `digest`."""
        body = {"digest": digest, "at": moment_text(at, "at")}
        call = Call("POST", path("ledgers", ledger_id, "audit", "digest", "verify"), body=body)
        answer = self._send(call)
        return DigestVerification(answer["ok"], answer.get("first_bad_account_id"))


def _link(body: Json) -> AuditLink:
    record = AuditRecord(
        account_id=body["account_id"],
        shard=int(body["shard"]),
        version=int(body["version"]),
        entry_id=body["entry_id"],
        kind=body["kind"],
        before=dict(body["before"]),
        after=dict(body["after"]),
        recorded_at=body["recorded_at"],
        actor=None if body["actor"] is None else dict(body["actor"]),
        status=body["status"],
    )
    return AuditLink(record, body["previous_hash"], body["hash"])
