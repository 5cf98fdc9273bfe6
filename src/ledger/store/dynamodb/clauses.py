"""The named condition clauses of the table's guards: one rule, one name, shared by every
step that states it (and by the tests that check them against the pure checks)."""

from __future__ import annotations

item_exists = "attribute_exists(pk)"
item_is_new = "attribute_not_exists(pk)"
account_is_active = "#status = :active"
account_is_not_closed = "#status <> :closed"
currency_matches = "#currency = :currency"
ledger_matches = "#ledger_id = :ledger_id"
type_matches = "#type = :type"
headroom_covers_outflow = "(#overdraft_mode = :allow OR #headroom >= :outflow)"
posted_is_zero = "#posted_debits = #posted_credits"
nothing_pending = "#pending_debits = :zero AND #pending_credits = :zero"
version_is_unchanged = "#version = :read_version"
currency_has_scale = "#currencies.#code = :scale"
currency_is_free_or_same = f"(attribute_not_exists(#currencies.#code) OR {currency_has_scale})"
entry_is_pending = "#status = :pending"
entry_is_unexpired = "(attribute_not_exists(#expires_at) OR #expires_at > :now)"
entry_is_expired = "#expires_at <= :now"
entry_is_posted = "#status = :posted"
# An entry created pending shows it by its posting entry once posted; only the posting
# entry itself can be reversed.
entry_is_unreversed = (
    "attribute_not_exists(#reversed_by) AND attribute_not_exists(#posting_entry_id)"
)
overdraft_is_unchanged = "#overdraft_mode = :previous_mode AND #credit_limit = :previous_limit"
headroom_covers_new_limit = "#headroom >= :needed"


def all_of(*clauses: str) -> str:
    """The clauses joined: every one must hold."""
    return " AND ".join(clauses)
