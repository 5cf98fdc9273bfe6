"""Plan steps as TransactWriteItems actions; each guard is a named condition clause."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ledger.domain.model import AccountStatus, EntryStatus, OverdraftMode, totals_fields
from ledger.planning.steps import (
    ApplyDelta,
    ChangeOverdraft,
    ClaimUnique,
    EnsureWorld,
    MarkReversed,
    PutNew,
    RegisterCurrency,
    RequireLedger,
    RequireParent,
    ResolvePending,
    SetDetails,
    SetStatus,
    Step,
)
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.clauses import all_of
from ledger.store.dynamodb.codec import (
    encode,
    number,
    resolved_amounts,
    string,
    string_map,
)
from ledger.store.dynamodb.schema import item_key, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

# A failed condition hands back the item as it was, so the failure can be explained unread.
_all_old: dict[str, Any] = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


@dataclass
class _Expression:
    """Collects placeholders so every attribute name and value is passed by reference."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValueTypeDef] = field(default_factory=dict)

    def name(self, *attributes: str) -> None:
        for attribute in attributes:
            self.names[f"#{attribute}"] = attribute

    def value(self, placeholder: str, value: AttributeValueTypeDef) -> None:
        self.values[f":{placeholder}"] = value

    def arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.names:
            arguments["ExpressionAttributeNames"] = self.names
        if self.values:
            arguments["ExpressionAttributeValues"] = self.values
        return arguments


def render(step: Step, table_name: str) -> TransactWriteItemTypeDef:
    """One TransactWriteItems action; failed conditions return the item as it was."""
    return cast("TransactWriteItemTypeDef", _action(step, table_name))


def _action(step: Step, table_name: str) -> dict[str, Any]:
    key = {name: string(value) for name, value in item_key(step.target).items()}
    base: dict[str, Any] = {"TableName": table_name}
    match step:
        case PutNew(record=record) | ClaimUnique(claim=record):
            put = {**base, "Item": encode(record), "ConditionExpression": clauses.item_is_new}
            return {"Put": {**put, **_all_old}}
        case EnsureWorld(account=world):
            return {"Update": {**base, "Key": key, **_create_unless_exists(encode(world))}}
        case RequireLedger() | RequireParent():
            condition, expression = _requirement(step)
            check = {**base, "Key": key, "ConditionExpression": condition}
            return {"ConditionCheck": {**check, **expression.arguments(), **_all_old}}
        case _:
            return {"Update": {**base, "Key": key, **_update(step), **_all_old}}


def _update(
    step: ApplyDelta
    | SetStatus
    | SetDetails
    | RegisterCurrency
    | ResolvePending
    | MarkReversed
    | ChangeOverdraft,
) -> dict[str, Any]:
    match step:
        case ApplyDelta():
            return _delta(step)
        case SetStatus():
            return _status(step)
        case SetDetails():
            return _details(step)
        case RegisterCurrency():
            return _currency(step)
        case ResolvePending():
            return _resolution(step)
        case MarkReversed():
            return _reversal_link(step)
        case _:
            return _overdraft(step)


def _create_unless_exists(item: dict[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """Set every attribute only where missing: creates the item once, then changes nothing."""
    expression = _Expression()
    assignments = []
    for index, (attribute, value) in enumerate(
        (name, value) for name, value in item.items() if name not in ("pk", "sk")
    ):
        expression.names[f"#a{index}"] = attribute
        expression.value(f"a{index}", value)
        assignments.append(f"#a{index} = if_not_exists(#a{index}, :a{index})")
    return {"UpdateExpression": "SET " + ", ".join(assignments), **expression.arguments()}


def _requirement(step: RequireLedger | RequireParent) -> tuple[str, _Expression]:
    expression = _Expression()
    if isinstance(step, RequireParent):
        expression.name("ledger_id", "type")
        expression.value("ledger_id", string(step.ledger_id))
        expression.value("type", string(step.type))
        return all_of(clauses.item_exists, clauses.ledger_matches, clauses.type_matches), expression
    currency = step.registered_currency
    if currency is None:
        return clauses.item_exists, expression
    expression.name("currencies")
    expression.names["#code"] = currency.code
    expression.value("scale", number(currency.scale))
    return all_of(clauses.item_exists, clauses.currency_has_scale), expression


def _delta(delta: ApplyDelta) -> dict[str, Any]:
    expression = _Expression()
    expression.name("currency", "ledger_id", "version", "last_entry_id", "updated_at")
    expression.value("currency", string(delta.currency))
    expression.value("ledger_id", string(delta.ledger_id))
    conditions = [clauses.currency_matches, clauses.ledger_matches]
    if delta.require_active:
        expression.name("status")
        expression.value("active", string(AccountStatus.ACTIVE))
        conditions.insert(0, clauses.account_is_active)
    if delta.is_guarded_by_headroom:
        expression.name("overdraft_mode", "headroom")
        expression.value("allow", string(OverdraftMode.ALLOW))
        expression.value("outflow", number(delta.outflow))
        conditions.append(clauses.headroom_covers_outflow)
    additions = ["#version :one"]
    expression.value("one", number(1))
    expression.value("entry_id", string(delta.entry_id))
    expression.value("now", string(timestamp(delta.at)))
    assignments = [
        "#last_entry_id = :entry_id",
        "#updated_at = :now",
        *_entry_facts(delta, expression),
    ]
    changes = {name: getattr(delta.totals, name) for name in totals_fields}
    changes["headroom"] = delta.headroom
    for name, amount in changes.items():
        if amount != 0:
            expression.name(name)
            expression.value(name, number(amount))
            additions.append(f"#{name} :{name}")
        elif delta.opens_shard:
            expression.name(name)
            expression.value("zero", number(0))
            assignments.append(f"#{name} = if_not_exists(#{name}, :zero)")
    if delta.opens_shard:
        assignments += _shard_facts(delta, expression)
        condition = f"({clauses.item_is_new} OR ({all_of(*conditions)}))"
    else:
        condition = all_of(clauses.item_exists, *conditions)
    # An update of one entry drops the list a merged batch update left.
    removal = "" if delta.entry_ids else " REMOVE #last_entry_ids"
    if removal:
        expression.name("last_entry_ids")
    return {
        "ConditionExpression": condition,
        "UpdateExpression": f"SET {', '.join(assignments)}{removal} ADD {', '.join(additions)}",
        **expression.arguments(),
    }


def _entry_facts(delta: ApplyDelta, expression: _Expression) -> list[str]:
    """What the history consumer reads off the item instead of the entry: the kind of the
    change, its effective time and, for a merged batch update, every entry merged."""
    facts: dict[str, AttributeValueTypeDef] = {}
    if delta.entry_kind is not None:
        facts["last_entry_kind"] = string(delta.entry_kind)
    if delta.effective_at is not None:
        facts["last_effective_at"] = string(timestamp(delta.effective_at))
    if delta.entry_ids:
        facts["last_entry_ids"] = {"L": [string(entry_id) for entry_id in delta.entry_ids]}
    expression.name(*facts)
    for name, value in facts.items():
        expression.value(name, value)
    return [f"#{name} = :{name}" for name in facts]


def _shard_facts(delta: ApplyDelta, expression: _Expression) -> list[str]:
    """A `world` shard's first write gives it the facts its guards check, from its id."""
    facts = {
        "entity": string("shard"),
        "account_id": string(delta.account_id),
        "shard": number(delta.shard),
        "ledger_id": string(delta.ledger_id),
        "currency": string(delta.currency),
        "status": string(AccountStatus.ACTIVE),
    }
    assignments = []
    for name, value in facts.items():
        expression.name(name)
        expression.value(f"fact_{name}", value)
        assignments.append(f"#{name} = if_not_exists(#{name}, :fact_{name})")
    return assignments


def _status(change: SetStatus) -> dict[str, Any]:
    expression = _Expression()
    expression.name("status", "version", "updated_at")
    expression.value("closed", string(AccountStatus.CLOSED))
    expression.value("target", string(change.status))
    expression.value("now", string(timestamp(change.at)))
    expression.value("one", number(1))
    conditions = [clauses.item_exists, clauses.account_is_not_closed]
    if change.version is not None:
        expression.value("read_version", number(change.version))
        conditions.append(clauses.version_is_unchanged)
    elif change.status is AccountStatus.CLOSED:
        expression.name("posted_debits", "posted_credits", "pending_debits", "pending_credits")
        expression.value("zero", number(0))
        conditions += [clauses.posted_is_zero, clauses.nothing_pending]
    return {
        "ConditionExpression": all_of(*conditions),
        "UpdateExpression": "SET #status = :target, #updated_at = :now ADD #version :one",
        **expression.arguments(),
    }


def _details(change: SetDetails) -> dict[str, Any]:
    expression = _Expression()
    expression.name("updated_at")
    expression.value("now", string(timestamp(change.at)))
    assignments = ["#updated_at = :now"]
    if change.name is not None:
        expression.name("name")
        expression.value("name", string(change.name))
        assignments.append("#name = :name")
    if change.metadata is not None:
        expression.name("metadata")
        expression.value("metadata", string_map(change.metadata))
        assignments.append("#metadata = :metadata")
    return {
        "ConditionExpression": clauses.item_exists,
        # No version step: it numbers the changes that bear on balances, which history keys on.
        "UpdateExpression": "SET " + ", ".join(assignments),
        **expression.arguments(),
    }


def _currency(registration: RegisterCurrency) -> dict[str, Any]:
    expression = _Expression()
    expression.name("currencies")
    expression.names["#code"] = registration.currency.code
    expression.value("scale", number(registration.currency.scale))
    return {
        "ConditionExpression": all_of(clauses.item_exists, clauses.currency_is_free_or_same),
        "UpdateExpression": "SET #currencies.#code = :scale",
        **expression.arguments(),
    }


def _resolution(resolution: ResolvePending) -> dict[str, Any]:
    expression = _Expression()
    expression.name("status", "gsi4pk", "gsi4sk")
    expression.value("pending", string(EntryStatus.PENDING))
    expression.value("target", string(resolution.status))
    conditions = [clauses.item_exists, clauses.entry_is_pending]
    # The time it resolves: what a rebuild of its history dates a void or expiry by.
    expression.name("resolved_at")
    expression.value("now", string(timestamp(resolution.at)))
    if resolution.status is not EntryStatus.VOIDED:
        expression.name("expires_at")
        is_posting = resolution.status is EntryStatus.POSTED
        conditions.append(clauses.entry_is_unexpired if is_posting else clauses.entry_is_expired)
    assignments = ["#status = :target", "#resolved_at = :now"]
    if resolution.posting_entry_id is not None:
        expression.name("posting_entry_id")
        expression.value("posting_entry_id", string(resolution.posting_entry_id))
        assignments.append("#posting_entry_id = :posting_entry_id")
    for name in resolved_amounts:
        amount = getattr(resolution, name)
        if amount is not None:
            expression.name(name)
            expression.value(name, number(amount))
            assignments.append(f"#{name} = :{name}")
    return {
        "ConditionExpression": all_of(*conditions),
        # Leaving the expiry index keeps it sparse: only unresolved entries are in it.
        "UpdateExpression": f"SET {', '.join(assignments)} REMOVE #gsi4pk, #gsi4sk",
        **expression.arguments(),
    }


def _reversal_link(link: MarkReversed) -> dict[str, Any]:
    expression = _Expression()
    expression.name("status", "reversed_by", "posting_entry_id")
    expression.value("posted", string(EntryStatus.POSTED))
    expression.value("reversal", string(link.reversal_id))
    return {
        "ConditionExpression": all_of(
            clauses.item_exists, clauses.entry_is_posted, clauses.entry_is_unreversed
        ),
        "UpdateExpression": "SET #reversed_by = :reversal",
        **expression.arguments(),
    }


def _overdraft(change: ChangeOverdraft) -> dict[str, Any]:
    expression = _Expression()
    expression.name("overdraft_mode", "credit_limit", "headroom", "version", "updated_at")
    expression.value("previous_mode", string(change.previous.mode))
    expression.value("previous_limit", number(change.previous.credit_limit))
    expression.value("mode", string(change.overdraft.mode))
    expression.value("limit", number(change.overdraft.credit_limit))
    expression.value("change", number(change.headroom_change))
    expression.value("now", string(timestamp(change.at)))
    expression.value("one", number(1))
    conditions = [clauses.item_exists, clauses.overdraft_is_unchanged]
    needed = change.headroom_needed
    if needed is not None:
        expression.value("needed", number(needed))
        conditions.append(clauses.headroom_covers_new_limit)
    return {
        "ConditionExpression": all_of(*conditions),
        "UpdateExpression": "SET #overdraft_mode = :mode, #credit_limit = :limit, "
        "#updated_at = :now ADD #headroom :change, #version :one",
        **expression.arguments(),
    }
