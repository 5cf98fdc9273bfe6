"""Storage of posting rules: versions that are never overwritten, the latest of each event
type readable by key, and the listing both stores page the same way; and the rules in
memory (the library and its tests)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ledger.domain.model import Page
from ledger.domain.posting_rules import PostingRule
from ledger.planning.steps import Claim, Stored, Target, claim_id
from ledger.store.cursors import new_secret
from ledger.store.dynamodb.schema import ListingSeal

# Up to `count` latest rules of a ledger after an event type (None: from the first), in
# event type order.
ReadAfter = Callable[[str | None, int], list[PostingRule]]


class PayloadSeal(Protocol):
    """Seals an opaque position into a cursor and opens only what it sealed."""

    def seal_payload(self, binding: bytes, payload: bytes) -> str:
        """A cursor for `payload` that opens only for `binding`."""

    def open_payload(self, binding: bytes, cursor: str) -> bytes:
        """The payload of a cursor sealed for `binding`; a validation error otherwise."""


class RuleVersionTaken(Exception):
    """Another writer put this version of the rule first; nothing was written."""

    def __init__(self, rule: PostingRule) -> None:
        super().__init__(f"version {rule.version} of rule {rule.event_type} exists already")
        self.rule = rule


class RuleStore(Protocol):
    """What posting rules need from storage."""

    def add(self, rule: PostingRule) -> None:
        """Store a new version, which becomes the latest: its version item only if it does
        not exist, and only after the version before it; RuleVersionTaken otherwise."""

    def latest(self, ledger_id: str, event_type: str) -> PostingRule | None:
        """The latest version of the ledger's rule for the event type (strongly consistent)."""

    def version(self, ledger_id: str, event_type: str, version: int) -> PostingRule | None:
        """One version of the ledger's rule for the event type."""

    def page(
        self, ledger_id: str, limit: int, cursor: str | None, caller: str | None
    ) -> Page[PostingRule]:
        """The latest rule of every event type of a ledger, by event type, its cursor
        sealed for the ledger and `caller`."""

    def account_of_code(self, ledger_id: str, code: str) -> str | None:
        """The id of the ledger's account with this code, from the code's uniqueness
        claim (strongly consistent), or None."""


@runtime_checkable
class KeepsRules(Protocol):
    """A store that keeps posting rules beside the journal."""

    @property
    def rules(self) -> RuleStore:
        """The posting rules of this store."""


def binding(ledger_id: str, caller: str | None) -> bytes:
    """What a cursor of a ledger's rule listing is sealed for: the ledger and the caller."""
    return json.dumps(["posting_rules", ledger_id, caller], separators=(",", ":")).encode()


def page_of(
    read_after: ReadAfter,
    *,
    seal: PayloadSeal,
    ledger_id: str,
    limit: int,
    cursor: str | None,
    caller: str | None,
) -> Page[PostingRule]:
    """A page as every listing makes it: one more than `limit` read to know whether more
    follow; the cursor is the last event type given, sealed for the listing."""
    bound = binding(ledger_id, caller)
    after = None if cursor is None else seal.open_payload(bound, cursor).decode()
    rules = read_after(after, limit + 1)
    if len(rules) <= limit:
        return Page(rules, None)
    kept = rules[:limit]
    return Page(kept, seal.seal_payload(bound, kept[-1].event_type.encode()))


class MemoryRules:
    """Posting rules in a dict, with the DynamoDB store's semantics; account codes are
    looked up in the store's items through `stored`."""

    def __init__(self, stored: Callable[[Target], Stored]) -> None:
        self._stored = stored
        self._versions: dict[tuple[str, str], list[PostingRule]] = {}
        self._lock = threading.Lock()
        self._seal = ListingSeal(new_secret())

    def add(self, rule: PostingRule) -> None:
        """Append the next version; RuleVersionTaken unless it is exactly the next."""
        with self._lock:
            versions = self._versions.setdefault((rule.ledger_id, rule.event_type), [])
            if rule.version != len(versions) + 1:
                raise RuleVersionTaken(rule)
            versions.append(rule)

    def latest(self, ledger_id: str, event_type: str) -> PostingRule | None:
        """The latest version, or None."""
        with self._lock:
            versions = self._versions.get((ledger_id, event_type))
            return versions[-1] if versions else None

    def account_of_code(self, ledger_id: str, code: str) -> str | None:
        """The account the code's claim names, or None."""
        claim = self._stored(Target("code", claim_id(ledger_id, code)))
        return claim.account_id if isinstance(claim, Claim) and claim.kind == "code" else None

    def version(self, ledger_id: str, event_type: str, version: int) -> PostingRule | None:
        """One version, or None."""
        with self._lock:
            versions = self._versions.get((ledger_id, event_type), [])
        return versions[version - 1] if 1 <= version <= len(versions) else None

    def page(
        self, ledger_id: str, limit: int, cursor: str | None, caller: str | None
    ) -> Page[PostingRule]:
        """The latest rule of every event type of the ledger, by event type."""
        with self._lock:
            latest = sorted(
                (
                    versions[-1]
                    for (ledger, _), versions in self._versions.items()
                    if ledger == ledger_id
                ),
                key=lambda rule: rule.event_type,
            )

        def read_after(after: str | None, count: int) -> list[PostingRule]:
            return [rule for rule in latest if after is None or rule.event_type > after][:count]

        return page_of(
            read_after,
            seal=self._seal,
            ledger_id=ledger_id,
            limit=limit,
            cursor=cursor,
            caller=caller,
        )
