"""Client routes for an account's monitors (docs/monitors.md)."""

from __future__ import annotations

from decimal import Decimal

from ledger.client.base import ClientBase, amount_text, present
from ledger.client.decode import Json, moment
from ledger.client.transport import Call, path
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Page
from ledger.domain.monitors import (
    Monitor,
    MonitorField,
    MonitorState,
    Operator,
    parse_threshold,
)


class MonitorsClient(ClientBase):
    """Creating, listing and deleting the monitors of an account."""

    def create_monitor(
        self,
        account_id: str,
        field: MonitorField | str,
        operator: Operator | str,
        value: Decimal | str,
        *,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> Monitor:
        """A monitor of the account, its state evaluated at the balance now; `value` is an
        amount in the account's currency, or a percent for `credit_utilization`."""
        body = present(
            field=str(field),
            operator=str(operator),
            value=amount_text(value, "value"),
            description=description,
        )
        answer = self._create(body, idempotency_key, "accounts", account_id, "monitors")
        return monitor(answer, self._replayed())

    def list_monitors(
        self, account_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Monitor]:
        """A page of the account's monitors, oldest first."""
        query = {"limit": limit, "cursor": cursor}
        body = self._send(Call("GET", path("accounts", account_id, "monitors"), query))
        return Page([monitor(item) for item in body["items"]], body["next_cursor"])

    def delete_monitor(self, account_id: str, monitor_id: str) -> Monitor:
        """Remove a monitor; the monitor as it was."""
        body = self._send(Call("DELETE", path("accounts", account_id, "monitors", monitor_id)))
        return monitor(body)


def monitor(body: Json, replayed: bool = False) -> Monitor:
    """A monitor of the contract, its threshold exact again (the request hash is the
    service's own and stays empty)."""
    currency = parse_account_id(body["account_id"]).currency
    field = MonitorField(body["field"])
    return Monitor(
        id=body["id"],
        account_id=body["account_id"],
        ledger_id=body["ledger_id"],
        currency=currency,
        field=field,
        operator=Operator(body["operator"]),
        threshold=parse_threshold(field, body["value"], currency),
        description=body["description"],
        state=MonitorState(body["state"]),
        evaluated_version=body["version"],
        created_at=moment(body["created_at"]),
        request_hash="",
        replayed=replayed,
    )
