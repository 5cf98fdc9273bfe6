"""An entry's actor through every form it takes: the item, the JSON view, the client's
decoding, and the request hash it stays out of."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from unit_builders import an_entry

from ledger.api.views import EntryView
from ledger.client import decode as client_decode
from ledger.domain.errors import ValidationError
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Actor, Entry, EntryKind, Side
from ledger.domain.views import entry_view
from ledger.planning.commands import LineDraft, entry_command
from ledger.planning.entries import plan_entry
from ledger.store.dynamodb.codec import decode, encode

full_actor = Actor(
    key_id="key_3f9a",
    role="operator",
    request_id="Yx2b1aFjoAMEbYQ=",
    source_ip="2001:db8::7",
    user_agent="ledger-client/1.4 (python)",
)


def _entry_item(entry: Entry) -> dict[str, Any]:
    """The entry's item, as the table holds it."""
    item: dict[str, Any] = dict(encode(entry))
    assert item["entity"] == {"S": "entry"}
    return item


@pytest.mark.parametrize("actor", [full_actor, Actor(key_id="batch-job"), Actor(), None], ids=repr)
def test_an_entry_item_round_trips_its_actor(actor: Actor | None) -> None:
    # GIVEN an entry with (or without) an actor
    entry = replace(an_entry(), actor=actor)
    # WHEN it becomes an item and back
    decoded = decode(_entry_item(entry))
    # THEN it is the same entry, actor included
    assert decoded == entry


def test_the_item_holds_the_actor_as_a_map_of_the_fields_it_has() -> None:
    # GIVEN an entry whose actor knows its key and address only
    entry = replace(an_entry(), actor=Actor(key_id="key_1", source_ip="192.0.2.1"))
    # WHEN it is encoded
    item = _entry_item(entry)
    # THEN the map holds those two, nothing for the fields it lacks
    assert item["actor"] == {"M": {"key_id": {"S": "key_1"}, "source_ip": {"S": "192.0.2.1"}}}


def test_an_entry_without_an_actor_has_no_actor_attribute_and_old_items_read_as_none() -> None:
    # GIVEN an entry without an actor
    item = _entry_item(an_entry())
    # THEN its item has no such attribute, and an item without one reads as no actor
    assert "actor" not in item
    assert decode(item).actor is None  # type: ignore[union-attr]


def test_the_view_shows_every_field_of_the_actor_and_null_without_one() -> None:
    # GIVEN an entry with a partial actor, and one without
    partial = replace(an_entry(), actor=Actor(key_id="key_1", role="admin"))
    # WHEN they are rendered
    shown, bare = entry_view(partial), entry_view(an_entry())
    # THEN the actor has all five fields, unknown ones null; no actor is null
    assert shown["actor"] == {
        "key_id": "key_1",
        "role": "admin",
        "request_id": None,
        "source_ip": None,
        "user_agent": None,
    }
    assert bare["actor"] is None
    # AND both fit the schema the OpenAPI document publishes
    assert EntryView.model_validate(shown).actor is not None
    assert EntryView.model_validate(bare).actor is None


@pytest.mark.parametrize("actor", [full_actor, Actor(request_id="r-1"), None], ids=repr)
def test_the_client_decodes_the_actor_the_view_rendered(actor: Actor | None) -> None:
    # GIVEN an entry rendered as the API answers it
    body = entry_view(replace(an_entry(), actor=actor))
    # WHEN the client decodes it
    decoded = client_decode.entry(body)
    # THEN the actor is the entry's
    assert decoded.actor == actor


def test_the_client_reads_an_answer_without_an_actor_field_as_none() -> None:
    # GIVEN an answer of an API that does not send actors yet
    body = entry_view(an_entry())
    del body["actor"]
    # WHEN the client decodes it, THEN it has no actor
    assert client_decode.entry(body).actor is None


def test_the_actor_is_no_part_of_the_request_hash() -> None:
    # GIVEN one request made by two different actors
    entry = an_entry()
    drafts = [
        LineDraft(parse_account_id(entry.lines[0].account_id), Side.DEBIT, 100),
        LineDraft(parse_account_id(entry.lines[1].account_id), Side.CREDIT, 100),
    ]

    def planned(actor: Actor) -> Entry:
        command = entry_command(
            entry.id, entry.ledger_id, EntryKind.TRANSFER, drafts, {"actor": actor}, pending=None
        )
        return plan_entry(command, entry.created_at)[0]

    # WHEN each is planned
    first, second = planned(full_actor), planned(Actor(request_id="another"))
    # THEN both mean the same request, and each entry carries its own actor
    assert first.request_hash == second.request_hash
    assert (first.actor, second.actor) == (full_actor, Actor(request_id="another"))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"key_id": "key_1"}, "actor"),
        (Actor(key_id=""), "actor.key_id"),
        (Actor(source_ip="203.0.113.1\r"), "actor.source_ip"),
    ],
)
def test_an_entry_command_refuses_a_malformed_actor(value: object, field: str) -> None:
    # GIVEN an entry's lines; WHEN its actor is malformed
    entry = an_entry()
    drafts = [
        LineDraft(parse_account_id(entry.lines[0].account_id), Side.DEBIT, 100),
        LineDraft(parse_account_id(entry.lines[1].account_id), Side.CREDIT, 100),
    ]
    with pytest.raises(ValidationError) as caught:
        entry_command(
            entry.id,
            entry.ledger_id,
            EntryKind.TRANSFER,
            drafts,
            {"actor": value},  # type: ignore[typeddict-item]
            pending=None,
        )
    # THEN the refusal names the field
    assert caught.value.details["field"] == field
