"""What the audit's reads need from a store that keeps the audit chain (ADR 0025)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ledger.domain.model import Account, AccountShard, Totals
    from ledger.domain.results import AuditLink, AuditPage


class AuditReader(Protocol):
    """Reads of the audit chains and of the balance items they record."""

    def chain(self, account_id: str, shard: int, count_max: int) -> list[AuditLink]:
        """Every record of one item's chain, oldest first; more than `count_max` is
        refused (ReportTooLarge) rather than read on."""

    def head(self, account_id: str, shard: int) -> AuditLink | None:
        """The newest record of one item's chain, or None."""

    def page(
        self, account_id: str, shards: int, limit: int, cursor: str | None, caller: str | None
    ) -> AuditPage:
        """Records of an account's items, item by item (shard 0 first), oldest first."""

    def history_totals(self, account_id: str, shard: int, count_max: int) -> dict[int, Totals]:
        """The totals of every history record of one item, by version; refused past
        `count_max`."""

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        """The account's balance items as they stand, each alone (not summed)."""


@runtime_checkable
class KeepsAudit(Protocol):
    """A store whose table the audit consumer writes the chain into."""

    @property
    def audit(self) -> AuditReader:
        """The store's audit reads."""
