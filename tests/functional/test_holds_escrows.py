"""Holds and escrows on every store: presets over pending entries, counted in the payer's
`held` and `escrowed`, independent of each other, each resolved exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ledger.domain.errors import (
    AccountInactive,
    AlreadyResolved,
    AmountExceedsPending,
    CurrencyMismatch,
    InsufficientFunds,
    LedgerError,
    NotFound,
    ValidationError,
)
from ledger.domain.ids import world_account_id
from ledger.domain.model import (
    Account,
    AccountShard,
    Balance,
    Entry,
    EntryKind,
    EntryStatus,
    Line,
    Page,
    Side,
    Totals,
)
from ledger.domain.money import builtin_currencies
from ledger.planning.history import HistoryRecord
from ledger.planning.steps import Target, WritePlan
from ledger.service import Ledger
from ledger.store import R, Store
from ledger.store.history import HistoryQuery
from ledger.store.listings import Listing

from .checks import assert_invariants, refused
from .helpers import Backend, NothingWritten, open_account

USD = builtin_currencies["USD"]


def _wallet(ledger: Ledger, book: str, amount: str = "100.00") -> str:
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, amount)
    return wallet.id


def _parts(balance: Balance) -> tuple[int, int, int, int, int]:
    """(posted, pending_out, held, escrowed, available)."""
    return (
        balance.posted,
        balance.pending_out,
        balance.held,
        balance.escrowed,
        balance.available,
    )


# --- holds ---------------------------------------------------------------------------------


def test_a_hold_reserves_an_amount_for_the_world_by_default(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a wallet of 100.00
    wallet = _wallet(ledger, book)
    world = world_account_id(book, USD)
    world_before = ledger.get_balance(world)
    # WHEN holding 30.00 of it
    hold = ledger.hold(wallet, "30.00", reference="card-auth-1")
    # THEN the hold is a pending entry from the wallet to the world
    assert (hold.kind, hold.status, hold.reference) == (
        EntryKind.HOLD,
        EntryStatus.PENDING,
        "card-auth-1",
    )
    assert hold.lines == (
        Line(wallet, Side.DEBIT, 3000, "USD"),
        Line(world, Side.CREDIT, 3000, "USD"),
    )
    # AND the wallet counts it as held: posted unchanged, available down by it
    assert _parts(ledger.get_balance(wallet)) == (10000, 3000, 3000, 0, 7000)
    # AND the world expects it but holds nothing for it
    world_after = ledger.get_balance(world)
    assert world_after.pending_in == world_before.pending_in + 3000
    assert (world_after.posted, world_after.held) == (world_before.posted, 0)
    assert_invariants(backend, book)


def test_confirming_a_hold_in_full_posts_it(ledger: Ledger, book: str, backend: Backend) -> None:
    # GIVEN a hold of 30.00 on a wallet of 100.00
    wallet = _wallet(ledger, book)
    hold = ledger.hold(wallet, "30.00")
    # WHEN confirming it
    confirmed = ledger.confirm_hold(hold.id)
    # THEN the hold is posted through a posting entry
    assert (confirmed.id, confirmed.kind, confirmed.status) == (
        hold.id,
        EntryKind.HOLD,
        EntryStatus.POSTED,
    )
    assert confirmed.posting_entry_id is not None
    posting = ledger.get_entry(confirmed.posting_entry_id)
    assert (posting.kind, posting.pending_id, posting.lines) == (
        EntryKind.POST,
        hold.id,
        hold.lines,
    )
    # AND the wallet has paid: nothing held any more
    assert _parts(ledger.get_balance(wallet)) == (7000, 0, 0, 0, 7000)
    assert_invariants(backend, book)


def test_confirming_a_hold_for_less_releases_the_rest(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a hold of 30.00 on a wallet of 100.00, for a merchant
    wallet = _wallet(ledger, book)
    merchant = open_account(ledger, book).id
    hold = ledger.hold(wallet, "30.00", counterparty_account_id=merchant)
    assert ledger.get_balance(merchant).pending_in == 3000
    # WHEN confirming 10.00 of it
    confirmed = ledger.confirm_hold(hold.id, "10.00")
    # THEN 10.00 is paid to the merchant and the other 20.00 is the wallet's again
    assert confirmed.status is EntryStatus.POSTED
    assert _parts(ledger.get_balance(wallet)) == (9000, 0, 0, 0, 9000)
    merchant_balance = ledger.get_balance(merchant)
    assert (merchant_balance.posted, merchant_balance.pending_in) == (1000, 0)
    assert_invariants(backend, book)


def test_releasing_a_hold_gives_everything_back(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a hold of 30.00 on a wallet of 100.00
    wallet = _wallet(ledger, book)
    hold = ledger.hold(wallet, "30.00", expires_in=3600)
    # WHEN releasing it
    released = ledger.release_hold(hold.id)
    # THEN it is voided and the wallet is whole
    assert (released.id, released.status, released.posting_entry_id) == (
        hold.id,
        EntryStatus.VOIDED,
        None,
    )
    assert ledger.get_entry(hold.id).status is EntryStatus.VOIDED
    assert _parts(ledger.get_balance(wallet)) == (10000, 0, 0, 0, 10000)
    assert_invariants(backend, book)


def test_a_hold_resolves_once(ledger: Ledger, book: str, nothing_written: NothingWritten) -> None:
    # GIVEN a confirmed hold and a released hold
    wallet = _wallet(ledger, book)
    confirmed, released = ledger.hold(wallet, "30.00"), ledger.hold(wallet, "5.00")
    ledger.confirm_hold(confirmed.id, "10.00")
    ledger.release_hold(released.id)
    attempts: list[Callable[[], Entry]] = [
        lambda: ledger.confirm_hold(confirmed.id),
        lambda: ledger.release_hold(confirmed.id),
        lambda: ledger.confirm_hold(released.id),
        lambda: ledger.release_hold(released.id),
    ]
    for attempt in attempts:
        # WHEN confirming or releasing either again (other than the same confirmation)
        error = refused(nothing_written, attempt, AlreadyResolved)
        # THEN it is already resolved
        assert error.code == "already_resolved"
    # AND the same confirmation again is a replay that moves nothing
    with nothing_written():
        replay = ledger.confirm_hold(confirmed.id, "10.00")
    assert (replay.id, replay.replayed) == (confirmed.id, True)
    assert _parts(ledger.get_balance(wallet)) == (9000, 0, 0, 0, 9000)


def test_hold_refusals_write_nothing(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet of 100.00 with a hold of 30.00, a suspended wallet, and a EUR account
    wallet = _wallet(ledger, book)
    hold = ledger.hold(wallet, "30.00")
    suspended = _wallet(ledger, book, "5.00")
    ledger.update_account(suspended, status="suspended")
    euro = open_account(ledger, book, currency="EUR").id
    # WHEN holding beyond what is available, from a suspended account, against another
    # currency or with a bad expiry; or confirming more than held
    refusals: list[tuple[Callable[[], Entry], type[LedgerError], dict[str, Any]]] = [
        (lambda: ledger.hold(wallet, "70.01"), InsufficientFunds, {"account_id": wallet}),
        (lambda: ledger.hold(suspended, "1.00"), AccountInactive, {"account_id": suspended}),
        (
            lambda: ledger.hold(wallet, "1.00", counterparty_account_id=euro),
            CurrencyMismatch,
            {"account_id": euro},
        ),
        (
            lambda: ledger.hold(wallet, "1.00", expires_in=0),
            ValidationError,
            {"field": "expires_in"},
        ),
        (lambda: ledger.hold(wallet, "0.00"), ValidationError, {"field": "amount"}),
        (
            lambda: ledger.confirm_hold(hold.id, "30.01"),
            AmountExceedsPending,
            {"entry_id": hold.id},
        ),
    ]
    for attempt, error_type, details in refusals:
        error = refused(nothing_written, attempt, error_type)
        # THEN each is refused with its code and details
        assert error.details == details, error_type
    # AND the hold is still there, whole
    assert _parts(ledger.get_balance(wallet)) == (10000, 3000, 3000, 0, 7000)


# --- escrows -------------------------------------------------------------------------------


def test_an_escrow_sets_the_buyers_money_aside_for_the_seller(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a buyer with 100.00 and an empty seller
    buyer, seller = _wallet(ledger, book), open_account(ledger, book).id
    # WHEN 40.00 go into escrow
    escrow = ledger.escrow(buyer, seller, "40.00", description="bike")
    # THEN the escrow is a pending entry from buyer to seller
    assert (escrow.kind, escrow.status, escrow.description) == (
        EntryKind.ESCROW,
        EntryStatus.PENDING,
        "bike",
    )
    assert [line.account_id for line in escrow.lines] == [buyer, seller]
    # AND the buyer counts it as escrowed, the seller sees it coming but cannot spend it
    assert _parts(ledger.get_balance(buyer)) == (10000, 4000, 0, 4000, 6000)
    seller_balance = ledger.get_balance(seller)
    assert (seller_balance.pending_in, seller_balance.available) == (4000, 0)
    refused(nothing_written, lambda: ledger.spend(seller, "0.01"), InsufficientFunds)
    assert_invariants(backend, book)


def test_releasing_an_escrow_pays_the_seller(ledger: Ledger, book: str, backend: Backend) -> None:
    # GIVEN 40.00 in escrow from a buyer of 100.00
    buyer, seller = _wallet(ledger, book), open_account(ledger, book).id
    escrow = ledger.escrow(buyer, seller, "40.00")
    # WHEN releasing it
    released = ledger.release_escrow(escrow.id)
    # THEN it is posted and the seller has the money
    assert (released.id, released.status) == (escrow.id, EntryStatus.POSTED)
    assert released.posting_entry_id is not None
    assert _parts(ledger.get_balance(buyer)) == (6000, 0, 0, 0, 6000)
    seller_balance = ledger.get_balance(seller)
    assert (seller_balance.posted, seller_balance.pending_in, seller_balance.available) == (
        4000,
        0,
        4000,
    )
    assert_invariants(backend, book)


def test_refunding_an_escrow_returns_the_money_to_the_buyer(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN 40.00 in escrow from a buyer of 100.00
    buyer, seller = _wallet(ledger, book), open_account(ledger, book).id
    escrow = ledger.escrow(buyer, seller, "40.00")
    # WHEN refunding it
    refunded = ledger.refund_escrow(escrow.id)
    # THEN it is voided, the buyer is whole and the seller expects nothing
    assert (refunded.id, refunded.status) == (escrow.id, EntryStatus.VOIDED)
    assert _parts(ledger.get_balance(buyer)) == (10000, 0, 0, 0, 10000)
    assert ledger.get_balance(seller).pending_in == 0
    # AND it cannot be released or refunded any more
    for attempt in (ledger.release_escrow, ledger.refund_escrow):
        refused(nothing_written, lambda: attempt(escrow.id), AlreadyResolved)  # noqa: B023
    assert_invariants(backend, book)


def test_escrow_refusals_write_nothing(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a buyer of 10.00 and a seller
    buyer, seller = _wallet(ledger, book, "10.00"), open_account(ledger, book).id
    # WHEN escrowing more than the buyer has, or to the buyer itself
    funds = refused(
        nothing_written, lambda: ledger.escrow(buyer, seller, "10.01"), InsufficientFunds
    )
    itself = refused(nothing_written, lambda: ledger.escrow(buyer, buyer, "1.00"), ValidationError)
    # THEN both are refused
    assert funds.details == {"account_id": buyer}
    assert itself.details == {"field": "lines[1].account_id"}


def test_holds_and_escrows_are_not_interchangeable(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a hold, an escrow and a plain deposit
    buyer, seller = _wallet(ledger, book), open_account(ledger, book).id
    hold, escrow = ledger.hold(buyer, "1.00"), ledger.escrow(buyer, seller, "2.00")
    deposit = ledger.deposit(buyer, "3.00")
    attempts: list[tuple[Callable[[str], Entry], str, str]] = [
        (ledger.confirm_hold, escrow.id, "hold"),
        (ledger.release_hold, escrow.id, "hold"),
        (ledger.confirm_hold, deposit.id, "hold"),
        (ledger.release_escrow, hold.id, "escrow"),
        (ledger.refund_escrow, hold.id, "escrow"),
        (ledger.refund_escrow, deposit.id, "escrow"),
    ]
    for attempt, entry_id, resource in attempts:
        # WHEN resolving one through the other's calls
        error = refused(nothing_written, lambda: attempt(entry_id), NotFound)  # noqa: B023
        # THEN there is no such hold or escrow
        assert error.details == {"resource": resource, "id": entry_id}


def test_holds_and_escrows_on_one_account_coexist_independently(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a wallet of 100.00 and a seller
    wallet, seller = _wallet(ledger, book), open_account(ledger, book).id
    # WHEN holding 30.00 and escrowing 20.00
    hold = ledger.hold(wallet, "30.00")
    escrow = ledger.escrow(wallet, seller, "20.00")
    # THEN each is counted on its own, and both count against available
    assert _parts(ledger.get_balance(wallet)) == (10000, 5000, 3000, 2000, 5000)
    # WHEN the hold is released
    ledger.release_hold(hold.id)
    # THEN the escrow is untouched
    assert _parts(ledger.get_balance(wallet)) == (10000, 2000, 0, 2000, 8000)
    # WHEN another hold of 10.00 comes, and then the escrow is released to the seller
    second = ledger.hold(wallet, "10.00")
    ledger.release_escrow(escrow.id)
    # THEN the hold is untouched
    assert _parts(ledger.get_balance(wallet)) == (8000, 1000, 1000, 0, 7000)
    assert ledger.get_balance(seller).posted == 2000
    # WHEN the hold is confirmed for 4.00
    ledger.confirm_hold(second.id, "4.00")
    # THEN nothing is held or escrowed, and the wallet paid 24.00 in all
    assert _parts(ledger.get_balance(wallet)) == (7600, 0, 0, 0, 7600)
    assert_invariants(backend, book)


def test_a_flow_of_holds_and_escrows_keeps_every_invariant(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN two wallets, a merchant and an asset account funding them
    bank = open_account(ledger, book, type="asset")
    first, second, merchant = (open_account(ledger, book).id for _ in range(3))
    ledger.deposit(first, "50.00", counterparty_account_id=bank.id)
    ledger.deposit(second, "20.00")
    # WHEN holds and escrows are created, confirmed, released and refunded in a mix
    holds = [
        ledger.hold(first, "10.00"),
        ledger.hold(first, "5.00", counterparty_account_id=merchant),
    ]
    escrows = [ledger.escrow(first, second, "7.00"), ledger.escrow(second, merchant, "20.00")]
    ledger.confirm_hold(holds[1].id, "2.50")
    ledger.release_escrow(escrows[0].id)
    ledger.escrow(second, first, "7.00")
    ledger.refund_escrow(escrows[1].id)
    ledger.hold(bank.id, "1.00")
    # THEN every account agrees with the journal and conservation holds posted and pending
    accounts = assert_invariants(backend, book)
    by_id = {account.id: account.balance() for account in accounts}
    assert _parts(by_id[first]) == (4050, 1000, 1000, 0, 3050)
    assert _parts(by_id[second]) == (2700, 700, 0, 700, 2000)
    assert (by_id[merchant].posted, by_id[merchant].pending_in) == (250, 0)
    assert (by_id[bank.id].posted, by_id[bank.id].held) == (5000, 100)


# --- round trips ---------------------------------------------------------------------------


class CountingStore:
    """A store that counts the calls a ledger makes to it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    @property
    def projections(self) -> tuple[str, ...]:
        """Delegate."""
        return self._store.projections

    def execute(self, plan: WritePlan) -> None:
        """Count, then delegate."""
        self.calls["execute"] += 1
        self._store.execute(plan)

    def get(self, target: Target, kind: type[R]) -> R | None:
        """Count, then delegate."""
        self.calls["get"] += 1
        return self._store.get(target, kind)

    def page(self, listing: Listing, limit: int, cursor: str | None, kind: type[R]) -> Page[R]:
        """Count, then delegate."""
        self.calls["page"] += 1
        return self._store.page(listing, limit, cursor, kind)

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        """Count, then delegate."""
        self.calls["items"] += 1
        return self._store.items(account_id, shards)

    def history(self, account_id: str, shard: int, query: HistoryQuery) -> list[HistoryRecord]:
        """Count, then delegate."""
        self.calls["history"] += 1
        return self._store.history(account_id, shard, query)

    def aggregates(self, account_id: str, shard: int, bounds: tuple[str, str]) -> dict[str, Totals]:
        """Count, then delegate."""
        self.calls["aggregates"] += 1
        return self._store.aggregates(account_id, shard, bounds)

    def entries(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """Count, then delegate."""
        self.calls["entries"] += 1
        return self._store.entries(entry_ids)

    def seal(self, binding: bytes, payload: bytes) -> str:
        """Count, then delegate."""
        self.calls["seal"] += 1
        return self._store.seal(binding, payload)

    def unseal(self, binding: bytes, cursor: str) -> bytes:
        """Count, then delegate."""
        self.calls["unseal"] += 1
        return self._store.unseal(binding, cursor)


Measured = Callable[[Ledger], Entry]


def _prepared(name: str, ledger: Ledger, wallet: str, seller: str) -> tuple[Measured, int]:
    """The call to measure for movement `name`, with what it acts on created beforehand
    (unmeasured), and how many reads it may make."""
    if name == "hold":
        return (lambda counted: counted.hold(wallet, "1.00")), 0
    if name == "escrow":
        return (lambda counted: counted.escrow(wallet, seller, "1.00")), 0
    if name == "reverse_entry":
        paid = ledger.transfer(wallet, seller, "1.00")
        return (lambda counted: counted.reverse_entry(paid.id)), 1
    pending_id = (
        ledger.escrow(wallet, seller, "1.00") if "escrow" in name else ledger.hold(wallet, "1.00")
    ).id
    resolutions: dict[str, Measured] = {
        "confirm_hold": lambda counted: counted.confirm_hold(pending_id),
        "release_hold": lambda counted: counted.release_hold(pending_id),
        "release_escrow": lambda counted: counted.release_escrow(pending_id),
        "refund_escrow": lambda counted: counted.refund_escrow(pending_id),
        "post_entry": lambda counted: counted.post_entry(pending_id),
        "void_entry": lambda counted: counted.void_entry(pending_id),
    }
    return resolutions[name], 1


movements = [
    "hold",
    "escrow",
    "confirm_hold",
    "release_hold",
    "release_escrow",
    "refund_escrow",
    "post_entry",
    "void_entry",
    "reverse_entry",
]


def test_round_trips_of_each_money_movement(ledger: Ledger, book: str, backend: Backend) -> None:
    # GIVEN a funded wallet and a seller
    wallet, seller = _wallet(ledger, book), open_account(ledger, book).id
    calls: dict[str, Counter[str]] = {}
    expected: dict[str, Counter[str]] = {}
    for name in movements:
        # AND whatever the movement acts on, created beforehand
        measured, reads = _prepared(name, ledger, wallet, seller)
        counting = CountingStore(backend.store)
        # WHEN making the movement through a ledger that counts its store calls
        result = measured(Ledger(counting))
        assert isinstance(result, Entry), name
        calls[name] = counting.calls
        expected[name] = Counter({"execute": 1, "get": reads})
    # THEN each is one write, after at most one consistent read of the entry it acts on
    # (DESIGN.md §5: hold and escrow 0 reads; confirm, release and reverse 1 GetItem)
    assert calls == expected
