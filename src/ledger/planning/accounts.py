"""Planning ledgers and accounts: creation, the world account, overdraft changes."""

from __future__ import annotations

from datetime import datetime

from ledger.domain.errors import TypeMismatch, ValidationError
from ledger.domain.ids import world_account_id
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    LedgerRecord,
    Metadata,
    Overdraft,
    OverdraftMode,
)
from ledger.domain.money import Currency
from ledger.planning.commands import NewAccount
from ledger.planning.hashing import request_hash
from ledger.planning.steps import (
    ChangeOverdraft,
    Claim,
    ClaimUnique,
    EnsureWorld,
    PutNew,
    RequireLedger,
    RequireParent,
    Step,
    WritePlan,
    ledger_mismatch,
)


def plan_ledger(
    *, ledger_id: str, name: str, owner_id: str | None, metadata: Metadata, now: datetime
) -> tuple[LedgerRecord, WritePlan]:
    """Create a ledger."""
    record = LedgerRecord(
        id=ledger_id,
        name=name,
        owner_id=owner_id,
        metadata=metadata,
        currencies={},
        created_at=now,
        request_hash=request_hash({"name": name, "owner_id": owner_id, "metadata": metadata}),
    )
    return record, WritePlan((PutNew(record),))


def world_account(ledger_id: str, currency: Currency, now: datetime) -> Account:
    """The ledger's `world` account of `currency`: the outside, with no floor."""
    return Account(
        id=world_account_id(ledger_id, currency),
        ledger_id=ledger_id,
        name=f"World {currency.code}",
        type=AccountType.EQUITY,
        currency=currency,
        status=AccountStatus.ACTIVE,
        overdraft=Overdraft(OverdraftMode.ALLOW),
        created_at=now,
        updated_at=now,
        request_hash="",
        system=True,
    )


def plan_account(command: NewAccount, now: datetime) -> tuple[Account, WritePlan]:
    """Open an account, claim its code, and make sure its currency's `world` account exists."""
    parent = command.parent
    if parent is not None:
        if parent.ledger_id != command.ledger_id:
            raise ledger_mismatch(parent.id, parent.ledger_id, command.ledger_id, "parent_id")
        if parent.is_world:
            raise ValidationError("parent_id", "a system account cannot be a parent")
        if parent.normal_balance is not command.type.normal_balance:
            raise TypeMismatch(
                f"parent account {parent.id} is not of type {command.type}", {"field": "parent_id"}
            )
    overdraft = command.overdraft
    account = Account(
        id=command.account_id,
        ledger_id=command.ledger_id,
        name=command.name,
        type=command.type,
        currency=command.currency,
        status=AccountStatus.ACTIVE,
        overdraft=overdraft,
        created_at=now,
        updated_at=now,
        request_hash=request_hash(
            {
                "ledger_id": command.ledger_id,
                "name": command.name,
                "type": command.type,
                "currency": [command.currency.code, command.currency.scale],
                "code": command.code,
                "parent_id": None if parent is None else parent.id,
                "owner_id": command.owner_id,
                "overdraft": [overdraft.mode, overdraft.credit_limit],
                "metadata": command.metadata,
            }
        ),
        code=command.code,
        parent_id=None if parent is None else parent.id,
        owner_id=command.owner_id,
        metadata=command.metadata,
        headroom=overdraft.credit_limit,
    )
    registered = command.currency if command.registered_currency else None
    steps: list[Step] = [
        PutNew(account),
        RequireLedger(command.ledger_id, registered),
        EnsureWorld(world_account(command.ledger_id, command.currency, now)),
    ]
    if command.code is not None:
        steps.append(ClaimUnique(Claim(command.ledger_id, "code", command.code, account.id)))
    if command.key_digest is not None:
        claim = Claim(command.ledger_id, "key", command.key_digest, account.id)
        steps.append(ClaimUnique(claim))
    if parent is not None:
        steps.append(RequireParent(parent.id, command.ledger_id, command.type))
    return account, WritePlan(tuple(steps))


def plan_overdraft_change(account: Account, overdraft: Overdraft, now: datetime) -> WritePlan:
    """Replace an account's overdraft policy; its headroom moves by the change of limit."""
    if account.system:
        raise ValidationError("overdraft", "a system account's overdraft cannot change")
    return WritePlan((ChangeOverdraft(account.id, account.overdraft, overdraft, now),))
