"""The items one operation's TransactWriteItems touches, read from the plans the library makes.

A store that records every plan it executes, with each item's image before and after, turns
a plan into a `Shape`: one `Touch` per item the transaction writes (its key and write units)
and one per index entry the write changes (the index partition it lands in, 1 unit per KB,
outside the transaction). The hot-item model replays these shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.item_size import index_writes, item_size, transactional_factor, units_of
from ledger import Ledger, LineInput, MemoryStore
from ledger.domain.model import Account, Entry, LedgerRecord, Side
from ledger.planning.steps import PutNew, Target, WritePlan
from ledger.store.dynamodb.codec import encode
from ledger.store.dynamodb.schema import indexes, item_key

ItemKey = tuple[str, str]
Image = dict[str, Any]
currency = "USD"
funding_amount = Decimal("1000000.00")
sale_price = Decimal("10.00")
sale_fee = Decimal("0.30")


@dataclass(frozen=True)
class Touch:
    """One item a write touches: a table item (conflicts with any other transaction on it)
    or an index entry (written after the transaction, so it only spends capacity). Its
    partition is the first part of its key: the table's `pk`, or the index and its pk."""

    item: ItemKey
    units: int
    conflicts: bool
    created: bool

    @property
    def partition(self) -> str:
        """The partition whose capacity the touch spends."""
        return self.item[0]


@dataclass(frozen=True)
class Shape:
    """One operation's write: the entry it creates and every item it touches."""

    entry_id: str
    touches: tuple[Touch, ...]


class RecordingStore(MemoryStore):
    """A memory store that keeps the shape of every plan it executes."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[Shape] = []

    def execute(self, plan: WritePlan) -> None:
        """Execute the plan, then keep its shape."""
        before = [self._image(step.target) for step in plan.steps]
        super().execute(plan)
        after = [self._image(step.target) for step in plan.steps]
        self.shapes.append(shape_of(plan, before, after))

    def _image(self, target: Target) -> Image | None:
        record: LedgerRecord | Account | Entry | None = (
            self.get(target, Account) or self.get(target, Entry) or self.get(target, LedgerRecord)
        )
        return None if record is None else dict(encode(record))


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


@dataclass(frozen=True)
class Recorded:
    """Real shapes of the operations the hot-item model replays, and their account items."""

    transfer: Shape
    deposit: Shape
    sale: Shape
    world: ItemKey
    fee_account: ItemKey


def account_item(account: Account) -> ItemKey:
    """The table key of an account's item."""
    key = item_key(Target("account", account.id))
    return key["pk"], key["sk"]


def record_shapes() -> Recorded:
    """Run a transfer, a deposit and a marketplace sale through the library on a recording
    store. The sale is the one entry a marketplace posts: the buyer pays the price, the
    seller receives it less the platform's fee, the fee account receives the fee."""
    store = RecordingStore()
    ledger = Ledger(store)
    book = ledger.create_ledger("hot accounts")
    buyer = ledger.create_account(book.id, "Buyer", "liability", currency)
    seller = ledger.create_account(book.id, "Seller", "liability", currency)
    fees = ledger.create_account(book.id, "Platform fees", "revenue", currency)
    ledger.deposit(buyer.id, funding_amount)
    ledger.transfer(buyer.id, seller.id, sale_price)
    transfer = store.shapes[-1]
    ledger.deposit(seller.id, sale_price)
    deposit = store.shapes[-1]
    ledger.create_entry(
        book.id,
        [
            LineInput(buyer.id, Side.DEBIT, sale_price),
            LineInput(seller.id, Side.CREDIT, sale_price - sale_fee),
            LineInput(fees.id, Side.CREDIT, sale_fee),
        ],
    )
    sale = store.shapes[-1]
    customer = account_item(seller)
    (world,) = (
        touch.item
        for touch in deposit.touches
        if touch.conflicts and not touch.created and touch.item != customer
    )
    return Recorded(transfer, deposit, sale, world, account_item(fees))
