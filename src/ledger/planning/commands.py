"""Requests as callers give them, turned into the validated commands the planner takes (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from ledger.domain import limits, validate
from ledger.domain.errors import CurrencyMismatch, ValidationError
from ledger.domain.ids import AccountRef, parse_account_id, world_account_id
from ledger.domain.inputs import Amount, LineInput
from ledger.domain.model import (
    AccountType,
    Actor,
    EntryKind,
    Metadata,
    Overdraft,
    OverdraftMode,
    RuleOrigin,
    Side,
)
from ledger.domain.money import Currency, parse_amount


class EntryOptions(TypedDict, total=False):
    """What every entry-creating call takes besides its accounts and amounts."""

    description: str | None
    reference: str | None
    effective_at: datetime | None
    metadata: dict[str, str] | None
    idempotency_key: str | None
    # Who causes the entry; stored on it, and no part of what makes a retry a replay.
    actor: Actor | None


@dataclass(frozen=True)
class PendingTerms:
    """A request to create an entry pending, with an optional expiry in seconds."""

    expires_in: int | None


@dataclass(frozen=True)
class NewAccount:
    """A validated request to open an account."""

    account_id: str
    ledger_id: str
    name: str
    type: AccountType
    currency: Currency
    registered_currency: bool
    code: str | None
    parent: AccountRef | None
    owner_id: str | None
    overdraft: Overdraft
    metadata: Metadata
    key_digest: str | None
    shards: int = 1


@dataclass(frozen=True)
class LineDraft:
    """A line before planning: the account's facts come from its id."""

    account: AccountRef
    side: Side
    amount: int


@dataclass(frozen=True)
class NewEntry:
    """A validated request to post a journal entry, or to create it pending."""

    entry_id: str
    ledger_id: str
    kind: EntryKind
    lines: Sequence[LineDraft]
    description: str | None
    reference: str | None
    metadata: Metadata
    effective_at: datetime | None
    pending: bool = False
    expires_in: int | None = None
    # Entries of one batch carry the batch's digest, so no entry of a changed batch replays.
    batch_hash: str | None = None
    actor: Actor | None = None
    # An entry posted from an inbound event: its rule, and the hash of the event, which
    # tells a redelivery from another event under the same id.
    posting_rule: RuleOrigin | None = None
    request_hash: str | None = None


def check_currency(line_currency: str | None, account: AccountRef, field: str) -> None:
    """A line that names its currency must name its account's."""
    if line_currency is not None and line_currency != account.currency.code:
        raise CurrencyMismatch(
            f"account {account.id} holds {account.currency.code}, not {line_currency}",
            {"field": field, "account_id": account.id},
        )


def line_drafts(lines: Sequence[LineInput]) -> list[LineDraft]:
    """The lines of a raw journal entry, each amount in its account's currency."""
    drafts = []
    for index, line in enumerate(lines):
        account = parse_account_id(line.account_id)
        check_currency(line.currency, account, f"lines[{index}].currency")
        drafts.append(
            LineDraft(
                account,
                validate.choice(f"lines[{index}].side", Side, line.side),
                parse_amount(line.amount, account.currency, f"lines[{index}].amount"),
            )
        )
    return drafts


def two_line_drafts(
    account_id: str, counterparty_id: str | None, amount: Amount, *, inflow: bool
) -> list[LineDraft]:
    """A preset's lines: the account gains (inflow) or gives on its own side, and the
    counterparty (default: the ledger's world of the currency) takes the other side."""
    account = parse_account_id(account_id)
    counterparty = (
        parse_account_id(world_account_id(account.ledger_id, account.currency))
        if counterparty_id is None
        else parse_account_id(counterparty_id)
    )
    _check_same_currency(account, counterparty)
    minor = parse_amount(amount, account.currency)
    side = account.normal_balance if inflow else account.normal_balance.opposite
    return [LineDraft(account, side, minor), LineDraft(counterparty, side.opposite, minor)]


def conversion_drafts(
    from_account_id: str, to_account_id: str, from_amount: Amount, to_amount: Amount
) -> list[LineDraft]:
    """Four lines through both currencies' world accounts, so each currency balances alone."""
    source = parse_account_id(from_account_id)
    target = parse_account_id(to_account_id)
    if source.currency == target.currency:
        raise ValidationError(
            "to_account_id", "a conversion needs two currencies; use a transfer instead"
        )
    paid = parse_amount(from_amount, source.currency, "from_amount")
    received = parse_amount(to_amount, target.currency, "to_amount")
    source_world = parse_account_id(world_account_id(source.ledger_id, source.currency))
    target_world = parse_account_id(world_account_id(source.ledger_id, target.currency))
    outflow = source.normal_balance.opposite
    inflow = target.normal_balance
    return [
        LineDraft(source, outflow, paid),
        LineDraft(source_world, outflow.opposite, paid),
        LineDraft(target_world, inflow.opposite, received),
        LineDraft(target, inflow, received),
    ]


def entry_command(
    entry_id: str,
    ledger_id: str,
    kind: EntryKind,
    lines: Sequence[LineDraft],
    options: EntryOptions,
    *,
    pending: PendingTerms | None,
    batch_hash: str | None = None,
) -> NewEntry:
    """A planning command from a request's lines and options, every option validated."""
    return NewEntry(
        entry_id=entry_id,
        ledger_id=ledger_id,
        kind=kind,
        lines=lines,
        description=validate.description(options.get("description")),
        reference=validate.optional_text(
            "reference", options.get("reference"), limits.reference_length_max
        ),
        metadata=validate.metadata(options.get("metadata")),
        effective_at=validate.moment("effective_at", options.get("effective_at")),
        pending=pending is not None,
        expires_in=None if pending is None else expires_in(pending.expires_in),
        batch_hash=batch_hash,
        actor=validate.actor(options.get("actor")),
    )


def expires_in(value: object) -> int | None:
    """A pending entry's lifetime in whole seconds, bounded."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("expires_in", "expires_in must be a whole number of seconds")
    if not 1 <= value <= limits.expires_in_s_max:
        raise ValidationError(
            "expires_in", f"expires_in must be from 1 to {limits.expires_in_s_max} seconds"
        )
    return value


def overdraft_policy(
    currency: Currency, overdraft: OverdraftMode | str, credit_limit: Amount | None
) -> Overdraft:
    """An overdraft policy: a credit limit goes with, and only with, mode `limit`."""
    mode = validate.choice("overdraft", OverdraftMode, overdraft)
    if mode is OverdraftMode.LIMIT:
        if credit_limit is None:
            raise ValidationError("credit_limit", "overdraft limit needs a credit_limit")
        return Overdraft(mode, parse_amount(credit_limit, currency, "credit_limit"))
    if credit_limit is not None:
        raise ValidationError("credit_limit", "credit_limit goes only with overdraft limit")
    return Overdraft(mode)


def page_size(limit: int) -> int:
    """A listing's page size, 1 to the page maximum."""
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= limits.page_size_max
    ):
        raise ValidationError(
            "limit", f"limit must be a whole number from 1 to {limits.page_size_max}"
        )
    return limit


def listing_caller(caller: object) -> str | None:
    """Who a listing's cursors are for (the API passes its key id), if anyone."""
    return validate.optional_text("caller", caller, limits.name_length_max)


def _check_same_currency(account: AccountRef, counterparty: AccountRef) -> None:
    if account.currency != counterparty.currency:
        raise CurrencyMismatch(
            f"account {account.id} holds {account.currency.code} but "
            f"{counterparty.id} holds {counterparty.currency.code}",
            {"account_id": counterparty.id},
        )
