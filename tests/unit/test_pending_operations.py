"""The operations of two-phase entries, reversals and overdraft changes: their guards
(`violation`), their DynamoDB actions, the codec of linked entries, and the expiry index."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import pytest
from unit_builders import (
    a_ledger,
    a_ledger_id,
    an_account,
    an_entry,
    an_entry_id,
    created,
    later,
    placeholders,
)

from ledger.domain import limits
from ledger.domain.errors import (
    AccountInactive,
    AlreadyResolved,
    AlreadyReversed,
    Conflict,
    CreditLimitInUse,
    CurrencyMismatch,
    InsufficientFunds,
    NotFound,
    NotPending,
    PendingExpired,
    ValidationError,
)
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    Overdraft,
    OverdraftMode,
    Totals,
)
from ledger.planning.steps import (
    ApplyDelta,
    ChangeOverdraft,
    MarkReversed,
    ResolvePending,
    Step,
    Stored,
    Target,
)
from ledger.store.cursors import CursorSeal, new_secret
from ledger.store.dynamodb import clauses, transact
from ledger.store.dynamodb.codec import decode, encode
from ledger.store.dynamodb.schema import (
    IndexQuery,
    decode_cursor,
    encode_cursor,
    expiry_partition,
    index_keys,
    index_query,
    item_key,
    timestamp,
)
from ledger.store.listings import ExpiredPending

table = f"ledger-{secrets.token_hex(4)}"
expiry = later + timedelta(hours=1)


def _pending(
    status: EntryStatus = EntryStatus.PENDING,
    expires_at: Any = expiry,
    kind: EntryKind = EntryKind.HOLD,
) -> Entry:
    """A stored entry created pending (expiring at `expires_at`), in `status`."""
    return replace(an_entry(), kind=kind, status=status, expires_at=expires_at)


def _not_an_entry(stored: str | None) -> Stored:
    return {None: None, "ledger": a_ledger(), "account": an_account()}[stored]


# --- ResolvePending ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [EntryStatus.POSTED, EntryStatus.VOIDED, EntryStatus.EXPIRED])
def test_resolving_a_pending_entry_before_its_expiry_passes_except_expiring(
    status: EntryStatus,
) -> None:
    # GIVEN a pending entry expiring in an hour
    entry = _pending()
    resolve = ResolvePending(entry.id, status, later)
    # WHEN resolving it now
    error = resolve.violation(entry)
    # THEN posting and voiding pass; expiring is too early and says so
    if status is EntryStatus.EXPIRED:
        assert isinstance(error, NotPending)
        assert error.details == {"entry_id": entry.id}
    else:
        assert error is None
    assert resolve.target == Target("entry", entry.id)


@pytest.mark.parametrize("at", [expiry, expiry + timedelta(microseconds=1)])
def test_an_entry_at_or_past_its_expiry_expires_or_voids_but_does_not_post(at: Any) -> None:
    # GIVEN a pending entry at or past its expiry
    entry = _pending()
    # WHEN resolving it each way
    posted = ResolvePending(entry.id, EntryStatus.POSTED, at, an_entry_id()).violation(entry)
    voided = ResolvePending(entry.id, EntryStatus.VOIDED, at).violation(entry)
    expired = ResolvePending(entry.id, EntryStatus.EXPIRED, at).violation(entry)
    # THEN only the post is refused, as expired
    assert isinstance(posted, PendingExpired)
    assert posted.details == {"entry_id": entry.id}
    assert (voided, expired) == (None, None)


def test_an_entry_without_expiry_posts_any_time_and_never_expires() -> None:
    # GIVEN a pending entry with no expiry
    entry = _pending(expires_at=None)
    far = later + timedelta(days=10_000)
    # WHEN posting and expiring it far in the future
    posted = ResolvePending(entry.id, EntryStatus.POSTED, far, an_entry_id()).violation(entry)
    expired = ResolvePending(entry.id, EntryStatus.EXPIRED, far).violation(entry)
    # THEN the post passes and the sweeper cannot expire it
    assert posted is None
    assert isinstance(expired, NotPending)


@pytest.mark.parametrize("current", [EntryStatus.POSTED, EntryStatus.VOIDED, EntryStatus.EXPIRED])
@pytest.mark.parametrize("target", [EntryStatus.POSTED, EntryStatus.VOIDED, EntryStatus.EXPIRED])
def test_a_pending_entry_resolves_exactly_once(current: EntryStatus, target: EntryStatus) -> None:
    # GIVEN an entry resolved already (and past its expiry, which must not matter)
    entry = _pending(status=current, expires_at=created)
    # WHEN resolving it again, any way
    error = ResolvePending(entry.id, target, later).violation(entry)
    # THEN it is already resolved, naming its status
    assert isinstance(error, AlreadyResolved)
    assert error.details == {"entry_id": entry.id}
    assert str(current) in error.message


@pytest.mark.parametrize("stored", [None, "ledger", "account"])
def test_resolving_needs_an_entry(stored: str | None) -> None:
    # GIVEN no item, or an item that is no entry
    entry_id = an_entry_id()
    # WHEN resolving
    error = ResolvePending(entry_id, EntryStatus.VOIDED, later).violation(_not_an_entry(stored))
    # THEN the entry is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "entry", "id": entry_id}


# --- MarkReversed --------------------------------------------------------------------------


def test_marking_a_posted_entry_reversed_passes() -> None:
    # GIVEN a posted entry, and the posting entry of a pending one
    plain = an_entry()
    posting = replace(an_entry(), kind=EntryKind.POST, pending_id=an_entry_id())
    for entry in (plain, posting):
        mark = MarkReversed(entry.id, an_entry_id(entry.ledger_id))
        # WHEN marking it reversed
        # THEN nothing stands in the way, and the entry itself is the target
        assert mark.violation(entry) is None
        assert mark.target == Target("entry", entry.id)


def test_marking_a_reversed_entry_again_is_refused() -> None:
    # GIVEN an entry reversed already
    first = an_entry_id()
    entry = replace(an_entry(), reversed_by=first)
    # WHEN marking it reversed by another reversal
    error = MarkReversed(entry.id, an_entry_id()).violation(entry)
    # THEN it is already reversed, by the first one
    assert isinstance(error, AlreadyReversed)
    assert error.details == {"entry_id": entry.id, "reversed_by": first}


@pytest.mark.parametrize("status", list(EntryStatus))
def test_an_entry_created_pending_is_never_marked_reversed(status: EntryStatus) -> None:
    # GIVEN an entry created pending, in any status (posted ones carry their posting entry)
    posting_id = an_entry_id() if status is EntryStatus.POSTED else None
    entry = replace(_pending(status=status), posting_entry_id=posting_id)
    # WHEN marking it reversed
    error = MarkReversed(entry.id, an_entry_id()).violation(entry)
    # THEN it is refused as not (directly) posted
    assert isinstance(error, NotPending)
    assert error.details == {"entry_id": entry.id}


@pytest.mark.parametrize("stored", [None, "ledger", "account"])
def test_marking_reversed_needs_an_entry(stored: str | None) -> None:
    # GIVEN no item, or an item that is no entry
    entry_id = an_entry_id()
    # WHEN marking it reversed
    error = MarkReversed(entry_id, an_entry_id()).violation(_not_an_entry(stored))
    # THEN the entry is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "entry", "id": entry_id}


# --- ChangeOverdraft -----------------------------------------------------------------------


def _credit_account(credit_limit: int, drawn: int) -> Account:
    """A liability with a credit line of `credit_limit` of which `drawn` is used."""
    return an_account(
        account_type=AccountType.LIABILITY,
        overdraft=Overdraft(OverdraftMode.LIMIT, credit_limit),
        totals=Totals(posted_debits=drawn),
        headroom=credit_limit - drawn,
    )


def _change(account: Account, overdraft: Overdraft) -> ChangeOverdraft:
    return ChangeOverdraft(account.id, account.overdraft, overdraft, later)


@pytest.mark.parametrize(
    ("new", "change", "needed"),
    [
        (Overdraft(OverdraftMode.LIMIT, 1500), 500, -500),
        (Overdraft(OverdraftMode.LIMIT, 400), -600, 600),
        (Overdraft(OverdraftMode.LIMIT, 1000), 0, 0),
        (Overdraft(OverdraftMode.FORBID), -1000, 1000),
        (Overdraft(OverdraftMode.ALLOW), -1000, None),
    ],
    ids=["raise", "lower", "same", "forbid", "allow"],
)
def test_the_headroom_moves_by_the_change_of_limit(
    new: Overdraft, change: int, needed: int | None
) -> None:
    # GIVEN an account with a 10.00 credit line
    account = _credit_account(1000, 0)
    # WHEN changing its policy
    operation = _change(account, new)
    # THEN its headroom moves by the change of limit, and must stay at or above zero unless
    # the new policy has no floor
    assert operation.headroom_change == change
    assert operation.headroom_needed == needed
    assert operation.target == Target("account", account.id)


@pytest.mark.parametrize(
    ("new_limit", "drawn", "refused"),
    [
        (300, 400, True),
        (399, 400, True),
        (400, 400, False),
        (2000, 400, False),
        (0, 1, True),
        (0, 0, False),
    ],
)
def test_a_limit_below_what_is_drawn_is_refused(new_limit: int, drawn: int, refused: bool) -> None:
    # GIVEN a 10.00 credit line with `drawn` used
    account = _credit_account(1000, drawn)
    mode = OverdraftMode.LIMIT if new_limit else OverdraftMode.FORBID
    # WHEN changing the limit
    error = _change(account, Overdraft(mode, new_limit)).violation(account)
    # THEN it passes only if the new limit still covers what is drawn
    if refused:
        assert isinstance(error, CreditLimitInUse)
        assert error.code == "credit_limit_in_use"
        assert error.details == {"account_id": account.id, "field": "credit_limit"}
    else:
        assert error is None


def test_removing_the_floor_passes_however_much_is_drawn() -> None:
    # GIVEN an account drawn beyond any limit it could be given
    account = _credit_account(1000, 1000)
    # WHEN allowing any overdraft
    # THEN nothing is checked against the headroom
    assert _change(account, Overdraft(OverdraftMode.ALLOW)).violation(account) is None


def test_a_change_planned_from_a_stale_policy_is_a_conflict() -> None:
    # GIVEN a change planned while the account had a 10.00 line, which is 20.00 now
    account = _credit_account(1000, 0)
    change = _change(account, Overdraft(OverdraftMode.LIMIT, 500))
    current = replace(account, overdraft=Overdraft(OverdraftMode.LIMIT, 2000), headroom=2000)
    # WHEN checking it against the account as it is
    error = change.violation(current)
    # THEN it is a conflict to retry, not a decision on stale facts
    assert isinstance(error, Conflict)


@pytest.mark.parametrize("stored", [None, "ledger", "entry"])
def test_changing_an_overdraft_needs_an_account(stored: str | None) -> None:
    # GIVEN no item, or an item that is no account
    account = _credit_account(1000, 0)
    current: Stored = {None: None, "ledger": a_ledger(), "entry": an_entry()}[stored]
    # WHEN changing its overdraft
    error = _change(account, Overdraft()).violation(current)
    # THEN the account is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "account", "id": account.id}


# --- ApplyDelta that releases --------------------------------------------------------------


def _release(account: Account, **changes: Any) -> ApplyDelta:
    """A delta giving 5.00 of pending outflow back, as voids do."""
    delta = ApplyDelta(
        account_id=account.id,
        ledger_id=account.ledger_id,
        currency=account.currency.code,
        entry_id=an_entry_id(account.ledger_id),
        at=later,
        totals=Totals(pending_credits=-500, held=-500),
        headroom=500,
        outflow=0,
        require_active=False,
    )
    return replace(delta, **changes)


@pytest.mark.parametrize("status", list(AccountStatus))
def test_a_release_works_on_an_account_in_any_status(status: AccountStatus) -> None:
    # GIVEN an account that is active, suspended or closed
    account = an_account(status=status)
    # WHEN a release that does not require an active account reaches it
    # THEN it passes; the same delta requiring an active account passes only when active
    assert _release(account).violation(account) is None
    strict = _release(account, require_active=True).violation(account)
    if status is AccountStatus.ACTIVE:
        assert strict is None
    else:
        assert isinstance(strict, AccountInactive)


def test_a_release_still_checks_everything_but_the_status() -> None:
    # GIVEN a suspended account
    account = an_account(status=AccountStatus.SUSPENDED)
    # WHEN a release names another currency, finds no account, or (hypothetically) takes out
    wrong_currency = _release(account, currency="EUR").violation(account)
    missing = _release(account).violation(None)
    overdrawing = _release(account, outflow=1).violation(account)
    # THEN each of those rules still holds
    assert isinstance(wrong_currency, CurrencyMismatch)
    assert isinstance(missing, NotFound)
    assert isinstance(overdrawing, InsufficientFunds)


# --- rendered actions ----------------------------------------------------------------------


def _render(operation: Step) -> dict[str, Any]:
    """The body of the one Update action an operation renders to, checked for shape."""
    action = cast("dict[str, Any]", transact.render(operation, table))
    assert set(action) == {"Update"}
    body = dict(action["Update"])
    assert body["TableName"] == table
    assert body["Key"] == {name: {"S": value} for name, value in item_key(operation.target).items()}
    # A failed condition hands back the item, so the store can explain it unread.
    assert body["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    _assert_placeholders_match(body)
    return body


def _assert_placeholders_match(body: dict[str, Any]) -> None:
    """Every placeholder used is defined, and every one defined is used (DynamoDB insists)."""
    used = placeholders(body["ConditionExpression"], body["UpdateExpression"])
    assert {name for name in used if name.startswith("#")} == set(
        body.get("ExpressionAttributeNames", {})
    )
    assert {value for value in used if value.startswith(":")} == set(
        body.get("ExpressionAttributeValues", {})
    )


def _condition(*clauses: str) -> str:
    return " AND ".join(clauses)


def test_the_named_clauses_of_two_phase_entries_say_what_they_check() -> None:
    # GIVEN the clauses that guard resolutions, reversals and overdraft changes
    # WHEN reading them
    # THEN each states its rule on the attributes the codec writes
    assert clauses.entry_is_pending == "#status = :pending"
    assert clauses.entry_is_unexpired == "(attribute_not_exists(#expires_at) OR #expires_at > :now)"
    assert clauses.entry_is_expired == "#expires_at <= :now"
    assert clauses.entry_is_posted == "#status = :posted"
    assert clauses.entry_is_unreversed == (
        "attribute_not_exists(#reversed_by) AND attribute_not_exists(#posting_entry_id)"
    )
    assert clauses.overdraft_is_unchanged == (
        "#overdraft_mode = :previous_mode AND #credit_limit = :previous_limit"
    )
    assert clauses.headroom_covers_new_limit == "#headroom >= :needed"
    item = encode(replace(_pending(), reversed_by=an_entry_id(), posting_entry_id=an_entry_id()))
    assert {"status", "expires_at", "reversed_by", "posting_entry_id"} <= set(item)
    account_item = encode(an_account())
    assert {"overdraft_mode", "credit_limit", "headroom"} <= set(account_item)


def test_a_post_resolves_only_a_pending_unexpired_entry_and_leaves_the_expiry_index() -> None:
    # GIVEN the resolution of a post
    entry_id, posting_id = an_entry_id(), an_entry_id()
    operation = ResolvePending(entry_id, EntryStatus.POSTED, later, posting_id)
    # WHEN rendering it
    body = _render(operation)
    # THEN it requires the entry, pending, and not expired at the moment of the post
    assert body["ConditionExpression"] == _condition(
        clauses.item_exists, clauses.entry_is_pending, clauses.entry_is_unexpired
    )
    # AND sets the status and the link to the posting entry, and drops the expiry index keys
    assert body["UpdateExpression"] == (
        "SET #status = :target, #resolved_at = :now, #posting_entry_id = :posting_entry_id "
        "REMOVE #gsi4pk, #gsi4sk"
    )
    assert body["ExpressionAttributeNames"] == {
        "#status": "status",
        "#gsi4pk": "gsi4pk",
        "#gsi4sk": "gsi4sk",
        "#expires_at": "expires_at",
        "#posting_entry_id": "posting_entry_id",
        "#resolved_at": "resolved_at",
    }
    assert body["ExpressionAttributeValues"] == {
        ":pending": {"S": "pending"},
        ":target": {"S": "posted"},
        ":now": {"S": timestamp(later)},
        ":posting_entry_id": {"S": posting_id},
    }


def test_a_void_resolves_a_pending_entry_whatever_its_expiry() -> None:
    # GIVEN the resolution of a void
    operation = ResolvePending(an_entry_id(), EntryStatus.VOIDED, later)
    # WHEN rendering it
    body = _render(operation)
    # THEN it only requires the entry to be pending, and drops its expiry index keys
    assert body["ConditionExpression"] == _condition(clauses.item_exists, clauses.entry_is_pending)
    assert body["UpdateExpression"] == (
        "SET #status = :target, #resolved_at = :now REMOVE #gsi4pk, #gsi4sk"
    )
    assert body["ExpressionAttributeValues"] == {
        ":pending": {"S": "pending"},
        ":target": {"S": "voided"},
        ":now": {"S": timestamp(later)},
    }


def test_a_resolution_sets_what_was_posted_and_released_in_the_same_update() -> None:
    # GIVEN the resolution of a post of 3.00 of 5.00, and of a void of 5.00
    posting_id = an_entry_id()
    post = ResolvePending(an_entry_id(), EntryStatus.POSTED, later, posting_id, 300, 200)
    void = ResolvePending(an_entry_id(), EntryStatus.VOIDED, later, None, 0, 500)
    # WHEN rendering them
    post_body, void_body = _render(post), _render(void)
    # THEN each update also sets the two amounts, as numbers
    assert post_body["UpdateExpression"] == (
        "SET #status = :target, #resolved_at = :now, #posting_entry_id = :posting_entry_id, "
        "#posted_amount = :posted_amount, #released_amount = :released_amount "
        "REMOVE #gsi4pk, #gsi4sk"
    )
    assert void_body["UpdateExpression"] == (
        "SET #status = :target, #resolved_at = :now, #posted_amount = :posted_amount, "
        "#released_amount = :released_amount REMOVE #gsi4pk, #gsi4sk"
    )
    values = post_body["ExpressionAttributeValues"], void_body["ExpressionAttributeValues"]
    assert [(each[":posted_amount"], each[":released_amount"]) for each in values] == [
        ({"N": "300"}, {"N": "200"}),
        ({"N": "0"}, {"N": "500"}),
    ]
    assert void_body["ExpressionAttributeNames"]["#released_amount"] == "released_amount"


def test_an_expiry_resolves_only_an_entry_that_has_expired() -> None:
    # GIVEN the sweeper's resolution
    operation = ResolvePending(an_entry_id(), EntryStatus.EXPIRED, later)
    # WHEN rendering it
    body = _render(operation)
    # THEN it requires the entry pending and expired by now (a racing post wins or loses whole)
    assert body["ConditionExpression"] == _condition(
        clauses.item_exists, clauses.entry_is_pending, clauses.entry_is_expired
    )
    assert body["UpdateExpression"] == (
        "SET #status = :target, #resolved_at = :now REMOVE #gsi4pk, #gsi4sk"
    )
    assert body["ExpressionAttributeValues"][":target"] == {"S": "expired"}
    assert body["ExpressionAttributeValues"][":now"] == {"S": timestamp(later)}


def test_marking_reversed_requires_a_directly_posted_unreversed_entry() -> None:
    # GIVEN the link from an entry to its reversal
    entry_id, reversal_id = an_entry_id(), an_entry_id()
    operation = MarkReversed(entry_id, reversal_id)
    # WHEN rendering it
    body = _render(operation)
    # THEN the entry must exist, be posted, not be reversed, and not be a posted pending entry
    assert body["ConditionExpression"] == _condition(
        clauses.item_exists, clauses.entry_is_posted, clauses.entry_is_unreversed
    )
    assert body["UpdateExpression"] == "SET #reversed_by = :reversal"
    assert body["ExpressionAttributeValues"] == {
        ":posted": {"S": "posted"},
        ":reversal": {"S": reversal_id},
    }
    assert operation.target == Target("entry", entry_id)


def test_an_overdraft_change_is_conditional_on_the_old_policy_and_the_headroom() -> None:
    # GIVEN a change from a 10.00 line to a 4.00 line
    account = _credit_account(1000, 0)
    operation = _change(account, Overdraft(OverdraftMode.LIMIT, 400))
    # WHEN rendering it
    body = _render(operation)
    # THEN it holds only while the policy is the one read and the headroom covers the cut
    assert body["ConditionExpression"] == _condition(
        clauses.item_exists, clauses.overdraft_is_unchanged, clauses.headroom_covers_new_limit
    )
    # AND it sets the policy and moves the headroom by the change, bumping the version
    assert body["UpdateExpression"] == (
        "SET #overdraft_mode = :mode, #credit_limit = :limit, #updated_at = :now "
        "ADD #headroom :change, #version :one"
    )
    assert body["ExpressionAttributeValues"] == {
        ":previous_mode": {"S": "limit"},
        ":previous_limit": {"N": "1000"},
        ":mode": {"S": "limit"},
        ":limit": {"N": "400"},
        ":change": {"N": "-600"},
        ":needed": {"N": "600"},
        ":now": {"S": timestamp(later)},
        ":one": {"N": "1"},
    }


def test_allowing_any_overdraft_checks_only_the_old_policy() -> None:
    # GIVEN a change from a 10.00 line to no floor
    account = _credit_account(1000, 0)
    operation = _change(account, Overdraft(OverdraftMode.ALLOW))
    # WHEN rendering it
    body = _render(operation)
    # THEN there is no headroom clause and no value for it
    assert body["ConditionExpression"] == _condition(
        clauses.item_exists, clauses.overdraft_is_unchanged
    )
    assert ":needed" not in body["ExpressionAttributeValues"]
    assert body["ExpressionAttributeValues"][":change"] == {"N": "-1000"}
    assert body["ExpressionAttributeValues"][":mode"] == {"S": "allow"}


def test_a_release_renders_without_the_status_clause() -> None:
    # GIVEN a releasing delta, and the same delta requiring an active account
    account = an_account()
    release = _release(account)
    strict = _release(account, require_active=True)
    # WHEN rendering both
    loose_body, strict_body = _render(release), _render(strict)
    # THEN the release checks existence, currency and ledger but not the status
    assert loose_body["ConditionExpression"] == _condition(
        clauses.item_exists, clauses.currency_matches, clauses.ledger_matches
    )
    assert "#status" not in loose_body["ExpressionAttributeNames"]
    assert ":active" not in loose_body["ExpressionAttributeValues"]
    assert strict_body["ConditionExpression"] == _condition(
        clauses.item_exists,
        clauses.account_is_active,
        clauses.currency_matches,
        clauses.ledger_matches,
    )
    # AND both add the same negative totals and the headroom given back
    assert loose_body["UpdateExpression"] == strict_body["UpdateExpression"]
    additions = re.findall(r"#(\w+) :(\w+)", loose_body["UpdateExpression"].partition(" ADD ")[2])
    assert sorted(name for name, _ in additions) == [
        "headroom",
        "held",
        "pending_credits",
        "version",
    ]
    values = loose_body["ExpressionAttributeValues"]
    assert (values[":pending_credits"], values[":held"], values[":headroom"]) == (
        {"N": "-500"},
        {"N": "-500"},
        {"N": "500"},
    )


# --- codec of linked entries ---------------------------------------------------------------


def _linked_entries() -> list[tuple[str, Entry]]:
    ledger_id = a_ledger_id()
    base = an_entry(ledger_id=ledger_id, reference="order-1")
    pending = replace(base, kind=EntryKind.HOLD, status=EntryStatus.PENDING, expires_at=expiry)
    return [
        ("pending", pending),
        ("pending-without-expiry", replace(pending, kind=EntryKind.ESCROW, expires_at=None)),
        (
            "posted-from-pending",
            replace(pending, status=EntryStatus.POSTED, posting_entry_id=an_entry_id(ledger_id)),
        ),
        ("voided", replace(pending, status=EntryStatus.VOIDED)),
        ("expired", replace(pending, status=EntryStatus.EXPIRED)),
        ("posting", replace(base, kind=EntryKind.POST, pending_id=pending.id)),
        ("reversed", replace(base, reversed_by=an_entry_id(ledger_id))),
        ("reversal", replace(base, kind=EntryKind.REVERSAL, reverses=base.id)),
        (
            "every-link",
            replace(
                pending,
                pending_id=an_entry_id(ledger_id),
                posting_entry_id=an_entry_id(ledger_id),
                reverses=an_entry_id(ledger_id),
                reversed_by=an_entry_id(ledger_id),
            ),
        ),
    ]


linked = _linked_entries()


@pytest.mark.parametrize("entry", [entry for _, entry in linked], ids=[n for n, _ in linked])
def test_linked_and_pending_entries_survive_a_round_trip(entry: Entry) -> None:
    # GIVEN an entry with an expiry or links set
    item = encode(entry)
    # WHEN decoding its item
    decoded = decode(item)
    # THEN the same entry comes back, and each set link or time is an attribute of its own
    assert decoded == entry
    for name in ("pending_id", "posting_entry_id", "reverses", "reversed_by"):
        value = getattr(entry, name)
        assert item.get(name) == (None if value is None else {"S": value})
    expected_expiry = None if entry.expires_at is None else {"S": timestamp(entry.expires_at)}
    assert item.get("expires_at") == expected_expiry


# --- the expiry index ----------------------------------------------------------------------


@pytest.mark.parametrize("entry", [entry for _, entry in linked], ids=[n for n, _ in linked])
def test_only_pending_entries_with_an_expiry_are_in_the_expiry_index(entry: Entry) -> None:
    # GIVEN an entry in some status, with or without an expiry
    # WHEN asking for its index keys
    keys = index_keys(entry)
    # THEN it carries the expiry index keys exactly when it is pending and expires
    in_index = entry.status is EntryStatus.PENDING and entry.expires_at is not None
    assert ({"gsi4pk", "gsi4sk"} <= set(keys)) is in_index
    assert ("gsi4pk" in encode(entry)) is in_index
    # AND every entry stays in its ledger's listing whatever its status
    assert keys["gsi1pk"] == f"LEDGER#{entry.ledger_id}"


def test_the_expiry_sort_key_is_the_expiry_then_the_id() -> None:
    # GIVEN a pending entry with an expiry
    entry = _pending()
    # WHEN asking for its expiry index keys
    keys = index_keys(entry)
    # THEN it sits in its shard, ordered by expiry
    assert keys["gsi4pk"] == expiry_partition(entry.id)
    assert keys["gsi4sk"] == f"{timestamp(expiry)}#{entry.id}"


def test_expiry_partitions_are_stable_bounded_and_spread() -> None:
    # GIVEN many entry ids
    ids = [an_entry_id() for _ in range(400)]
    # WHEN placing each in an expiry partition
    partitions = [expiry_partition(entry_id) for entry_id in ids]
    # THEN the same id always lands in the same one, every one is a known shard, and the
    # ids spread over all of them
    assert partitions == [expiry_partition(entry_id) for entry_id in ids]
    shards = {f"EXPIRY#{shard}" for shard in range(limits.expiry_shards)}
    assert set(partitions) == shards


def test_the_expiry_query_of_a_shard_reads_oldest_first_up_to_now() -> None:
    # GIVEN one expiry shard and a moment
    query = index_query(ExpiredPending(3, later))
    # WHEN looking at the query
    # THEN it reads the shard's partition of gsi4, ascending, up to and including the moment
    # ("$" sorts right after the "#" that ends each sort key's expiry)
    expected = IndexQuery("gsi4", "EXPIRY#3", "", False, sort_before=f"{timestamp(later)}$")
    assert query == expected


def test_the_expiry_query_matches_entries_expired_at_or_before_now() -> None:
    # GIVEN entries expiring before, at and after a moment
    before = _pending(expires_at=later - timedelta(microseconds=1))
    at = _pending(expires_at=later)
    after = _pending(expires_at=later + timedelta(seconds=1))
    # WHEN matching their expiry sort keys against the query of their shard
    matched = [
        index_query(ExpiredPending(int(keys["gsi4pk"].split("#")[1]), later)).matches(
            keys["gsi4sk"]
        )
        for keys in (index_keys(entry) for entry in (before, at, after))
    ]
    # THEN those at or past their expiry are swept, as a post at that moment is refused
    assert matched == [True, True, False]


@pytest.mark.parametrize(
    ("prefix", "before", "sort_key", "expected"),
    [
        ("ENTRY#", None, "ENTRY#2026", True),
        ("ENTRY#", None, "ACCOUNT#x", False),
        ("", "2026-01-02", "2026-01-01T00", True),
        ("", "2026-01-02", "2026-01-02", False),
        ("", "2026-01-02", "2026-01-03", False),
        ("A#", "A#5", "A#4", True),
        ("A#", "A#5", "B#1", False),
        ("A#", "A#5", "A#6", False),
    ],
)
def test_index_query_matches_by_prefix_and_upper_bound(
    prefix: str, before: str | None, sort_key: str, expected: bool
) -> None:
    # GIVEN a query with a sort prefix and maybe an exclusive upper bound
    query = IndexQuery("gsi4", "P", prefix, False, sort_before=before)
    # WHEN matching a sort key
    # THEN it matches only if it has the prefix and is below the bound
    assert query.matches(sort_key) is expected


def test_a_cursor_of_the_expiry_listing_round_trips_and_stays_in_it() -> None:
    # GIVEN a pending entry expired by `later`
    expired = _pending(expires_at=later - timedelta(seconds=1))
    keys = index_keys(expired)
    shard = int(keys["gsi4pk"].split("#")[1])
    query = index_query(ExpiredPending(shard, later))
    cursor_key = {**item_key(Target("entry", expired.id)), "gsi4pk": keys["gsi4pk"]}
    cursor_key["gsi4sk"] = keys["gsi4sk"]
    seal = CursorSeal(new_secret())
    # WHEN the listing hands out a cursor after the first and gets it back
    # THEN the cursor names the same position
    assert decode_cursor(seal, encode_cursor(seal, query, cursor_key), query) == cursor_key
    # AND the same listing with a later bound refuses it
    with pytest.raises(ValidationError) as caught:
        decode_cursor(
            seal,
            encode_cursor(seal, query, cursor_key),
            index_query(ExpiredPending(shard, later + timedelta(seconds=1))),
        )
    assert caught.value.field == "cursor"
