"""Each function's rights on the table, down to item keys.

IAM sees only the partition keys of the items a request touches (`dynamodb:LeadingKeys`),
never sort keys, so each kind of item that needs rights of its own has a partition prefix
of its own (docs/decisions/0032-item-keys-for-iam.md). A transaction is authorized per
action: its Put, Update and Delete need `PutItem`, `UpdateItem` and `DeleteItem` on each
item, its ConditionCheck needs `ConditionCheckItem`; a BatchWriteItem needs `PutItem` or
`DeleteItem` on each. How `LeadingKeys` applies to an index Query is not documented, so a
function that queries an index reads the whole table and its indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam

# Items that hold or record money, or the keys and records that guard it: no function
# deletes one, and every role denies it explicitly. Monitors (`MONITOR#`) and the jobs'
# checkpoints (`JOB#`) hold no money.
financial_prefixes = (
    "LEDGER#",
    "ACCOUNT#",
    "ENTRY#",
    "HISTORY#",
    "EFFECTIVE#",
    "AUDIT#",
    "OUTBOX#",
    "KEY#",
    "KEYID#",
    "SECRET#",
)

write_actions = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")
read_actions = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
)
key_read_actions = ("dynamodb:GetItem",)
delete_actions = ("dynamodb:DeleteItem",)
leading_keys = "dynamodb:LeadingKeys"


@dataclass(frozen=True)
class Rights:
    """What one function may do to the table: the partition prefixes it writes and
    deletes, and the prefixes it reads by key (empty: it reads the table and its indexes)."""

    writes: tuple[str, ...]
    deletes: tuple[str, ...] = ()
    key_reads: tuple[str, ...] = ()


# Derived from the key builders of `ledger.store.dynamodb` and checked against what each
# function writes by tests/functional/test_function_writes.py.
matrix: dict[str, Rights] = {
    # Ledgers, accounts, entries and their claims, rules, matches and external checks
    # (`LEDGER#...`), keys, monitors, outbox events, the listings' cursor secret.
    "api": Rights(
        writes=(
            "LEDGER#",
            "ACCOUNT#",
            "ENTRY#",
            "KEY#",
            "KEYID#",
            "MONITOR#",
            "OUTBOX#",
            "SECRET#",
        ),
        deletes=("MONITOR#",),
    ),
    # Looks a key up by its digest, nothing else.
    "authorizer": Rights(writes=(), key_reads=("KEY#",)),
    "history": Rights(writes=("HISTORY#", "EFFECTIVE#")),
    "audit": Rights(writes=("AUDIT#",)),
    "events": Rights(writes=()),
    # A monitor's state and its account's evaluated version, with the crossing's event.
    "monitors": Rights(writes=("MONITOR#", "OUTBOX#")),
    # Entries of posting rules: the entry and its accounts' items, nothing of the ledger's.
    "inbound": Rights(writes=("ACCOUNT#", "ENTRY#")),
    # Voids of expired holds and the notices of the ones about to expire.
    "expiry": Rights(writes=("ACCOUNT#", "ENTRY#", "OUTBOX#")),
    # Its checkpoint, and the mismatch events it finds.
    "reconciliation": Rights(writes=("JOB#", "OUTBOX#")),
    # The checks it records under their ledger, and their mismatch events.
    "external_balances": Rights(writes=("LEDGER#", "OUTBOX#")),
}


def _patterns(prefixes: tuple[str, ...]) -> list[str]:
    return [f"{prefix}*" for prefix in prefixes]


def _on_keys(
    actions: Iterable[str], table_arn: str, prefixes: tuple[str, ...], *, deny: bool = False
) -> iam.PolicyStatement:
    """`actions` on the table's items whose partition keys start with `prefixes`: allowed
    only if every key does, or denied if any key does."""
    quantifier = "ForAnyValue:StringLike" if deny else "ForAllValues:StringLike"
    return iam.PolicyStatement(
        effect=iam.Effect.DENY if deny else iam.Effect.ALLOW,
        actions=list(actions),
        resources=[table_arn],
        conditions={quantifier: {leading_keys: _patterns(prefixes)}},
    )


def table_statements(function: str, table: dynamodb.ITable) -> list[iam.PolicyStatement]:
    """The IAM statements that give one function its rights on the table, and deny every
    function the deletion of financial items."""
    rights = matrix[function]
    table_arn = table.table_arn
    statements = [_on_keys(delete_actions, table_arn, financial_prefixes, deny=True)]
    if rights.key_reads:
        statements.append(_on_keys(key_read_actions, table_arn, rights.key_reads))
    else:
        everything = [table_arn, f"{table_arn}/index/*"]
        statements.append(iam.PolicyStatement(actions=list(read_actions), resources=everything))
    if rights.writes:
        statements.append(_on_keys(write_actions, table_arn, rights.writes))
    if rights.deletes:
        statements.append(_on_keys(delete_actions, table_arn, rights.deletes))
    return statements
