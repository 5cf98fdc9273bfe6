"""JSON balance sources from a configuration document, every field checked by name.

    {"sources": [{"name": "bank", "currency": "USD", "url": "https://bank.example/balance",
                  "amount_pointer": "/balance/available", "as_of_pointer": "/balance/at",
                  "token_variable": "BANK_TOKEN"}]}

`scale` is needed only for a currency the ledger does not know (builtin_currencies).

`checks_from_config` reads the same document for the scheduled external balance checks:
each entry also names its `ledger_id`, exactly one of `account_ids` and `account_type`, and
optionally a `tolerance` (a decimal string, default `"0"`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.model import AccountType
from ledger.domain.money import Currency, builtin_currencies
from ledger.jobs.external_sources import JsonBalanceSource, SourceConfigError

sources_max = 100
_required = ("name", "currency", "url", "amount_pointer")
_optional = ("scale", "as_of_pointer", "token_variable")
_check_required = ("ledger_id",)
_check_optional = ("account_ids", "account_type", "tolerance")


@dataclass(frozen=True)
class ConfiguredCheck:
    """One scheduled external balance check: where the balance comes from, and which
    accounts of which ledger it is checked against, within what tolerance."""

    source: JsonBalanceSource
    ledger_id: str
    account_ids: tuple[str, ...] | None
    account_type: AccountType | None
    tolerance: str


def sources_from_config(document: Mapping[str, object]) -> list[JsonBalanceSource]:
    """Every source the document lists, in order; SourceConfigError at the first bad field."""
    return _named_once([_source(where, entry) for where, entry in _entries(document)])


def checks_from_config(document: Mapping[str, object]) -> list[ConfiguredCheck]:
    """Every check the document lists, in order; SourceConfigError at the first bad field."""
    checks = [_check(where, entry) for where, entry in _entries(document)]
    _named_once([check.source for check in checks])
    return checks


def _named_once(sources: list[JsonBalanceSource]) -> list[JsonBalanceSource]:
    """The sources, unless one name comes twice."""
    for index, source in enumerate(sources):
        if any(known.name == source.name for known in sources[:index]):
            raise SourceConfigError(f"sources[{index}].name", f"{source.name!r} is named twice")
    return sources


def _entries(document: Mapping[str, object]) -> list[tuple[str, object]]:
    """The document's entries, each with where it is (`sources[1]`)."""
    if not isinstance(document, Mapping):
        raise SourceConfigError("sources", "the configuration must be a JSON object")
    unknown = sorted(set(document) - {"sources"})
    if unknown:
        raise SourceConfigError(unknown[0], "is not a configuration field")
    entries = document.get("sources")
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise SourceConfigError("sources", "must be a list of sources")
    if len(entries) > sources_max:
        raise SourceConfigError("sources", f"at most {sources_max} sources")
    return [(f"sources[{index}]", entry) for index, entry in enumerate(entries)]


def _check(where: str, entry: object) -> ConfiguredCheck:
    if not isinstance(entry, Mapping):
        raise SourceConfigError(where, "must be an object")
    check_fields = set(_check_required) | set(_check_optional)
    source = _source(
        where, {name: value for name, value in entry.items() if name not in check_fields}
    )
    ledger_id = _text(entry, where, "ledger_id")
    tolerance = _optional_text(entry, where, "tolerance") or "0"
    has_ids, has_type = entry.get("account_ids") is not None, entry.get("account_type") is not None
    if has_ids == has_type:
        raise SourceConfigError(
            f"{where}.account_ids", "give exactly one of account_ids and account_type"
        )
    if has_type:
        return ConfiguredCheck(source, ledger_id, None, _account_type(entry, where), tolerance)
    return ConfiguredCheck(source, ledger_id, _account_ids(entry, where), None, tolerance)


def _account_ids(entry: Mapping[str, object], where: str) -> tuple[str, ...]:
    value = entry["account_ids"]
    bound = limits.external_check_accounts_max
    if not isinstance(value, Sequence) or isinstance(value, str) or not 1 <= len(value) <= bound:
        raise SourceConfigError(
            f"{where}.account_ids", f"must be a list of 1 to {bound} account ids"
        )
    for index, account_id in enumerate(value):
        if not isinstance(account_id, str) or not account_id:
            raise SourceConfigError(f"{where}.account_ids[{index}]", "must be a non-empty string")
    return tuple(value)


def _account_type(entry: Mapping[str, object], where: str) -> AccountType:
    value = _text(entry, where, "account_type")
    if value not in AccountType._value2member_map_:
        allowed = ", ".join(member.value for member in AccountType)
        raise SourceConfigError(f"{where}.account_type", f"must be one of: {allowed}")
    return AccountType(value)


def _source(where: str, entry: object) -> JsonBalanceSource:
    if not isinstance(entry, Mapping):
        raise SourceConfigError(where, "must be an object")
    unknown = sorted(set(entry) - set(_required) - set(_optional))
    if unknown:
        raise SourceConfigError(f"{where}.{unknown[0]}", "is not a source field")
    name = _text(entry, where, "name")
    url = _text(entry, where, "url")
    amount_pointer = _text(entry, where, "amount_pointer", allow_empty=True)
    as_of_pointer = _optional_text(entry, where, "as_of_pointer")
    token_variable = _optional_text(entry, where, "token_variable")
    currency = _currency(entry, where)
    try:
        return JsonBalanceSource(
            name,
            currency,
            url,
            amount_pointer,
            as_of_pointer=as_of_pointer,
            token_variable=token_variable,
        )
    except SourceConfigError as error:
        raise SourceConfigError(f"{where}.{error.field}", error.message) from None


def _text(entry: Mapping[str, object], where: str, field: str, allow_empty: bool = False) -> str:
    if field not in entry:
        raise SourceConfigError(f"{where}.{field}", "is required")
    value = entry[field]
    if not isinstance(value, str) or (not value and not allow_empty):
        raise SourceConfigError(f"{where}.{field}", "must be a non-empty string")
    return value


def _optional_text(entry: Mapping[str, object], where: str, field: str) -> str | None:
    if entry.get(field) is None:
        return None
    return _text(entry, where, field)


def _currency(entry: Mapping[str, object], where: str) -> Currency:
    code = _text(entry, where, "currency")
    scale = entry.get("scale")
    if scale is None:
        known = builtin_currencies.get(code)
        if known is None:
            raise SourceConfigError(f"{where}.scale", f"is required for currency {code!r}")
        return known
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise SourceConfigError(f"{where}.scale", "must be an integer")
    known = builtin_currencies.get(code)
    if known is not None and known.scale != scale:
        raise SourceConfigError(f"{where}.scale", f"{code} has scale {known.scale}, not {scale}")
    try:
        return Currency(code, scale)
    except ValidationError as error:
        raise SourceConfigError(f"{where}.{error.field}", error.message) from None
