"""Response bodies of the monitor routes, the monitor as events carry it, and renderers."""

from __future__ import annotations

from typing import Any

from ledger.api.views import View
from ledger.domain.model import Page
from ledger.domain.monitors import Monitor
from ledger.domain.views import monitor_view


class MonitorView(View):
    """A monitor of an account, with its state and the account version it was evaluated at."""

    id: str
    account_id: str
    ledger_id: str
    field: str
    operator: str
    value: str
    description: str | None
    state: str
    version: int
    created_at: str


class MonitorPage(View):
    """A page of an account's monitors."""

    items: list[MonitorView]
    next_cursor: str | None


def monitor_page_view(page: Page[Monitor]) -> dict[str, Any]:
    """A page of monitors."""
    return {"items": [monitor_view(item) for item in page.items], "next_cursor": page.next_cursor}
