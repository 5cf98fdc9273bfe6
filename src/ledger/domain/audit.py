"""The audit chain: one record per version of every item that holds balances, each hashed
with the hash before it, so rewriting any record breaks every hash after it.

`hash_v = sha256(bytes.fromhex(hash_{v-1}) || canonical(record_v))`, with the hash before
an item's first record being 64 zeros. The canonical form is the record as the audit route
answers it, without its two hashes, as JSON: keys sorted, no whitespace, ASCII only; amounts
are the balance object's decimal strings and counts decimal strings too (amounts reach
10^30, past what many JSON readers hold exactly), times RFC 3339 UTC, absent values null.
docs/audit.md verifies a chain with the standard library alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

genesis_hash = "0" * 64


# The fields a record's hash covers, as the audit route names them.
canonical_fields = (
    "account_id",
    "shard",
    "version",
    "entry_id",
    "kind",
    "actor",
    "before",
    "after",
    "recorded_at",
    "status",
)


@dataclass(frozen=True)
class AuditRecord:
    """What one version of an account's item records: the entry (or status change) that
    made it, who asked for it, and the item's balance amounts before and after."""

    account_id: str
    shard: int
    version: int
    entry_id: str | None
    kind: str
    before: Mapping[str, str]
    after: Mapping[str, str]
    recorded_at: str
    actor: Mapping[str, str | None] | None = None
    status: str | None = None

    def document(self) -> dict[str, object]:
        """The record as the audit route answers it, hashes aside."""
        return {
            "account_id": self.account_id,
            "shard": str(self.shard),
            "version": str(self.version),
            "entry_id": self.entry_id,
            "kind": self.kind,
            "actor": None if self.actor is None else dict(self.actor),
            "before": dict(self.before),
            "after": dict(self.after),
            "recorded_at": self.recorded_at,
            "status": self.status,
        }


def canonical(record: AuditRecord) -> bytes:
    """The bytes a record's hash covers."""
    text = json.dumps(record.document(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def chained(previous_hash: str, record: AuditRecord) -> str:
    """The hash of a record that follows `previous_hash` in its chain."""
    return hashlib.sha256(bytes.fromhex(previous_hash) + canonical(record)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain stops being what its records say: the first version whose stored hash
    is not the hash of its record after the one before, or that does not follow it."""

    version: int
    reason: str


def first_break(
    links: Iterable[tuple[AuditRecord, str]], start_hash: str = genesis_hash
) -> ChainBreak | None:
    """The first break in (record, stored hash) pairs in version order, or None when every
    hash is the record's own after the one before and versions follow one another."""
    previous_hash = start_hash
    previous_version: int | None = None
    for record, stored in links:
        if previous_version is not None and record.version != previous_version + 1:
            return ChainBreak(record.version, f"version {previous_version + 1} is missing")
        if chained(previous_hash, record) != stored:
            return ChainBreak(record.version, "the stored hash is not the record's")
        previous_hash, previous_version = stored, record.version
    return None


@dataclass(frozen=True)
class ChainHead:
    """The newest record of one item's chain: its version and hash."""

    account_id: str
    shard: int
    version: int
    hash: str


def ledger_digest(heads: Iterable[ChainHead]) -> str:
    """One sha256 over every chain head of a ledger, ordered by account id and shard: one
    line `<account id> <shard> <version> <hash>` each, newline-terminated."""
    ordered = sorted(heads, key=lambda head: (head.account_id, head.shard))
    lines = "".join(f"{h.account_id} {h.shard} {h.version} {h.hash}\n" for h in ordered)
    return hashlib.sha256(lines.encode("ascii")).hexdigest()
