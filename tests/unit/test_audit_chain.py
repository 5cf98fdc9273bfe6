"""The audit chain: the library's hashes, and the standalone verifier docs/audit.md shows,
agree; any rewritten or missing record is found at its version."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.audit import (
    AuditRecord,
    ChainHead,
    canonical,
    canonical_fields,
    chained,
    first_break,
    genesis_hash,
    ledger_digest,
)

root = Path(__file__).resolve().parents[2]
_verifier_block = re.compile(
    r"<!-- audit: verifier -->\n```python\n(?P<code>.*?)^```$", re.S | re.M
)


def _doc_verifier() -> Callable[[list[dict[str, Any]]], int | None]:
    """The `verify` function of docs/audit.md, run as written."""
    match = _verifier_block.search((root / "docs" / "audit.md").read_text())
    assert match is not None, "docs/audit.md lost its verifier"
    namespace: dict[str, Any] = {"__name__": "audit_doc"}
    exec(compile(match.group("code"), "docs/audit.md", "exec"), namespace)
    assert namespace["FIELDS"] == canonical_fields, "the doc hashes other fields"
    verify: Callable[[list[dict[str, Any]]], int | None] = namespace["verify"]
    return verify


def _amounts(posted: int) -> dict[str, str]:
    return {"posted": f"{posted // 100}.{posted % 100:02d}", "pending_out": "0.00"}


def _record(version: int, before: int, after: int) -> AuditRecord:
    return AuditRecord(
        account_id="acc_example",
        shard=0,
        version=version,
        entry_id=f"ent_{version}",
        kind="deposit",
        before=_amounts(before),
        after=_amounts(after),
        recorded_at=f"2026-12-02T10:00:{version:02d}.000000Z",
        actor={"key_id": "key_1", "role": "operator", "request_id": f"r{version}"},
    )


def _chain(amounts: list[int]) -> list[tuple[AuditRecord, str]]:
    links = []
    posted, previous = 0, genesis_hash
    for version, amount in enumerate(amounts, start=1):
        record = _record(version, posted, posted + amount)
        previous = chained(previous, record)
        links.append((record, previous))
        posted += amount
    return links


def _as_answered(links: list[tuple[AuditRecord, str]]) -> list[dict[str, Any]]:
    return [{**record.document(), "hash": stored} for record, stored in links]


amounts = st.lists(st.integers(min_value=1, max_value=10**30), min_size=1, max_size=12)


@given(amounts)
def test_an_untouched_chain_verifies_in_the_library_and_in_the_doc(values: list[int]) -> None:
    # GIVEN a chain the library built
    links = _chain(values)
    # THEN the library and the standalone script both find it intact
    assert first_break(links) is None
    assert _doc_verifier()(_as_answered(links)) is None


@given(amounts, st.data())
def test_a_rewritten_record_is_found_at_its_version(values: list[int], data: st.DataObject) -> None:
    # GIVEN a chain, and one of its records rewritten after the fact (amount, actor or time)
    links = _chain(values)
    index = data.draw(st.integers(min_value=0, max_value=len(links) - 1))
    record, stored = links[index]
    forged = data.draw(
        st.sampled_from(
            [
                replace(record, after=_amounts(0)),
                replace(record, actor={"key_id": "key_other"}),
                replace(record, recorded_at="2026-12-03T00:00:00.000000Z"),
                replace(record, entry_id=None),
            ]
        )
    )
    links[index] = (forged, stored)
    # THEN both find the break at exactly that version
    broken = first_break(links)
    assert broken is not None
    assert broken.version == record.version
    assert _doc_verifier()(_as_answered(links)) == record.version


@pytest.mark.parametrize("removed", [0, 1, 2, 3])
def test_a_removed_record_breaks_the_chain_where_it_was(removed: int) -> None:
    # GIVEN a chain of five with one record taken out
    links = _chain([100, 200, 300, 400, 500])
    del links[removed]
    # THEN the version after the gap (or the new first one) is where it breaks
    broken = first_break(links)
    assert broken is not None
    assert broken.version == removed + 2
    assert _doc_verifier()(_as_answered(links)) == removed + 2


def test_a_cut_off_tail_leaves_a_chain_whose_head_is_behind_the_item() -> None:
    # GIVEN a chain of five whose last record is gone
    links = _chain([100, 200, 300, 400, 500])[:-1]
    # THEN the chain alone is intact: only comparing its head with the item (version 5,
    # its totals) shows the loss, which is why verification compares them
    assert first_break(links) is None
    head, _ = links[-1]
    assert head.version == 4


def test_the_canonical_form_is_sorted_compact_ascii_with_amounts_as_strings() -> None:
    # GIVEN a record with an amount past 2^53 and a non-ASCII user agent
    record = replace(_record(1, 0, 10**30), actor={"user_agent": "caf\u00e9"})
    text = canonical(record).decode("ascii")
    # THEN keys come sorted, with no whitespace, amounts as strings, non-ASCII escaped
    assert text.startswith('{"account_id":"acc_example","actor":{"user_agent":"caf\\u00e9"}')
    assert '"posted":"10000000000000000000000000000.00"' in text
    assert " " not in text
    assert '"version":"1"' in text
    # AND it covers exactly the fields the doc's verifier reads
    assert sorted(record.document()) == sorted(canonical_fields)


def test_a_ledger_digest_covers_every_head_in_account_order() -> None:
    # GIVEN the chain heads of three items of a ledger
    heads = [
        ChainHead("acc_b", 0, 3, "b" * 64),
        ChainHead("acc_a", 1, 2, "c" * 64),
        ChainHead("acc_a", 0, 7, "a" * 64),
    ]
    digest = ledger_digest(heads)
    # THEN the order they come in does not matter, and it is the documented sha256
    assert ledger_digest(reversed(heads)) == digest
    lines = f"acc_a 0 7 {'a' * 64}\nacc_a 1 2 {'c' * 64}\nacc_b 0 3 {'b' * 64}\n"
    assert digest == hashlib.sha256(lines.encode()).hexdigest()
    # AND any head moved on, rewritten or missing gives another digest
    assert ledger_digest([replace(heads[0], version=4), *heads[1:]]) != digest
    assert ledger_digest([replace(heads[1], hash="d" * 64), heads[0], heads[2]]) != digest
    assert ledger_digest(heads[1:]) != digest
