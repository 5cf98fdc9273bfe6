"""The measured operations: each prepares its accounts unmeasured, then yields N calls."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from ledger import Ledger, LineInput
from ledger.domain.model import Account, AccountType, Balance, Entry, EntryKind, EntryStatus, Side
from ledger.domain.results import BatchResult

currency = "USD"
# Enough that no repetition count the bench allows can run a funded account dry.
funding_amount = Decimal("1000000000.00")
step_amount = Decimal("1.00")
repetitions_max = 100_000
# The shards of the hot revenue account the sharded scenarios write and read.
bench_shards = 8


class ScenarioFailed(RuntimeError):
    """An operation returned something other than what it was asked to do."""


@dataclass(frozen=True)
class Prepared:
    """The calls to measure, and a check run on their results after measuring."""

    calls: Sequence[Callable[[], object]]
    verify: Callable[[Sequence[object]], None]


@dataclass(frozen=True)
class Scenario:
    """One named operation."""

    name: str
    prepare: Callable[[Ledger, str, int], Prepared]


def _account(ledger: Ledger, ledger_id: str, name: str) -> Account:
    return ledger.create_account(ledger_id, f"{name}-{secrets.token_hex(4)}", "asset", currency)


def _funded(ledger: Ledger, ledger_id: str, name: str) -> Account:
    account = _account(ledger, ledger_id, name)
    ledger.deposit(account.id, funding_amount)
    return account


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def _entries(results: Sequence[object]) -> list[Entry]:
    entries = [result for result in results if isinstance(result, Entry)]
    _require(len(entries) == len(results), "an operation did not return an Entry")
    _require(len({entry.id for entry in entries}) == len(entries), "entries share an id")
    _require(not any(entry.replayed for entry in entries), "a fresh entry came back replayed")
    return entries


def _major(balance: Balance) -> Decimal:
    return _in_major(balance, balance.posted)


def _posted(ledger: Ledger, account_id: str) -> Decimal:
    return _major(ledger.get_balance(account_id))


def _in_major(balance: Balance, minor: int) -> Decimal:
    return Decimal(minor).scaleb(-balance.currency.scale)


def _all_are(entries: Sequence[Entry], kind: EntryKind, status: EntryStatus) -> bool:
    return all(entry.kind is kind and entry.status is status for entry in entries)


def prepare_create_account(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Open accounts in a ledger whose world account exists already."""
    _account(ledger, ledger_id, "first")

    def verify(results: Sequence[object]) -> None:
        accounts = [result for result in results if isinstance(result, Account)]
        _require(len(accounts) == count, "create_account did not return Accounts")
        _require(len({account.id for account in accounts}) == count, "accounts share an id")
        for account in accounts[:1]:
            _require(ledger.get_account(account.id).type is AccountType.ASSET, "account not read")

    calls = [
        lambda index=index: ledger.create_account(
            ledger_id, f"bench-{index}", AccountType.ASSET, currency
        )
        for index in range(count)
    ]
    return Prepared(calls, verify)


def prepare_deposit(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Deposit from the world account into one account."""
    account = _account(ledger, ledger_id, "deposit")

    def verify(results: Sequence[object]) -> None:
        _entries(results)
        _require(_posted(ledger, account.id) == step_amount * count, "deposits not all posted")

    return Prepared([lambda: ledger.deposit(account.id, step_amount)] * count, verify)


def prepare_spend(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Spend from a generously funded account to the world account."""
    account = _funded(ledger, ledger_id, "spend")

    def verify(results: Sequence[object]) -> None:
        _entries(results)
        expected = funding_amount - step_amount * count
        _require(_posted(ledger, account.id) == expected, "spends not all posted")

    return Prepared([lambda: ledger.spend(account.id, step_amount)] * count, verify)


def prepare_transfer(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Transfer between two accounts: the payer is funded, the payee starts at zero."""
    payer = _funded(ledger, ledger_id, "payer")
    return _transfers(ledger, payer, _account(ledger, ledger_id, "payee"), count)


def prepare_transfer_to_sharded(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Transfer into a revenue account of `bench_shards` shards: each moves one shard."""
    payer = _funded_wallet(ledger, ledger_id, "payer")
    return _transfers(ledger, payer, _sharded(ledger, ledger_id, "revenue"), count)


def _transfers(ledger: Ledger, payer: Account, payee: Account, count: int) -> Prepared:
    def verify(results: Sequence[object]) -> None:
        _entries(results)
        _require(_posted(ledger, payee.id) == step_amount * count, "transfers not all posted")

    return Prepared([lambda: ledger.transfer(payer.id, payee.id, step_amount)] * count, verify)


def _funded_wallet(ledger: Ledger, ledger_id: str, name: str) -> Account:
    """A customer's wallet (a liability, like the revenue account it pays: credit-normal)."""
    wallet = ledger.create_account(
        ledger_id, f"{name}-{secrets.token_hex(4)}", "liability", currency
    )
    ledger.deposit(wallet.id, funding_amount)
    return wallet


def _sharded(ledger: Ledger, ledger_id: str, name: str) -> Account:
    return ledger.create_account(
        ledger_id,
        f"{name}-{secrets.token_hex(4)}",
        "revenue",
        currency,
        overdraft="allow",
        shards=bench_shards,
    )


def prepare_entry_4_lines(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """A balanced entry over four accounts: two funded ones pay, two others receive."""
    first_payer = _funded(ledger, ledger_id, "payer-1")
    second_payer = _funded(ledger, ledger_id, "payer-2")
    first_payee = _account(ledger, ledger_id, "payee-1")
    second_payee = _account(ledger, ledger_id, "payee-2")
    lines = [
        LineInput(first_payer.id, Side.CREDIT, Decimal("3.00")),
        LineInput(second_payer.id, Side.CREDIT, Decimal("2.00")),
        LineInput(first_payee.id, Side.DEBIT, Decimal("4.00")),
        LineInput(second_payee.id, Side.DEBIT, Decimal("1.00")),
    ]

    def verify(results: Sequence[object]) -> None:
        entries = _entries(results)
        _require(all(len(entry.lines) == len(lines) for entry in entries), "lines went missing")
        expected = Decimal("4.00") * count
        _require(_posted(ledger, first_payee.id) == expected, "entries not all posted")

    return Prepared([lambda: ledger.create_entry(ledger_id, lines)] * count, verify)


def prepare_replay(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Send the same deposit with the same idempotency key again and again."""
    account = _account(ledger, ledger_id, "replay")
    key = f"bench-replay-{secrets.token_hex(8)}"
    original = ledger.deposit(account.id, step_amount, idempotency_key=key)

    def verify(results: Sequence[object]) -> None:
        entries = [result for result in results if isinstance(result, Entry)]
        _require(len(entries) == count, "a replay did not return an Entry")
        _require(all(entry.replayed for entry in entries), "a replay was not marked replayed")
        _require(all(entry.id == original.id for entry in entries), "a replay changed the id")
        _require(_posted(ledger, account.id) == step_amount, "a replay posted again")

    replay = lambda: ledger.deposit(account.id, step_amount, idempotency_key=key)  # noqa: E731
    return Prepared([replay] * count, verify)


def prepare_balance(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Read one funded account's balance."""
    account = _funded(ledger, ledger_id, "balance")

    def verify(results: Sequence[object]) -> None:
        balances = [result for result in results if isinstance(result, Balance)]
        _require(len(balances) == count, "get_balance did not return Balances")
        _require(all(balance.posted == balances[0].posted for balance in balances), "drifted")
        _require(_major(balances[0]) == funding_amount, "wrong balance read")

    return Prepared([lambda: ledger.get_balance(account.id)] * count, verify)


def prepare_balance_sharded(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Read the balance of a revenue account paid on every one of its shards."""
    account = _sharded(ledger, ledger_id, "balance")
    payer = _funded_wallet(ledger, ledger_id, "payer")
    payments = 0
    while payments < 4 * bench_shards or min(ledger.get_account(account.id).shard_versions) == 0:
        ledger.transfer(payer.id, account.id, step_amount)
        payments += 1

    def verify(results: Sequence[object]) -> None:
        balances = [result for result in results if isinstance(result, Balance)]
        _require(len(balances) == count, "get_balance did not return Balances")
        _require(all(balance == balances[0] for balance in balances), "drifted")
        _require(_major(balances[0]) == step_amount * payments, "wrong balance read")

    return Prepared([lambda: ledger.get_balance(account.id)] * count, verify)


def prepare_hold(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Hold an amount of a funded account (for the world account), pending."""
    account = _funded(ledger, ledger_id, "hold")

    def verify(results: Sequence[object]) -> None:
        entries = _entries(results)
        _require(_all_are(entries, EntryKind.HOLD, EntryStatus.PENDING), "a hold is not pending")
        balance = ledger.get_balance(account.id)
        _require(_in_major(balance, balance.held) == step_amount * count, "holds not all held")
        _require(_major(balance) == funding_amount, "a hold posted")

    return Prepared([lambda: ledger.hold(account.id, step_amount)] * count, verify)


def _resolutions(
    pending: Sequence[Entry], resolve: Callable[[str], Entry]
) -> list[Callable[[], object]]:
    """One call per pending entry, each resolving its own."""
    return [partial(resolve, entry.id) for entry in pending]


def _resolved(
    results: Sequence[object], pending: Sequence[Entry], status: EntryStatus
) -> list[Entry]:
    entries = [result for result in results if isinstance(result, Entry)]
    _require(len(entries) == len(pending), "a resolution did not return an Entry")
    _require(
        [entry.id for entry in entries] == [entry.id for entry in pending],
        "a resolution returned another entry",
    )
    _require(all(entry.status is status for entry in entries), f"an entry is not {status}")
    _require(not any(entry.replayed for entry in entries), "a resolution came back replayed")
    return entries


def prepare_confirm(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Confirm holds in full, each created beforehand (unmeasured)."""
    account = _funded(ledger, ledger_id, "confirm")
    holds = [ledger.hold(account.id, step_amount) for _ in range(count)]

    def verify(results: Sequence[object]) -> None:
        confirmed = _resolved(results, holds, EntryStatus.POSTED)
        _require(all(entry.posting_entry_id for entry in confirmed), "no posting entry")
        balance = ledger.get_balance(account.id)
        _require(balance.held == 0, "a confirmed hold is still held")
        _require(_major(balance) == funding_amount - step_amount * count, "holds not posted")

    return Prepared(_resolutions(holds, ledger.confirm_hold), verify)


def prepare_release(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Release holds, each created beforehand (unmeasured)."""
    account = _funded(ledger, ledger_id, "release")
    holds = [ledger.hold(account.id, step_amount) for _ in range(count)]

    def verify(results: Sequence[object]) -> None:
        _resolved(results, holds, EntryStatus.VOIDED)
        balance = ledger.get_balance(account.id)
        _require(balance.held == 0 and balance.pending_out == 0, "a released hold is held")
        _require(_major(balance) == funding_amount, "a released hold posted")

    return Prepared(_resolutions(holds, ledger.release_hold), verify)


def prepare_escrow(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Set an amount of a funded buyer's aside for a seller, pending."""
    buyer = _funded(ledger, ledger_id, "buyer")
    seller = _account(ledger, ledger_id, "seller")

    def verify(results: Sequence[object]) -> None:
        entries = _entries(results)
        _require(_all_are(entries, EntryKind.ESCROW, EntryStatus.PENDING), "not pending")
        balance = ledger.get_balance(buyer.id)
        expected = step_amount * count
        _require(_in_major(balance, balance.escrowed) == expected, "escrows not all escrowed")
        seller_balance = ledger.get_balance(seller.id)
        _require(_major(seller_balance) == 0, "an escrow paid the seller")
        _require(_in_major(seller_balance, seller_balance.pending_in) == expected, "not pending")

    calls = [lambda: ledger.escrow(buyer.id, seller.id, step_amount)] * count
    return Prepared(calls, verify)


def prepare_reverse(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """Reverse transfers, each posted beforehand (unmeasured)."""
    payer = _funded(ledger, ledger_id, "payer")
    payee = _account(ledger, ledger_id, "payee")
    transfers = [ledger.transfer(payer.id, payee.id, step_amount) for _ in range(count)]

    def verify(results: Sequence[object]) -> None:
        reversals = _entries(results)
        _require(
            [entry.reverses for entry in reversals] == [entry.id for entry in transfers],
            "a reversal does not link to its transfer",
        )
        _require(all(entry.kind is EntryKind.REVERSAL for entry in reversals), "not reversals")
        _require(_posted(ledger, payee.id) == 0, "transfers not all reversed")
        _require(_posted(ledger, payer.id) == funding_amount, "payer not made whole")

    calls = [partial(ledger.reverse_entry, entry.id) for entry in transfers]
    return Prepared(calls, verify)


def prepare_batch_10_transfers(ledger: Ledger, ledger_id: str, count: int) -> Prepared:
    """A batch of 10 transfers from one funded payer to 3 payees: one transaction."""
    payer = _funded(ledger, ledger_id, "payer")
    payees = [_account(ledger, ledger_id, f"payee {number}") for number in range(3)]
    operations = [
        {
            "type": "transfer",
            "from_account_id": payer.id,
            "to_account_id": payees[index % len(payees)].id,
            "amount": str(step_amount),
        }
        for index in range(10)
    ]

    def verify(results: Sequence[object]) -> None:
        _require(all(isinstance(result, BatchResult) for result in results), "not batches")
        total = sum(_posted(ledger, payee.id) for payee in payees)
        _require(total == step_amount * 10 * count, "batches not all posted")

    return Prepared([partial(ledger.batch, operations)] * count, verify)


scenarios: tuple[Scenario, ...] = (
    Scenario("create_account", prepare_create_account),
    Scenario("deposit", prepare_deposit),
    Scenario("spend", prepare_spend),
    Scenario("transfer", prepare_transfer),
    Scenario("transfer_to_sharded", prepare_transfer_to_sharded),
    Scenario("entry_4_lines", prepare_entry_4_lines),
    Scenario("replay", prepare_replay),
    Scenario("balance", prepare_balance),
    Scenario("balance_sharded", prepare_balance_sharded),
    Scenario("hold", prepare_hold),
    Scenario("confirm", prepare_confirm),
    Scenario("release", prepare_release),
    Scenario("escrow", prepare_escrow),
    Scenario("reverse", prepare_reverse),
    Scenario("batch_10_transfers", prepare_batch_10_transfers),
)
