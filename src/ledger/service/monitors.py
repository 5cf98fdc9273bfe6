"""Balance monitors of an account: created evaluated at a version of its balance, listed,
removed (docs/monitors.md, ADR 0028). The monitors consumer keeps their state after that."""

from __future__ import annotations

import json
from dataclasses import replace

from ledger.domain import limits, validate
from ledger.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    MonitorsNotKept,
    NotFound,
)
from ledger.domain.ids import is_monitor_id, new_monitor_id, parse_account_id
from ledger.domain.model import Account, AccountShard, Page
from ledger.domain.monitors import Monitor, MonitorField, Operator, parse_threshold
from ledger.domain.timestamps import timestamp
from ledger.planning.commands import listing_caller, page_size
from ledger.planning.monitors import new_monitor
from ledger.service.base import LedgerBase
from ledger.store.monitors import AccountMoved, KeepsMonitors, MonitorTaken


class Monitors(LedgerBase):
    """Monitors of accounts' balances and of the entries that move them."""

    def create_monitor(
        self,
        account_id: str,
        field: MonitorField | str,
        operator: Operator | str,
        value: str,
        *,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> Monitor:
        """A monitor of the account, its state evaluated at the balance's current version
        (strongly consistent, re-read if the account moves before the monitor is written).
        `value` is an amount in the account's currency, or a percent for the utilization."""
        store = self._monitor_store()
        account_ref = parse_account_id(account_id)
        watched = validate.choice("field", MonitorField, field)
        comparison = validate.choice("operator", Operator, operator)
        threshold = parse_threshold(watched, value, account_ref.currency)
        text = validate.description(description)
        key = validate.idempotency_key(idempotency_key)
        monitor_id = new_monitor_id(account_id, key)
        for _ in range(limits.monitor_create_attempts_max):
            account = self._account_as_it_stands(account_id, account_ref.shards)
            monitor = new_monitor(
                monitor_id,
                account.balance(),
                ledger_id=account.ledger_id,
                field=watched,
                operator=comparison,
                threshold=threshold,
                description=text,
                now=self._clock(),
            )
            versions = account.shard_versions or (account.version,)
            try:
                store.add_monitor(monitor, versions)
            except MonitorTaken as taken:
                existing = taken.existing
                if existing.request_hash != monitor.request_hash:
                    raise IdempotencyKeyReused(
                        "this idempotency key was already used for a different request"
                    ) from None
                # Without a key the id was random: only this call's own retry can have written it.
                return replace(existing, replayed=key is not None)
            except AccountMoved:
                continue
            return monitor
        raise Conflict(
            "the account kept changing while its monitor was evaluated; nothing was written; "
            "retry with the same key",
            {"outcome": "not_applied"},
        )

    def list_monitors(
        self,
        account_id: str,
        *,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Page[Monitor]:
        """The account's monitors, oldest first; `cursor` is good only for this account and
        caller. An account holds few, so every page is cut from one read of them all."""
        store = self._monitor_store()
        size = page_size(limit)
        binding = json.dumps(["monitors", account_id, listing_caller(caller)]).encode()
        self._account_as_it_stands(account_id, parse_account_id(account_id).shards)
        ordered = sorted(store.monitors(account_id), key=_position)
        if cursor is not None:
            after = self._store.unseal(binding, cursor).decode()
            ordered = [monitor for monitor in ordered if _position(monitor) > after]
        items = ordered[:size]
        more = len(ordered) > size
        next_cursor = self._store.seal(binding, _position(items[-1]).encode()) if more else None
        return Page(items, next_cursor)

    def get_monitor(self, account_id: str, monitor_id: str) -> Monitor:
        """One monitor of the account."""
        store = self._monitor_store()
        parse_account_id(account_id)
        if not is_monitor_id(monitor_id):
            raise NotFound("monitor", monitor_id)
        found = [each for each in store.monitors(account_id) if each.id == monitor_id]
        if not found:
            raise NotFound("monitor", monitor_id)
        return found[0]

    def delete_monitor(self, account_id: str, monitor_id: str) -> Monitor:
        """Remove a monitor; the monitor as it was. It emits nothing from then on."""
        monitor = self.get_monitor(account_id, monitor_id)
        if not self._monitor_store().remove_monitor(account_id, monitor_id):
            raise NotFound("monitor", monitor_id)
        return monitor

    def _monitor_store(self) -> KeepsMonitors:
        store = self._store
        if not isinstance(store, KeepsMonitors):
            raise MonitorsNotKept("this store keeps no monitors")
        return store

    def _account_as_it_stands(self, account_id: str, shards: int) -> Account:
        """The account summed with its shards, each item read strongly consistently."""
        items = self._store.items(account_id, shards)
        if not items or not isinstance(items[0], Account):
            raise NotFound("account", account_id)
        return items[0].with_shards([item for item in items if isinstance(item, AccountShard)])


def _position(monitor: Monitor) -> str:
    """Where a monitor sits in its account's listing: creation time, then id."""
    return f"{timestamp(monitor.created_at)}#{monitor.id}"
