"""JSON balance sources from a configuration document, every field checked by name.

    {"sources": [{"name": "bank", "currency": "USD", "url": "https://bank.example/balance",
                  "amount_pointer": "/balance/available", "as_of_pointer": "/balance/at",
                  "token_variable": "BANK_TOKEN"}]}

`scale` is needed only for a currency the ledger does not know (builtin_currencies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ledger.domain.errors import ValidationError
from ledger.domain.money import Currency, builtin_currencies
from ledger.jobs.external_sources import JsonBalanceSource, SourceConfigError

sources_max = 100
_required = ("name", "currency", "url", "amount_pointer")
_optional = ("scale", "as_of_pointer", "token_variable")


def sources_from_config(document: Mapping[str, object]) -> list[JsonBalanceSource]:
    """Every source the document lists, in order; SourceConfigError at the first bad field."""
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
    sources: list[JsonBalanceSource] = []
    for index, entry in enumerate(entries):
        source = _source(f"sources[{index}]", entry)
        if any(known.name == source.name for known in sources):
            raise SourceConfigError(f"sources[{index}].name", f"{source.name!r} is named twice")
        sources.append(source)
    return sources


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
