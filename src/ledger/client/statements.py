"""Client route for an account's statement."""

from __future__ import annotations

from datetime import datetime

from ledger.client.base import ClientBase, moment_text
from ledger.client.decode import Json, minor, moment
from ledger.client.transport import Call, path
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Side
from ledger.domain.money import Currency
from ledger.domain.results import Statement, StatementBalance, StatementLine


class StatementsClient(ClientBase):
    """An account's statement, page by page."""

    def statement(
        self,
        account_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        basis: str = "recorded",
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Statement:
        """A page of the account's statement from `start` (inclusive) to `end` (exclusive,
        or now) on `basis` ("recorded" or "effective"), oldest first."""
        query = {
            "from": moment_text(start, "from"),
            "to": moment_text(end, "to"),
            "basis": basis,
            "limit": limit,
            "cursor": cursor,
        }
        body = self._send(Call("GET", path("accounts", account_id, "statement"), query))
        currency = parse_account_id(account_id).currency
        return Statement(
            account_id=account_id,
            opening=_balance(body["opening"], currency),
            closing=_balance(body["closing"], currency),
            lines=[_line(item, currency) for item in body["items"]],
            next_cursor=body["next_cursor"],
        )


def _balance(body: Json, currency: Currency) -> StatementBalance:
    return StatementBalance(minor(body["posted"], currency), minor(body["available"], currency))


def _line(body: Json, currency: Currency) -> StatementLine:
    return StatementLine(
        entry_id=body["entry_id"],
        version=int(body["version"]),
        kind=body["kind"],
        side=Side(body["side"]),
        amount=minor(body["amount"], currency),
        description=body.get("description"),
        reference=body.get("reference"),
        effective_at=moment(body["effective_at"]),
        created_at=moment(body["created_at"]),
        balance_after=_balance(body["balance_after"], currency),
    )
