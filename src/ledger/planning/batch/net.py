"""Netting: the transfers of a batch between the same two accounts become one entry."""

from __future__ import annotations

from dataclasses import replace

from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.model import EntryKind, Side
from ledger.planning.batch.parse import Drafted, attributed_error
from ledger.planning.commands import LineDraft
from ledger.planning.hashing import request_hash

_NettingKey = tuple[frozenset[str], str]


def net_transfers(drafted: list[Drafted]) -> list[Drafted]:
    """Replace the transfers between each pair of accounts that carry identical options by
    one entry of the net amount (none where they cancel out), in the place of the first of
    them: a netted entry keeps every reference, description, metadata and effective time.
    Direction is which account is debited, so accounts of either normal side net correctly."""
    totals: dict[_NettingKey, int] = {}
    firsts: dict[_NettingKey, Drafted] = {}
    for draft in drafted:
        if draft.kind is EntryKind.TRANSFER:
            key = _netting_key(draft)
            first = firsts.setdefault(key, draft)
            same_way = _debited(draft) == _debited(first)
            amount = draft.lines[0].amount
            totals[key] = totals.get(key, 0) + (amount if same_way else -amount)
    netted = []
    for draft in drafted:
        if draft.kind is not EntryKind.TRANSFER:
            netted.append(draft)
            continue
        key = _netting_key(draft)
        total = totals[key]
        if firsts[key] is not draft or total == 0:
            continue
        if abs(total) > limits.amount_minor_max:
            raise attributed_error(
                draft.index, ValidationError("amount", "the netted amount is larger than allowed")
            )
        # The other way round: the second account pays, so it comes first, as in a transfer.
        ordered = draft.lines if total > 0 else draft.lines[::-1]
        lines = [
            LineDraft(line.account, line.side if total > 0 else line.side.opposite, abs(total))
            for line in ordered
        ]
        netted.append(replace(draft, lines=lines))
    return netted


def _netting_key(draft: Drafted) -> _NettingKey:
    """Transfers net together only between the same two accounts and with the same options
    (an option given as null is the option left out)."""
    options = {name: value for name, value in draft.options.items() if value is not None}
    return frozenset(line.account.id for line in draft.lines), request_hash(options)


def _debited(draft: Drafted) -> str:
    return next(line.account.id for line in draft.lines if line.side is Side.DEBIT)
