"""The journal through the API: raw entries, two-phase resolution, reversals, listings."""

from __future__ import annotations

from typing import Any

from .builders import balance, deposit, entry_body, is_moment, line, new_account, new_ledger
from .harness import Api


def two_accounts(api: Api, currency: str = "USD") -> tuple[str, str, str]:
    """A ledger with two liability accounts, the first funded with 100."""
    ledger_id = new_ledger(api)
    source = new_account(api, ledger_id, currency=currency)
    target = new_account(api, ledger_id, currency=currency)
    deposit(api, source, "100")
    return ledger_id, source, target


def lines_of(source: str, target: str, amount: str) -> list[dict[str, str]]:
    """A request's two lines moving `amount` from one liability account to another."""
    return [
        {"account_id": source, "side": "debit", "amount": amount},
        {"account_id": target, "side": "credit", "amount": amount},
    ]


def test_posting_a_journal_entry_answers_201_with_the_entry(api: Api) -> None:
    # GIVEN two accounts
    ledger_id, source, target = two_accounts(api)

    # WHEN an entry moves 12.3 between them, with every option
    reply = api.call(
        "POST",
        "/v1/entries",
        {
            "ledger_id": ledger_id,
            "lines": lines_of(source, target, "12.3"),
            "description": "rent",
            "reference": "inv-1",
            "metadata": {"k": "v"},
            "effective_at": "2026-01-02T03:04:05Z",
        },
    )

    # THEN the entry is answered posted, amounts in the currency's scale
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=ledger_id,
        kind="entry",
        lines=[line(source, "debit", "12.30"), line(target, "credit", "12.30")],
        description="rent",
        reference="inv-1",
        metadata={"k": "v"},
        effective_at="2026-01-02T03:04:05Z",
    )
    assert reply.json["id"].startswith(f"ent_{ledger_id.removeprefix('ldg_')}_")
    assert (balance(api, source)["posted"], balance(api, target)["posted"]) == ("87.70", "12.30")


def test_a_pending_entry_with_expiry_holds_the_amount_until_posted(api: Api) -> None:
    # GIVEN two accounts
    ledger_id, source, target = two_accounts(api)

    # WHEN an entry is created pending for an hour
    reply = api.call(
        "POST",
        "/v1/entries",
        {
            "ledger_id": ledger_id,
            "lines": lines_of(source, target, "5"),
            "pending": {"expires_in": 3600},
        },
    )

    # THEN it is pending with an expiry, and the source's amount is pending out, not posted
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=ledger_id,
        kind="entry",
        status="pending",
        lines=[line(source, "debit", "5.00"), line(target, "credit", "5.00")],
        expires_at=reply.json["expires_at"],
    )
    assert is_moment(reply.json["expires_at"])
    assert reply.json["expires_at"] > reply.json["created_at"]
    source_balance = balance(api, source)
    assert (
        source_balance["posted"],
        source_balance["pending_out"],
        source_balance["held"],
        source_balance["available"],
    ) == ("100.00", "5.00", "0.00", "95.00")


def test_posting_a_pending_entry_for_less_answers_200_and_releases_the_rest(api: Api) -> None:
    # GIVEN a pending entry of 5 without expiry
    ledger_id, source, target = two_accounts(api)
    pending = api.call(
        "POST",
        "/v1/entries",
        {"ledger_id": ledger_id, "lines": lines_of(source, target, "5"), "pending": {}},
    ).json

    # WHEN it is posted for 2
    reply = api.call("POST", f"/v1/entries/{pending['id']}/post", {"amount": "2"})

    # THEN the pending entry comes back posted, linked to its posting entry, showing 2.00
    # posted and 3.00 released
    assert reply.status == 200
    assert reply.json == {
        **pending,
        "status": "posted",
        "posting_entry_id": reply.json["posting_entry_id"],
        "posted_amount": "2.00",
        "released_amount": "3.00",
    }
    posting = api.call("GET", f"/v1/entries/{reply.json['posting_entry_id']}")
    assert posting.status == 200
    assert posting.json == entry_body(
        posting.json,
        ledger_id=ledger_id,
        kind="post",
        lines=[line(source, "debit", "2.00"), line(target, "credit", "2.00")],
        pending_id=pending["id"],
    )
    source_balance = balance(api, source)
    assert (source_balance["posted"], source_balance["pending_out"]) == ("98.00", "0.00")


def test_posting_a_pending_entry_without_a_body_posts_it_in_full(api: Api) -> None:
    # GIVEN a pending entry of 5
    ledger_id, source, target = two_accounts(api)
    pending_id = api.call(
        "POST",
        "/v1/entries",
        {"ledger_id": ledger_id, "lines": lines_of(source, target, "5"), "pending": {}},
    ).json["id"]

    # WHEN it is posted with no body
    reply = api.call("POST", f"/v1/entries/{pending_id}/post")

    # THEN all 5 moved
    assert (reply.status, reply.json["status"]) == (200, "posted")
    assert (balance(api, source)["posted"], balance(api, target)["posted"]) == ("95.00", "5.00")


def test_voiding_a_pending_entry_answers_200_with_it_voided(api: Api) -> None:
    # GIVEN a pending entry of 5
    ledger_id, source, target = two_accounts(api)
    pending = api.call(
        "POST",
        "/v1/entries",
        {"ledger_id": ledger_id, "lines": lines_of(source, target, "5"), "pending": {}},
    ).json

    # WHEN it is voided
    reply = api.call("POST", f"/v1/entries/{pending['id']}/void")

    # THEN it comes back voided, all of it released, and nothing is pending any more
    assert reply.status == 200
    assert reply.json == {
        **pending,
        "status": "voided",
        "posted_amount": "0.00",
        "released_amount": "5.00",
    }
    source_balance = balance(api, source)
    assert (
        source_balance["posted"],
        source_balance["pending_out"],
        source_balance["available"],
    ) == (
        "100.00",
        "0.00",
        "100.00",
    )


def test_reversing_an_entry_answers_201_with_the_mirror_linked_both_ways(api: Api) -> None:
    # GIVEN a posted entry of 10
    ledger_id, source, target = two_accounts(api)
    original = api.call(
        "POST", "/v1/entries", {"ledger_id": ledger_id, "lines": lines_of(source, target, "10")}
    ).json

    # WHEN an admin reverses it
    reply = api.call("POST", f"/v1/entries/{original['id']}/reverse", {"description": "mistake"})

    # THEN the reversal mirrors its lines and the two entries point at each other
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=ledger_id,
        kind="reversal",
        lines=[line(source, "credit", "10.00"), line(target, "debit", "10.00")],
        description="mistake",
        reverses=original["id"],
    )
    reread = api.call("GET", f"/v1/entries/{original['id']}").json
    assert reread == {**original, "reversed_by": reply.json["id"]}
    assert (balance(api, source)["posted"], balance(api, target)["posted"]) == ("100.00", "0.00")


def test_reading_an_entry_answers_what_creating_it_answered(api: Api) -> None:
    # GIVEN a deposit
    _, source, _ = two_accounts(api)
    created = deposit(api, source, "1", reference="read-me")

    # WHEN it is read
    reply = api.call("GET", f"/v1/entries/{created['id']}")

    # THEN the body is the same
    assert (reply.status, reply.json) == (200, created)


def entry_ids(api: Api, query: dict[str, str | int]) -> list[list[str]]:
    """The entry ids of every page of a listing."""
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(20):
        reply = api.call(
            "GET", "/v1/entries", query=query if cursor is None else {**query, "cursor": cursor}
        )
        assert reply.status == 200, reply.json
        assert set(reply.json) == {"items", "next_cursor"}
        pages.append([item["id"] for item in reply.json["items"]])
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the listing never ended")


def test_listing_a_ledgers_entries_pages_newest_first(api: Api) -> None:
    # GIVEN a ledger with a deposit and three transfers
    ledger_id, source, target = two_accounts(api)
    made = [
        api.call(
            "POST",
            "/v1/transfers",
            {"from_account_id": source, "to_account_id": target, "amount": "1"},
        ).json["id"]
        for _ in range(3)
    ]

    # WHEN its entries are listed three at a time
    pages = entry_ids(api, {"ledger_id": ledger_id, "limit": 3})

    # THEN the transfers come first, newest first, then the deposit; the last cursor is null
    assert [entry for page in pages for entry in page][:3] == made[::-1]
    assert len([entry for page in pages for entry in page]) == 4
    assert len(pages[0]) == 3


def test_listing_entries_by_reference_finds_only_that_reference(api: Api) -> None:
    # GIVEN deposits with two references
    ledger_id, source, _ = two_accounts(api)
    wanted = [deposit(api, source, "1", reference="order-7")["id"] for _ in range(2)]
    deposit(api, source, "1", reference="order-8")

    # WHEN the entries of one reference are listed
    pages = entry_ids(api, {"ledger_id": ledger_id, "reference": "order-7"})

    # THEN exactly those come back, newest first
    assert [entry for page in pages for entry in page] == wanted[::-1]


def test_listing_entries_by_account_needs_the_history_consumer(api: Api) -> None:
    # GIVEN a table whose history consumer does not run, where one transfer with a
    # reference touches the target
    ledger_id, source, target = two_accounts(api)
    body = {"from_account_id": source, "to_account_id": target, "amount": "3"}
    moved = api.call("POST", "/v1/transfers", {**body, "reference": "order-3"}).json
    deposit(api, source, "1", reference="order-3")

    # WHEN the target's entries are listed, with and without the ledger named
    for query in ({"ledger_id": ledger_id, "account_id": target}, {"account_id": target}):
        reply = api.call("GET", "/v1/entries", query=query)
        # THEN it is a 501: an account's entries are read from its history
        status, code, _ = reply.error()
        assert (status, code) == (501, "history_not_kept")

    # AND one reference's entries of the account are the reference's, filtered
    pages = entry_ids(api, {"ledger_id": ledger_id, "reference": "order-3", "account_id": target})
    assert [entry for page in pages for entry in page] == [moved["id"]]


def test_an_entry_page_item_is_the_entry(api: Api) -> None:
    # GIVEN one deposit with a reference
    ledger_id, source, _ = two_accounts(api)
    made: dict[str, Any] = deposit(api, source, "2.5", reference="only-one")

    # WHEN its reference is listed
    reply = api.call("GET", "/v1/entries", query={"ledger_id": ledger_id, "reference": "only-one"})

    # THEN the page holds the entry as created, and ends
    assert reply.json == {"items": [made], "next_cursor": None}
