"""Actors on every store: each entry keeps who caused it, as its caller named them; a
replay answers with the first actor, and a void leaves the pending entry's own."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.model import Actor, Entry, EntryStatus
from ledger.service import Ledger, LineInput

from .checks import refused
from .helpers import NothingWritten, open_account


def an_actor(role: str = "operator") -> Actor:
    """An actor with every field, its ids random."""
    return Actor(
        key_id=f"key_{secrets.token_hex(6)}",
        role=role,
        request_id=secrets.token_hex(8),
        source_ip="198.51.100.23",
        user_agent="billing-worker/2.1",
    )


def _funded(ledger: Ledger, book: str) -> tuple[str, str]:
    """A wallet holding 100.00 and an empty payee."""
    wallet, payee = open_account(ledger, book).id, open_account(ledger, book).id
    ledger.deposit(wallet, "100.00")
    return wallet, payee


Movement = Callable[[Ledger, str, str, str, Actor], Entry]

movements: dict[str, Movement] = {
    "deposit": lambda ledger, book, wallet, payee, actor: ledger.deposit(
        wallet, "1.00", actor=actor
    ),
    "withdraw": lambda ledger, book, wallet, payee, actor: ledger.withdraw(
        wallet, "1.00", actor=actor
    ),
    "spend": lambda ledger, book, wallet, payee, actor: ledger.spend(wallet, "1.00", actor=actor),
    "refund": lambda ledger, book, wallet, payee, actor: ledger.refund(wallet, "1.00", actor=actor),
    "transfer": lambda ledger, book, wallet, payee, actor: ledger.transfer(
        wallet, payee, "1.00", actor=actor
    ),
    "hold": lambda ledger, book, wallet, payee, actor: ledger.hold(wallet, "1.00", actor=actor),
    "escrow": lambda ledger, book, wallet, payee, actor: ledger.escrow(
        wallet, payee, "1.00", actor=actor
    ),
    "create_entry": lambda ledger, book, wallet, payee, actor: ledger.create_entry(
        book,
        [LineInput(wallet, "debit", "1.00"), LineInput(payee, "credit", "1.00")],
        actor=actor,
    ),
    "convert": lambda ledger, book, wallet, payee, actor: ledger.convert(
        wallet, open_account(ledger, book, currency="EUR").id, "1.00", "0.90", actor=actor
    ),
}


@pytest.mark.parametrize("name", sorted(movements))
def test_an_entry_keeps_the_actor_its_caller_named(ledger: Ledger, book: str, name: str) -> None:
    # GIVEN a funded wallet and a payee
    wallet, payee = _funded(ledger, book)
    actor = an_actor()
    # WHEN an entry is made with an actor
    entry = movements[name](ledger, book, wallet, payee, actor)
    # THEN the entry answered and the entry read back carry it, field by field
    assert entry.actor == actor
    assert ledger.get_entry(entry.id).actor == actor


def test_an_entry_without_an_actor_has_none(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet; WHEN money comes in without an actor
    wallet = open_account(ledger, book).id
    entry = ledger.deposit(wallet, "5.00")
    # THEN the entry has no actor, as written and as read
    assert entry.actor is None
    assert ledger.get_entry(entry.id).actor is None


def test_an_actor_may_name_only_some_fields(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet; WHEN an embedding caller names only a key id
    wallet = open_account(ledger, book).id
    entry = ledger.deposit(wallet, "5.00", actor=Actor(key_id="batch-job"))
    # THEN the rest stays None
    assert ledger.get_entry(entry.id).actor == Actor(key_id="batch-job")


def test_a_replay_from_another_request_answers_with_the_first_actor(
    ledger: Ledger, book: str
) -> None:
    # GIVEN a deposit made with an idempotency key by a first request
    wallet = open_account(ledger, book).id
    key = f"idem-{secrets.token_hex(6)}"
    first, second = an_actor(), an_actor()
    original = ledger.deposit(wallet, "5.00", idempotency_key=key, actor=first)
    # WHEN the same request is retried by another request (another id, another address)
    retry = ledger.deposit(wallet, "5.00", idempotency_key=key, actor=second)
    # THEN it replays the entry, which keeps the first actor, and moves no money again
    assert (retry.id, retry.replayed, retry.actor) == (original.id, True, first)
    assert ledger.get_entry(original.id).actor == first
    assert ledger.get_balance(wallet).posted == 500


def test_posting_a_pending_entry_gives_the_posting_the_poster_as_actor(
    ledger: Ledger, book: str
) -> None:
    # GIVEN a hold made by one actor
    wallet, _ = _funded(ledger, book)
    holder, confirmer, retrier = an_actor(), an_actor(), an_actor()
    hold = ledger.hold(wallet, "10.00", actor=holder)
    # WHEN another actor confirms it, and a third retries the confirmation
    confirmed = ledger.confirm_hold(hold.id, actor=confirmer)
    again = ledger.confirm_hold(hold.id, actor=retrier)
    # THEN the hold keeps its creator and the posting entry carries its confirmer
    assert confirmed.posting_entry_id is not None
    assert (confirmed.actor, ledger.get_entry(hold.id).actor) == (holder, holder)
    assert ledger.get_entry(confirmed.posting_entry_id).actor == confirmer
    # AND the retry replays without taking the third actor anywhere
    assert again.replayed
    assert ledger.get_entry(confirmed.posting_entry_id).actor == confirmer


@pytest.mark.parametrize("post", ["post_entry", "release_escrow"])
def test_post_entry_and_release_escrow_record_their_actor(
    ledger: Ledger, book: str, post: str
) -> None:
    # GIVEN an escrow made by one actor
    buyer, seller = _funded(ledger, book)
    creator, poster = an_actor(), an_actor("admin")
    escrow = ledger.escrow(buyer, seller, "10.00", actor=creator)
    # WHEN another actor posts it
    posted = getattr(ledger, post)(escrow.id, actor=poster)
    # THEN the posting entry carries the poster, the escrow its creator
    assert posted.actor == creator
    assert ledger.get_entry(posted.posting_entry_id).actor == poster


@pytest.mark.parametrize("void", ["void_entry", "release_hold"])
def test_a_void_creates_no_entry_and_leaves_the_pending_entrys_actor(
    ledger: Ledger, book: str, void: str
) -> None:
    # GIVEN a hold made by one actor
    wallet, _ = _funded(ledger, book)
    holder = an_actor()
    hold = ledger.hold(wallet, "10.00", actor=holder)
    # WHEN it is voided
    voided = getattr(ledger, void)(hold.id)
    # THEN the voided entry keeps the actor that created it
    assert (voided.status, voided.actor) == (EntryStatus.VOIDED, holder)
    assert ledger.get_entry(hold.id).actor == holder


def test_a_reversal_carries_the_actor_that_reverses(ledger: Ledger, book: str) -> None:
    # GIVEN a transfer by one actor
    wallet, payee = _funded(ledger, book)
    payer, admin = an_actor(), an_actor("admin")
    original = ledger.transfer(wallet, payee, "4.00", actor=payer)
    # WHEN an admin reverses it, and another request retries the reversal
    reversal = ledger.reverse_entry(original.id, description="typo", actor=admin)
    again = ledger.reverse_entry(original.id, description="typo", actor=an_actor("admin"))
    # THEN the reversal carries the admin, the original its payer, and the retry replays
    assert (reversal.actor, ledger.get_entry(reversal.id).actor) == (admin, admin)
    assert ledger.get_entry(original.id).actor == payer
    assert (again.id, again.replayed, again.actor) == (reversal.id, True, admin)


def test_every_entry_of_a_batch_carries_the_batchs_actor_and_a_replay_the_first(
    ledger: Ledger, book: str
) -> None:
    # GIVEN a wallet and a payee
    wallet, payee = _funded(ledger, book)
    first, second = an_actor(), an_actor()
    operations = [
        {"type": "transfer", "from_account_id": wallet, "to_account_id": payee, "amount": "1"},
        {"type": "deposit", "account_id": payee, "amount": "2"},
    ]
    key = f"idem-{secrets.token_hex(6)}"
    # WHEN the batch runs with an actor, then is retried by another
    result = ledger.batch(operations, idempotency_key=key, actor=first)
    replay = ledger.batch(operations, idempotency_key=key, actor=second)
    # THEN each entry carries the first actor, as written, as read and as replayed
    assert [entry.actor for entry in result.entries] == [first, first]
    assert [ledger.get_entry(entry.id).actor for entry in result.entries] == [first, first]
    assert replay.replayed
    assert [entry.actor for entry in replay.entries] == [first, first]


@pytest.mark.parametrize(
    ("actor", "field"),
    [
        (Actor(key_id="key\x00"), "actor.key_id"),
        (Actor(user_agent="agent\nnext"), "actor.user_agent"),
        (Actor(role=" "), "actor.role"),
        (Actor(source_ip="1" * (limits.source_ip_length_max + 1)), "actor.source_ip"),
        (Actor(request_id="r" * (limits.actor_id_length_max + 1)), "actor.request_id"),
        (Actor(user_agent="u" * (limits.user_agent_length_max + 1)), "actor.user_agent"),
    ],
)
def test_an_actor_with_control_characters_or_too_long_a_field_is_refused(
    ledger: Ledger, book: str, nothing_written: NothingWritten, actor: Actor, field: str
) -> None:
    # GIVEN a wallet; WHEN money comes in with a malformed actor
    wallet = open_account(ledger, book).id
    # THEN it is refused on that field and nothing is written
    error = refused(
        nothing_written, lambda: ledger.deposit(wallet, "1", actor=actor), ValidationError
    )
    assert error.details["field"] == field


def test_an_actor_that_is_not_an_actor_is_refused(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet; WHEN the actor is a plain mapping
    wallet = open_account(ledger, book).id
    mapping = {"key_id": "key_1"}
    error = refused(
        nothing_written,
        lambda: ledger.deposit(wallet, "1", actor=mapping),  # type: ignore[arg-type]
        ValidationError,
    )
    # THEN it is refused by name
    assert error.details["field"] == "actor"
