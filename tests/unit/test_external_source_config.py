"""Balance sources from a configuration document: every field checked, each refusal naming
the field at fault; and RFC 6901 pointers on their own."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ledger.domain.model import AccountType
from ledger.domain.money import Currency
from ledger.jobs.external_source_config import (
    checks_from_config,
    sources_from_config,
    sources_max,
)
from ledger.jobs.external_sources import SourceConfigError
from ledger.jobs.json_pointer import PointerMissing, pointer_tokens, resolve_pointer


def entry(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": f"bank-{uuid4().hex[:8]}",
        "currency": "USD",
        "url": "https://bank.example/balance",
        "amount_pointer": "/balance",
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not None}


def refused_field(document: object) -> str:
    with pytest.raises(SourceConfigError) as raised:
        sources_from_config(document)  # type: ignore[arg-type]
    return raised.value.field


def test_every_listed_source_is_made_in_order() -> None:
    # GIVEN a known currency, an unknown one with its scale, and every optional field
    first = entry(as_of_pointer="/at", token_variable="BANK_TOKEN")
    second = entry(currency="SOL", scale=9, amount_pointer="", as_of_pointer=None)
    # WHEN the configuration is read
    sources = sources_from_config({"sources": [first, second]})
    # THEN each source holds what its entry said
    assert [made.name for made in sources] == [first["name"], second["name"]]
    assert sources[0].currency == Currency("USD", 2)
    assert (sources[0].as_of_pointer, sources[0].token_variable) == ("/at", "BANK_TOKEN")
    assert sources[1].currency == Currency("SOL", 9)
    assert (sources[1].as_of_pointer, sources[1].token_variable) == (None, None)


def test_an_empty_list_makes_no_source() -> None:
    assert sources_from_config({"sources": []}) == []


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "sources"),
        ({}, "sources"),
        ({"sources": "bank"}, "sources"),
        ({"sources": [entry()] * (sources_max + 1)}, "sources"),
        ({"sources": [], "extra": 1}, "extra"),
        ({"sources": ["bank"]}, "sources[0]"),
        ({"sources": [entry(colour="red")]}, "sources[0].colour"),
        ({"sources": [entry(name=None)]}, "sources[0].name"),
        ({"sources": [entry(name="")]}, "sources[0].name"),
        ({"sources": [entry(name="x" * 65)]}, "sources[0].name"),
        ({"sources": [entry(url=7)]}, "sources[0].url"),
        ({"sources": [entry(url="http://bank.example/balance")]}, "sources[0].url"),
        ({"sources": [entry(amount_pointer="balance")]}, "sources[0].amount_pointer"),
        ({"sources": [entry(amount_pointer="/a~2")]}, "sources[0].amount_pointer"),
        ({"sources": [entry(as_of_pointer="at")]}, "sources[0].as_of_pointer"),
        ({"sources": [entry(token_variable="")]}, "sources[0].token_variable"),
        ({"sources": [entry(currency="SOL")]}, "sources[0].scale"),
        ({"sources": [entry(currency="SOL", scale="9")]}, "sources[0].scale"),
        ({"sources": [entry(currency="SOL", scale=True)]}, "sources[0].scale"),
        ({"sources": [entry(currency="SOL", scale=40)]}, "sources[0].scale"),
        ({"sources": [entry(scale=3)]}, "sources[0].scale"),
        ({"sources": [entry(currency="usd", scale=2)]}, "sources[0].currency"),
    ],
)
def test_a_bad_field_is_refused_by_name(document: object, field: str) -> None:
    # GIVEN a configuration with one wrong field WHEN it is read THEN that field is named
    assert refused_field(document) == field


def test_a_name_used_twice_is_refused() -> None:
    twin = entry()
    assert refused_field({"sources": [twin, dict(twin)]}) == "sources[1].name"


def test_pointer_tokens_unescape_tilde_one_before_tilde_zero() -> None:
    # "~01" is an escaped "~" followed by "1", never a "/"
    assert pointer_tokens("/a~01/b~1c/") == ("a~1", "b/c", "")
    assert pointer_tokens("") == ()


@pytest.mark.parametrize("pointer", ["a", "/a~", "/a~x", "/" + "a" * 1024])
def test_a_malformed_pointer_is_refused(pointer: str) -> None:
    with pytest.raises(ValueError, match=r"JSON pointer|at most"):
        pointer_tokens(pointer)


def test_a_pointer_resolves_members_indexes_and_the_whole_document() -> None:
    document = {"": {"list": [10, {"k": "v"}]}}
    assert resolve_pointer(document, "//list/1/k") == "v"
    assert resolve_pointer(document, "") == document
    with pytest.raises(PointerMissing) as raised:
        resolve_pointer(document, "//list/1/k/0")
    assert raised.value.pointer == "//list/1/k/0"


def check_entry(**fields: object) -> dict[str, object]:
    return entry(**{"ledger_id": "ldg_x", "account_ids": ["acc_1"], **fields})


def test_every_listed_check_is_made_with_its_accounts_and_tolerance() -> None:
    # GIVEN a check by ids with a tolerance, and one by type
    by_ids = check_entry(tolerance="0.05")
    by_type = check_entry(account_ids=None, account_type="asset")
    # WHEN the configuration is read as checks
    checks = checks_from_config({"sources": [by_ids, by_type]})
    # THEN each names its source, ledger, accounts and tolerance
    assert [check.source.name for check in checks] == [by_ids["name"], by_type["name"]]
    assert (checks[0].account_ids, checks[0].account_type, checks[0].tolerance) == (
        ("acc_1",),
        None,
        "0.05",
    )
    assert (checks[1].account_ids, checks[1].account_type, checks[1].tolerance) == (
        None,
        AccountType.ASSET,
        "0",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ledger_id": None}, "sources[0].ledger_id"),
        ({"ledger_id": ""}, "sources[0].ledger_id"),
        ({"account_ids": None}, "sources[0].account_ids"),
        ({"account_type": "asset"}, "sources[0].account_ids"),
        ({"account_ids": []}, "sources[0].account_ids"),
        ({"account_ids": "acc_1"}, "sources[0].account_ids"),
        ({"account_ids": ["acc_1", 7]}, "sources[0].account_ids[1]"),
        ({"account_ids": None, "account_type": "wallet"}, "sources[0].account_type"),
        ({"tolerance": 5}, "sources[0].tolerance"),
        ({"url": "http://bank.example"}, "sources[0].url"),
        ({"colour": "red"}, "sources[0].colour"),
    ],
)
def test_a_bad_check_field_is_refused_by_name(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SourceConfigError) as raised:
        checks_from_config({"sources": [check_entry(**changes)]})
    assert raised.value.field == field


def test_a_check_entry_must_be_an_object_and_its_source_named_once() -> None:
    with pytest.raises(SourceConfigError) as raised:
        checks_from_config({"sources": ["bank"]})
    assert raised.value.field == "sources[0]"
    twice = check_entry()
    with pytest.raises(SourceConfigError) as raised:
        checks_from_config({"sources": [twice, dict(twice)]})
    assert raised.value.field == "sources[1].name"
