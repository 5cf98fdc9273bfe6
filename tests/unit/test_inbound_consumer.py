"""The inbound consumer on hand-made SQS batches and a fake ledger: what is posted, what is
dead-lettered with its reason, and what fails for SQS to deliver again."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics
from moto import mock_aws

from ledger.consumers.dead_letters import (
    FileDeadLetters,
    QueueDeadLetters,
    dead_letters,
    file_variable,
    queue_url_variable,
)
from ledger.consumers.inbound import InboundConsumer, is_refusal
from ledger.domain.errors import (
    Conflict,
    InsufficientFunds,
    InternalError,
    NotFound,
    RateLimited,
    ValidationError,
)
from ledger.domain.model import Entry, EntryKind, EntryStatus
from ledger.environment import MissingSetting

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from ledger.domain.model import Actor
    from ledger.domain.posting_rules import InboundEvent


def inbound_event(**overrides: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{secrets.token_hex(6)}",
        "type": "expense.created",
        "ledger_id": f"ldg_{'a' * 16}",
        "occurred_at": "2026-03-01T09:30:00Z",
        "data": {"amount": "12.50"},
        **overrides,
    }


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": secrets.token_hex(8),
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:ledger-inbound",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def entry_for(event: InboundEvent, replayed: bool = False) -> Entry:
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    return Entry(
        id=f"ent_{event.id}",
        ledger_id=event.ledger_id,
        kind=EntryKind.ENTRY,
        status=EntryStatus.POSTED,
        lines=(),
        effective_at=moment,
        created_at=moment,
        request_hash="hash",
        replayed=replayed,
    )


class FakeLedger:
    """Posts every event once (a second time is a replay), unless told to raise for an id."""

    def __init__(self) -> None:
        self.posted: dict[str, Entry] = {}
        self.actors: list[Actor | None] = []
        self.raises: dict[str, Exception] = {}

    def post_event(self, event: InboundEvent, actor: Actor | None = None) -> Entry:
        self.actors.append(actor)
        if event.id in self.raises:
            raise self.raises[event.id]
        if event.id in self.posted:
            return replace(self.posted[event.id], replayed=True)
        self.posted[event.id] = entry_for(event)
        return self.posted[event.id]


class ListDeadLetters:
    def __init__(self, error: Exception | None = None) -> None:
        self.letters: list[Mapping[str, Any]] = []
        self.error = error

    def send(self, letter: Mapping[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        self.letters.append(letter)


class Consumer:
    """A consumer over a fake ledger and dead letters, its metrics kept apart."""

    def __init__(self, letters: ListDeadLetters | None = None) -> None:
        self.ledger = FakeLedger()
        self.letters = letters or ListDeadLetters()
        self.metrics = EphemeralMetrics(namespace="Test")
        self.refusals: list[EphemeralMetrics] = []
        self.consumer = InboundConsumer(
            self.ledger, self.letters, metrics=self.metrics, refusal_metrics=self._refusal
        )

    def _refusal(self) -> EphemeralMetrics:
        metrics = EphemeralMetrics(namespace="Test")
        # Serialized before the flush clears it, so the test can read what was emitted.
        metrics.flush_metrics = lambda raise_on_empty_metrics=False: self.refusals.append(  # type: ignore[method-assign]
            metrics
        )
        return metrics

    def count(self, name: str) -> float:
        values = self.metrics.metric_set.get(name, {}).get("Value", [])
        return float(sum(values))


@pytest.fixture
def consumer() -> Consumer:
    return Consumer()


def failures(response: Mapping[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_each_event_is_posted_once_and_a_redelivery_replays(consumer: Consumer) -> None:
    # GIVEN a batch of two events
    first, second = inbound_event(), inbound_event()
    batch = sqs_event(json.dumps(first), json.dumps(second))

    # WHEN it is delivered, and then delivered again
    answers = [consumer.consumer.handle(batch), consumer.consumer.handle(batch)]

    # THEN nothing failed; each was posted once, then replayed
    assert [failures(answer) for answer in answers] == [[], []]
    assert sorted(consumer.ledger.posted) == sorted([first["id"], second["id"]])
    assert consumer.count("InboundPosted") == 2
    assert consumer.count("InboundReplayed") == 2
    assert consumer.letters.letters == []
    # AND each post named its message as the request
    message_ids = [record["messageId"] for record in batch["Records"]] * 2
    assert [actor.request_id for actor in consumer.ledger.actors if actor] == message_ids


@pytest.mark.parametrize(
    "error",
    [
        InsufficientFunds("cash would go below its floor"),
        NotFound("posting_rule", "expense.created"),
        ValidationError("data.amount", "amount is no amount"),
    ],
)
def test_a_refused_event_is_dead_lettered_with_its_reason_and_not_retried(
    consumer: Consumer, error: Exception
) -> None:
    # GIVEN an event the ledger refuses, and a good one
    refused, good = inbound_event(), inbound_event()
    consumer.ledger.raises[refused["id"]] = error

    # WHEN both are delivered
    answer = consumer.consumer.handle(sqs_event(json.dumps(refused), json.dumps(good)))

    # THEN neither is retried; the refused one is dead-lettered as received, with the reason
    assert failures(answer) == []
    assert consumer.letters.letters == [
        {"event": refused, "reason": {"code": error.code, "message": error.message}}  # type: ignore[attr-defined]
    ]
    assert list(consumer.ledger.posted) == [good["id"]]
    # AND the refusal is counted by its code
    [counted] = consumer.refusals
    assert counted.dimension_set == {"code": error.code}  # type: ignore[attr-defined]
    assert counted.metric_set["InboundRefused"]["Value"] == [1.0]


@pytest.mark.parametrize(
    ("body", "received"),
    [
        ("not json {", "not json {"),
        ("[1, 2]", [1, 2]),
        ("[" * 100_000, "[" * 100_000),
        (json.dumps({"id": "evt-1"}), {"id": "evt-1"}),
    ],
)
def test_a_poison_body_is_dead_lettered_as_received(
    consumer: Consumer, body: str, received: object
) -> None:
    # GIVEN / WHEN a message whose body is not JSON, not an object, or not an envelope
    answer = consumer.consumer.handle(sqs_event(body))

    # THEN it is not retried; the dead letter holds the body as received, refused as invalid
    assert failures(answer) == []
    [letter] = consumer.letters.letters
    assert letter["event"] == received
    assert letter["reason"]["code"] == "validation_error"
    assert consumer.ledger.posted == {}


@pytest.mark.parametrize(
    "error",
    [Conflict("contention outlasted the retries"), RateLimited("slow down"), RuntimeError("boom")],
)
def test_contention_throttling_and_crashes_fail_the_message_alone(
    consumer: Consumer, error: Exception
) -> None:
    # GIVEN an event the ledger cannot post for now, and a good one
    contended, good = inbound_event(), inbound_event()
    consumer.ledger.raises[contended["id"]] = error
    batch = sqs_event(json.dumps(contended), json.dumps(good))

    # WHEN both are delivered
    answer = consumer.consumer.handle(batch)

    # THEN only the first is reported failed, for SQS to deliver again; nothing is dead-lettered
    assert failures(answer) == [batch["Records"][0]["messageId"]]
    assert list(consumer.ledger.posted) == [good["id"]]
    assert consumer.letters.letters == []


def test_a_refusal_whose_dead_letter_cannot_be_sent_is_retried() -> None:
    # GIVEN dead letters that cannot be sent, and an event the ledger refuses
    consumer = Consumer(ListDeadLetters(error=OSError("queue unreachable")))
    refused = inbound_event()
    consumer.ledger.raises[refused["id"]] = InsufficientFunds("no funds")
    batch = sqs_event(json.dumps(refused))

    # WHEN it is delivered / THEN it fails, to be delivered again rather than lost
    assert failures(consumer.consumer.handle(batch)) == [batch["Records"][0]["messageId"]]


def test_only_a_4xx_other_than_throttling_is_a_refusal() -> None:
    # GIVEN / WHEN / THEN 4xx refusals are final; 429, 503 and 500 are not
    assert is_refusal(InsufficientFunds("x"))
    assert not is_refusal(RateLimited("x"))
    assert not is_refusal(Conflict("x"))
    assert not is_refusal(InternalError("x"))


@pytest.fixture
def no_dead_letter_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(file_variable, raising=False)
    monkeypatch.delenv(queue_url_variable, raising=False)
    dead_letters.cache_clear()
    yield
    dead_letters.cache_clear()


@pytest.mark.usefixtures("no_dead_letter_settings")
def test_locally_the_dead_letters_are_lines_of_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN the file setting `ledger dev` gives the function
    path = tmp_path / "inbound-dlq.jsonl"
    monkeypatch.setenv(file_variable, str(path))

    # WHEN two letters are sent through the container's dead letters
    letters = dead_letters()
    letters.send({"event": "a", "reason": {"code": "x", "message": "y"}})
    letters.send({"event": {"id": "b"}, "reason": {"code": "z", "message": "w"}})

    # THEN they are a file's lines, one each
    assert isinstance(letters, FileDeadLetters)
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == [
        "a",
        {"id": "b"},
    ]


@pytest.mark.usefixtures("no_dead_letter_settings")
def test_in_aws_the_dead_letters_are_messages_of_the_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        # GIVEN a dead-letter queue named by the setting the stack gives the function
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName=f"dlq-{secrets.token_hex(4)}")["QueueUrl"]
        monkeypatch.setenv(queue_url_variable, queue_url)
        letter = {"event": inbound_event(), "reason": {"code": "not_found", "message": "no rule"}}

        # WHEN a letter is sent
        letters = dead_letters()
        letters.send(letter)

        # THEN the queue holds it as one JSON message
        assert isinstance(letters, QueueDeadLetters)
        [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
        assert json.loads(message["Body"]) == letter


@pytest.mark.usefixtures("no_dead_letter_settings")
def test_without_a_dead_letter_setting_the_function_refuses_to_start() -> None:
    # GIVEN / WHEN neither setting is given / THEN it refuses, naming the queue's setting
    with pytest.raises(MissingSetting, match=queue_url_variable):
        dead_letters()
