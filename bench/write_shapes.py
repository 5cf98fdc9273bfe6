"""The items one operation's TransactWriteItems touches, read from the plans the library makes.

A store that records every plan it executes, with each item's image before and after, turns
a plan into a `Shape`: one `Touch` per item the transaction writes (its real key and write
units) and one per index entry the write changes (the index partition its index key names,
1 unit per KB, outside the transaction). The hot-item model replays these shapes: deposits
through ledgers of every `world_shards` count, and marketplace sales paying a fee account
unsharded and sharded, each recorded as many times as it needs for its shards to spread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.item_size import index_writes, item_size, transactional_factor, units_of
from ledger import Ledger, LineInput, MemoryStore
from ledger.domain.model import Account, Entry, Side
from ledger.planning.steps import PutNew, Target, WritePlan, account_target
from ledger.store.dynamodb.codec import encode
from ledger.store.dynamodb.schema import indexes, item_key

ItemKey = tuple[str, str]
Image = dict[str, Any]
currency = "USD"
funding_amount = Decimal("1000000.00")
sale_price = Decimal("10.00")
sale_fee = Decimal("0.30")
world_shard_counts = (1, 2, 4, 8, 16, 32)
fee_account_shards = 8
# A workload keeps this many recorded operations per item of its hot account: entry ids are
# random, so shards share the load evenly, and so do the kept operations.
operations_per_hot_item = 16
# Recording stops here, whether or not every hot item has its share.
operations_recorded_max = 4_096


@dataclass(frozen=True)
class Touch:
    """One item a write touches: a table item (conflicts with any other transaction on it)
    or an index entry (written after the transaction, so it only spends capacity). Its key
    is the item's `(pk, sk)`, or for an index entry `("<index>:<index pk>", "INDEX")`: the
    index partition, whose sort key only grows with time, so it does not split."""

    item: ItemKey
    units: int
    conflicts: bool
    created: bool

    @property
    def index(self) -> bool:
        """Whether the touch is an index entry rather than a table item."""
        return not self.conflicts


@dataclass(frozen=True)
class Shape:
    """One operation's write: the entry it creates and every item it touches."""

    entry_id: str
    touches: tuple[Touch, ...]


@dataclass(frozen=True)
class Recording:
    """Real shapes of one workload, and the keys of the hot account's items (its own and
    its shards') that every operation shares; empty where no account is hot."""

    shapes: tuple[Shape, ...]
    hot_items: frozenset[ItemKey]


@dataclass(frozen=True)
class Recorded:
    """Every workload the hot-item model replays."""

    transfers: Recording
    world_deposits: dict[int, Recording]
    fee_sales: dict[str, Recording]


class RecordingStore(MemoryStore):
    """A memory store that keeps the shape of every plan it executes."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[Shape] = []

    def execute(self, plan: WritePlan) -> None:
        """Execute the plan, then keep its shape."""
        before = [self.image(step.target) for step in plan.steps]
        super().execute(plan)
        after = [self.image(step.target) for step in plan.steps]
        self.shapes.append(shape_of(plan, before, after))

    def image(self, target: Target) -> Image | None:
        """The item at `target` as DynamoDB stores it: one item, a shard not summed in."""
        key = item_key(target)
        stored = self._items.get((key["pk"], key["sk"]))
        return None if stored is None else dict(encode(stored))


def _index_partition(image: Image | None, index: str) -> str | None:
    if image is None or f"{index}pk" not in image or f"{index}sk" not in image:
        return None
    return f"{index}:{image[f'{index}pk']['S']}"


def index_touches(before: Image | None, after: Image | None) -> list[Touch]:
    """One touch per index entry a write puts or deletes, in the index partition it lands in."""
    touches = []
    for index in indexes:
        sizes = index_writes(before, after, (index,))
        if not sizes:
            continue
        partitions = [
            partition
            for partition in (_index_partition(before, index), _index_partition(after, index))
            if partition is not None
        ]
        if len(partitions) != len(sizes):
            raise ValueError(f"{index}: {len(sizes)} writes but {len(partitions)} partitions")
        touches += [
            Touch((partition, "INDEX"), units_of(size), conflicts=False, created=False)
            for partition, size in zip(partitions, sizes, strict=True)
        ]
    return touches


def shape_of(plan: WritePlan, before: list[Image | None], after: list[Image | None]) -> Shape:
    """The shape of an executed plan, from each step's item before and after it."""
    entry_ids = [
        step.record.id
        for step in plan.steps
        if isinstance(step, PutNew) and isinstance(step.record, Entry)
    ]
    touches = []
    for step, old, new in zip(plan.steps, before, after, strict=True):
        if new is None:
            raise ValueError(f"no item to size for {step.target}")
        key = item_key(step.target)
        units = units_of(item_size(new), transactional_factor)
        touches.append(Touch((key["pk"], key["sk"]), units, conflicts=True, created=old is None))
        touches += index_touches(old, new)
    return Shape(entry_ids[0] if entry_ids else "", tuple(touches))


def account_items(account: Account) -> frozenset[ItemKey]:
    """The keys of an account's items: its own and its shards'."""
    keys = (item_key(account_target(account.id, index)) for index in range(account.shards))
    return frozenset((key["pk"], key["sk"]) for key in keys)


def _recorded(
    store: RecordingStore,
    post: Callable[[int], object],
    hot_items: frozenset[ItemKey],
    groups: int | None = None,
) -> Recording:
    """Post operations, each under its own idempotency key (so the same code records the same
    entry ids, and so the same shards), until each group has `operations_per_hot_item` of
    them; keep that many of each. A group is an item of the hot account (all `hot_items`),
    or with no hot account the entries index partition an entry lands in (`groups` of them):
    entry ids are random, so in the long run each takes an even share."""
    expected = groups or len(hot_items)
    kept: dict[ItemKey, list[Shape]] = {}
    for number in range(operations_recorded_max):
        post(number)
        shape = store.shapes[-1]
        kept.setdefault(_group(shape, hot_items), []).append(shape)
        if len(kept) == expected and all(
            len(shapes) >= operations_per_hot_item for shapes in kept.values()
        ):
            return Recording(
                tuple(
                    shape for shapes in kept.values() for shape in shapes[:operations_per_hot_item]
                ),
                hot_items,
            )
    raise ValueError(f"{operations_recorded_max} operations left a group short")


def _group(shape: Shape, hot_items: frozenset[ItemKey]) -> ItemKey:
    """The hot account's item an operation moves, or else its entries index partition."""
    if hot_items:
        hot = [touch.item for touch in shape.touches if touch.item in hot_items]
        if len(hot) != 1:
            raise ValueError(f"{shape.entry_id} moves {len(hot)} items of the hot account")
        return hot[0]
    (partition,) = [touch.item for touch in shape.touches if touch.item[0].startswith("gsi1:")]
    return partition


def record_world_deposits(store: RecordingStore, world_shards: int) -> Recording:
    """Deposits into one account of a ledger whose `world` has `world_shards` shards."""
    ledger = Ledger(store)
    book = ledger.create_ledger(
        f"world {world_shards}", world_shards=world_shards, idempotency_key=f"world-{world_shards}"
    )
    customer = ledger.create_account(
        book.id, "Customer", "liability", currency, idempotency_key="customer"
    )
    world = next(
        account for account in ledger.list_accounts(book.id).items if account.id != customer.id
    )
    if world.shards != world_shards:
        raise ValueError(f"the ledger's world has {world.shards} shards, not {world_shards}")
    return _recorded(
        store,
        lambda number: ledger.deposit(customer.id, sale_price, idempotency_key=f"deposit-{number}"),
        account_items(world),
    )


def record_fee_sales(store: RecordingStore, fee_shards: int) -> Recording:
    """Marketplace sales paying one fee account of `fee_shards` shards. A sale is the one
    entry a marketplace posts: the buyer pays the price, the seller receives it less the
    platform's fee, the fee account receives the fee. Only an account without a floor
    (overdraft `allow`) may be sharded, so the sharded fee account allows overdraft."""
    ledger = Ledger(store)
    book = ledger.create_ledger(f"fees {fee_shards}", idempotency_key=f"fees-{fee_shards}")
    buyer = ledger.create_account(book.id, "Buyer", "liability", currency, idempotency_key="buyer")
    seller = ledger.create_account(
        book.id, "Seller", "liability", currency, idempotency_key="seller"
    )
    fees = ledger.create_account(
        book.id,
        "Platform fees",
        "revenue",
        currency,
        overdraft="allow" if fee_shards > 1 else "forbid",
        shards=fee_shards,
        idempotency_key="fees",
    )
    ledger.deposit(buyer.id, funding_amount, idempotency_key="funding")
    lines = [
        LineInput(buyer.id, Side.DEBIT, sale_price),
        LineInput(seller.id, Side.CREDIT, sale_price - sale_fee),
        LineInput(fees.id, Side.CREDIT, sale_fee),
    ]
    return _recorded(
        store,
        lambda number: ledger.create_entry(book.id, lines, idempotency_key=f"sale-{number}"),
        account_items(fees),
    )


def record_transfers(store: RecordingStore) -> Recording:
    """Transfers between two accounts of one ledger; the model spreads them over many."""
    ledger = Ledger(store)
    book = ledger.create_ledger("transfers", idempotency_key="transfers")
    payer = ledger.create_account(book.id, "Payer", "liability", currency, idempotency_key="payer")
    payee = ledger.create_account(book.id, "Payee", "liability", currency, idempotency_key="payee")
    ledger.deposit(payer.id, funding_amount, idempotency_key="funding")
    return _recorded(
        store,
        lambda number: ledger.transfer(
            payer.id, payee.id, sale_price, idempotency_key=f"transfer-{number}"
        ),
        frozenset(),
        book.world_shards,
    )


def record_shapes() -> Recorded:
    """Run every workload through the library on a recording store."""
    store = RecordingStore()
    return Recorded(
        transfers=record_transfers(store),
        world_deposits={
            shards: record_world_deposits(store, shards) for shards in world_shard_counts
        },
        fee_sales={
            "unsharded": record_fee_sales(store, 1),
            f"sharded_{fee_account_shards}": record_fee_sales(store, fee_account_shards),
        },
    )
