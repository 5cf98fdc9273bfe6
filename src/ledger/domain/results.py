"""What whole-ledger reads and batches answer: trial balance, balance sheet, reconciliation
and a batch's entries, as plain values. Amounts are integer minor units; callers render them.

They live in the domain, not beside the code that computes them, so that the HTTP client
can return the same types the library does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.audit import AuditRecord
from ledger.domain.ids import parse_account_id
from ledger.domain.model import AccountType, Entry, Side, Totals
from ledger.domain.money import Currency, format_amount


@dataclass(frozen=True)
class TrialBalanceLine:
    """One account's posted balance, in the debit column or the credit column."""

    account_id: str
    name: str
    code: str | None
    type: AccountType
    system: bool
    debit: int
    credit: int


@dataclass(frozen=True)
class TrialBalance:
    """Every account of one currency with its posted balance; the columns must agree."""

    ledger_id: str
    currency: Currency
    lines: tuple[TrialBalanceLine, ...]
    total_debits: int
    total_credits: int
    balanced: bool
    as_of: datetime


@dataclass(frozen=True)
class BalanceSheetNode:
    """An account in the chart-of-accounts tree: its own posted balance (normal-side
    orientation) and `total`, that balance plus its descendants'."""

    account_id: str
    name: str
    code: str | None
    type: AccountType
    system: bool
    balance: int
    total: int
    children: tuple[BalanceSheetNode, ...]


@dataclass(frozen=True)
class BalanceSheet:
    """The accounts of one currency as trees per type, and the accounting equation.

    `equity` holds the equity accounts (the `world` accounts among them) plus
    `net_income` = `revenue` - `expenses`; `balanced` is assets == liabilities + equity.
    """

    ledger_id: str
    currency: Currency
    accounts: dict[AccountType, tuple[BalanceSheetNode, ...]]
    assets: int
    liabilities: int
    equity: int
    revenue: int
    expenses: int
    net_income: int
    balanced: bool
    as_of: datetime


# Mismatch fields whose values are counts (versions, records), not amounts.
counted_fields = ("version", "versions", "record")


@dataclass(frozen=True)
class Mismatch:
    """A balance item attribute that differs from what it must be.

    `kind` says what it was checked against: `journal` (the item against the totals its
    journal implies), `history` (the item's latest history record against the item, or
    the versions missing from its history) or `audit` (the item's audit chain head against
    the item). `expected` is the journal's value for `journal`, the item's own for the
    others; amounts are minor units, `version` and `versions` fields are counts.
    """

    account_id: str
    field: str
    expected: int
    actual: int
    kind: str = "journal"
    shard: int = 0
    missing_versions: tuple[int, ...] = ()

    def rendered(self, value: int) -> str:
        """One of its values as the ledger shows it: a count for the fields in
        `counted_fields`, else an amount in its account's currency."""
        if self.field in counted_fields:
            return str(value)
        return format_amount(value, parse_account_id(self.account_id).currency)


@dataclass(frozen=True)
class CurrencyTotals:
    """One currency's four totals summed over every account item of the ledger, with what
    its accounts hold: `escrowed` over every account, `available` over the ledger's own
    accounts (its system accounts, `world` among them, stand for the outside)."""

    currency: Currency
    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0
    escrowed: int = 0
    available: int = 0

    @classmethod
    def of(cls, currency: Currency, totals: Totals, available: int = 0) -> CurrencyTotals:
        """The totals of `totals` (a sum over one currency's accounts) and `available`."""
        return cls(
            currency,
            totals.posted_debits,
            totals.posted_credits,
            totals.pending_debits,
            totals.pending_credits,
            totals.escrowed,
            available,
        )

    @property
    def balanced(self) -> bool:
        """Conservation: debits equal credits, posted and pending alike."""
        return (
            self.posted_debits == self.posted_credits
            and self.pending_debits == self.pending_credits
        )


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of checking a ledger's account items against its journal.

    `ok` when nothing mismatches and every currency in `totals` is balanced.
    """

    ledger_id: str
    ok: bool
    accounts_checked: int
    entries_checked: int
    mismatches: tuple[Mismatch, ...]
    totals: dict[str, CurrencyTotals]
    as_of: datetime
    checks: tuple[str, ...] = ("journal",)


@dataclass(frozen=True)
class BatchResult:
    """The entries a batch wrote, in operation order, and what netting saved."""

    entries: list[Entry]
    items_saved: int
    replayed: bool = False


@dataclass(frozen=True)
class AuditVerification:
    """An account's audit chains recomputed and compared with its history and its items:
    `first_bad_version` (and `reason`) say where the first item that disagrees stops."""

    account_id: str
    ok: bool
    records: int
    head_hash: str
    first_bad_version: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AuditDigest:
    """One sha256 over the chain heads of a ledger's items, as of the newest head's time."""

    ledger_id: str
    digest: str
    accounts: int
    at: datetime


@dataclass(frozen=True)
class DigestVerification:
    """A digest recomputed from the chains as of its time: whether it is the one kept, and
    the first account (by id) whose chain up to then does not hold."""

    ok: bool
    first_bad_account_id: str | None = None


@dataclass(frozen=True)
class AuditLink:
    """One stored audit record with the hash before it and its own."""

    record: AuditRecord
    previous_hash: str
    hash: str


@dataclass(frozen=True)
class AuditPage:
    """A page of an account's audit records, and the cursor of the next page if any."""

    links: list[AuditLink]
    next_cursor: str | None


@dataclass(frozen=True)
class StatementBalance:
    """The two amounts a statement shows of a balance, in minor units."""

    posted: int
    available: int


@dataclass(frozen=True)
class StatementLine:
    """One change of an account on its statement: what moved it, when, and the balance
    after it on the statement's basis."""

    entry_id: str
    version: int
    kind: str
    side: Side
    amount: int
    description: str | None
    reference: str | None
    effective_at: datetime
    created_at: datetime
    balance_after: StatementBalance


@dataclass(frozen=True)
class Statement:
    """A page of an account's statement, oldest first, between its opening and closing
    balances (the balances just before `from` and just before `to` or now)."""

    account_id: str
    opening: StatementBalance
    closing: StatementBalance
    lines: list[StatementLine]
    next_cursor: str | None
