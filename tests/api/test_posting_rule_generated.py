"""Generated posting rules and inbound events through the API: never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .harness import Api
from .test_posting_rules import books, event_type, rules_path

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
templates = st.sampled_from(
    ["{{data.a}}", "{{data.a.b}}", "cash", "{{ data.a }}x", "{{data.a", "}}", "1.00", ""]
)


@settings(max_examples=40, deadline=None)
@given(
    data=st.dictionaries(st.sampled_from(["a", "amount", "b"]), json_values, max_size=3),
    occurred_at=st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "x", 5]),
    lines=st.lists(
        st.fixed_dictionaries(
            {"side": st.sampled_from(["debit", "credit", "up"]), "amount": templates},
            optional={"account_id": templates, "account_code": templates},
        ),
        max_size=3,
    ),
)
def test_no_rule_and_no_event_is_answered_with_a_server_error(
    api: Api,
    fuzzed_ledger: str,
    data: dict[str, Any],
    occurred_at: Any,
    lines: list[dict[str, Any]],
) -> None:
    # GIVEN a ledger (made once) with an expense rule
    ledger_id = fuzzed_ledger

    # WHEN arbitrary rules are put and arbitrary events dry-run
    put = api.call("PUT", rules_path(ledger_id, "fuzz.created"), {"lines": lines})
    sent = {"id": "e", "type": event_type, "ledger_id": ledger_id, "occurred_at": occurred_at}
    dry = api.call("POST", f"{rules_path(ledger_id)}/dry-run", {"event": {**sent, "data": data}})

    # THEN each is answered, never with a 5xx
    assert put.status < 500, put.json
    assert dry.status < 500, dry.json


@pytest.fixture(scope="module")
def fuzzed_ledger(api: Api) -> str:
    """One ledger with an expense rule whose every string is a placeholder, for the
    module's generated requests."""
    ledger_id, _, _ = books(api)
    rule = {
        "lines": [
            {"account_id": "{{data.a}}", "side": "debit", "amount": "{{data.amount}}"},
            {"account_code": "{{data.b}}", "side": "credit", "amount": "{{data.amount}}"},
        ],
        "reference": "{{data.a}}",
    }
    assert api.call("PUT", rules_path(ledger_id), rule).status == 200
    return ledger_id
