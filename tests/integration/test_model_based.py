"""Model-based test: random command sequences against DynamoDB Local and the memory store.

The same commands, with the same idempotency keys and the same clock, go to a Ledger on
each store. A plain Python model predicts every outcome, two-phase entries included: holds
and escrows created, confirmed (fully or in part), released, refunded or expired by the
sweeper as the shared clock jumps, and entries reversed. After every step both stores must
agree with each other and with the model, no account may sit below its floor, held plus
escrowed may not exceed an account's pending outflow, every currency must balance for posted
and for pending totals, and every account's totals must equal the sum of its journal lines.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.domain.errors import IdempotencyKeyReused, LedgerError
from ledger.domain.ids import (
    derived_entry_id,
    new_account_id,
    new_entry_id,
    new_ledger_id,
    world_account_id,
)
from ledger.domain.model import (
    Account,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    OverdraftMode,
    Page,
    Side,
)
from ledger.domain.money import Currency, builtin_currencies, format_amount
from ledger.service import Ledger, LineInput
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.memory import MemoryStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
PlannedLine = tuple[str, Side, int]

currency_codes = ("USD", "JPY")
drawn_amount_minor_max = 50_000
drawn_credit_limit_minor_max = 20_000
# Sharded accounts of a few shards, and ledgers whose world is one item, two or the default eight.
drawn_shards_max = 4
model_world_shards = (1, 2, 8)
page_size = 8
lines_per_entry_min = 3
lines_per_entry_max = 4
expires_in_s_max = 90
opening_pending_minor_max = 10_000
clock_jump_s_max = 60
# Past every expiry an example can create: the teardown sweep leaves no pending entry with
# an expiry behind in the shared table, so the next example's sweeps count only its own.
teardown_jump = timedelta(days=2)
reversal_descriptions = (None, "undo", "undo again")

# Deterministic and bounded for CI (about 100 steps). Shrinking against DynamoDB Local can
# take minutes, so a failure reports its whole step sequence instead; to shrink one locally,
# add Phase.shrink to `phases`. To explore further, raise max_examples with derandomize off
# (100 examples take about 4 minutes).
machine_settings = settings(
    max_examples=4,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],
)


class SteppingClock:
    """One clock for both ledgers, moved by hand, so both stores record the same times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        """Advance one millisecond: every entry gets its own time, so listings order alike."""
        self.now += timedelta(milliseconds=1)

    def jump(self, seconds: int) -> None:
        """Advance whole seconds, past some expiries."""
        self.now += timedelta(seconds=seconds)


@dataclass
class ModelAccount:
    """What the model knows of an account: its fixed facts, its four totals, and the parts
    of its pending outflow held and escrowed."""

    id: str
    currency: Currency
    normal: Side
    overdraft: OverdraftMode
    credit_limit: int
    is_world: bool = False
    debits: int = 0
    credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0
    held: int = 0
    escrowed: int = 0

    @property
    def posted(self) -> int:
        """The posted balance in the account's normal orientation."""
        if self.normal is Side.CREDIT:
            return self.credits - self.debits
        return self.debits - self.credits

    @property
    def pending_out(self) -> int:
        """Pending amounts on the side that lowers the account."""
        return self.pending_debits if self.normal is Side.CREDIT else self.pending_credits

    def refuses(self, side: Side, amount: int) -> bool:
        """Whether an outflow of `amount` on `side`, posted or pending, would take the
        account below its floor (pending outflows already count; pending inflows never)."""
        if side is self.normal or self.overdraft is OverdraftMode.ALLOW:
            return False
        return self.posted - self.pending_out + self.credit_limit < amount

    def move(self, side: Side, *, posted: int = 0, pending: int = 0) -> None:
        """Change the totals of one side."""
        if side is Side.DEBIT:
            self.debits += posted
            self.pending_debits += pending
        else:
            self.credits += posted
            self.pending_credits += pending


@dataclass
class ModelEntry:
    """What the model knows of an entry, and of how a pending one resolved."""

    id: str
    kind: EntryKind
    lines: list[PlannedLine]
    status: EntryStatus
    created_pending: bool = False
    expires_at: datetime | None = None
    pending_id: str | None = None
    posting_entry_id: str | None = None
    # The amount argument of the post that resolved it (None: in full).
    posted_with: int | None = None
    reverses: str | None = None
    reversed_by: str | None = None
    reversal_description: str | None = None


@dataclass(frozen=True)
class AccountRequest:
    """A create_account call, replayable as is."""

    key: str
    name: str
    type: AccountType
    currency: str
    overdraft: OverdraftMode
    credit_limit: int
    shards: int = 1

    def send(self, ledger: Ledger, ledger_id: str) -> Account:
        """Make the call."""
        currency = builtin_currencies[self.currency]
        limited = self.overdraft is OverdraftMode.LIMIT
        return ledger.create_account(
            ledger_id,
            self.name,
            self.type,
            self.currency,
            overdraft=self.overdraft,
            credit_limit=format_amount(self.credit_limit, currency) if limited else None,
            idempotency_key=self.key,
            shards=self.shards,
        )


@dataclass(frozen=True)
class PresetRequest:
    """A deposit, withdraw, spend, transfer, hold or escrow call, replayable as is."""

    key: str
    kind: str
    account_id: str
    counterparty_id: str | None
    amount: int
    currency: Currency
    expires_in: int | None = None

    @property
    def pending(self) -> bool:
        """Holds and escrows are created pending."""
        return self.kind in ("hold", "escrow")

    def send(self, ledger: Ledger, ledger_id: str) -> Entry:
        """Make the call."""
        amount = format_amount(self.amount, self.currency)
        if self.kind == "transfer":
            assert self.counterparty_id is not None
            return ledger.transfer(
                self.account_id, self.counterparty_id, amount, idempotency_key=self.key
            )
        if self.kind == "escrow":
            assert self.counterparty_id is not None
            return ledger.escrow(
                self.account_id,
                self.counterparty_id,
                amount,
                expires_in=self.expires_in,
                idempotency_key=self.key,
            )
        if self.kind == "hold":
            return ledger.hold(
                self.account_id,
                amount,
                counterparty_account_id=self.counterparty_id,
                expires_in=self.expires_in,
                idempotency_key=self.key,
            )
        send: Callable[..., Entry] = getattr(ledger, self.kind)
        return send(self.account_id, amount, idempotency_key=self.key)

    def changed(self) -> PresetRequest:
        """The same call with another amount."""
        return replace(self, amount=self.amount + 1)


@dataclass(frozen=True)
class RequestLine:
    """One line of a journal request; `currency` is the one the caller names, if any."""

    account_id: str
    side: Side
    amount: int
    currency: Currency
    named_currency: str | None = None


@dataclass(frozen=True)
class JournalRequest:
    """A post_entry call, replayable as is; optionally pending, with an expiry."""

    key: str
    lines: tuple[RequestLine, ...]
    pending: bool = False
    expires_in: int | None = None

    def send(self, ledger: Ledger, ledger_id: str) -> Entry:
        """Make the call."""
        inputs = [
            LineInput(
                line.account_id,
                line.side,
                format_amount(line.amount, line.currency),
                line.named_currency,
            )
            for line in self.lines
        ]
        return ledger.create_entry(
            ledger_id,
            inputs,
            pending=self.pending,
            expires_in=self.expires_in,
            idempotency_key=self.key,
        )

    def changed(self) -> JournalRequest:
        """The same call with every amount doubled: as balanced (or not) as before."""
        return replace(
            self, lines=tuple(replace(line, amount=line.amount * 2) for line in self.lines)
        )


EntryRequest = PresetRequest | JournalRequest
Outcome = Account | Entry | LedgerError
PendingCall = Callable[[Ledger], Entry]


@dataclass(frozen=True)
class Refused:
    """The model's prediction that a call fails with `code` (about `account_id`, if given)."""

    code: str
    account_id: str | None = None


def outcome_of(call: Callable[[], T]) -> T | LedgerError:
    """The call's result, or the ledger error it raised; anything else propagates."""
    try:
        return call()
    except LedgerError as error:
        return error


def comparable(outcome: object) -> object:
    """Errors compare by class, code and details; records by value."""
    if isinstance(outcome, LedgerError):
        return (type(outcome), outcome.code, outcome.details)
    return outcome


def walk(page_of: Callable[[str | None], Page[T]]) -> list[T]:
    """Every item of a listing, page by page; bounded so a cursor loop cannot hang the test."""
    items: list[T] = []
    cursor: str | None = None
    for _ in range(1000):
        page = page_of(cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items
    raise AssertionError("the listing never ended")


def sides_of(count: int) -> st.SearchStrategy[list[Side]]:
    """`count` sides with at least one debit and one credit."""
    return st.lists(st.sampled_from(Side), min_size=count, max_size=count).filter(
        lambda sides: len(set(sides)) == 2
    )


class LedgerModel(RuleBasedStateMachine):
    """Drives a Ledger on each store with the same commands and checks both against a model."""

    client: ClassVar[DynamoDBClient | None] = None
    table_name: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        assert self.client is not None, "bind the machine to a DynamoDB Local table first"
        self.clock = SteppingClock()
        self.memory = Ledger(MemoryStore(), clock=self.clock)
        self.dynamo = Ledger(DynamoDBStore(self.table_name, client=self.client), clock=self.clock)
        # A fresh ledger per example: random, but the same id on both stores, its `world`
        # accounts of one item or sharded.
        key = f"model-{secrets.token_hex(8)}"
        world_shards = secrets.choice(model_world_shards)
        self.ledger_id = new_ledger_id(None, key, world_shards)
        for ledger in (self.memory, self.dynamo):
            created = ledger.create_ledger("model", idempotency_key=key, world_shards=world_shards)
            assert (created.id, created.world_shards) == (self.ledger_id, world_shards)
        self.accounts: dict[str, ModelAccount] = {}
        self.account_requests: list[AccountRequest] = []
        self.account_keys: dict[str, AccountRequest] = {}
        self.entry_requests: list[EntryRequest] = []
        self.entry_keys: dict[str, tuple[object, str]] = {}
        self.entry_ids: list[str] = []
        self.entries: dict[str, ModelEntry] = {}
        self.requests_sent = 0

    def teardown(self) -> None:
        """Expire what this example left pending, so the shared table's expiry index holds
        nothing for the next example's sweeps to count."""
        self.clock.now += teardown_jump
        self.dynamo.expire_pending()

    # Sending

    def _next_key(self, prefix: str) -> str:
        self.requests_sent += 1
        return f"{prefix}-{self.requests_sent}"

    def _both(self, call: Callable[[Ledger], T]) -> T | LedgerError:
        """Send one call to both ledgers at the same instant; they must answer alike."""
        self.clock.tick()
        memory = outcome_of(lambda: call(self.memory))
        dynamo = outcome_of(lambda: call(self.dynamo))
        assert comparable(dynamo) == comparable(memory), (memory, dynamo)
        return memory

    def _user_accounts(self) -> list[ModelAccount]:
        return [account for account in self.accounts.values() if not account.is_world]

    def _has_user_account(self) -> bool:
        return bool(self._user_accounts())

    def _pools(self) -> dict[str, list[ModelAccount]]:
        """Accounts by currency, world accounts included."""
        pools: dict[str, list[ModelAccount]] = defaultdict(list)
        for account in self.accounts.values():
            pools[account.currency.code].append(account)
        return pools

    def _has_journal_pool(self) -> bool:
        return any(len(pool) >= lines_per_entry_min for pool in self._pools().values())

    # Accounts

    def _create_account(self, request: AccountRequest) -> None:
        # WHEN the same account request goes to both stores
        outcome = self._both(lambda ledger: request.send(ledger, self.ledger_id))
        known = self.account_keys.get(request.key)
        currency = builtin_currencies[request.currency]
        expected_id = self._account_id(request)
        # THEN a new key opens the account, an old key replays it or is refused
        if known is not None and known != request:
            assert isinstance(outcome, IdempotencyKeyReused), outcome
            return
        assert isinstance(outcome, Account), outcome
        assert (outcome.id, outcome.replayed) == (expected_id, known is not None)
        limit = request.credit_limit if request.overdraft is OverdraftMode.LIMIT else 0
        overdraft = (outcome.overdraft.mode, outcome.overdraft.credit_limit)
        assert (outcome.type, outcome.currency, overdraft, outcome.shards) == (
            request.type,
            currency,
            (request.overdraft, limit),
            request.shards,
        )
        if known is not None:
            return
        self.account_keys[request.key] = request
        self.account_requests.append(request)
        self.accounts[expected_id] = ModelAccount(
            expected_id, currency, request.type.normal_balance, request.overdraft, limit
        )
        world_id = world_account_id(self.ledger_id, currency)
        if world_id not in self.accounts:
            self.accounts[world_id] = ModelAccount(
                world_id, currency, Side.CREDIT, OverdraftMode.ALLOW, 0, is_world=True
            )

    def _account_id(self, request: AccountRequest) -> str:
        """The id the ledger derives from the request's key, currency and normal side."""
        currency = builtin_currencies[request.currency]
        return new_account_id(
            self.ledger_id, currency, request.type.normal_balance, request.key, request.shards
        )

    def _account_request(self, data: st.DataObject) -> AccountRequest:
        overdraft = data.draw(st.sampled_from(OverdraftMode))
        limited = overdraft is OverdraftMode.LIMIT
        # Only an account without a floor may be sharded.
        allowed = overdraft is OverdraftMode.ALLOW
        return AccountRequest(
            key=self._next_key("account"),
            name=f"account {self.requests_sent}",
            type=data.draw(st.sampled_from(AccountType)),
            currency=data.draw(st.sampled_from(currency_codes)),
            overdraft=overdraft,
            credit_limit=data.draw(st.integers(1, drawn_credit_limit_minor_max)) if limited else 0,
            shards=data.draw(st.integers(1, drawn_shards_max)) if allowed else 1,
        )

    @initialize(data=st.data(), count=st.integers(2, 4))
    def open_funded_accounts(self, data: st.DataObject, count: int) -> None:
        """GIVEN a few accounts to start with, each with an opening deposit, and a hold and an
        escrow on them, so every example has pending entries to resolve or expire."""
        for _ in range(count):
            self._create_account(self._account_request(data))
            self._with_world(data, "deposit", self.account_requests[-1])
        self._open_pending(data, "hold", "world", opening_pending_minor_max)
        self._open_pending(data, "escrow", "same", opening_pending_minor_max)

    @rule(data=st.data())
    def open_account(self, data: st.DataObject) -> None:
        """Open one more account."""
        self._create_account(self._account_request(data))

    @precondition(lambda self: bool(self.account_requests))
    @rule(data=st.data(), change_name=st.booleans())
    def replay_account(self, data: st.DataObject, change_name: bool) -> None:
        """Re-send an account request: replayed as is, or refused with another name."""
        request = data.draw(st.sampled_from(self.account_requests))
        self._create_account(
            replace(request, name=request.name + " renamed") if change_name else request
        )

    # Entries

    def _expected(self, request: EntryRequest) -> tuple[str, list[PlannedLine]] | Refused:
        """What the ledger must answer: the request's kind and lines, or a refusal."""
        if isinstance(request, PresetRequest):
            account = self.accounts[request.account_id]
            counterparty_id = request.counterparty_id or world_account_id(
                self.ledger_id, account.currency
            )
            if self.accounts[counterparty_id].currency != account.currency:
                return Refused("currency_mismatch")
            inflow = request.kind == "deposit"
            side = account.normal if inflow else account.normal.opposite
            lines = [
                (account.id, side, request.amount),
                (counterparty_id, side.opposite, request.amount),
            ]
            kind = "withdrawal" if request.kind == "withdraw" else request.kind
        else:
            for line in request.lines:
                if line.named_currency not in (None, line.currency.code):
                    return Refused("currency_mismatch")
            lines = [(line.account_id, line.side, line.amount) for line in request.lines]
            kind = "entry"
        if len({account_id for account_id, _, _ in lines}) < len(lines):
            return Refused("validation_error")
        balance: dict[str, int] = defaultdict(int)
        for account_id, side, amount in lines:
            currency = self.accounts[account_id].currency.code
            balance[currency] += amount if side is Side.DEBIT else -amount
        if any(balance.values()):
            return Refused("unbalanced_entry")
        return kind, lines

    def _post(self, request: EntryRequest) -> None:
        # WHEN the same request goes to both stores
        outcome = self._both(lambda ledger: request.send(ledger, self.ledger_id))
        # THEN both answer what the model predicts
        expected = self._expected(request)
        if isinstance(expected, Refused):
            assert isinstance(outcome, LedgerError), outcome
            assert outcome.code == expected.code, outcome
            return
        kind, lines = expected
        signature = (kind, lines)
        known = self.entry_keys.get(request.key)
        if known is not None:
            known_signature, entry_id = known
            if known_signature != signature:
                assert isinstance(outcome, IdempotencyKeyReused), outcome
                return
            assert isinstance(outcome, Entry), outcome
            assert (outcome.id, outcome.replayed) == (entry_id, True)
            return
        refused_by = next(
            (
                account_id
                for account_id, side, amount in lines
                if self.accounts[account_id].refuses(side, amount)
            ),
            None,
        )
        if refused_by is not None:
            assert isinstance(outcome, LedgerError), outcome
            assert (outcome.code, outcome.details.get("account_id")) == (
                "insufficient_funds",
                refused_by,
            )
            return
        assert isinstance(outcome, Entry), outcome
        entry_id = new_entry_id(self.ledger_id, request.key)
        assert (outcome.id, outcome.replayed, outcome.kind) == (entry_id, False, kind)
        assert [(line.account_id, line.side, line.amount) for line in outcome.lines] == lines
        expires_at = (
            None
            if request.expires_in is None
            else self.clock.now + timedelta(seconds=request.expires_in)
        )
        status = EntryStatus.PENDING if request.pending else EntryStatus.POSTED
        assert (outcome.status, outcome.expires_at) == (status, expires_at)
        for account_id, side, amount in lines:
            account = self.accounts[account_id]
            if request.pending:
                account.move(side, pending=amount)
            else:
                account.move(side, posted=amount)
        self._reserve(EntryKind(kind), lines, 1)
        self.entry_keys[request.key] = (signature, entry_id)
        self._record(
            ModelEntry(
                entry_id,
                EntryKind(kind),
                lines,
                status,
                created_pending=request.pending,
                expires_at=expires_at,
            )
        )
        # AND a strongly consistent balance read agrees (one account: listings check the rest)
        account_id = lines[0][0]
        balances = [ledger.get_balance(account_id) for ledger in (self.memory, self.dynamo)]
        assert balances[0] == balances[1]
        assert balances[0].posted == self.accounts[account_id].posted

    def _send(self, request: EntryRequest) -> None:
        self.entry_requests.append(request)
        self._post(request)

    def _amount(self, data: st.DataObject) -> int:
        return data.draw(st.integers(1, drawn_amount_minor_max))

    def _with_world(
        self, data: st.DataObject, kind: str, opened: AccountRequest | None = None
    ) -> None:
        if opened is None:
            account = data.draw(st.sampled_from(self._user_accounts()))
        else:
            account = self.accounts[self._account_id(opened)]
        self._send(
            PresetRequest(
                self._next_key(kind), kind, account.id, None, self._amount(data), account.currency
            )
        )

    @precondition(_has_user_account)
    @rule(data=st.data())
    def deposit(self, data: st.DataObject) -> None:
        """Money in from the world account of the currency."""
        self._with_world(data, "deposit")

    @precondition(_has_user_account)
    @rule(data=st.data(), kind=st.sampled_from(["withdraw", "spend"]))
    def pay_out(self, data: st.DataObject, kind: str) -> None:
        """Money out to the world account of the currency, within the floor."""
        self._with_world(data, kind)

    def _target(self, data: st.DataObject, source: ModelAccount, variant: str) -> ModelAccount:
        """Another account of the source's currency; or, by variant, one of another currency
        or the source itself."""
        same = [
            account for account in self._pools()[source.currency.code] if account.id != source.id
        ]
        other = [
            account for account in self.accounts.values() if account.currency != source.currency
        ]
        if variant == "self" or not same:
            return source
        if variant == "mismatch" and other:
            return data.draw(st.sampled_from(other))
        return data.draw(st.sampled_from(same))

    @precondition(lambda self: len(self.accounts) >= 2)
    @rule(data=st.data(), variant=st.sampled_from(["same", "same", "same", "mismatch", "self"]))
    def transfer(self, data: st.DataObject, variant: str) -> None:
        """A transfer; sometimes across currencies or to itself, both refused."""
        # In the order opened: ids are random, and draws must not depend on them.
        source = data.draw(st.sampled_from(list(self.accounts.values())))
        target = self._target(data, source, variant)
        self._send(
            PresetRequest(
                self._next_key("transfer"),
                "transfer",
                source.id,
                target.id,
                self._amount(data),
                source.currency,
            )
        )

    @precondition(_has_journal_pool)
    @rule(
        data=st.data(),
        variant=st.sampled_from(
            [
                "balanced",
                "balanced",
                "balanced",
                "pending",
                "pending",
                "unbalanced",
                "duplicate",
                "wrong_currency",
            ]
        ),
    )
    def post_entry(self, data: st.DataObject, variant: str) -> None:
        """A 3-4 line entry in one currency; sometimes pending, unbalanced, doubled up or
        mislabelled."""
        pools = [pool for pool in self._pools().values() if len(pool) >= lines_per_entry_min]
        pool = data.draw(st.sampled_from(pools))
        count = data.draw(st.integers(lines_per_entry_min, min(lines_per_entry_max, len(pool))))
        accounts = data.draw(st.permutations(pool))[:count]
        sides = data.draw(sides_of(count))
        amounts = [self._amount(data) for _ in range(count)]
        # Top up the first line of the lighter side so the lines balance.
        surplus = sum(
            amount if side is Side.DEBIT else -amount
            for side, amount in zip(sides, amounts, strict=True)
        )
        lighter = Side.CREDIT if surplus > 0 else Side.DEBIT
        amounts[sides.index(lighter)] += abs(surplus)
        currency = accounts[0].currency
        lines = [
            RequestLine(account.id, side, amount, currency)
            for account, side, amount in zip(accounts, sides, amounts, strict=True)
        ]
        index = data.draw(st.integers(0, count - 1))
        if variant == "unbalanced":
            lines[index] = replace(lines[index], amount=lines[index].amount + 1)
        elif variant == "duplicate":
            other = lines[(index + 1) % count]
            lines[index] = replace(lines[index], account_id=other.account_id)
        elif variant == "wrong_currency":
            wrong = next(code for code in currency_codes if code != currency.code)
            lines[index] = replace(lines[index], named_currency=wrong)
        pending = variant == "pending"
        expires_in = self._expires_in(data) if pending else None
        self._send(JournalRequest(self._next_key("entry"), tuple(lines), pending, expires_in))

    @precondition(lambda self: bool(self.entry_requests))
    @rule(data=st.data(), change_amount=st.booleans())
    def replay_entry(self, data: st.DataObject, change_amount: bool) -> None:
        """Re-send an earlier request with its key: a replay, or refused with another amount."""
        request = data.draw(st.sampled_from(self.entry_requests))
        self._post(request.changed() if change_amount else request)

    @precondition(lambda self: bool(self.entry_requests))
    @rule()
    def retry_last_entry(self) -> None:
        """Re-send the latest request unchanged, as a client retrying after a timeout would."""
        self._post(self.entry_requests[-1])

    # Two-phase entries, holds and escrows

    def _expires_in(self, data: st.DataObject) -> int | None:
        """Mostly an expiry in seconds; sometimes none."""
        if data.draw(st.integers(0, 3)) == 0:
            return None
        return data.draw(st.integers(1, expires_in_s_max))

    def _reserve(self, kind: EntryKind, lines: list[PlannedLine], sign: int) -> None:
        """A hold's or escrow's first line is the payer's; it counts in held or escrowed."""
        payer_id, _, amount = lines[0]
        if kind is EntryKind.HOLD:
            self.accounts[payer_id].held += sign * amount
        elif kind is EntryKind.ESCROW:
            self.accounts[payer_id].escrowed += sign * amount

    def _record(self, entry: ModelEntry) -> None:
        self.entries[entry.id] = entry
        self.entry_ids.append(entry.id)

    def _of_kind(self, *kinds: EntryKind) -> list[ModelEntry]:
        """Entries created pending of these kinds, resolved or not, oldest first."""
        return [
            entry
            for entry in self.entries.values()
            if entry.created_pending and entry.kind in kinds
        ]

    def _has_holds(self) -> bool:
        return bool(self._of_kind(EntryKind.HOLD))

    def _has_escrows(self) -> bool:
        return bool(self._of_kind(EntryKind.ESCROW))

    def _has_pending_created(self) -> bool:
        return any(entry.created_pending for entry in self.entries.values())

    def _open_pending(
        self,
        data: st.DataObject,
        kind: str,
        variant: str,
        amount_max: int = drawn_amount_minor_max,
    ) -> None:
        """A hold (for the world, or another account) or an escrow (to a seller) from a user
        account; by variant the counterparty has another currency or is the account itself."""
        account = data.draw(st.sampled_from(self._user_accounts()))
        counterparty = None if variant == "world" else self._target(data, account, variant).id
        self._send(
            PresetRequest(
                self._next_key(kind),
                kind,
                account.id,
                counterparty,
                data.draw(st.integers(1, amount_max)),
                account.currency,
                self._expires_in(data),
            )
        )

    @precondition(_has_user_account)
    @rule(
        data=st.data(),
        kind=st.sampled_from(["hold", "escrow"]),
        variant=st.sampled_from(["world", "world", "same", "same", "mismatch", "self"]),
    )
    def hold_or_escrow(self, data: st.DataObject, kind: str, variant: str) -> None:
        """Hold an amount for the world or another account, or escrow it for a seller."""
        self._open_pending(
            data, kind, "same" if kind == "escrow" and variant == "world" else variant
        )

    def _expected_post(self, entry: ModelEntry, amount: int | None) -> str | Refused:
        """How the ledger answers a post of `entry`: "replay", "post", or a refusal."""
        if entry.posting_entry_id is not None and entry.posted_with == amount:
            return "replay"
        if not entry.created_pending:
            return Refused("not_pending")
        if entry.status is not EntryStatus.PENDING:
            return Refused("already_resolved")
        if entry.expires_at is not None and entry.expires_at <= self.clock.now:
            return Refused("pending_expired")
        if amount is not None and len(entry.lines) != 2:
            return Refused("validation_error")
        if amount is not None and amount > entry.lines[0][2]:
            return Refused("amount_exceeds_pending")
        return "post"

    def _post_pending(self, entry: ModelEntry, amount: int | None, call: PendingCall) -> None:
        # WHEN both stores post the pending entry (in full, or for `amount`)
        outcome = self._both(call)
        # THEN both answer what the model predicts
        expected = self._expected_post(entry, amount)
        if isinstance(expected, Refused):
            assert isinstance(outcome, LedgerError), outcome
            assert (outcome.code, outcome.details.get("entry_id")) == (
                expected.code,
                None if expected.code == "validation_error" else entry.id,
            ), outcome
            return
        posting_id = derived_entry_id(entry.id, "posting")
        assert isinstance(outcome, Entry), outcome
        assert (outcome.id, outcome.status, outcome.posting_entry_id, outcome.replayed) == (
            entry.id,
            EntryStatus.POSTED,
            posting_id,
            expected == "replay",
        )
        if expected == "replay":
            return
        # AND the model moves the pending amounts to posted, the rest released
        posted_lines = [
            (account_id, side, held if amount is None else amount)
            for account_id, side, held in entry.lines
        ]
        for (account_id, side, held), (_, _, posted) in zip(entry.lines, posted_lines, strict=True):
            self.accounts[account_id].move(side, posted=posted, pending=-held)
        self._reserve(entry.kind, entry.lines, -1)
        entry.status, entry.posting_entry_id, entry.posted_with = (
            EntryStatus.POSTED,
            posting_id,
            amount,
        )
        self._record(
            ModelEntry(
                posting_id, EntryKind.POST, posted_lines, EntryStatus.POSTED, pending_id=entry.id
            )
        )

    def _void_pending(self, entry: ModelEntry, call: PendingCall) -> None:
        # WHEN both stores void (release, refund) the pending entry
        outcome = self._both(call)
        # THEN both answer what the model predicts
        if not entry.created_pending or entry.status is not EntryStatus.PENDING:
            code = "not_pending" if not entry.created_pending else "already_resolved"
            assert isinstance(outcome, LedgerError), outcome
            assert (outcome.code, outcome.details.get("entry_id")) == (code, entry.id), outcome
            return
        assert isinstance(outcome, Entry), outcome
        assert (outcome.id, outcome.status, outcome.replayed) == (
            entry.id,
            EntryStatus.VOIDED,
            False,
        )
        self._release(entry, EntryStatus.VOIDED)

    def _release(self, entry: ModelEntry, status: EntryStatus) -> None:
        """A void or an expiry gives every pending amount back."""
        for account_id, side, amount in entry.lines:
            self.accounts[account_id].move(side, pending=-amount)
        self._reserve(entry.kind, entry.lines, -1)
        entry.status = status

    def _partial_amount(self, data: st.DataObject, entry: ModelEntry, variant: str) -> int | None:
        """None (in full), a part, too much, or what an earlier post of it asked for."""
        pending_amount = entry.lines[0][2]
        if variant == "partial":
            return data.draw(st.integers(1, pending_amount))
        if variant == "excess":
            return pending_amount + 1
        if variant == "again":
            return entry.posted_with
        return None

    def _format(self, entry: ModelEntry, amount: int | None) -> str | None:
        currency = self.accounts[entry.lines[0][0]].currency
        return None if amount is None else format_amount(amount, currency)

    def _pick(self, data: st.DataObject, kinds: tuple[EntryKind, ...]) -> ModelEntry:
        """Mostly an entry of these kinds still pending; sometimes any, maybe resolved."""
        created = self._of_kind(*kinds)
        still_pending = [entry for entry in created if entry.status is EntryStatus.PENDING]
        if still_pending and data.draw(st.integers(0, 3)) > 0:
            return data.draw(st.sampled_from(still_pending))
        return data.draw(st.sampled_from(created))

    def _wrong_preset(self, entry: ModelEntry, call: PendingCall) -> None:
        # WHEN a hold is resolved with an escrow preset, or an escrow with a hold preset
        outcome = self._both(call)
        # THEN neither store finds one of the kind asked for
        assert isinstance(outcome, LedgerError), outcome
        assert (outcome.code, outcome.details.get("id")) == ("not_found", entry.id), outcome

    @precondition(lambda self: self._has_holds() or self._has_escrows())
    @rule(
        data=st.data(),
        action=st.sampled_from(
            [
                "confirm_full",
                "confirm_full",
                "confirm_partial",
                "confirm_excess",
                "confirm_again",
                "release",
                "release",
                "wrong_preset",
            ]
        ),
    )
    def resolve_hold_or_escrow(self, data: st.DataObject, action: str) -> None:
        """Confirm a hold (in full, in part, too much, or as before) or release it; release
        an escrow to its seller (in part through a raw post) or refund it to its buyer."""
        entry = self._pick(data, (EntryKind.HOLD, EntryKind.ESCROW))
        entry_id = entry.id
        if entry.kind is EntryKind.HOLD:
            if action == "release":
                self._void_pending(entry, lambda ledger: ledger.release_hold(entry_id))
            elif action == "wrong_preset":
                self._wrong_preset(entry, lambda ledger: ledger.release_escrow(entry_id))
            else:
                amount = self._partial_amount(data, entry, action.removeprefix("confirm_"))
                text = self._format(entry, amount)
                self._post_pending(
                    entry, amount, lambda ledger: ledger.confirm_hold(entry_id, text)
                )
        elif action == "release":
            self._void_pending(entry, lambda ledger: ledger.refund_escrow(entry_id))
        elif action == "wrong_preset":
            self._wrong_preset(entry, lambda ledger: ledger.confirm_hold(entry_id))
        elif action == "confirm_full":
            self._post_pending(entry, None, lambda ledger: ledger.release_escrow(entry_id))
        else:
            amount = self._partial_amount(data, entry, action.removeprefix("confirm_"))
            text = self._format(entry, amount)
            self._post_pending(entry, amount, lambda ledger: ledger.post_entry(entry_id, text))

    @precondition(lambda self: bool(self.entries))
    @rule(
        data=st.data(),
        action=st.sampled_from(["post", "post", "void"]),
        variant=st.sampled_from(["pending", "pending", "any"]),
        amount_variant=st.sampled_from(["full", "full", "partial", "excess", "again"]),
    )
    def resolve_pending(
        self, data: st.DataObject, action: str, variant: str, amount_variant: str
    ) -> None:
        """Post (in full or in part) or void a pending entry of any kind, or an entry that
        never was pending."""
        if variant == "pending" and self._has_pending_created():
            entry = self._pick(data, tuple(EntryKind))
        else:
            entry = data.draw(st.sampled_from(list(self.entries.values())))
        if action == "void":
            self._void_pending(entry, lambda ledger: ledger.void_entry(entry.id))
            return
        if entry.created_pending:
            amount = self._partial_amount(data, entry, amount_variant)
        else:
            amount = None
        text = self._format(entry, amount)
        self._post_pending(entry, amount, lambda ledger: ledger.post_entry(entry.id, text))

    @rule(data=st.data(), seconds=st.integers(1, clock_jump_s_max), sweep=st.booleans())
    def expire(self, data: st.DataObject, seconds: int, sweep: bool) -> None:
        """Time passes; the sweeper expires every pending entry past its expiry, or has yet
        to run (meanwhile those entries can be voided but no longer posted)."""
        # GIVEN the shared clock moved on: mostly just past a pending entry's expiry
        expiring = sorted(
            entry.expires_at
            for entry in self.entries.values()
            if entry.status is EntryStatus.PENDING
            and entry.expires_at is not None
            and entry.expires_at > self.clock.now
        )
        if expiring and data.draw(st.integers(0, 3)) > 0:
            self.clock.now = data.draw(st.sampled_from(expiring))
        else:
            self.clock.jump(seconds)
        if not sweep:
            return
        # WHEN both stores' sweepers run
        outcome = self._both(lambda ledger: ledger.expire_pending())
        # THEN both expire exactly the entries the model finds past their expiry
        now = self.clock.now
        due = [
            entry
            for entry in self.entries.values()
            if entry.status is EntryStatus.PENDING
            and entry.expires_at is not None
            and entry.expires_at <= now
        ]
        assert outcome == len(due), (outcome, [entry.id for entry in due])
        for entry in due:
            self._release(entry, EntryStatus.EXPIRED)

    # Reversals

    @precondition(lambda self: bool(self.entries))
    @rule(data=st.data(), description=st.sampled_from(reversal_descriptions))
    def reverse(self, data: st.DataObject, description: str | None) -> None:
        """Reverse an entry: once, replayed with the same description, guarded by floors."""
        entry = data.draw(st.sampled_from(list(self.entries.values())))
        # WHEN both stores reverse it
        outcome = self._both(lambda ledger: ledger.reverse_entry(entry.id, description=description))
        # THEN both answer what the model predicts
        reversal_id = derived_entry_id(entry.id, "reversal")
        if entry.reversed_by is not None:
            if entry.reversal_description == description:
                assert isinstance(outcome, Entry), outcome
                assert (outcome.id, outcome.replayed) == (reversal_id, True)
                return
            assert isinstance(outcome, LedgerError), outcome
            assert (outcome.code, outcome.details) == (
                "already_reversed",
                {"entry_id": entry.id, "reversed_by": reversal_id},
            )
            return
        if entry.created_pending:
            assert isinstance(outcome, LedgerError), outcome
            assert (outcome.code, outcome.details) == (
                "not_pending",
                {"entry_id": entry.id, "posting_entry_id": entry.posting_entry_id},
            )
            return
        mirrored = [(account_id, side.opposite, amount) for account_id, side, amount in entry.lines]
        refused_by = next(
            (
                account_id
                for account_id, side, amount in mirrored
                if self.accounts[account_id].refuses(side, amount)
            ),
            None,
        )
        if refused_by is not None:
            assert isinstance(outcome, LedgerError), outcome
            assert (outcome.code, outcome.details.get("account_id")) == (
                "insufficient_funds",
                refused_by,
            )
            return
        assert isinstance(outcome, Entry), outcome
        assert (outcome.id, outcome.kind, outcome.reverses, outcome.replayed) == (
            reversal_id,
            EntryKind.REVERSAL,
            entry.id,
            False,
        )
        for account_id, side, amount in mirrored:
            self.accounts[account_id].move(side, posted=amount)
        entry.reversed_by, entry.reversal_description = reversal_id, description
        self._record(
            ModelEntry(
                reversal_id, EntryKind.REVERSAL, mirrored, EntryStatus.POSTED, reverses=entry.id
            )
        )

    # Invariants

    def _listed(self, ledger: Ledger) -> tuple[list[Account], list[Entry]]:
        accounts = walk(
            lambda cursor: ledger.list_accounts(self.ledger_id, limit=page_size, cursor=cursor)
        )
        entries = walk(
            lambda cursor: ledger.list_entries(self.ledger_id, limit=page_size, cursor=cursor)
        )
        return accounts, entries

    @invariant()
    def books_agree_and_balance(self) -> None:
        """Both stores hold the model's accounts and journal, within floors, balanced."""
        # GIVEN every account and entry of the ledger, listed from each store
        accounts, entries = self._listed(self.memory)
        # THEN the stores agree item for item, in the same order
        assert self._listed(self.dynamo) == (accounts, entries)
        assert {account.id for account in accounts} == set(self.accounts)
        assert [entry.id for entry in entries] == self.entry_ids[::-1]
        # AND every entry is where the model says it is in its life
        for entry in entries:
            model_entry = self.entries[entry.id]
            assert (
                entry.kind,
                entry.status,
                [(line.account_id, line.side, line.amount) for line in entry.lines],
                entry.expires_at,
                entry.pending_id,
                entry.posting_entry_id,
                entry.reverses,
                entry.reversed_by,
            ) == (
                model_entry.kind,
                model_entry.status,
                model_entry.lines,
                model_entry.expires_at,
                model_entry.pending_id,
                model_entry.posting_entry_id,
                model_entry.reverses,
                model_entry.reversed_by,
            ), entry.id
        # AND each account's totals are the model's and the sum of its lines in the journal:
        # posted from entries never pending, pending from entries pending now
        journal: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        journal_pending: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        reserved: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for entry in entries:
            is_pending = entry.status is EntryStatus.PENDING
            if entry.was_pending and not is_pending:
                continue
            for line in entry.lines:
                sums = journal_pending if is_pending else journal
                sums[line.account_id][line.side is Side.CREDIT] += line.amount
            if is_pending and entry.kind in (EntryKind.HOLD, EntryKind.ESCROW):
                payer = entry.lines[0]
                reserved[payer.account_id][entry.kind is EntryKind.ESCROW] += payer.amount
        posted_sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        pending_sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for account in accounts:
            model = self.accounts[account.id]
            totals = account.totals
            posted = [totals.posted_debits, totals.posted_credits]
            assert posted == [model.debits, model.credits] == journal[account.id], account.id
            pending = [totals.pending_debits, totals.pending_credits]
            assert pending == [model.pending_debits, model.pending_credits], account.id
            assert pending == journal_pending[account.id], account.id
            held = [totals.held, totals.escrowed]
            assert held == [model.held, model.escrowed] == reserved[account.id], account.id
            for sums, (debits, credits) in ((posted_sums, posted), (pending_sums, pending)):
                sums[account.currency.code][0] += debits
                sums[account.currency.code][1] += credits
            # AND posted is what came in less what went out; held and escrowed are parts of
            # the pending outflow
            balance = account.balance()
            assert balance.posted == model.posted == balance.total_in - balance.total_out
            assert balance.pending_out == model.pending_out
            assert balance.held + balance.escrowed <= balance.pending_out, balance
            # AND no account is below its floor; the guard attribute matches what it guards
            assert account.headroom == balance.spendable
            net = balance.posted - balance.pending_out
            assert balance.available - balance.credit_used == net
            if model.overdraft is not OverdraftMode.ALLOW:
                assert net >= -balance.credit_limit, balance
                assert balance.spendable >= 0, balance
            if model.overdraft is OverdraftMode.FORBID:
                assert balance.credit_used == 0, balance
        # AND per currency, debits equal credits over the whole ledger, posted and pending
        for sums in (posted_sums, pending_sums):
            for currency, (debits, credits) in sums.items():
                assert debits == credits, currency


def test_stores_agree_with_the_model(dynamodb_client: DynamoDBClient, local_table: str) -> None:
    """Random command sequences leave DynamoDB Local and the memory store identical and sound."""

    # GIVEN the machine bound to a fresh DynamoDB Local table (a new ledger per example)
    class Bound(LedgerModel):
        client = dynamodb_client
        table_name = local_table

    # WHEN hypothesis runs its sequences THEN every step's checks hold
    run_state_machine_as_test(Bound, settings=machine_settings)


@pytest.mark.parametrize(
    "change",
    [{"currency": "EUR"}, {"type": AccountType.LIABILITY}],
    ids=["other-currency", "other-normal-side"],
)
def test_account_key_reused_for_another_account_is_refused(
    dynamodb_client: DynamoDBClient, local_table: str, change: dict[str, Any]
) -> None:
    """API.md: same Idempotency-Key with a different body is 409 idempotency_key_reused."""
    for store in (MemoryStore(), DynamoDBStore(local_table, client=dynamodb_client)):
        # GIVEN an account opened with an idempotency key
        ledger = Ledger(store)
        ledger_id = ledger.create_ledger("keys").id
        first: dict[str, Any] = {"type": AccountType.ASSET, "currency": "USD"}
        ledger.create_account(ledger_id, "wallet", **first, idempotency_key="open-wallet")
        # WHEN the same key comes back with another currency or normal side
        # THEN it is refused rather than opening a second account
        with pytest.raises(IdempotencyKeyReused):
            ledger.create_account(
                ledger_id, "wallet", **{**first, **change}, idempotency_key="open-wallet"
            )
