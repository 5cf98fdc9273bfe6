"""The audit chain's reads: an account's records, its verification, a ledger's digest and
the digest's verification (docs/audit.md, ADR 0025). Every read is bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.domain import limits, validate
from ledger.domain.audit import ChainHead, chained, first_break, genesis_hash, ledger_digest
from ledger.domain.errors import AuditNotKept, NotFound, ReportTooLarge, ValidationError
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, AccountShard, Totals
from ledger.domain.results import (
    AuditDigest,
    AuditLink,
    AuditPage,
    AuditVerification,
    DigestVerification,
)
from ledger.domain.timestamps import timestamp
from ledger.planning.audit import amounts_of, item_amounts, item_shard
from ledger.planning.commands import listing_caller, page_size
from ledger.planning.steps import Target
from ledger.service.reports import Reports
from ledger.store.audit import AuditReader, KeepsAudit

# The amounts that follow from an item's totals alone: what a history record (which holds
# the totals, not the credit limit) is compared on.
totals_amounts = (
    "posted",
    "pending_in",
    "pending_out",
    "held",
    "escrowed",
    "total_in",
    "total_out",
)


@dataclass(frozen=True)
class _ItemCheck:
    """One item's chain checked: its records, its head, and the first break if any."""

    shard: int
    records: int
    head: AuditLink | None
    bad_version: int | None = None
    reason: str | None = None


class Audit(Reports):
    """Reads of the audit chain the audit consumer writes from the table's stream."""

    def audit_records(
        self,
        account_id: str,
        *,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> AuditPage:
        """A page of the account's audit records, oldest first, item by item for a sharded
        account (its own item first); `cursor` is good only for this account and caller."""
        account = self._audited_account(account_id)
        return self._audit().page(
            account.id, account.shards, page_size(limit), cursor, listing_caller(caller)
        )

    def verify_audit(self, account_id: str) -> AuditVerification:
        """Recompute every item's chain, compare each record with the item's history record
        of its version and each head with the item itself (version and balance amounts).
        A chain longer than `limits.audit_chain_records_max` is refused (ReportTooLarge)."""
        account = self._audited_account(account_id)
        reader = self._audit()
        items = {item_shard(item): item for item in reader.items(account.id, account.shards)}
        checks = [
            self._check_item(reader, account.id, shard, items.get(shard))
            for shard in range(account.shards)
        ]
        heads = [
            ChainHead(account.id, check.shard, check.head.record.version, check.head.hash)
            for check in checks
            if check.head is not None
        ]
        if account.shards == 1:
            head_hash = heads[0].hash if heads else genesis_hash
        else:
            head_hash = ledger_digest(heads)
        records = sum(check.records for check in checks)
        bad = next((check for check in checks if check.bad_version is not None), None)
        if bad is None:
            return AuditVerification(account.id, True, records, head_hash)
        reason = bad.reason if account.shards == 1 else f"shard {bad.shard}: {bad.reason}"
        return AuditVerification(account.id, False, records, head_hash, bad.bad_version, reason)

    def audit_digest(self, ledger_id: str) -> AuditDigest:
        """One sha256 over the chain head of every balance item of the ledger's accounts,
        as of the newest head's time. More than `limits.audit_items_max` items is refused."""
        self.get_ledger(ledger_id)
        accounts = self._audited_accounts_of(ledger_id)
        reader = self._audit()
        heads: list[ChainHead] = []
        newest: str | None = None
        for account in accounts:
            for shard in range(account.shards):
                head = reader.head(account.id, shard)
                if head is None:
                    continue
                heads.append(ChainHead(account.id, shard, head.record.version, head.hash))
                newest = max(newest or head.record.recorded_at, head.record.recorded_at)
        at = self._clock() if newest is None else _moment(newest)
        return AuditDigest(ledger_id, ledger_digest(heads), len(accounts), at)

    def verify_audit_digest(self, ledger_id: str, digest: str, at: datetime) -> DigestVerification:
        """Recompute the ledger's digest from its chains as of `at` (each item's last record
        recorded at or before it, every hash recomputed) and compare it with `digest`; the
        first account (by id) whose chain up to `at` does not hold is named."""
        checked = validate.text("digest", digest, 64)
        if len(checked) != 64 or any(char not in "0123456789abcdef" for char in checked):
            raise ValidationError("digest", "a digest is 64 lowercase hexadecimal digits")
        if at.tzinfo is None:
            raise ValidationError("at", "the time needs a UTC offset")
        self.get_ledger(ledger_id)
        bound = timestamp(at)
        reader = self._audit()
        heads: list[ChainHead] = []
        first_bad: str | None = None
        for account in sorted(self._audited_accounts_of(ledger_id), key=lambda item: item.id):
            for shard in range(account.shards):
                chain = reader.chain(account.id, shard, limits.audit_chain_records_max)
                kept = [link for link in chain if link.record.recorded_at <= bound]
                if not kept:
                    continue
                if first_bad is None and first_break((link.record, link.hash) for link in kept):
                    first_bad = account.id
                recomputed = genesis_hash
                for link in kept:
                    recomputed = chained(recomputed, link.record)
                heads.append(ChainHead(account.id, shard, kept[-1].record.version, recomputed))
        if ledger_digest(heads) == checked:
            return DigestVerification(True)
        return DigestVerification(False, first_bad)

    def _check_item(
        self,
        reader: AuditReader,
        account_id: str,
        shard: int,
        item: Account | AccountShard | None,
    ) -> _ItemCheck:
        chain = reader.chain(account_id, shard, limits.audit_chain_records_max)
        if not chain:
            if item is None:
                return _ItemCheck(shard, 0, None)
            return _ItemCheck(shard, 0, None, item.version, "the item has no audit record")
        head = chain[-1]
        broken = first_break((link.record, link.hash) for link in chain)
        history = reader.history_totals(account_id, shard, limits.audit_chain_records_max)
        for link in chain:
            if broken is not None and link.record.version >= broken.version:
                break
            totals = history.get(link.record.version)
            if totals is not None and not _same_totals(account_id, totals, link):
                reason = "the history record is not the audit record's balance"
                return _ItemCheck(shard, len(chain), head, link.record.version, reason)
        if broken is not None:
            return _ItemCheck(shard, len(chain), head, broken.version, broken.reason)
        if item is None:
            return _ItemCheck(shard, len(chain), head, head.record.version, "the item is gone")
        if item.version != head.record.version:
            reason = (
                f"the chain ends at version {head.record.version}, "
                f"the item is at version {item.version}"
            )
            first = min(item.version, head.record.version) + 1
            return _ItemCheck(shard, len(chain), head, first, reason)
        if amounts_of(item) != dict(head.record.after):
            reason = "the item's balance is not the chain head's"
            return _ItemCheck(shard, len(chain), head, item.version, reason)
        return _ItemCheck(shard, len(chain), head)

    def _audit(self) -> AuditReader:
        store = self._store
        if not isinstance(store, KeepsAudit):
            raise AuditNotKept("this store keeps no audit chain; the DynamoDB table does")
        return store.audit

    def _audited_account(self, account_id: str) -> Account:
        parse_account_id(account_id)
        account = self._store.get(Target("account", account_id), Account)
        if account is None:
            raise NotFound("account", account_id)
        return account

    def _audited_accounts_of(self, ledger_id: str) -> list[Account]:
        accounts = self._accounts_of(ledger_id)
        items = sum(account.shards for account in accounts)
        if items > limits.audit_items_max:
            raise ReportTooLarge(
                f"the ledger has more than {limits.audit_items_max} balance items, "
                "more than one digest reads",
                {"limit": limits.audit_items_max},
            )
        return accounts


def _same_totals(account_id: str, totals: Totals, link: AuditLink) -> bool:
    expected = item_amounts(account_id, totals, 0)
    return all(expected[name] == link.record.after.get(name) for name in totals_amounts)


def _moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
