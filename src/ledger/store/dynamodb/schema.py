"""The single-table key schema: item keys, index keys, listing queries and cursors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ledger.domain import limits
from ledger.domain.ids import shard_of, world_shards_of
from ledger.domain.model import (
    Account,
    AccountShard,
    AccountType,
    Entry,
    EntryStatus,
    LedgerRecord,
)
from ledger.domain.timestamps import timestamp as timestamp  # noqa: PLC0414
from ledger.planning.steps import Claim, Target
from ledger.store.cursors import CursorSeal
from ledger.store.listings import AccountsOf, EntriesOf, ExpiredPending, LedgersOf, Listing

Key = dict[str, str]
Listed = TypeVar("Listed", LedgerRecord, Account, Entry)
# Every ledger is in this one index partition: ledgers are created rarely, far below what
# one index partition takes (about 1,000 writes a second).
every_ledger_partition = "LEDGERS"

# Every index projects keys only: a balance update then writes no index item, and a
# listing reads the current items by key, strongly consistent.
indexes = ("gsi1", "gsi2", "gsi3", "gsi4")


def shard_key(account_id: str, index: int) -> Key:
    """The key of a sharded account's item beyond its own. Each shard is its own partition
    key, so DynamoDB gives each its own partition's write capacity (items sharing a
    partition key share one partition's 1,000 write units a second)."""
    return {"pk": f"ACCOUNT#{account_id}#SHARD#{index:02d}", "sk": "SHARD"}


def item_key(target: Target) -> Key:
    """The primary key of the item a step targets."""
    prefix = target.kind.upper()
    if target.kind == "shard":
        account_id, index = target.id.rsplit("#", 1)
        return shard_key(account_id, int(index))
    if target.kind in ("code", "key"):
        ledger_id, value = target.id.split("#", 1)
        return {"pk": f"LEDGER#{ledger_id}#{prefix}#{value}", "sk": prefix}
    return {"pk": f"{prefix}#{target.id}", "sk": prefix}


def _account_sort(account: Account) -> str:
    return f"ACCOUNT#{account.type}#{timestamp(account.created_at)}#{account.id}"


def _entry_sort(entry: Entry) -> str:
    return f"ENTRY#{timestamp(entry.created_at)}#{entry.id}"


def index_keys(record: LedgerRecord | Account | AccountShard | Entry | Claim) -> Key:
    """The index key attributes an item carries; absent ones keep it out of that index (a
    shard is in none: its account is listed once, by its own item)."""
    keys: Key = {}
    if isinstance(record, LedgerRecord):
        sort = f"LEDGER#{timestamp(record.created_at)}#{record.id}"
        keys["gsi1pk"], keys["gsi1sk"] = every_ledger_partition, sort
        if record.owner_id is not None:
            keys["gsi2pk"] = f"OWNER#{record.owner_id}"
            keys["gsi2sk"] = sort
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
        keys["gsi1pk"], keys["gsi1sk"] = entry_partition(record.ledger_id, record.id), sort
        if record.reference is not None:
            keys["gsi3pk"] = f"LEDGER#{record.ledger_id}#REF#{record.reference}"
            keys["gsi3sk"] = sort
        if record.status is EntryStatus.PENDING and record.expires_at is not None:
            keys["gsi4pk"] = expiry_partition(record.id)
            keys["gsi4sk"] = f"{timestamp(record.expires_at)}#{record.id}"
    return keys


def entry_partitions(ledger_id: str) -> tuple[str, ...]:
    """The gsi1 partitions holding a ledger's entries, one per `world` shard: one index
    partition takes about 1,000 writes a second, so a ledger of N shards posts up to N
    times that. A ledger of one shard keeps its entries with its accounts, `LEDGER#<id>`,
    as every ledger made before shards did; the others' hold only entries."""
    shards = world_shards_of(ledger_id)
    if shards == 1:
        return (f"LEDGER#{ledger_id}",)
    return tuple(f"LEDGER#{ledger_id}#ENTRIES#{shard}" for shard in range(shards))


def entry_partition(ledger_id: str, entry_id: str) -> str:
    """The gsi1 partition of one entry: its ledger's, spread by a digest of its id."""
    partitions = entry_partitions(ledger_id)
    return partitions[shard_of(entry_id, len(partitions))]


def expiry_partition(entry_id: str) -> str:
    """The expiry index partition of a pending entry, spread by a digest of its id."""
    shard = int(hashlib.sha256(entry_id.encode()).hexdigest(), 16) % limits.expiry_shards
    return f"EXPIRY#{shard}"


@dataclass(frozen=True)
class IndexQuery:
    """One partition of one index, items whose sort key starts with a prefix; with
    `account_id` (a reference's entries), only the entries that have a line on that account.

    With `spread`, the listing is of those partitions instead (a sharded ledger's
    entries), merged by sort key as if they were one; `partition` still names it. Sort
    keys are unique across them, so a position is its sort key, good in every one.

    Every store pages the same way: it examines index items in order after the cursor, at
    most `limits.index_items_examined_per_page_max`, and stops right after the `limit`-th
    item the listing keeps. The cursor is the last item examined, given while any index
    item follows it; so a filtered page may hold fewer than `limit` items, even none.

    `named_ledgers` (ledger listings only) limits the listing to those ledgers, a key's
    scope: the stores read them by id instead of the index partition, so nothing outside
    them is examined, paged past or named by a cursor. Cursors are sealed for the whole
    query, `caller` included: one listing's cursor is refused by any other, and by any
    other caller.
    """

    index: str
    partition: str
    sort_prefix: str
    descending: bool
    sort_before: str | None = None
    account_id: str | None = None
    named_ledgers: frozenset[str] | None = None
    caller: str | None = None
    spread: tuple[str, ...] = ()

    @property
    def partitions(self) -> tuple[str, ...]:
        """The index partitions the listing reads."""
        return self.spread or (self.partition,)

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

    def binding(self) -> bytes:
        """What a cursor of this listing is sealed for: every parameter, and the caller."""
        named = None if self.named_ledgers is None else sorted(self.named_ledgers)
        parameters = [
            self.index,
            self.partition,
            self.sort_prefix,
            self.descending,
            self.sort_before,
            self.account_id,
            named,
            self.caller,
        ]
        # A listing of one partition keeps the binding it had before spreads existed, so
        # its cursors given since still open.
        if self.spread:
            parameters.append(list(self.spread))
        return json.dumps(parameters, separators=(",", ":")).encode()

    def rows(
        self, items: Iterable[tuple[tuple[str, str], object]], kind: type[Listed]
    ) -> list[tuple[Key, Listed]]:
        """The items (by primary key) this query's index partitions hold, with their
        index keys, in no particular order."""
        partition, sort = f"{self.index}pk", f"{self.index}sk"
        partitions = self.partitions
        rows: list[tuple[Key, Listed]] = []
        for (pk, sk), item in items:
            if not isinstance(item, kind) or not self._names(item):
                continue
            keys = index_keys(item)
            if keys.get(partition) in partitions and self.matches(keys[sort]):
                rows.append(
                    ({"pk": pk, "sk": sk, partition: keys[partition], sort: keys[sort]}, item)
                )
        return rows

    def _names(self, record: LedgerRecord | Account | Entry) -> bool:
        return self.named_ledgers is None or (
            isinstance(record, LedgerRecord) and record.id in self.named_ledgers
        )


def paged(
    rows: list[tuple[Key, Listed]], query: IndexQuery, limit: int, after: Key | None
) -> tuple[list[Listed], Key | None]:
    """One page of rows held in memory, examined as `IndexQuery` says: the items kept and
    the position to resume after, if any row follows it. Rows of every partition of the
    query are merged by sort key."""
    sort = f"{query.index}sk"
    ordered = sorted(rows, key=lambda row: row[0][sort], reverse=query.descending)
    if after is not None:
        bound = after[sort]
        ordered = [
            row
            for row in ordered
            if (row[0][sort] < bound if query.descending else row[0][sort] > bound)
        ]
    items: list[Listed] = []
    examined = 0
    for _, item in ordered:
        examined += 1
        if query.keeps(item):
            items.append(item)
        if len(items) == limit or examined == limits.index_items_examined_per_page_max:
            break
    return items, (ordered[examined - 1][0] if examined < len(ordered) else None)


def index_query(listing: Listing) -> IndexQuery:
    """The index partition, sort keys and filters that answer a listing."""
    match listing:
        case LedgersOf(owner_id, named_ledgers, caller):
            return _ledgers_of(owner_id, named_ledgers, caller)
        case AccountsOf(ledger_id, account_type, owner_id, parent_id, caller):
            return _accounts_of(ledger_id, account_type, owner_id, parent_id, caller)
        case EntriesOf(ledger_id, reference, account_id, caller):
            return _entries_of(ledger_id, reference, account_id, caller)
        case ExpiredPending(shard, now):
            return _expired_by(shard, now)


def _ledgers_of(
    owner_id: str | None, named_ledgers: frozenset[str] | None, caller: str | None
) -> IndexQuery:
    if owner_id is None:
        index, partition = "gsi1", every_ledger_partition
    else:
        index, partition = "gsi2", f"OWNER#{owner_id}"
    return IndexQuery(
        index, partition, "LEDGER#", False, named_ledgers=named_ledgers, caller=caller
    )


def _accounts_of(
    ledger_id: str,
    account_type: AccountType | None,
    owner_id: str | None,
    parent_id: str | None,
    caller: str | None,
) -> IndexQuery:
    prefix = "ACCOUNT#" if account_type is None else f"ACCOUNT#{account_type}#"
    if owner_id is not None:
        return IndexQuery(
            "gsi2", f"LEDGER#{ledger_id}#OWNER#{owner_id}", prefix, False, caller=caller
        )
    if parent_id is not None:
        return IndexQuery(
            "gsi3", f"LEDGER#{ledger_id}#PARENT#{parent_id}", prefix, False, caller=caller
        )
    return IndexQuery("gsi1", f"LEDGER#{ledger_id}", prefix, False, caller=caller)


def _entries_of(
    ledger_id: str, reference: str | None, account_id: str | None, caller: str | None
) -> IndexQuery:
    if reference is not None:
        partition = f"LEDGER#{ledger_id}#REF#{reference}"
        return IndexQuery("gsi3", partition, "ENTRY#", True, account_id=account_id, caller=caller)
    partitions = entry_partitions(ledger_id)
    return IndexQuery(
        "gsi1",
        f"LEDGER#{ledger_id}",
        "ENTRY#",
        True,
        caller=caller,
        spread=partitions if len(partitions) > 1 else (),
    )


def _expired_by(shard: int, now: datetime) -> IndexQuery:
    # Sort keys are `<expires_at>#<id>`, and "$" sorts right after "#".
    return IndexQuery("gsi4", f"EXPIRY#{shard}", "", False, sort_before=f"{timestamp(now)}$")


def encode_cursor(seal: CursorSeal, query: IndexQuery, key: Key) -> str:
    """A sealed cursor for the position after `key` in this listing, for its caller."""
    position = [key["pk"], key["sk"], key[f"{query.index}sk"]]
    return seal.seal(query.binding(), json.dumps(position, separators=(",", ":")).encode())


def decode_cursor(seal: CursorSeal, cursor: str, query: IndexQuery) -> Key:
    """The position a cursor names; `foreign_cursor()` for a cursor not sealed for this
    listing and caller. The seal vouches for the position, which this code wrote."""
    pk, sk, sort = json.loads(seal.open(query.binding(), cursor))
    return {"pk": pk, "sk": sk, f"{query.index}pk": query.partition, f"{query.index}sk": sort}


class ListingSeal:
    """Seals and opens listing cursors under a secret the process holds."""

    def __init__(self, secret: bytes) -> None:
        self._seal = CursorSeal(secret)

    def seal(self, query: IndexQuery, key: Key) -> str:
        """A cursor for the position after `key` in this listing, for its caller."""
        return encode_cursor(self._seal, query, key)

    def open(self, cursor: str, query: IndexQuery) -> Key:
        """The position a cursor names, if it was sealed for this listing and caller."""
        return decode_cursor(self._seal, cursor, query)

    def seal_payload(self, binding: bytes, payload: bytes) -> str:
        """A cursor for an opaque payload that opens only for `binding`."""
        return self._seal.seal(binding, payload)

    def open_payload(self, binding: bytes, cursor: str) -> bytes:
        """The payload of a cursor sealed for `binding`."""
        return self._seal.open(binding, cursor)
