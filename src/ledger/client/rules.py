"""Client routes for posting rules: put a version, read and list them, dry-run an event."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ledger.client import decode
from ledger.client.base import ClientBase, follow, moment_text, present
from ledger.client.transport import Call, path
from ledger.domain import limits
from ledger.domain.model import Entry, Page, Side
from ledger.domain.posting_rules import InboundEvent, PostingRule, RuleLine


class RulesClient(ClientBase):
    """Posting rules of a ledger and dry runs of inbound events."""

    def put_rule(
        self,
        ledger_id: str,
        event_type: str,
        lines: Sequence[RuleLine | Mapping[str, Any]],
        *,
        reference: str | None = None,
        description: str | None = None,
    ) -> PostingRule:
        """Put the next version of the ledger's rule for an event type (admin). Not retried
        once it may have arrived: a second put would be one more version."""
        body = present(
            lines=[_line_body(line) for line in lines],
            reference=reference,
            description=description,
        )
        call = Call(
            "PUT",
            path("ledgers", ledger_id, "posting-rules", event_type),
            body=body,
            repeatable=False,
        )
        return rule(self._send(call))

    def get_rule(self, ledger_id: str, event_type: str, version: int | None = None) -> PostingRule:
        """The latest version of the ledger's rule for an event type, or one version."""
        call = Call(
            "GET", path("ledgers", ledger_id, "posting-rules", event_type), {"version": version}
        )
        return rule(self._send(call))

    def list_rules(
        self, ledger_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[PostingRule]:
        """One page of the latest version of each of the ledger's rules, by event type."""
        query = {"limit": limit, "cursor": cursor}
        call = Call("GET", path("ledgers", ledger_id, "posting-rules"), query)
        return decode.page(self._send(call), rule)

    def iter_rules(
        self,
        ledger_id: str,
        *,
        page_size: int = limits.page_size_max,
        pages_max: int | None = None,
    ) -> Iterator[PostingRule]:
        """Every rule of the ledger (its latest version), following cursors to the end."""
        return follow(
            lambda cursor: self.list_rules(ledger_id, limit=page_size, cursor=cursor), pages_max
        )

    def dry_run_event(self, event: InboundEvent | Mapping[str, Any]) -> Entry:
        """The entry the event would post through its rule; nothing is written."""
        body = event_body(event)
        segments = ("ledgers", str(body.get("ledger_id")), "posting-rules", str(body.get("type")))
        call = Call("POST", path(*segments, "dry-run"), body={"event": body})
        return decode.entry(self._send(call))


def event_body(event: InboundEvent | Mapping[str, Any]) -> dict[str, Any]:
    """An inbound event as its JSON object."""
    if not isinstance(event, InboundEvent):
        return dict(event)
    return {
        "id": event.id,
        "type": event.type,
        "ledger_id": event.ledger_id,
        "occurred_at": moment_text(event.occurred_at),
        "data": dict(event.data),
    }


def _line_body(line: RuleLine | Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(line, RuleLine):
        return dict(line)
    return present(
        account_id=line.account_id,
        account_code=line.account_code,
        side=line.side.value,
        amount=line.amount,
    )


def rule(body: Any) -> PostingRule:
    """A posting rule as the API shows it."""
    return PostingRule(
        event_type=body["event_type"],
        ledger_id=body["ledger_id"],
        version=body["version"],
        lines=tuple(
            RuleLine(
                side=Side(line["side"]),
                amount=line["amount"],
                account_id=line.get("account_id"),
                account_code=line.get("account_code"),
            )
            for line in body["lines"]
        ),
        created_at=decode.moment(body["created_at"]),
        reference=body.get("reference"),
        description=body.get("description"),
    )
