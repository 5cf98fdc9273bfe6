"""Posting rule versions on each store: each PUT the next version, reads and listings of
them, malformed rules refused, and the bounded retry of a PUT that loses its race."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import Conflict, InternalError, NotFound, ValidationError
from ledger.domain.model import Side
from ledger.domain.posting_rules import RuleLine
from ledger.service import Ledger
from ledger.store.memory import MemoryStore
from ledger.store.rules import RuleVersionTaken

from .helpers import open_account
from .test_posting_rules import expense_lines, expense_type


def test_each_put_is_a_new_version_and_reads_find_each(ledger: Ledger, book: str) -> None:
    # GIVEN a rule put twice
    first = ledger.put_rule(book, expense_type, expense_lines())
    lines = [
        RuleLine(
            Side(line["side"]), line["amount"], line.get("account_id"), line.get("account_code")
        )
        for line in expense_lines()
    ]
    second = ledger.put_rule(book, expense_type, lines, reference="{{data.invoice}}")

    # WHEN they are read
    latest = ledger.get_rule(book, expense_type)
    earlier = ledger.get_rule(book, expense_type, version=1)

    # THEN the versions count up and each is found; others are not
    assert (first.version, second.version) == (1, 2)
    assert (latest, earlier) == (second, first)
    assert second.lines == first.lines
    with pytest.raises(NotFound) as unknown_version:
        ledger.get_rule(book, expense_type, 3)
    with pytest.raises(NotFound) as malformed_type:
        ledger.get_rule(book, "Bad")
    assert unknown_version.value.details == {"resource": "posting_rule", "id": expense_type}
    assert malformed_type.value.details == {"resource": "posting_rule", "id": "Bad"}


def test_the_listing_pages_the_latest_of_each_type(ledger: Ledger, book: str) -> None:
    # GIVEN rules of three types in this ledger, one put twice, and one in another ledger
    for name in ("payment.made", "expense.created", "loan.created", "expense.created"):
        ledger.put_rule(book, name, expense_lines())
    other = ledger.create_ledger("Other").id
    ledger.put_rule(other, "income.received", expense_lines())

    # WHEN they are listed two at a time
    first = ledger.list_rules(book, limit=2, caller="key-1")
    rest = ledger.list_rules(book, limit=2, cursor=first.next_cursor, caller="key-1")

    # THEN each type of this ledger appears once at its latest version, and the cursor is
    # good for its caller only
    listed = [(rule.event_type, rule.version) for rule in first.items + rest.items]
    assert listed == [("expense.created", 2), ("loan.created", 1), ("payment.made", 1)]
    assert rest.next_cursor is None
    with pytest.raises(ValidationError):
        ledger.list_rules(book, limit=2, cursor=first.next_cursor, caller="key-2")


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"account_id": "acc_nope", "side": "debit", "amount": "1"}] * 2, "lines[0].account_id"),
        ("lines", "lines"),
        ([{"account_code": "a", "side": "up", "amount": "1"}] * 2, "lines[0].side"),
        (["a line", "b"], "lines[0]"),
        ([{"account_code": "a", "side": "debit", "amount": "1", "x": "1"}] * 2, "lines[0].x"),
        (
            [{"account_id": "a", "account_code": "a", "side": "debit", "amount": "1"}] * 2,
            "lines[0].account_id",
        ),
    ],
)
def test_a_malformed_rule_is_refused(ledger: Ledger, book: str, lines: Any, field: str) -> None:
    # GIVEN / WHEN a malformed rule is put
    # THEN it is refused, naming the field
    with pytest.raises(ValidationError) as refused:
        ledger.put_rule(book, expense_type, lines)
    assert refused.value.field == field


def test_a_rule_naming_another_ledgers_account_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN an account of another ledger
    stranger = open_account(ledger, ledger.create_ledger("Other").id)

    # WHEN / THEN a rule naming it is refused
    with pytest.raises(ValidationError) as refused:
        ledger.put_rule(
            book, expense_type, [{"account_id": stranger.id, "side": "debit", "amount": "1"}] * 2
        )
    assert refused.value.field == "lines[0].account_id"


def test_a_rule_for_a_ledger_nobody_created_is_not_found(ledger: Ledger) -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(NotFound):
        ledger.put_rule("ldg_aaaaaaaaaaaaaaaa", expense_type, expense_lines())


def test_a_put_that_loses_its_version_reads_again_once_then_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a memory store whose rule writes lose the race once, then always
    store = MemoryStore()
    ledger = Ledger(store)
    book = ledger.create_ledger("Books").id
    real_add = store.rules.add
    losses = iter([True])

    def losing_once(rule: Any) -> None:
        if next(losses, False):
            real_add(rule)
            raise RuleVersionTaken(rule)
        real_add(rule)

    monkeypatch.setattr(store.rules, "add", losing_once)

    # WHEN a rule is put
    rule = ledger.put_rule(book, expense_type, expense_lines())

    # THEN it became the version after the one that won
    assert rule.version == 2

    def always_losing(rule: Any) -> None:
        raise RuleVersionTaken(rule)

    monkeypatch.setattr(store.rules, "add", always_losing)
    with pytest.raises(Conflict):
        ledger.put_rule(book, expense_type, expense_lines())


def test_a_store_that_keeps_no_rules_says_so() -> None:
    # GIVEN a store without rules
    store = MemoryStore()
    del store.rules
    ledger = Ledger(store)

    # WHEN / THEN rules are refused as the ledger's own failing
    with pytest.raises(InternalError):
        ledger.list_rules("ldg_aaaaaaaaaaaaaaaa")


def test_versions_are_bounded() -> None:
    # GIVEN a rule at the last version kept
    store = MemoryStore()
    ledger = Ledger(store)
    book = ledger.create_ledger("Books").id
    first = ledger.put_rule(book, expense_type, expense_lines())
    store.rules.latest = lambda *_: replace(first, version=limits.rule_version_max)  # type: ignore[method-assign]

    # WHEN / THEN another version is refused, as is asking for a version out of range
    with pytest.raises(ValidationError):
        ledger.put_rule(book, expense_type, expense_lines())
    for version in (0, limits.rule_version_max + 1, True):
        with pytest.raises(ValidationError) as refused:
            ledger.get_rule(book, expense_type, version)
        assert refused.value.field == "version"
