"""Planning ledgers and accounts: creation, the world account, overdraft changes."""

from __future__ import annotations

from datetime import datetime

from ledger.domain.errors import AccountNotEmpty, TypeMismatch, ValidationError
from ledger.domain.ids import (
    AccountRef,
    bare_ledger_id,
    ledger_token,
    world_account_id,
    world_shards_of,
)
from ledger.domain.model import (
    Account,
    AccountShard,
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
    SetStatus,
    Step,
    WritePlan,
    ledger_claim,
    ledger_mismatch,
)


def plan_ledger(
    *,
    ledger_id: str,
    name: str,
    owner_id: str | None,
    metadata: Metadata,
    now: datetime,
    keyed: bool = False,
) -> tuple[LedgerRecord, WritePlan]:
    """Create a ledger. One created under an idempotency key (`keyed`) also claims its id
    without the shard count, so the same key with another `world_shards` is refused."""
    world_shards = world_shards_of(ledger_id)
    fields: dict[str, object] = {"name": name, "owner_id": owner_id, "metadata": metadata}
    if world_shards != 1:
        fields["world_shards"] = world_shards
    record = LedgerRecord(
        id=ledger_id,
        name=name,
        owner_id=owner_id,
        metadata=metadata,
        currencies={},
        created_at=now,
        request_hash=request_hash(fields),
        world_shards=world_shards,
    )
    steps: list[Step] = [PutNew(record)]
    if keyed:
        bare = bare_ledger_id(ledger_token(ledger_id))
        steps.append(ClaimUnique(Claim(bare, "key", ledger_claim, ledger_id)))
    return record, WritePlan(tuple(steps))


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
        shards=world_shards_of(ledger_id),
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
        shards=command.shards,
        shard_versions=(0,) * command.shards if command.shards > 1 else (),
    )
    registered = command.currency if command.registered_currency else None
    steps: list[Step] = [
        PutNew(account),
        *(PutNew(shard) for shard in _shards_of(account)),
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


def _shards_of(account: Account) -> list[AccountShard]:
    """The items beyond its own that a sharded account opens with, all at zero."""
    return [
        AccountShard(
            account_id=account.id,
            index=index,
            ledger_id=account.ledger_id,
            currency=account.currency.code,
            status=account.status,
            updated_at=account.created_at,
        )
        for index in range(1, account.shards)
    ]


def plan_overdraft_change(account: Account, overdraft: Overdraft, now: datetime) -> WritePlan:
    """Replace an account's overdraft policy; its headroom moves by the change of limit."""
    if account.system:
        raise ValidationError("overdraft", "a system account's overdraft cannot change")
    if account.shards > 1:
        raise ValidationError(
            "overdraft", "a sharded account has no floor: its overdraft stays allow"
        )
    return WritePlan((ChangeOverdraft(account.id, account.overdraft, overdraft, now),))


def plan_status_change(account: AccountRef, status: AccountStatus, now: datetime) -> WritePlan:
    """Suspend, reactivate or close an account from its id alone: every item of a sharded
    account changes in the one transaction. Closing a sharded account needs its balances
    (`plan_sharded_close`)."""
    return WritePlan(
        tuple(SetStatus(account.id, status, now, shard) for shard in range(account.shards))
    )


def plan_sharded_close(account: Account, now: datetime) -> WritePlan:
    """Close a sharded account as read: its summed balances must be zero, and each item
    must still be at the version it was read at, or nothing is written."""
    if not account.totals.is_empty:
        raise AccountNotEmpty(
            f"account {account.id} has a balance or pending entries", {"account_id": account.id}
        )
    return WritePlan(
        tuple(
            SetStatus(account.id, AccountStatus.CLOSED, now, shard, version)
            for shard, version in enumerate(account.shard_versions)
        )
    )
