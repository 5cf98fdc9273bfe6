"""Records to DynamoDB items and back; numbers travel as strings, never as floats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.domain.model import (
    Account,
    AccountShard,
    AccountStatus,
    AccountType,
    Actor,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Line,
    Overdraft,
    OverdraftMode,
    RuleOrigin,
    Side,
    Totals,
    actor_fields,
    totals_fields,
)
from ledger.domain.money import Currency
from ledger.planning.steps import Claim, ClaimKind, Target, account_target, claim_id
from ledger.store.dynamodb.schema import index_keys, item_key, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]
Record = LedgerRecord | Account | AccountShard | Entry | Claim

claim_kinds: dict[str, ClaimKind] = {"code": "code", "key": "key"}
entry_links = ("pending_id", "posting_entry_id", "reverses", "reversed_by")
resolved_amounts = ("posted_amount", "released_amount")


def string(value: str) -> AttributeValueTypeDef:
    """A string attribute."""
    return {"S": value}


def number(value: int) -> AttributeValueTypeDef:
    """A number attribute, exact at any size DynamoDB holds."""
    return {"N": str(value)}


def string_map(values: dict[str, str]) -> AttributeValueTypeDef:
    """A map attribute of string values."""
    return {"M": {key: string(value) for key, value in values.items()}}


def _optional(item: Item, name: str, value: str | None) -> None:
    if value is not None:
        item[name] = string(value)


def _moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def encode(record: Record) -> Item:
    """The whole item for a record, keys and index keys included."""
    if isinstance(record, Claim):
        key = item_key(Target(record.kind, claim_id(record.ledger_id, record.value)))
        body: Item = {
            "entity": string("claim"),
            "ledger_id": string(record.ledger_id),
            "kind": string(record.kind),
            "value": string(record.value),
            "account_id": string(record.account_id),
        }
    elif isinstance(record, LedgerRecord):
        key = item_key(Target("ledger", record.id))
        body = _ledger_body(record)
    elif isinstance(record, Account):
        key = item_key(Target("account", record.id))
        body = _account_body(record)
    elif isinstance(record, AccountShard):
        key = item_key(account_target(record.account_id, record.index))
        body = shard_body(record)
    else:
        key = item_key(Target("entry", record.id))
        body = _entry_body(record)
    item: Item = {name: string(value) for name, value in key.items()}
    item.update({name: string(value) for name, value in index_keys(record).items()})
    item.update(body)
    return item


def _ledger_body(record: LedgerRecord) -> Item:
    item: Item = {
        "entity": string("ledger"),
        "id": string(record.id),
        "name": string(record.name),
        "metadata": string_map(record.metadata),
        "currencies": {"M": {code: number(scale) for code, scale in record.currencies.items()}},
        "created_at": string(timestamp(record.created_at)),
        "request_hash": string(record.request_hash),
    }
    _optional(item, "owner_id", record.owner_id)
    _count(item, "world_shards", record.world_shards)
    return item


def _count(item: Item, name: str, shards: int) -> None:
    """A shard count is stored only when it is not 1, as its id writes it: an item written
    before accounts had shards reads as one."""
    if shards != 1:
        item[name] = number(shards)


def _account_body(account: Account) -> Item:
    item: Item = {
        "entity": string("account"),
        "id": string(account.id),
        "ledger_id": string(account.ledger_id),
        "name": string(account.name),
        "type": string(account.type),
        "currency": string(account.currency.code),
        "scale": number(account.currency.scale),
        "status": string(account.status),
        "overdraft_mode": string(account.overdraft.mode),
        "credit_limit": number(account.overdraft.credit_limit),
        "metadata": string_map(account.metadata),
        "system": {"BOOL": account.system},
        "headroom": number(account.headroom),
        "version": number(account.version),
        "created_at": string(timestamp(account.created_at)),
        "updated_at": string(timestamp(account.updated_at)),
        "request_hash": string(account.request_hash),
    }
    for name in totals_fields:
        item[name] = number(getattr(account.totals, name))
    _optional(item, "code", account.code)
    _optional(item, "parent_id", account.parent_id)
    _optional(item, "owner_id", account.owner_id)
    _optional(item, "last_entry_id", account.last_entry_id)
    _last_change(item, account)
    _count(item, "shards", account.shards)
    return item


def _last_change(item: Item, record: Account | AccountShard) -> None:
    """The kind, effective time and merged entries of the item's last balance change."""
    _optional(item, "last_entry_kind", record.last_entry_kind)
    if record.last_effective_at is not None:
        item["last_effective_at"] = string(timestamp(record.last_effective_at))
    if record.last_entry_ids:
        item["last_entry_ids"] = {"L": [string(entry_id) for entry_id in record.last_entry_ids]}


def shard_body(shard: AccountShard) -> Item:
    """The attributes of an account's shard item: what its guards check, and its totals."""
    item: Item = {
        "entity": string("shard"),
        "account_id": string(shard.account_id),
        "shard": number(shard.index),
        "ledger_id": string(shard.ledger_id),
        "currency": string(shard.currency),
        "status": string(shard.status),
        "headroom": number(shard.headroom),
        "version": number(shard.version),
        "updated_at": string(timestamp(shard.updated_at)),
    }
    for name in totals_fields:
        item[name] = number(getattr(shard.totals, name))
    _optional(item, "last_entry_id", shard.last_entry_id)
    _last_change(item, shard)
    return item


def _entry_body(entry: Entry) -> Item:
    item: Item = {
        "entity": string("entry"),
        "id": string(entry.id),
        "ledger_id": string(entry.ledger_id),
        "kind": string(entry.kind),
        "status": string(entry.status),
        "lines": {
            "L": [
                {
                    "M": {
                        "account_id": string(line.account_id),
                        "side": string(line.side),
                        "amount": number(line.amount),
                        "currency": string(line.currency),
                    }
                }
                for line in entry.lines
            ]
        },
        "metadata": string_map(entry.metadata),
        "effective_at": string(timestamp(entry.effective_at)),
        "created_at": string(timestamp(entry.created_at)),
        "request_hash": string(entry.request_hash),
    }
    _optional(item, "description", entry.description)
    _optional(item, "reference", entry.reference)
    if entry.expires_at is not None:
        item["expires_at"] = string(timestamp(entry.expires_at))
    for name in ("resolved_at", "expiring_noticed_at"):
        moment = getattr(entry, name)
        if moment is not None:
            item[name] = string(timestamp(moment))
    for name in entry_links:
        _optional(item, name, getattr(entry, name))
    for name in resolved_amounts:
        amount = getattr(entry, name)
        if amount is not None:
            item[name] = number(amount)
    if entry.actor is not None:
        item["actor"] = _actor_map(entry.actor)
        _optional(item, "trace_header", entry.actor.trace_header)
    if entry.posting_rule is not None:
        item["posting_rule"] = _rule_origin_map(entry.posting_rule)
    return item


def _rule_origin_map(origin: RuleOrigin) -> AttributeValueTypeDef:
    return {
        "M": {
            "event_type": string(origin.event_type),
            "version": number(origin.version),
            "event_id": string(origin.event_id),
        }
    }


def _decode_rule_origin(item: dict[str, Any]) -> RuleOrigin | None:
    """An entry's posting rule; None on entries not posted from an event."""
    if "posting_rule" not in item:
        return None
    origin = item["posting_rule"]["M"]
    return RuleOrigin(
        origin["event_type"]["S"], int(origin["version"]["N"]), origin["event_id"]["S"]
    )


def _actor_map(actor: Actor) -> AttributeValueTypeDef:
    """The actor as a map of the fields it has; a field it lacks is left out."""
    present = {name: getattr(actor, name) for name in actor_fields}
    return string_map({name: value for name, value in present.items() if value is not None})


def decode(item: dict[str, Any]) -> Record:
    """The record an item holds, by its `entity`."""
    values = _Values(item)
    entity = values.string("entity")
    if entity == "claim":
        return Claim(
            values.string("ledger_id"),
            claim_kinds[values.string("kind")],
            values.string("value"),
            values.string("account_id"),
        )
    if entity == "ledger":
        return LedgerRecord(
            id=values.string("id"),
            name=values.string("name"),
            owner_id=values.optional("owner_id"),
            metadata=values.string_map("metadata"),
            currencies={code: int(value["N"]) for code, value in item["currencies"]["M"].items()},
            created_at=_moment(values.string("created_at")),
            request_hash=values.string("request_hash"),
            world_shards=values.optional_number("world_shards") or 1,
        )
    if entity == "account":
        return _decode_account(values)
    if entity == "shard":
        return _decode_shard(values)
    if entity == "entry":
        return _decode_entry(values, item)
    raise ValueError(f"item of unknown entity {entity!r}")


def _decode_account(values: _Values) -> Account:
    return Account(
        id=values.string("id"),
        ledger_id=values.string("ledger_id"),
        name=values.string("name"),
        type=AccountType(values.string("type")),
        currency=Currency(values.string("currency"), values.number("scale")),
        status=AccountStatus(values.string("status")),
        overdraft=Overdraft(
            OverdraftMode(values.string("overdraft_mode")), values.number("credit_limit")
        ),
        created_at=_moment(values.string("created_at")),
        updated_at=_moment(values.string("updated_at")),
        request_hash=values.string("request_hash"),
        code=values.optional("code"),
        parent_id=values.optional("parent_id"),
        owner_id=values.optional("owner_id"),
        metadata=values.string_map("metadata"),
        system=values.item["system"]["BOOL"],
        totals=Totals(**{name: values.number(name) for name in totals_fields}),
        headroom=values.number("headroom"),
        version=values.number("version"),
        last_entry_id=values.optional("last_entry_id"),
        last_entry_kind=values.optional("last_entry_kind"),
        last_effective_at=values.optional_moment("last_effective_at"),
        last_entry_ids=values.strings("last_entry_ids"),
        shards=values.optional_number("shards") or 1,
    )


def _decode_shard(values: _Values) -> AccountShard:
    return AccountShard(
        account_id=values.string("account_id"),
        index=values.number("shard"),
        ledger_id=values.string("ledger_id"),
        currency=values.string("currency"),
        status=AccountStatus(values.string("status")),
        updated_at=_moment(values.string("updated_at")),
        totals=Totals(**{name: values.number(name) for name in totals_fields}),
        headroom=values.number("headroom"),
        version=values.number("version"),
        last_entry_id=values.optional("last_entry_id"),
        last_entry_kind=values.optional("last_entry_kind"),
        last_effective_at=values.optional_moment("last_effective_at"),
        last_entry_ids=values.strings("last_entry_ids"),
    )


def _decode_entry(values: _Values, item: dict[str, Any]) -> Entry:
    expires_at = values.optional("expires_at")
    resolved_at = values.optional("resolved_at")
    noticed_at = values.optional("expiring_noticed_at")
    return Entry(
        id=values.string("id"),
        ledger_id=values.string("ledger_id"),
        kind=EntryKind(values.string("kind")),
        status=EntryStatus(values.string("status")),
        lines=tuple(
            Line(
                account_id=line["M"]["account_id"]["S"],
                side=Side(line["M"]["side"]["S"]),
                amount=int(line["M"]["amount"]["N"]),
                currency=line["M"]["currency"]["S"],
            )
            for line in item["lines"]["L"]
        ),
        effective_at=_moment(values.string("effective_at")),
        created_at=_moment(values.string("created_at")),
        request_hash=values.string("request_hash"),
        description=values.optional("description"),
        reference=values.optional("reference"),
        metadata=values.string_map("metadata"),
        expires_at=None if expires_at is None else _moment(expires_at),
        pending_id=values.optional("pending_id"),
        posting_entry_id=values.optional("posting_entry_id"),
        reverses=values.optional("reverses"),
        reversed_by=values.optional("reversed_by"),
        posted_amount=values.optional_number("posted_amount"),
        released_amount=values.optional_number("released_amount"),
        resolved_at=None if resolved_at is None else _moment(resolved_at),
        expiring_noticed_at=None if noticed_at is None else _moment(noticed_at),
        actor=_decode_actor(values),
        posting_rule=_decode_rule_origin(item),
    )


def _decode_actor(values: _Values) -> Actor | None:
    """An entry's actor; None on items written before entries carried one."""
    if "actor" not in values.item:
        return None
    present = values.string_map("actor")
    return Actor(
        **{name: present.get(name) for name in actor_fields},
        trace_header=values.optional("trace_header"),
    )


class _Values:
    """Typed access to the attributes of a low-level item."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item

    def string(self, name: str) -> str:
        value: str = self.item[name]["S"]
        return value

    def optional(self, name: str) -> str | None:
        return self.string(name) if name in self.item else None

    def number(self, name: str) -> int:
        return int(self.item[name]["N"])

    def optional_number(self, name: str) -> int | None:
        return self.number(name) if name in self.item else None

    def optional_moment(self, name: str) -> datetime | None:
        value = self.optional(name)
        return None if value is None else _moment(value)

    def strings(self, name: str) -> tuple[str, ...]:
        return tuple(value["S"] for value in self.item.get(name, {"L": []})["L"])

    def string_map(self, name: str) -> dict[str, str]:
        return {key: value["S"] for key, value in self.item[name]["M"].items()}
