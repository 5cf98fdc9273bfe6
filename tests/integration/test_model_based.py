"""Model-based test: random command sequences against DynamoDB Local and the memory store.

The same commands, with the same idempotency keys and the same clock, go to a Ledger on
each store. A plain Python model predicts every outcome. After every step both stores must
agree with each other and with the model, no account may sit below its floor, every
currency must balance, and every account's totals must equal the sum of its journal lines.
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

from ledger.errors import IdempotencyKeyReused, LedgerError
from ledger.ids import new_account_id, new_entry_id, new_ledger_id, world_account_id
from ledger.model import Account, AccountType, Entry, OverdraftMode, Page, Side
from ledger.money import Currency, builtin_currencies, format_amount
from ledger.service import Ledger, LineInput
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.memory import MemoryStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")

currency_codes = ("USD", "JPY")
drawn_amount_minor_max = 50_000
drawn_credit_limit_minor_max = 20_000
page_size = 8
lines_per_entry_min = 3
lines_per_entry_max = 4

# Deterministic and bounded for CI (about 500 steps). Shrinking against DynamoDB Local can
# take minutes, so a failure reports its whole step sequence instead; to shrink one locally,
# add Phase.shrink to `phases`.
machine_settings = settings(
    max_examples=20,
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


@dataclass
class ModelAccount:
    """What the model knows of an account: its fixed facts and its two posted totals."""

    id: str
    currency: Currency
    normal: Side
    overdraft: OverdraftMode
    credit_limit: int
    is_world: bool = False
    debits: int = 0
    credits: int = 0

    @property
    def posted(self) -> int:
        """The posted balance in the account's normal orientation."""
        if self.normal is Side.CREDIT:
            return self.credits - self.debits
        return self.debits - self.credits

    def refuses(self, side: Side, amount: int) -> bool:
        """Whether a line of `amount` on `side` would take the account below its floor."""
        if side is self.normal or self.overdraft is OverdraftMode.ALLOW:
            return False
        return self.posted + self.credit_limit < amount


@dataclass(frozen=True)
class AccountRequest:
    """A create_account call, replayable as is."""

    key: str
    name: str
    type: AccountType
    currency: str
    overdraft: OverdraftMode
    credit_limit: int

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
        )


@dataclass(frozen=True)
class PresetRequest:
    """A deposit, withdraw, spend or transfer call, replayable as is."""

    key: str
    kind: str
    account_id: str
    counterparty_id: str | None
    amount: int
    currency: Currency

    def send(self, ledger: Ledger, ledger_id: str) -> Entry:
        """Make the call."""
        amount = format_amount(self.amount, self.currency)
        if self.kind == "transfer":
            assert self.counterparty_id is not None
            return ledger.transfer(
                self.account_id, self.counterparty_id, amount, idempotency_key=self.key
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
    """A post_entry call, replayable as is."""

    key: str
    lines: tuple[RequestLine, ...]

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
        return ledger.post_entry(ledger_id, inputs, idempotency_key=self.key)

    def changed(self) -> JournalRequest:
        """The same call with every amount doubled: as balanced (or not) as before."""
        return replace(
            self, lines=tuple(replace(line, amount=line.amount * 2) for line in self.lines)
        )


EntryRequest = PresetRequest | JournalRequest
Outcome = Account | Entry | LedgerError
PlannedLine = tuple[str, Side, int]


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
        # A fresh ledger per example: random, but the same id on both stores.
        key = f"model-{secrets.token_hex(8)}"
        self.ledger_id = new_ledger_id(None, key)
        for ledger in (self.memory, self.dynamo):
            assert ledger.create_ledger("model", idempotency_key=key).id == self.ledger_id
        self.accounts: dict[str, ModelAccount] = {}
        self.account_requests: list[AccountRequest] = []
        self.account_keys: dict[str, AccountRequest] = {}
        self.entry_requests: list[EntryRequest] = []
        self.entry_keys: dict[str, tuple[object, str]] = {}
        self.entry_ids: list[str] = []
        self.requests_sent = 0

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
        assert (outcome.type, outcome.currency, overdraft) == (
            request.type,
            currency,
            (request.overdraft, limit),
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
        return new_account_id(self.ledger_id, currency, request.type.normal_balance, request.key)

    def _account_request(self, data: st.DataObject) -> AccountRequest:
        overdraft = data.draw(st.sampled_from([OverdraftMode.FORBID, OverdraftMode.LIMIT]))
        limited = overdraft is OverdraftMode.LIMIT
        return AccountRequest(
            key=self._next_key("account"),
            name=f"account {self.requests_sent}",
            type=data.draw(st.sampled_from(AccountType)),
            currency=data.draw(st.sampled_from(currency_codes)),
            overdraft=overdraft,
            credit_limit=data.draw(st.integers(1, drawn_credit_limit_minor_max)) if limited else 0,
        )

    @initialize(data=st.data(), count=st.integers(2, 4))
    def open_funded_accounts(self, data: st.DataObject, count: int) -> None:
        """GIVEN a few accounts to start with, each with an opening deposit."""
        for _ in range(count):
            self._create_account(self._account_request(data))
            self._with_world(data, "deposit", self.account_requests[-1])

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
        for account_id, side, amount in lines:
            account = self.accounts[account_id]
            if side is Side.DEBIT:
                account.debits += amount
            else:
                account.credits += amount
        self.entry_keys[request.key] = (signature, entry_id)
        self.entry_ids.append(entry_id)
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

    @precondition(lambda self: len(self.accounts) >= 2)
    @rule(data=st.data(), variant=st.sampled_from(["same", "same", "same", "mismatch", "self"]))
    def transfer(self, data: st.DataObject, variant: str) -> None:
        """A transfer; sometimes across currencies or to itself, both refused."""
        source = data.draw(st.sampled_from(sorted(self.accounts.values(), key=lambda a: a.id)))
        same = [
            account for account in self._pools()[source.currency.code] if account.id != source.id
        ]
        other = [
            account for account in self.accounts.values() if account.currency != source.currency
        ]
        if variant == "self" or not same:
            target = source
        elif variant == "mismatch" and other:
            target = data.draw(st.sampled_from(other))
        else:
            target = data.draw(st.sampled_from(same))
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
            ["balanced", "balanced", "balanced", "unbalanced", "duplicate", "wrong_currency"]
        ),
    )
    def post_entry(self, data: st.DataObject, variant: str) -> None:
        """A 3-4 line entry in one currency; sometimes unbalanced, doubled up or mislabelled."""
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
        self._send(JournalRequest(self._next_key("entry"), tuple(lines)))

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
        # AND each account's totals are the model's and the sum of its lines in the journal
        journal: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for entry in entries:
            for line in entry.lines:
                journal[line.account_id][line.side is Side.CREDIT] += line.amount
        conservation: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for account in accounts:
            model = self.accounts[account.id]
            totals = account.totals
            posted = [totals.posted_debits, totals.posted_credits]
            assert posted == [model.debits, model.credits] == journal[account.id], account.id
            assert (totals.pending_debits, totals.pending_credits) == (0, 0)
            conservation[account.currency.code][0] += totals.posted_debits
            conservation[account.currency.code][1] += totals.posted_credits
            # AND no account is below its floor; the guard attribute matches what it guards
            balance = account.balance()
            assert balance.posted == model.posted
            assert account.headroom == balance.spendable
            if model.overdraft is not OverdraftMode.ALLOW:
                assert balance.spendable >= 0, balance
            if model.overdraft is OverdraftMode.FORBID:
                assert balance.credit_used == 0, balance
        # AND per currency, debits equal credits over the whole ledger
        for currency, (debits, credits) in conservation.items():
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
