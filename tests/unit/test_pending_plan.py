"""Pure planning of two-phase entries, reversals and overdraft changes: each delta's totals,
reservations and headroom, and every refusal that needs no read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import pytest
from unit_builders import (
    EUR,
    USD,
    a_ledger_id,
    an_account,
    an_account_id,
    an_entry,
    an_entry_id,
    created,
    later,
)

from ledger.domain.errors import (
    AlreadyResolved,
    AlreadyReversed,
    AmountExceedsPending,
    NotPending,
    PendingExpired,
    ValidationError,
)
from ledger.domain.ids import AccountRef, parse_account_id, world_account_id
from ledger.domain.model import (
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    Line,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.planning.accounts import plan_overdraft_change, world_account
from ledger.planning.commands import LineDraft, NewEntry
from ledger.planning.entries import plan_entry, plan_reversal
from ledger.planning.hashing import posting_request_hash, request_hash, reversal_request_hash
from ledger.planning.pending import plan_post, plan_void
from ledger.planning.steps import (
    ApplyDelta,
    ChangeOverdraft,
    MarkReversed,
    PutNew,
    ResolvePending,
    WritePlan,
)

# --- builders ------------------------------------------------------------------------------


def _ref(ledger_id: str, side: Side = Side.CREDIT) -> AccountRef:
    return parse_account_id(an_account_id(ledger_id, USD, side))


def _world(ledger_id: str) -> AccountRef:
    return parse_account_id(world_account_id(ledger_id, USD))


def _outflow(payer: AccountRef, amount: int) -> LineDraft:
    """The payer's line: on the side opposite its normal balance."""
    return LineDraft(payer, payer.normal_balance.opposite, amount)


def _inflow(payee: AccountRef, amount: int) -> LineDraft:
    """A payee's line: on its normal side (balanced by payers of the same normal side)."""
    return LineDraft(payee, payee.normal_balance, amount)


def _command(ledger_id: str, kind: EntryKind, lines: list[LineDraft], **changes: Any) -> NewEntry:
    command = NewEntry(
        entry_id=an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=kind,
        lines=lines,
        description="deposit for the flat",
        reference="order-9",
        metadata={"k": "v"},
        effective_at=None,
        pending=True,
        expires_in=None,
    )
    return replace(command, **changes)


def _pending(
    kind: EntryKind = EntryKind.HOLD,
    amount: int = 500,
    *,
    normal: Side = Side.CREDIT,
    expires_in: int | None = None,
) -> tuple[Entry, AccountRef, AccountRef]:
    """A planned two-line pending entry of `kind` from a payer to a payee, both of the
    `normal` side (a credit-normal hold goes to the world), with both account refs."""
    ledger_id = a_ledger_id()
    payer = _ref(ledger_id, normal)
    is_world = kind is EntryKind.HOLD and normal is Side.CREDIT
    payee = _world(ledger_id) if is_world else _ref(ledger_id, normal)
    lines = [_outflow(payer, amount), _inflow(payee, amount)]
    entry, _ = plan_entry(_command(ledger_id, kind, lines, expires_in=expires_in), created)
    return entry, payer, payee


def _three_line_pending() -> Entry:
    ledger_id = a_ledger_id()
    payer, first, second = _ref(ledger_id), _ref(ledger_id), _ref(ledger_id)
    lines = [_outflow(payer, 900), _inflow(first, 600), _inflow(second, 300)]
    entry, _ = plan_entry(_command(ledger_id, EntryKind.ENTRY, lines), created)
    return entry


def _delta(
    kind: str,
    account: AccountRef,
    entry_id: str,
    totals: Totals,
    headroom: int,
    *,
    require_active: bool = True,
) -> ApplyDelta:
    return ApplyDelta(
        account_id=account.id,
        ledger_id=account.ledger_id,
        currency="USD",
        entry_id=entry_id,
        at=later,
        totals=totals,
        headroom=headroom,
        outflow=max(0, -headroom),
        require_active=require_active,
        entry_kind=kind,
        effective_at=later,
    )


# --- creating pending entries -------------------------------------------------------------


def test_a_pending_hold_reserves_the_payers_outflow_and_gives_the_world_nothing_yet() -> None:
    # GIVEN a hold of 5.00 from a credit-normal wallet to the world, expiring in a minute
    ledger_id = a_ledger_id()
    wallet, world = _ref(ledger_id), _world(ledger_id)
    command = _command(
        ledger_id,
        EntryKind.HOLD,
        [_outflow(wallet, 500), _inflow(world, 500)],
        expires_in=60,
    )
    # WHEN planning it at `later`
    entry, plan = plan_entry(command, later)
    # THEN the entry is pending, expiring 60 s after creation, with its lines as given
    assert (entry.status, entry.kind) == (EntryStatus.PENDING, EntryKind.HOLD)
    assert entry.expires_at == later + timedelta(seconds=60)
    assert entry.lines == (
        Line(wallet.id, Side.DEBIT, 500, "USD"),
        Line(world.id, Side.CREDIT, 500, "USD"),
    )
    assert (entry.pending_id, entry.posting_entry_id, entry.reverses) == (None, None, None)
    # AND the wallet's pending outflow is held and must be covered by its headroom,
    # while the world's pending inflow raises nothing
    assert plan.steps == (
        PutNew(entry),
        _delta(EntryKind.HOLD, wallet, entry.id, Totals(pending_debits=500, held=500), -500),
        _delta(EntryKind.HOLD, world, entry.id, Totals(pending_credits=500), 0),
    )


def test_a_pending_escrow_counts_the_buyers_outflow_as_escrowed() -> None:
    # GIVEN an escrow of 2.50 from a debit-normal buyer to a debit-normal seller
    ledger_id = a_ledger_id()
    buyer, seller = _ref(ledger_id, Side.DEBIT), _ref(ledger_id, Side.DEBIT)
    command = _command(ledger_id, EntryKind.ESCROW, [_outflow(buyer, 250), _inflow(seller, 250)])
    # WHEN planning it
    entry, plan = plan_entry(command, later)
    # THEN without expires_in it never expires
    assert (entry.status, entry.expires_at) == (EntryStatus.PENDING, None)
    # AND the buyer's pending credit (its outflow) is escrowed, not held
    assert plan.steps == (
        PutNew(entry),
        _delta(
            EntryKind.ESCROW,
            buyer,
            entry.id,
            Totals(pending_credits=250, escrowed=250),
            -250,
        ),
        _delta(EntryKind.ESCROW, seller, entry.id, Totals(pending_debits=250), 0),
    )


@pytest.mark.parametrize("normal", [Side.DEBIT, Side.CREDIT])
def test_a_pending_raw_entry_reserves_nothing_and_pending_inflows_add_no_headroom(
    normal: Side,
) -> None:
    # GIVEN a pending raw entry from one payer to two payees, all of one normal side
    ledger_id = a_ledger_id()
    payer, first, second = (_ref(ledger_id, normal) for _ in range(3))
    lines = [_outflow(payer, 900), _inflow(first, 600), _inflow(second, 300)]
    # WHEN planning it
    entry, plan = plan_entry(_command(ledger_id, EntryKind.ENTRY, lines), later)
    # THEN only the payer's headroom drops; the payees' pending inflows add none, and
    # nobody's held or escrowed moves
    outflow = Totals(pending_debits=900) if normal is Side.CREDIT else Totals(pending_credits=900)

    def inflow(amount: int) -> Totals:
        if normal is Side.DEBIT:
            return Totals(pending_debits=amount)
        return Totals(pending_credits=amount)

    assert plan.steps[1:] == (
        _delta(EntryKind.ENTRY, payer, entry.id, outflow, -900),
        _delta(EntryKind.ENTRY, first, entry.id, inflow(600), 0),
        _delta(EntryKind.ENTRY, second, entry.id, inflow(300), 0),
    )


def test_the_request_hash_of_an_entry_tells_pending_and_expiry_apart() -> None:
    # GIVEN one entry request posted, created pending, and pending with two expiries
    ledger_id = a_ledger_id()
    lines = [_outflow(_ref(ledger_id), 100), _inflow(_ref(ledger_id), 100)]
    base = _command(ledger_id, EntryKind.ENTRY, lines)
    variants = [
        replace(base, pending=False),
        base,
        replace(base, expires_in=60),
        replace(base, expires_in=61),
    ]
    # WHEN planning each
    hashes = [plan_entry(command, created)[0].request_hash for command in variants]
    # THEN each is a different request (a reused key cannot turn one into another)
    assert len(set(hashes)) == len(variants)
    # AND the same request at another time is the same request
    assert plan_entry(variants[2], later)[0].request_hash == hashes[2]


# --- posting -------------------------------------------------------------------------------


def test_posting_a_hold_in_full_moves_pending_to_posted_and_releases_the_reservation() -> None:
    # GIVEN a pending hold of 5.00 from a wallet to the world
    pending, wallet, world = _pending(EntryKind.HOLD, 500, expires_in=90 * 86_400)
    posting_id = an_entry_id(pending.ledger_id)
    # WHEN posting it in full before it expires
    posting, resolved, plan = plan_post(pending, posting_id, None, later)
    # THEN a new posted entry of kind post carries the lines, linked to the pending entry
    assert posting == Entry(
        id=posting_id,
        ledger_id=pending.ledger_id,
        kind=EntryKind.POST,
        status=EntryStatus.POSTED,
        lines=pending.lines,
        effective_at=later,
        created_at=later,
        request_hash=posting_request_hash(pending.id, None),
        description=pending.description,
        reference=pending.reference,
        pending_id=pending.id,
    )
    # AND the pending entry is now posted, points at its posting entry, shows all of its
    # amount posted and none released, and when it resolved
    assert resolved == replace(
        pending,
        status=EntryStatus.POSTED,
        posting_entry_id=posting_id,
        posted_amount=500,
        released_amount=0,
        resolved_at=later,
    )
    # AND the plan puts the posting, resolves the pending entry once, and moves both accounts:
    # the wallet's headroom was taken at creation, so posting the full amount needs none;
    # the world now gains the amount it was only promised
    assert plan.steps == (
        PutNew(posting),
        ResolvePending(pending.id, EntryStatus.POSTED, later, posting_id, 500, 0),
        _delta(
            EntryKind.POST,
            wallet,
            posting_id,
            Totals(posted_debits=500, pending_debits=-500, held=-500),
            0,
        ),
        _delta(
            EntryKind.POST,
            world,
            posting_id,
            Totals(posted_credits=500, pending_credits=-500),
            500,
        ),
    )


def test_posting_a_hold_for_less_releases_the_rest_to_the_payer() -> None:
    # GIVEN a pending hold of 5.00 from a wallet to the world
    pending, payer, world = _pending(EntryKind.HOLD, 500)
    posting_id = an_entry_id(pending.ledger_id)
    # WHEN posting 3.00 of it
    posting, resolved, plan = plan_post(pending, posting_id, 300, later)
    # THEN both posted lines carry 3.00
    assert [line.amount for line in posting.lines] == [300, 300]
    assert [line.side for line in posting.lines] == [line.side for line in pending.lines]
    assert posting.request_hash == posting_request_hash(pending.id, 300)
    assert resolved.status is EntryStatus.POSTED
    # AND the pending entry shows 3.00 posted and 2.00 released, as its resolution writes
    assert (resolved.posted_amount, resolved.released_amount) == (300, 200)
    assert plan.steps[1] == ResolvePending(
        pending.id, EntryStatus.POSTED, later, posting_id, 300, 200
    )
    # AND all 5.00 leave pending and held; 3.00 are posted; the payer gets 2.00 of headroom
    # back, the world gains 3.00
    assert plan.steps[2:] == (
        _delta(
            EntryKind.POST,
            payer,
            posting_id,
            Totals(posted_debits=300, pending_debits=-500, held=-500),
            200,
        ),
        _delta(
            EntryKind.POST,
            world,
            posting_id,
            Totals(posted_credits=300, pending_credits=-500),
            300,
        ),
    )


def test_releasing_an_escrow_for_less_moves_the_escrowed_part_not_the_held_one() -> None:
    # GIVEN a pending escrow of 5.00 from a buyer to a seller
    pending, buyer, seller = _pending(EntryKind.ESCROW, 500)
    posting_id = an_entry_id(pending.ledger_id)
    # WHEN posting 1.00 of it
    _, _, plan = plan_post(pending, posting_id, 100, later)
    # THEN the buyer's escrowed drops by all 5.00 and its headroom regains the 4.00 not paid
    assert plan.steps[2:] == (
        _delta(
            EntryKind.POST,
            buyer,
            posting_id,
            Totals(posted_debits=100, pending_debits=-500, escrowed=-500),
            400,
        ),
        _delta(
            EntryKind.POST,
            seller,
            posting_id,
            Totals(posted_credits=100, pending_credits=-500),
            100,
        ),
    )


def test_posting_a_multi_line_pending_entry_in_full_moves_every_line() -> None:
    # GIVEN a pending raw entry of three lines
    pending = _three_line_pending()
    posting_id = an_entry_id(pending.ledger_id)
    # WHEN posting it in full
    posting, _, plan = plan_post(pending, posting_id, None, later)
    # THEN every line is posted as it was, and no account needs headroom
    assert posting.lines == pending.lines
    deltas = [operation for operation in plan.steps if isinstance(operation, ApplyDelta)]
    assert [delta.account_id for delta in deltas] == [line.account_id for line in pending.lines]
    assert [delta.outflow for delta in deltas] == [0, 0, 0]
    assert [delta.headroom for delta in deltas] == [0, 600, 300]
    assert all(delta.totals.held == delta.totals.escrowed == 0 for delta in deltas)


def test_a_resolved_multi_line_entry_shows_the_sum_of_its_debits_posted_or_released() -> None:
    # GIVEN a pending raw entry of three lines moving 9.00
    pending = _three_line_pending()
    # WHEN posting it in full, or voiding it
    _, posted, _ = plan_post(pending, an_entry_id(pending.ledger_id), None, later)
    voided, _ = plan_void(pending, later)
    # THEN the posted one shows 9.00 posted, the voided one 9.00 released
    assert (posted.posted_amount, posted.released_amount) == (900, 0)
    assert (voided.posted_amount, voided.released_amount) == (0, 900)


def test_an_entry_of_several_currencies_resolves_without_one_amount() -> None:
    # GIVEN a pending raw entry moving 5.00 USD and 4.00 EUR, each balanced
    ledger_id = a_ledger_id()
    usd_payer, usd_payee = _ref(ledger_id), _ref(ledger_id)
    eur_payer, eur_payee = (
        parse_account_id(an_account_id(ledger_id, EUR, Side.CREDIT)) for _ in range(2)
    )
    lines = [
        _outflow(usd_payer, 500),
        _inflow(usd_payee, 500),
        _outflow(eur_payer, 400),
        _inflow(eur_payee, 400),
    ]
    pending, _ = plan_entry(_command(ledger_id, EntryKind.ENTRY, lines), created)
    # WHEN posting it in full, or voiding it
    _, posted, post_plan = plan_post(pending, an_entry_id(ledger_id), None, later)
    voided, void_plan = plan_void(pending, later)
    # THEN no single amount describes it: its status alone says all was posted or released
    assert (posted.posted_amount, posted.released_amount) == (None, None)
    assert (voided.posted_amount, voided.released_amount) == (None, None)
    assert post_plan.steps[1] == ResolvePending(
        pending.id, EntryStatus.POSTED, later, posted.posting_entry_id
    )
    assert void_plan.steps[0] == ResolvePending(pending.id, EntryStatus.VOIDED, later)


def test_posting_the_whole_amount_explicitly_is_allowed() -> None:
    # GIVEN a pending hold of 5.00
    pending, _, _ = _pending(EntryKind.HOLD, 500)
    # WHEN posting exactly 5.00
    posting, _, plan = plan_post(pending, an_entry_id(pending.ledger_id), 500, later)
    # THEN the posting carries the whole amount and gives no headroom back to the payer
    assert [line.amount for line in posting.lines] == [500, 500]
    payer_delta = plan.steps[2]
    assert isinstance(payer_delta, ApplyDelta)
    assert (payer_delta.headroom, payer_delta.outflow) == (0, 0)


def test_posting_more_than_pending_is_refused() -> None:
    # GIVEN a pending hold of 5.00
    pending, _, _ = _pending(EntryKind.HOLD, 500)
    # WHEN posting one minor unit more
    with pytest.raises(AmountExceedsPending) as caught:
        plan_post(pending, an_entry_id(pending.ledger_id), 501, later)
    # THEN it is refused, naming the entry
    assert caught.value.code == "amount_exceeds_pending"
    assert caught.value.details == {"entry_id": pending.id}


def test_posting_a_multi_line_entry_for_less_is_a_validation_error() -> None:
    # GIVEN a pending entry of three lines
    pending = _three_line_pending()
    # WHEN posting part of it, even a part no line exceeds
    with pytest.raises(ValidationError) as caught:
        plan_post(pending, an_entry_id(pending.ledger_id), 100, later)
    # THEN it is refused: how to split the amount over the lines is not defined
    assert caught.value.field == "amount"


@pytest.mark.parametrize("offset_s", [0, 1, 86_400])
def test_posting_at_or_after_the_expiry_is_refused(offset_s: int) -> None:
    # GIVEN a pending hold expiring 60 s after its creation
    pending, _, _ = _pending(EntryKind.HOLD, 500, expires_in=60)
    assert pending.expires_at is not None
    # WHEN posting it at its expiry or later
    at = pending.expires_at + timedelta(seconds=offset_s)
    with pytest.raises(PendingExpired) as caught:
        plan_post(pending, an_entry_id(pending.ledger_id), None, at)
    # THEN it is refused as expired
    assert caught.value.code == "pending_expired"
    assert caught.value.details == {"entry_id": pending.id}


def test_posting_one_microsecond_before_the_expiry_passes() -> None:
    # GIVEN a pending hold expiring in 60 s
    pending, _, _ = _pending(EntryKind.HOLD, 500, expires_in=60)
    assert pending.expires_at is not None
    # WHEN posting it just before
    at = pending.expires_at - timedelta(microseconds=1)
    _, resolved, plan = plan_post(pending, an_entry_id(pending.ledger_id), None, at)
    # THEN it is planned, and the write's own expiry check uses the same moment
    assert resolved.status is EntryStatus.POSTED
    assert plan.steps[1] == ResolvePending(
        pending.id, EntryStatus.POSTED, at, resolved.posting_entry_id, 500, 0
    )


def _resolve(action: str, entry: Entry) -> None:
    """Plan a post, void or expiry of `entry` (at `later`)."""
    if action == "post":
        plan_post(entry, an_entry_id(entry.ledger_id), None, later)
    else:
        plan_void(entry, later, EntryStatus.EXPIRED if action == "expire" else EntryStatus.VOIDED)


@pytest.mark.parametrize(
    ("status", "posted"),
    [(EntryStatus.VOIDED, False), (EntryStatus.EXPIRED, False), (EntryStatus.POSTED, True)],
    ids=["voided", "expired", "posted"],
)
@pytest.mark.parametrize("action", ["post", "void", "expire"])
def test_a_resolved_entry_cannot_be_resolved_again(
    status: EntryStatus, posted: bool, action: str
) -> None:
    # GIVEN a hold that was voided, expired, or posted already, and is past its expiry
    pending, _, _ = _pending(EntryKind.HOLD, 500, expires_in=1)
    resolved = replace(pending, status=status, posting_entry_id=an_entry_id() if posted else None)
    # WHEN posting, voiding or expiring it
    with pytest.raises(AlreadyResolved) as caught:
        _resolve(action, resolved)
    # THEN it was resolved once already: that, not the expiry, is the refusal
    assert caught.value.code == "already_resolved"
    assert caught.value.details == {"entry_id": pending.id}
    assert str(status) in caught.value.message


@pytest.mark.parametrize(
    "entry",
    [
        an_entry(),
        replace(an_entry(), kind=EntryKind.POST, pending_id=an_entry_id()),
        replace(an_entry(), kind=EntryKind.REVERSAL, reverses=an_entry_id()),
    ],
    ids=["posted", "posting", "reversal"],
)
@pytest.mark.parametrize("action", ["post", "void", "expire"])
def test_an_entry_never_pending_cannot_be_resolved(entry: Entry, action: str) -> None:
    # GIVEN an entry that was posted directly
    # WHEN posting, voiding or expiring it
    with pytest.raises(NotPending) as caught:
        _resolve(action, entry)
    # THEN it is not pending
    assert caught.value.code == "not_pending"
    assert caught.value.details == {"entry_id": entry.id}


# --- voiding and expiring ------------------------------------------------------------------


def test_voiding_a_hold_releases_everything_even_on_inactive_accounts() -> None:
    # GIVEN a pending hold of 5.00 from a wallet to the world
    pending, wallet, world = _pending(EntryKind.HOLD, 500, expires_in=60)
    # WHEN voiding it
    voided, plan = plan_void(pending, later)
    # THEN the entry is voided, shows its whole amount released and when, and nothing else
    # changes
    assert voided == replace(
        pending,
        status=EntryStatus.VOIDED,
        posted_amount=0,
        released_amount=500,
        resolved_at=later,
    )
    # AND the plan resolves it once and gives the wallet its headroom and held back; the
    # release needs no active account (it only ever gives money back)
    assert plan.steps == (
        ResolvePending(pending.id, EntryStatus.VOIDED, later, None, 0, 500),
        _delta(
            "void",
            wallet,
            pending.id,
            Totals(pending_debits=-500, held=-500),
            500,
            require_active=False,
        ),
        _delta(
            "void",
            world,
            pending.id,
            Totals(pending_credits=-500),
            0,
            require_active=False,
        ),
    )


def test_voiding_an_escrow_refunds_the_buyers_escrowed_amount() -> None:
    # GIVEN a pending escrow of 2.00 from a debit-normal buyer
    pending, buyer, seller = _pending(EntryKind.ESCROW, 200, normal=Side.DEBIT)
    # WHEN voiding (refunding) it
    _, plan = plan_void(pending, later)
    # THEN the buyer's pending credit and escrowed drop, and its headroom returns
    assert plan.steps[1:] == (
        _delta(
            "void",
            buyer,
            pending.id,
            Totals(pending_credits=-200, escrowed=-200),
            200,
            require_active=False,
        ),
        _delta(
            "void",
            seller,
            pending.id,
            Totals(pending_debits=-200),
            0,
            require_active=False,
        ),
    )


def test_expiring_is_a_void_with_status_expired() -> None:
    # GIVEN a pending hold past its expiry
    pending, _, _ = _pending(EntryKind.HOLD, 500, expires_in=1)
    # WHEN the sweeper voids it as expired
    expired, plan = plan_void(pending, later, EntryStatus.EXPIRED)
    voided, void_plan = plan_void(pending, later)
    # THEN it is expired, and its deltas are those of a void
    assert expired.status is EntryStatus.EXPIRED
    assert plan.steps[0] == ResolvePending(pending.id, EntryStatus.EXPIRED, later, None, 0, 500)
    assert (expired.posted_amount, expired.released_amount) == (0, 500)
    # but for the kind they record on the accounts
    assert [replace(cast(ApplyDelta, step), entry_kind="void") for step in plan.steps[1:]] == list(
        void_plan.steps[1:]
    )
    assert {cast(ApplyDelta, step).entry_kind for step in plan.steps[1:]} == {"expire"}
    assert voided.status is EntryStatus.VOIDED


def test_a_void_past_the_expiry_is_still_a_void() -> None:
    # GIVEN a pending hold past its expiry (the sweeper has not come by yet)
    pending, _, _ = _pending(EntryKind.HOLD, 500, expires_in=1)
    # WHEN a caller voids it
    voided, plan = plan_void(pending, later)
    # THEN the void goes ahead: releasing money is never too late
    assert voided.status is EntryStatus.VOIDED
    assert plan.steps[0] == ResolvePending(pending.id, EntryStatus.VOIDED, later, None, 0, 500)


# --- reversing -----------------------------------------------------------------------------


def test_a_reversal_mirrors_the_lines_and_links_both_ways() -> None:
    # GIVEN a posted transfer of 10.50 between two debit-normal accounts
    original = an_entry(reference="inv-7", description="rent", metadata={"k": "v"})
    reversal_id = an_entry_id(original.ledger_id)
    # WHEN planning its reversal
    reversal, plan = plan_reversal(original, reversal_id, "wrong payee", later)
    # THEN the reversal is a posted entry with every side swapped, pointing at the original
    debited, credited = original.lines
    assert reversal == Entry(
        id=reversal_id,
        ledger_id=original.ledger_id,
        kind=EntryKind.REVERSAL,
        status=EntryStatus.POSTED,
        lines=(replace(debited, side=Side.CREDIT), replace(credited, side=Side.DEBIT)),
        effective_at=later,
        created_at=later,
        request_hash=reversal_request_hash(original.id, "wrong payee"),
        description="wrong payee",
        reference="inv-7",
        reverses=original.id,
    )
    # AND the plan marks the original once and guards the account that gives money back
    assert plan.steps == (
        PutNew(reversal),
        MarkReversed(original.id, reversal_id),
        _delta(
            EntryKind.REVERSAL,
            parse_account_id(debited.account_id),
            reversal_id,
            Totals(posted_credits=1050),
            -1050,
        ),
        _delta(
            EntryKind.REVERSAL,
            parse_account_id(credited.account_id),
            reversal_id,
            Totals(posted_debits=1050),
            1050,
        ),
    )


def test_a_posting_entry_can_be_reversed() -> None:
    # GIVEN the posting entry of a hold
    pending, wallet, world = _pending(EntryKind.HOLD, 500)
    posting, _, _ = plan_post(pending, an_entry_id(pending.ledger_id), None, created)
    # WHEN reversing it
    reversal, plan = plan_reversal(posting, an_entry_id(pending.ledger_id), None, later)
    # THEN the world pays the wallet back, with the world's outflow guarded as any other
    assert reversal.reverses == posting.id
    assert [(line.account_id, line.side) for line in reversal.lines] == [
        (wallet.id, Side.CREDIT),
        (world.id, Side.DEBIT),
    ]
    deltas = [operation for operation in plan.steps if isinstance(operation, ApplyDelta)]
    assert [(delta.headroom, delta.outflow) for delta in deltas] == [(500, 0), (-500, 500)]
    assert all(delta.totals.held == 0 for delta in deltas)


def test_an_entry_is_reversed_at_most_once() -> None:
    # GIVEN an entry reversed already
    reversal_id = an_entry_id()
    original = replace(an_entry(), reversed_by=reversal_id)
    # WHEN reversing it again
    with pytest.raises(AlreadyReversed) as caught:
        plan_reversal(original, an_entry_id(original.ledger_id), None, later)
    # THEN it is refused, naming its reversal
    assert caught.value.code == "already_reversed"
    assert caught.value.details == {"entry_id": original.id, "reversed_by": reversal_id}


@pytest.mark.parametrize("status", [EntryStatus.PENDING, EntryStatus.VOIDED, EntryStatus.EXPIRED])
def test_an_unposted_pending_entry_is_voided_not_reversed(status: EntryStatus) -> None:
    # GIVEN an entry created pending that is pending, voided or expired
    pending, _, _ = _pending(EntryKind.HOLD, 500)
    entry = replace(pending, status=status)
    # WHEN reversing it
    with pytest.raises(NotPending) as caught:
        plan_reversal(entry, an_entry_id(entry.ledger_id), None, later)
    # THEN it is refused: the way out is a void
    assert caught.value.details == {"entry_id": entry.id, "posting_entry_id": None}
    assert "void it" in caught.value.message


def test_a_posted_pending_entry_points_at_its_posting_entry_to_reverse() -> None:
    # GIVEN a pending entry posted by a posting entry
    pending, _, _ = _pending(EntryKind.ESCROW, 500)
    posting_id = an_entry_id(pending.ledger_id)
    _, resolved, _ = plan_post(pending, posting_id, None, later)
    # WHEN reversing the pending entry itself
    with pytest.raises(NotPending) as caught:
        plan_reversal(resolved, an_entry_id(pending.ledger_id), None, later)
    # THEN the refusal names the posting entry, the one that can be reversed
    assert caught.value.details == {"entry_id": pending.id, "posting_entry_id": posting_id}
    assert "posting entry" in caught.value.message


def test_request_hashes_of_posting_and_reversal_name_the_whole_request() -> None:
    # GIVEN two entries
    first, second = an_entry_id(), an_entry_id()
    # WHEN hashing requests about them
    postings = {
        posting_request_hash(first, None),
        posting_request_hash(first, 100),
        posting_request_hash(first, 101),
        posting_request_hash(second, None),
    }
    reversals = {
        reversal_request_hash(first, None),
        reversal_request_hash(first, "x"),
        reversal_request_hash(second, None),
    }
    # THEN each request has its own hash, stable over calls, and none is a posting's
    assert len(postings) == 4
    assert len(reversals) == 3
    assert postings.isdisjoint(reversals)
    assert posting_request_hash(first, 100) == request_hash({"pending_id": first, "amount": 100})
    assert reversal_request_hash(first, "x") == reversal_request_hash(first, "x")


# --- overdraft changes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "new",
    [
        Overdraft(OverdraftMode.LIMIT, 1000),
        Overdraft(OverdraftMode.FORBID),
        Overdraft(OverdraftMode.ALLOW),
    ],
    ids=lambda overdraft: str(overdraft.mode),
)
def test_an_overdraft_change_is_conditional_on_the_policy_read(new: Overdraft) -> None:
    # GIVEN an account with a 5.00 credit line
    old = Overdraft(OverdraftMode.LIMIT, 500)
    account = an_account(account_type=AccountType.LIABILITY, overdraft=old, headroom=500)
    # WHEN planning a change of policy
    plan = plan_overdraft_change(account, new, later)
    # THEN it is one change that names the policy it replaces
    assert plan == WritePlan((ChangeOverdraft(account.id, old, new, later),))


def test_a_system_accounts_overdraft_cannot_change() -> None:
    # GIVEN the world account of a ledger
    world = world_account(a_ledger_id(), USD, created)
    # WHEN changing its overdraft
    with pytest.raises(ValidationError) as caught:
        plan_overdraft_change(world, Overdraft(OverdraftMode.FORBID), later)
    # THEN it is refused: the world has no floor, by design
    assert caught.value.field == "overdraft"
