"""Client routes for a ledger's external balance checks (docs/reconciliation.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from ledger.client.base import ClientBase, amount_text, follow, moment_text, present
from ledger.client.decode import Json, moment
from ledger.client.transport import Call, path
from ledger.domain import limits
from ledger.domain.external import ExternalCheck, parse_signed_amount
from ledger.domain.model import AccountType, Page
from ledger.domain.money import Currency


class ExternalBalancesClient(ClientBase):
    """Checking a ledger against balances held outside it, and listing the checks."""

    def check_external_balance(
        self,
        ledger_id: str,
        source: str,
        currency: str,
        amount: Decimal | str,
        *,
        as_of: datetime | str | None = None,
        account_ids: Sequence[str] | None = None,
        account_type: AccountType | str | None = None,
        tolerance: Decimal | str | None = None,
        idempotency_key: str | None = None,
    ) -> ExternalCheck:
        """What `source` reports (signed) against the sum of `posted` of the named accounts,
        or of every account of `account_type` in `currency`, now or as recorded at `as_of`;
        the check as stored."""
        body = present(
            source=source,
            currency=currency,
            amount=amount_text(amount),
            as_of=moment_text(as_of, "as_of"),
            account_ids=None if account_ids is None else list(account_ids),
            account_type=None if account_type is None else str(account_type),
            tolerance=None if tolerance is None else amount_text(tolerance, "tolerance"),
        )
        answer = self._create(body, idempotency_key, "ledgers", ledger_id, "external-balances")
        return external_check(answer, ledger_id, self._replayed())

    def list_external_checks(
        self,
        ledger_id: str,
        *,
        source: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[ExternalCheck]:
        """A page of the ledger's checks, by source name, newest first within each."""
        query = {"source": source, "limit": limit, "cursor": cursor}
        body = self._send(Call("GET", path("ledgers", ledger_id, "external-balances"), query))
        return Page(
            [external_check(item, ledger_id) for item in body["items"]], body["next_cursor"]
        )

    def iter_external_checks(
        self,
        ledger_id: str,
        *,
        source: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int | None = None,
    ) -> Iterator[ExternalCheck]:
        """The ledger's checks, following cursors to the end; past `pages_max` pages, if
        given, PagesMaxReached."""
        return follow(
            lambda cursor: self.list_external_checks(
                ledger_id, source=source, limit=page_size, cursor=cursor
            ),
            pages_max,
        )


def external_check(body: Json, ledger_id: str, replayed: bool = False) -> ExternalCheck:
    """A check of the contract, its amounts in minor units again (every amount is rendered
    with the currency's scale, which so reads off it; the request hash is the service's
    own and stays empty)."""
    scale = len(body["external"].partition(".")[2])
    currency = Currency(body["currency"], scale)
    account_ids = body["account_ids"]
    account_type = body["account_type"]
    return ExternalCheck(
        id=body["id"],
        ledger_id=ledger_id,
        source=body["source"],
        currency=currency,
        external=parse_signed_amount(body["external"], currency, "external"),
        ledger_total=parse_signed_amount(body["ledger_total"], currency, "ledger_total"),
        tolerance=parse_signed_amount(body["tolerance"], currency, "tolerance"),
        accounts_counted=body["accounts_counted"],
        as_of=moment(body["as_of"]),
        checked_at=moment(body["checked_at"]),
        actor=body["checked_by"],
        account_ids=None if account_ids is None else tuple(account_ids),
        account_type=None if account_type is None else AccountType(account_type),
        request_hash="",
        replayed=replayed,
    )
