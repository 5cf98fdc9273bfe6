"""Plan operations rendered as TransactWriteItems actions, each guard a named clause."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import pytest
from unit_builders import (
    ETH,
    USD,
    a_ledger,
    a_ledger_id,
    an_account,
    an_account_id,
    an_entry,
    an_entry_id,
    created,
    later,
    placeholders,
)

from ledger.domain.ids import parse_account_id
from ledger.domain.model import (
    AccountStatus,
    AccountType,
    EntryKind,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.domain.money import Currency
from ledger.planning.accounts import plan_account, world_account
from ledger.planning.commands import LineDraft, NewAccount, NewEntry
from ledger.planning.entries import plan_entry
from ledger.planning.steps import (
    ApplyDelta,
    Claim,
    ClaimUnique,
    EnsureWorld,
    PutNew,
    RegisterCurrency,
    RequireLedger,
    RequireParent,
    SetStatus,
    Step,
)
from ledger.store.dynamodb import clauses, transact
from ledger.store.dynamodb.codec import encode
from ledger.store.dynamodb.schema import item_key, timestamp

table = f"ledger-{secrets.token_hex(4)}"


def _render(operation: Step) -> tuple[str, dict[str, Any]]:
    """The one action of a rendered operation, and its type."""
    action = cast("dict[str, Any]", transact.render(operation, table))
    assert len(action) == 1
    ((kind, body),) = action.items()
    return kind, dict(body)


def _clauses(condition: str) -> list[str]:
    """The top-level AND-ed clauses of a condition (parenthesised groups kept whole)."""
    clauses, depth, start = [], 0, 0
    for match in re.finditer(r"\(|\)| AND ", condition):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            clauses.append(condition[start : match.start()])
            start = match.end()
    clauses.append(condition[start:])
    return clauses


def _clause_parts(*named: str) -> list[str]:
    return [part for clause in named for part in _clauses(clause)]


def _assert_placeholders_match(body: dict[str, Any]) -> None:
    """Every placeholder used is defined, and every one defined is used (DynamoDB insists)."""
    expressions = [
        body[name] for name in ("ConditionExpression", "UpdateExpression") if name in body
    ]
    used = placeholders(*expressions)
    names = body.get("ExpressionAttributeNames", {})
    values = body.get("ExpressionAttributeValues", {})
    assert {used_name for used_name in used if used_name.startswith("#")} == set(names)
    assert {used_value for used_value in used if used_value.startswith(":")} == set(values)
    # DynamoDB refuses empty maps: absent, or non-empty.
    assert body.get("ExpressionAttributeNames", {"#": ""}) != {}
    assert body.get("ExpressionAttributeValues", {":": {}}) != {}


def _key_of(operation: Step) -> dict[str, Any]:
    return {name: {"S": value} for name, value in item_key(operation.target).items()}


def _delta(outflow: int, totals: Totals, headroom: int, currency: str = "USD") -> ApplyDelta:
    ledger_id = a_ledger_id()
    return ApplyDelta(
        account_id=an_account_id(ledger_id),
        ledger_id=ledger_id,
        currency=currency,
        entry_id=an_entry_id(ledger_id),
        at=later,
        totals=totals,
        headroom=headroom,
        outflow=outflow,
    )


# --- puts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [a_ledger, an_account, an_entry], ids=["ledger", "account", "entry"]
)
def test_put_new_is_a_put_if_absent_returning_the_old_item(make: Any) -> None:
    # GIVEN a new record
    record = make()
    # WHEN rendering its put
    kind, body = _render(PutNew(record))
    # THEN it puts the whole encoded item only where none exists, returning what blocked it
    assert kind == "Put"
    assert body == {
        "TableName": table,
        "Item": encode(record),
        "ConditionExpression": clauses.item_is_new,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    assert clauses.item_is_new == "attribute_not_exists(pk)"


def test_claim_code_puts_the_code_item_if_absent() -> None:
    # GIVEN a code claim
    ledger_id = a_ledger_id()
    claim = Claim(ledger_id, "code", "1000", an_account_id(ledger_id))
    # WHEN rendering it
    kind, body = _render(ClaimUnique(claim))
    # THEN it puts the code item under the ledger's code key, only if absent
    assert kind == "Put"
    assert body["Item"] == encode(claim)
    assert body["Item"]["pk"] == {"S": f"LEDGER#{ledger_id}#CODE#1000"}
    assert body["ConditionExpression"] == clauses.item_is_new
    assert body["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


# --- world upsert --------------------------------------------------------------------------


def test_ensure_world_sets_each_attribute_only_where_missing() -> None:
    # GIVEN the world account of a ledger
    world = world_account(a_ledger_id(), ETH, created)
    operation = EnsureWorld(world)
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN it is an unconditional update of the world's key
    assert kind == "Update"
    assert body["Key"] == _key_of(operation)
    assert "ConditionExpression" not in body
    _assert_placeholders_match(body)
    # AND each assignment keeps an existing value: "#aN = if_not_exists(#aN, :aN)"
    update = body["UpdateExpression"]
    assignments = re.findall(r"(#a\d+) = if_not_exists\((#a\d+), (:a\d+)\)", update)
    rebuilt = ", ".join(f"{a} = if_not_exists({b}, {c})" for a, b, c in assignments)
    assert update == f"SET {rebuilt}"
    assert all(a == b == "#" + c[1:] for a, b, c in assignments)
    # AND together they write exactly the encoded item, keys aside
    names, values = body["ExpressionAttributeNames"], body["ExpressionAttributeValues"]
    written = {names[f"#{value[1:]}"]: values[value] for value in values}
    expected = {name: value for name, value in encode(world).items() if name not in ("pk", "sk")}
    assert written == expected
    assert len(assignments) == len(expected)


# --- requirements --------------------------------------------------------------------------


def test_require_ledger_without_currency_checks_existence_only() -> None:
    # GIVEN a ledger requirement without a registered currency
    operation = RequireLedger(a_ledger_id(), None)
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN it is a condition check that the ledger exists, with no placeholder maps at all
    assert kind == "ConditionCheck"
    assert body == {
        "TableName": table,
        "Key": _key_of(operation),
        "ConditionExpression": clauses.item_exists,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_require_ledger_with_currency_checks_its_scale() -> None:
    # GIVEN a requirement that POINTS is registered with scale 3
    operation = RequireLedger(a_ledger_id(), Currency("POINTS", 3))
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN the check names existence and the currency's scale, by placeholders
    assert kind == "ConditionCheck"
    assert _clauses(body["ConditionExpression"]) == [
        clauses.item_exists,
        clauses.currency_has_scale,
    ]
    assert body["ExpressionAttributeNames"] == {"#currencies": "currencies", "#code": "POINTS"}
    assert body["ExpressionAttributeValues"] == {":scale": {"N": "3"}}
    _assert_placeholders_match(body)


def test_require_parent_checks_ledger_and_type() -> None:
    # GIVEN a parent requirement
    ledger_id = a_ledger_id()
    operation = RequireParent(an_account_id(ledger_id), ledger_id, AccountType.EXPENSE)
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN the parent must exist in the ledger with the type
    assert kind == "ConditionCheck"
    assert body["Key"] == _key_of(operation)
    assert _clauses(body["ConditionExpression"]) == [
        clauses.item_exists,
        clauses.ledger_matches,
        clauses.type_matches,
    ]
    assert body["ExpressionAttributeValues"] == {
        ":ledger_id": {"S": ledger_id},
        ":type": {"S": "expense"},
    }
    assert body["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    _assert_placeholders_match(body)


# --- deltas --------------------------------------------------------------------------------


def _additions(update: str) -> dict[str, str]:
    """The ADD part of an update expression, as {attribute placeholder: value placeholder}."""
    _, _, added = update.partition(" ADD ")
    pairs = [part.split(" ") for part in added.split(", ")]
    return dict(pairs)


def test_an_outflow_delta_guards_status_currency_ledger_and_headroom() -> None:
    # GIVEN a delta that takes 12.34 out of an account
    operation = _delta(1234, Totals(posted_credits=1234), -1234)
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN every rule of the account is a named clause of the condition
    assert kind == "Update"
    assert body["Key"] == _key_of(operation)
    assert _clauses(body["ConditionExpression"]) == [
        clauses.item_exists,
        clauses.account_is_active,
        clauses.currency_matches,
        clauses.ledger_matches,
        clauses.headroom_covers_outflow,
    ]
    values = body["ExpressionAttributeValues"]
    assert values[":outflow"] == {"N": "1234"}
    assert values[":allow"] == {"S": "allow"}
    assert values[":active"] == {"S": "active"}
    assert values[":currency"] == {"S": "USD"}
    assert values[":ledger_id"] == {"S": operation.ledger_id}
    assert body["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    _assert_placeholders_match(body)


def test_an_inflow_delta_has_no_headroom_clause() -> None:
    # GIVEN a delta that only brings money in
    operation = _delta(0, Totals(posted_debits=500), 500)
    # WHEN rendering it
    _, body = _render(operation)
    # THEN the condition has no headroom clause and no outflow or allow value
    assert clauses.headroom_covers_outflow not in body["ConditionExpression"]
    assert _clauses(body["ConditionExpression"]) == [
        clauses.item_exists,
        clauses.account_is_active,
        clauses.currency_matches,
        clauses.ledger_matches,
    ]
    assert ":outflow" not in body["ExpressionAttributeValues"]
    assert "#headroom" in body["ExpressionAttributeNames"]  # still added to, below
    _assert_placeholders_match(body)


def test_a_delta_adds_only_non_zero_totals_and_bumps_the_version() -> None:
    # GIVEN a delta moving one total and the headroom
    operation = _delta(0, Totals(posted_debits=10**30), 10**30)
    # WHEN rendering it
    _, body = _render(operation)
    additions = _additions(body["UpdateExpression"])
    # THEN only that total, the headroom and the version are added to
    assert additions == {
        "#version": ":one",
        "#posted_debits": ":posted_debits",
        "#headroom": ":headroom",
    }
    values = body["ExpressionAttributeValues"]
    assert values[":posted_debits"] == {"N": str(10**30)}
    assert values[":headroom"] == {"N": str(10**30)}
    assert values[":one"] == {"N": "1"}
    _assert_placeholders_match(body)


def test_a_delta_with_every_total_adds_them_all_with_signs_kept() -> None:
    # GIVEN a delta moving every total and lowering the headroom
    totals = Totals(1, 2, 3, 4, 5, 6)
    operation = _delta(9, totals, -9)
    # WHEN rendering it
    _, body = _render(operation)
    additions = _additions(body["UpdateExpression"])
    # THEN all six totals, the headroom and the version are added, negatives as such
    assert set(additions) == {
        "#version",
        "#posted_debits",
        "#posted_credits",
        "#pending_debits",
        "#pending_credits",
        "#held",
        "#escrowed",
        "#headroom",
    }
    values = body["ExpressionAttributeValues"]
    assert [values[f":{name}"] for name in ("posted_debits", "escrowed", "headroom")] == [
        {"N": "1"},
        {"N": "6"},
        {"N": "-9"},
    ]
    _assert_placeholders_match(body)


def test_a_delta_with_zero_headroom_change_does_not_add_headroom() -> None:
    # GIVEN a delta that leaves headroom unchanged
    operation = _delta(0, Totals(pending_debits=3), 0)
    # WHEN rendering it
    _, body = _render(operation)
    # THEN headroom is neither added to nor named
    assert "#headroom" not in _additions(body["UpdateExpression"])
    assert "#headroom" not in body["ExpressionAttributeNames"]
    _assert_placeholders_match(body)


def test_a_delta_records_the_entry_and_time() -> None:
    # GIVEN a delta
    operation = _delta(1, Totals(posted_credits=1), -1)
    # WHEN rendering it
    _, body = _render(operation)
    # THEN it sets the last entry and the update time, and drops a merged batch's entry list
    assert body["UpdateExpression"].startswith(
        "SET #last_entry_id = :entry_id, #updated_at = :now REMOVE #last_entry_ids ADD "
    )
    values = body["ExpressionAttributeValues"]
    assert values[":entry_id"] == {"S": operation.entry_id}
    assert values[":now"] == {"S": timestamp(later)}


def test_a_delta_records_the_kind_effective_time_and_merged_entries() -> None:
    # GIVEN a merged batch delta of two entries, backdated
    operation = _delta(1, Totals(posted_credits=1), -1)
    effective = later - timedelta(days=40)
    merged = replace(
        operation,
        entry_kind="transfer",
        effective_at=effective,
        entry_ids=("ent_a", operation.entry_id),
    )
    # WHEN rendering it
    _, body = _render(merged)
    # THEN it sets the kind, the effective time and the entry list, and removes nothing
    expression = body["UpdateExpression"]
    assert "#last_entry_kind = :last_entry_kind" in expression
    assert "REMOVE" not in expression
    values = body["ExpressionAttributeValues"]
    assert values[":last_entry_kind"] == {"S": "transfer"}
    assert values[":last_effective_at"] == {"S": timestamp(effective)}
    assert values[":last_entry_ids"] == {"L": [{"S": "ent_a"}, {"S": operation.entry_id}]}
    _assert_placeholders_match(body)


# --- status and currency changes -----------------------------------------------------------


@pytest.mark.parametrize("status", [AccountStatus.ACTIVE, AccountStatus.SUSPENDED])
def test_suspending_or_activating_needs_only_a_not_closed_account(status: AccountStatus) -> None:
    # GIVEN a status change other than closing
    operation = SetStatus(an_account_id(), status, later)
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN it needs an existing account that is not closed
    assert kind == "Update"
    assert body["Key"] == _key_of(operation)
    assert _clauses(body["ConditionExpression"]) == [
        clauses.item_exists,
        clauses.account_is_not_closed,
    ]
    assert body["UpdateExpression"] == "SET #status = :target, #updated_at = :now ADD #version :one"
    assert body["ExpressionAttributeValues"][":target"] == {"S": str(status)}
    assert body["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    _assert_placeholders_match(body)


def test_closing_also_needs_zero_balances_and_nothing_pending() -> None:
    # GIVEN a close
    operation = SetStatus(an_account_id(), AccountStatus.CLOSED, later)
    # WHEN rendering it
    _, body = _render(operation)
    # THEN the condition adds the empty-account clauses
    assert _clauses(body["ConditionExpression"]) == _clause_parts(
        clauses.item_exists,
        clauses.account_is_not_closed,
        clauses.posted_is_zero,
        clauses.nothing_pending,
    )
    assert body["ExpressionAttributeValues"][":zero"] == {"N": "0"}
    assert body["ExpressionAttributeValues"][":target"] == {"S": "closed"}
    _assert_placeholders_match(body)


def test_registering_a_currency_sets_its_scale_unless_another_is_set() -> None:
    # GIVEN a registration of GEMS with scale 4
    operation = RegisterCurrency(a_ledger_id(), Currency("GEMS", 4))
    # WHEN rendering it
    kind, body = _render(operation)
    # THEN it sets the scale where the code is free or already has that scale
    assert kind == "Update"
    assert body["Key"] == _key_of(operation)
    assert _clauses(body["ConditionExpression"]) == [
        clauses.item_exists,
        clauses.currency_is_free_or_same,
    ]
    assert body["UpdateExpression"] == "SET #currencies.#code = :scale"
    assert body["ExpressionAttributeNames"] == {"#currencies": "currencies", "#code": "GEMS"}
    assert body["ExpressionAttributeValues"] == {":scale": {"N": "4"}}
    assert body["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    _assert_placeholders_match(body)


# --- whole plans ---------------------------------------------------------------------------


def _account_plan_operations() -> tuple[Step, ...]:
    ledger_id = a_ledger_id()
    parent = parse_account_id(an_account_id(ledger_id, Currency("POINTS", 3), Side.DEBIT))
    command = NewAccount(
        account_id=an_account_id(ledger_id, Currency("POINTS", 3), Side.DEBIT),
        ledger_id=ledger_id,
        name="Cash",
        type=AccountType.ASSET,
        currency=Currency("POINTS", 3),
        registered_currency=True,
        code="1000",
        parent=parent,
        owner_id="u",
        overdraft=Overdraft(OverdraftMode.LIMIT, 100),
        metadata={"k": "v"},
        key_digest="0" * 64,
    )
    return plan_account(command, created)[1].steps


def _entry_plan_operations() -> tuple[Step, ...]:
    ledger_id = a_ledger_id()
    refs = [parse_account_id(an_account_id(ledger_id, USD, side)) for side in (*Side, *Side)]
    command = NewEntry(
        entry_id=an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=EntryKind.ENTRY,
        lines=[
            LineDraft(refs[0], Side.DEBIT, 300),
            LineDraft(refs[1], Side.DEBIT, 200),
            LineDraft(refs[2], Side.CREDIT, 400),
            LineDraft(refs[3], Side.CREDIT, 100),
        ],
        description=None,
        reference="r",
        metadata={},
        effective_at=None,
    )
    return plan_entry(command, created)[1].steps


@pytest.mark.parametrize(
    "operations",
    [_account_plan_operations(), _entry_plan_operations()],
    ids=["account-with-code-and-parent", "four-line-entry"],
)
def test_every_action_of_a_plan_defines_exactly_the_placeholders_it_uses(
    operations: tuple[Step, ...],
) -> None:
    # GIVEN a whole plan
    # WHEN rendering every operation
    rendered = [_render(operation) for operation in operations]
    # THEN each action's placeholders match, and no two actions touch one item
    for _, body in rendered:
        _assert_placeholders_match(body)
    keys = [
        (body["Item"]["pk"]["S"], body["Item"]["sk"]["S"])
        if kind == "Put"
        else (body["Key"]["pk"]["S"], body["Key"]["sk"]["S"])
        for kind, body in rendered
    ]
    assert len(set(keys)) == len(keys)
    assert all(body["TableName"] == table for _, body in rendered)


def test_entry_plan_guards_headroom_only_on_the_outflow_lines() -> None:
    # GIVEN a four-line entry: two lines on their account's normal side, two against it
    operations = _entry_plan_operations()
    # WHEN rendering its deltas
    conditions = {
        operation.account_id: _render(operation)[1]["ConditionExpression"]
        for operation in operations
        if isinstance(operation, ApplyDelta)
    }
    outflows = {
        operation.account_id
        for operation in operations
        if isinstance(operation, ApplyDelta) and operation.outflow > 0
    }
    # THEN exactly the outflow lines carry the headroom clause
    guarded = {
        account
        for account, condition in conditions.items()
        if clauses.headroom_covers_outflow in condition
    }
    assert guarded == outflows
    assert 0 < len(outflows) < len(conditions)


def test_named_clauses_use_only_placeholders() -> None:
    # GIVEN every named clause
    named = [
        clauses.account_is_active,
        clauses.account_is_not_closed,
        clauses.currency_matches,
        clauses.ledger_matches,
        clauses.type_matches,
        clauses.headroom_covers_outflow,
        clauses.posted_is_zero,
        clauses.nothing_pending,
        clauses.currency_has_scale,
        clauses.currency_is_free_or_same,
    ]
    # WHEN looking for bare attribute names or literals beside functions and keywords
    words = {word for clause in named for word in re.findall(r"(?<![#:\w])[A-Za-z_]\w*", clause)}
    # THEN only keywords and functions remain: every attribute and value is a placeholder
    assert words <= {"AND", "OR", "attribute_not_exists"}
