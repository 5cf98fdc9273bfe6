"""Response bodies of the external balance routes, and their renderers."""

from __future__ import annotations

from typing import Any

from ledger.api.views import View
from ledger.domain.external import ExternalCheck
from ledger.domain.model import Page
from ledger.domain.views import external_check_view


class ExternalCheckView(View):
    """An external balance check: what the source reported, what the ledger held, the
    difference (external - ledger_total), and who checked when."""

    id: str
    source: str
    currency: str
    external: str
    ledger_total: str
    difference: str
    within_tolerance: bool
    accounts_counted: int
    as_of: str
    tolerance: str
    checked_at: str
    account_ids: list[str] | None
    account_type: str | None
    checked_by: str | None


class ExternalCheckPage(View):
    """A page of a ledger's external balance checks."""

    items: list[ExternalCheckView]
    next_cursor: str | None


def external_check_page_view(page: Page[ExternalCheck]) -> dict[str, Any]:
    """A page of checks."""
    return {
        "items": [external_check_view(item) for item in page.items],
        "next_cursor": page.next_cursor,
    }
