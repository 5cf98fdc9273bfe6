"""The audit chain: one record per version of every item that holds balances, each hashed
with the hash before it, so rewriting any record breaks every hash after it.

`hash_v = sha256(bytes.fromhex(hash_{v-1}) || canonical(record_v))`, with the hash before
version 1 (or an item's first recorded version) being 64 zeros. The canonical form is the
record as JSON: keys sorted, no whitespace, ASCII only, every amount and count a decimal
string (amounts reach 10^30, past what many JSON readers hold exactly), times RFC 3339 UTC
with microseconds, absent values as null. docs/audit.md verifies a chain with the standard
library alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ledger.domain.model import Totals, totals_fields

genesis_hash = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    """What one version of an account's item records: the entry (or status change) that
    made it, who asked for it, and the totals before and after."""

    account_id: str
    shard: int
    version: int
    kind: str
    entry_id: str | None
    created_at: str
    effective_at: str | None
    before: Totals
    after: Totals
    actor: Mapping[str, str | None] | None = None
    status: str | None = None

    def document(self) -> dict[str, object]:
        """The record as the canonical form writes it."""
        return {
            "account_id": self.account_id,
            "shard": str(self.shard),
            "version": str(self.version),
            "kind": self.kind,
            "entry_id": self.entry_id,
            "created_at": self.created_at,
            "effective_at": self.effective_at,
            "before": _totals(self.before),
            "after": _totals(self.after),
            "actor": None if self.actor is None else dict(self.actor),
            "status": self.status,
        }


def _totals(totals: Totals) -> dict[str, str]:
    return {name: str(getattr(totals, name)) for name in totals_fields}


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
