"""Stores execute write plans atomically and answer reads; every store behaves the same."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger.domain.model import Account, AccountShard, Entry, LedgerRecord, Page, Totals
    from ledger.planning.history import HistoryRecord
    from ledger.planning.steps import Target, WritePlan
    from ledger.store.history import HistoryQuery
    from ledger.store.listings import Listing

# Named, not imported: the authorizer imports `ledger.store.dynamodb.client` through this
# package, and its cold start must not load the records and the plan's steps.
R = TypeVar("R", "LedgerRecord", "Account", "Entry")


class Store(Protocol):
    """What the ledger needs from storage.

    `projections` names the projections of the balance items kept where this store can read
    them (`history`, `audit`); reconciliation checks the items against these only.
    """

    @property
    def projections(self) -> tuple[str, ...]:
        """The projections this store's reads find written."""

    def execute(self, plan: WritePlan) -> None:
        """Apply every step of the plan, or none; raise the first violation."""

    def get(self, target: Target, kind: type[R]) -> R | None:
        """The current record at `target` (strongly consistent), or None."""

    def page(self, listing: Listing, limit: int, cursor: str | None, kind: type[R]) -> Page[R]:
        """A page of the records a listing names, in its order."""

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        """An account's balance items as they stand, each alone (not summed), strongly
        consistent, own item first."""

    def history(self, account_id: str, shard: int, query: HistoryQuery) -> list[HistoryRecord]:
        """One balance item's history records in the query's order and range."""

    def aggregates(self, account_id: str, shard: int, bounds: tuple[str, str]) -> dict[str, Totals]:
        """One balance item's effective-time aggregates with `low <= sort key < high`."""

    def entries(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """The entries of these ids that exist, by id, read together (strongly consistent)."""

    def seal(self, binding: bytes, payload: bytes) -> str:
        """An opaque cursor for `payload` that opens only for `binding`, under the store's
        cursor secret."""

    def unseal(self, binding: bytes, cursor: str) -> bytes:
        """The payload of a cursor sealed for `binding`; `foreign_cursor()` otherwise."""
