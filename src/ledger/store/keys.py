"""The single-table key schema: item keys, index keys, listing queries and cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from ledger import limits
from ledger.errors import ValidationError
from ledger.model import Account, AccountType, Entry, EntryStatus, LedgerRecord
from ledger.operations import Claim, Target
from ledger.timestamps import timestamp as timestamp  # noqa: PLC0414

Key = dict[str, str]

# Every index projects keys only: a balance update then writes no index item, and a
# listing reads the current items by key, strongly consistent.
indexes = ("gsi1", "gsi2", "gsi3", "gsi4")


def item_key(target: Target) -> Key:
    """The primary key of the item an operation targets."""
    prefix = target.kind.upper()
    if target.kind in ("code", "key"):
        ledger_id, value = target.id.split("#", 1)
        return {"pk": f"LEDGER#{ledger_id}#{prefix}#{value}", "sk": prefix}
    return {"pk": f"{prefix}#{target.id}", "sk": prefix}


def _account_sort(account: Account) -> str:
    return f"ACCOUNT#{account.type}#{timestamp(account.created_at)}#{account.id}"


def _entry_sort(entry: Entry) -> str:
    return f"ENTRY#{timestamp(entry.created_at)}#{entry.id}"


def index_keys(record: LedgerRecord | Account | Entry | Claim) -> Key:
    """The index key attributes an item carries; absent ones keep it out of that index."""
    keys: Key = {}
    if isinstance(record, LedgerRecord):
        if record.owner_id is not None:
            keys["gsi2pk"] = f"OWNER#{record.owner_id}"
            keys["gsi2sk"] = f"LEDGER#{timestamp(record.created_at)}#{record.id}"
    elif isinstance(record, Account):
        sort = _account_sort(record)
        keys["gsi1pk"], keys["gsi1sk"] = f"LEDGER#{record.ledger_id}", sort
        if record.owner_id is not None:
            keys["gsi2pk"] = f"LEDGER#{record.ledger_id}#OWNER#{record.owner_id}"
            keys["gsi2sk"] = sort
        if record.parent_id is not None:
            keys["gsi3pk"] = f"LEDGER#{record.ledger_id}#PARENT#{record.parent_id}"
            keys["gsi3sk"] = sort
    elif isinstance(record, Entry):
        sort = _entry_sort(record)
        keys["gsi1pk"], keys["gsi1sk"] = f"LEDGER#{record.ledger_id}", sort
        if record.reference is not None:
            keys["gsi3pk"] = f"LEDGER#{record.ledger_id}#REF#{record.reference}"
            keys["gsi3sk"] = sort
        if record.status is EntryStatus.PENDING and record.expires_at is not None:
            keys["gsi4pk"] = expiry_partition(record.id)
            keys["gsi4sk"] = f"{timestamp(record.expires_at)}#{record.id}"
    return keys


def expiry_partition(entry_id: str) -> str:
    """The expiry index partition of a pending entry, spread by a digest of its id."""
    shard = int(hashlib.sha256(entry_id.encode()).hexdigest(), 16) % limits.expiry_shards
    return f"EXPIRY#{shard}"


def expired_by(shard: int, now: datetime) -> IndexQuery:
    """Pending entries of one expiry partition whose expiry is at or before `now`, oldest
    first. Sort keys are `<expires_at>#<id>`, and "$" sorts right after "#"."""
    return IndexQuery("gsi4", f"EXPIRY#{shard}", "", False, sort_before=f"{timestamp(now)}$")


@dataclass(frozen=True)
class IndexQuery:
    """One partition of one index, items whose sort key starts with a prefix; with
    `account_id`, only the entries that have a line on that account.

    Every store pages the same way: it examines index items in order after the cursor, at
    most `limits.index_items_examined_per_page_max`, and stops right after the `limit`-th
    item the listing keeps. The cursor is the last item examined, given while any index
    item follows it; so a filtered page may hold fewer than `limit` items, even none.
    """

    index: str
    partition: str
    sort_prefix: str
    descending: bool
    sort_before: str | None = None
    account_id: str | None = None

    def matches(self, sort_key: str) -> bool:
        """Whether an item with this sort key (in this partition) belongs to the listing."""
        is_before = self.sort_before is None or sort_key < self.sort_before
        return sort_key.startswith(self.sort_prefix) and is_before

    def keeps(self, record: LedgerRecord | Account | Entry) -> bool:
        """Whether a record the index names belongs to the listing. Indexes hold keys only,
        so the account filter applies to the items as they are read."""
        if self.account_id is None:
            return True
        return isinstance(record, Entry) and any(
            line.account_id == self.account_id for line in record.lines
        )


def ledgers_by_owner(owner_id: str) -> IndexQuery:
    """An owner's ledgers, oldest first."""
    return IndexQuery("gsi2", f"OWNER#{owner_id}", "LEDGER#", descending=False)


def accounts_of(
    ledger_id: str,
    account_type: AccountType | None,
    owner_id: str | None,
    parent_id: str | None,
) -> IndexQuery:
    """A ledger's accounts, optionally of one type and one owner or one parent."""
    prefix = "ACCOUNT#" if account_type is None else f"ACCOUNT#{account_type}#"
    if owner_id is not None and parent_id is not None:
        raise ValidationError("owner_id", "filter accounts by owner_id or by parent_id, not both")
    if owner_id is not None:
        return IndexQuery("gsi2", f"LEDGER#{ledger_id}#OWNER#{owner_id}", prefix, False)
    if parent_id is not None:
        return IndexQuery("gsi3", f"LEDGER#{ledger_id}#PARENT#{parent_id}", prefix, False)
    return IndexQuery("gsi1", f"LEDGER#{ledger_id}", prefix, False)


def entries_of(ledger_id: str, reference: str | None, account_id: str | None = None) -> IndexQuery:
    """A ledger's entries, newest first, optionally only those with one reference and only
    those with a line on one account."""
    if reference is not None:
        partition, index = f"LEDGER#{ledger_id}#REF#{reference}", "gsi3"
    else:
        partition, index = f"LEDGER#{ledger_id}", "gsi1"
    return IndexQuery(index, partition, "ENTRY#", True, account_id=account_id)


def encode_cursor(key: Key) -> str:
    """An opaque cursor for the position after `key`."""
    raw = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, query: IndexQuery) -> Key:
    """The position a cursor names; a cursor of another listing is rejected."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValidationError("cursor", "cursor is not one this listing returned") from None
    expected = {"pk", "sk", f"{query.index}pk", f"{query.index}sk"}
    if (
        not isinstance(key, dict)
        or set(key) != expected
        or not all(isinstance(value, str) for value in key.values())
        or key[f"{query.index}pk"] != query.partition
        or not query.matches(key[f"{query.index}sk"])
    ):
        raise ValidationError("cursor", "cursor is not one this listing returned")
    return key
