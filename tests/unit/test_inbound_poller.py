"""The local inbound queue: the spool delivered as SQS batches, partial failures received
again up to the bound, then dead-lettered; the offset kept across restarts."""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local.inbound import (
    InboundPoller,
    enqueue,
    failed_messages,
    files_environment,
    offset_file_name,
    queue_arn,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

function = "ledger-inbound"


class FakeInvoker:
    """Records each batch; answers with `answer(records)`, which may raise."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], object] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.answer = answer or (lambda _records: {"batchItemFailures": []})
        self.called = threading.Event()

    def invoke(self, key: str, event: object, request_id: str) -> object:
        assert key == function
        assert isinstance(event, dict)
        self.batches.append(event["Records"])
        self.called.set()
        return self.answer(event["Records"])

    def bodies(self) -> list[list[str]]:
        return [[json.loads(record["body"])["id"] for record in batch] for batch in self.batches]


def events(count: int) -> list[dict[str, Any]]:
    return [{"id": f"evt-{secrets.token_hex(4)}", "type": "expense.created"} for _ in range(count)]


def poller(invoker: FakeInvoker, data_dir: Path, **options: Any) -> InboundPoller:
    return InboundPoller(invoker, function, data_dir, retry_delay_s=0, **options)


def letters_of(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "inbound-dlq.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def failing(ids: set[str]) -> Callable[[list[dict[str, Any]]], object]:
    """A function that fails the messages whose event id is in `ids`."""

    def answer(records: list[dict[str, Any]]) -> object:
        failed = [r["messageId"] for r in records if json.loads(r["body"])["id"] in ids]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    return answer


def test_queued_events_are_delivered_once_as_sqs_records(tmp_path: Path) -> None:
    # GIVEN two events queued
    queued = events(2)
    enqueue(tmp_path, queued)
    invoker = FakeInvoker()
    queue = poller(invoker, tmp_path)

    # WHEN the queue is polled twice
    delivered = [queue.poll_once(), queue.poll_once()]

    # THEN one batch held both, shaped as Lambda's SQS event source delivers them
    assert delivered == [True, False]
    [batch] = invoker.batches
    assert [json.loads(record["body"]) for record in batch] == queued
    record = batch[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "md5OfBody", "awsRegion"} <= record.keys()
    assert len({each["messageId"] for each in batch}) == 2


def test_failed_messages_are_received_again_then_dead_lettered(tmp_path: Path) -> None:
    # GIVEN three events, of which the function always fails the second
    queued = events(3)
    enqueue(tmp_path, queued)
    invoker = FakeInvoker(failing({queued[1]["id"]}))

    # WHEN the queue is polled
    poller(invoker, tmp_path, attempts_max=3).poll_once()

    # THEN only the failed one was received again, up to three receives in all
    second = [queued[1]["id"]]
    assert invoker.bodies() == [[each["id"] for each in queued], second, second]
    counts = [batch[0]["attributes"]["ApproximateReceiveCount"] for batch in invoker.batches]
    assert counts == ["1", "2", "3"]
    # AND then it went to the dead-letter file with the reason
    [letter] = letters_of(tmp_path)
    assert letter["event"] == queued[1]
    assert letter["reason"]["code"] == "retries_exhausted"
    assert "3 receives" in letter["reason"]["message"]


def test_a_message_that_succeeds_on_its_second_receive_is_not_dead_lettered(
    tmp_path: Path,
) -> None:
    # GIVEN an event the function fails once, then handles
    enqueue(tmp_path, events(1))
    answers = iter([{"batchItemFailures": "unusable"}, {"batchItemFailures": []}])
    invoker = FakeInvoker(lambda _records: next(answers))

    # WHEN the queue is polled / THEN it was received twice and nothing is dead-lettered
    poller(invoker, tmp_path).poll_once()
    assert len(invoker.batches) == 2
    assert letters_of(tmp_path) == []


def test_a_function_that_raises_fails_the_whole_batch(tmp_path: Path) -> None:
    # GIVEN two events and a function that always raises
    enqueue(tmp_path, [*events(1), *events(1)])

    def crash(_records: list[dict[str, Any]]) -> object:
        raise RuntimeError("container died")

    invoker = FakeInvoker(crash)

    # WHEN the queue is polled
    poller(invoker, tmp_path, attempts_max=2).poll_once()

    # THEN both were received twice, then dead-lettered with the error
    assert [len(batch) for batch in invoker.batches] == [2, 2]
    letters = letters_of(tmp_path)
    assert len(letters) == 2
    assert all("RuntimeError: container died" in each["reason"]["message"] for each in letters)


def test_a_poison_line_is_delivered_as_its_text(tmp_path: Path) -> None:
    # GIVEN a spool line that is not JSON (a hand edit), and a function that fails it
    (tmp_path / "inbound.jsonl").write_text("not json\n\n")
    invoker = FakeInvoker(
        lambda records: {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
    )

    # WHEN the queue is polled / THEN its body is the line, and its dead letter holds the text
    poller(invoker, tmp_path, attempts_max=1).poll_once()
    assert invoker.batches[0][0]["body"] == "not json"
    assert letters_of(tmp_path)[0]["event"] == "not json"


def test_batches_hold_at_most_their_bound_and_a_restart_resumes_at_the_offset(
    tmp_path: Path,
) -> None:
    # GIVEN twelve events queued, and a line still being written
    queued = events(12)
    enqueue(tmp_path, queued)
    with (tmp_path / "inbound.jsonl").open("a") as spool:
        spool.write('{"id": "half')
    invoker = FakeInvoker()

    # WHEN one poller delivers a batch, and another (a restart) polls on
    poller(invoker, tmp_path).poll_once()
    restarted = poller(invoker, tmp_path)
    restarted.poll_once()

    # THEN the first batch held ten, the restart the other two, and the half line waits
    assert invoker.bodies() == [[e["id"] for e in queued[:10]], [e["id"] for e in queued[10:]]]
    assert restarted.poll_once() is False
    assert json.loads((tmp_path / offset_file_name).read_text())["offset"] > 0


def test_a_spool_made_anew_is_read_from_its_start(tmp_path: Path) -> None:
    # GIVEN a spool delivered, then replaced by a shorter one
    enqueue(tmp_path, events(3))
    invoker = FakeInvoker()
    queue = poller(invoker, tmp_path)
    queue.poll_once()
    (tmp_path / "inbound.jsonl").unlink()
    again = events(1)
    enqueue(tmp_path, again)

    # WHEN it is polled / THEN the new event is delivered
    queue.poll_once()
    assert invoker.bodies()[-1] == [again[0]["id"]]


def test_a_stop_during_the_retries_keeps_the_batch_for_the_next_start(tmp_path: Path) -> None:
    # GIVEN an event the function fails, and a queue that is stopping
    queued = events(1)
    enqueue(tmp_path, queued)
    invoker = FakeInvoker(failing({queued[0]["id"]}))
    queue = InboundPoller(invoker, function, tmp_path, retry_delay_s=30)
    queue.stop()

    # WHEN it is polled / THEN it gave up waiting to retry, and the offset did not move
    queue.poll_once()
    assert len(invoker.batches) == 1
    assert not (tmp_path / offset_file_name).exists()
    assert letters_of(tmp_path) == []


def test_the_thread_delivers_events_queued_while_it_runs(tmp_path: Path) -> None:
    # GIVEN a running queue with nothing to deliver yet
    invoker = FakeInvoker()
    with InboundPoller(invoker, function, tmp_path, poll_interval_s=0.01):
        time.sleep(0.05)
        # WHEN an event is queued
        queued = events(1)
        enqueue(tmp_path, queued)
        # THEN it is delivered (bounded wait)
        assert invoker.called.wait(10)
    assert invoker.bodies() == [[queued[0]["id"]]]


def test_the_thread_survives_a_failed_poll(tmp_path: Path) -> None:
    # GIVEN a broken offset file
    enqueue(tmp_path, events(1))
    (tmp_path / offset_file_name).write_text("not json")
    invoker = FakeInvoker()
    queue = InboundPoller(invoker, function, tmp_path, poll_interval_s=0.01)

    # WHEN it runs a while / THEN it keeps going without delivering
    with queue:
        time.sleep(0.05)
    assert invoker.batches == []


@pytest.mark.parametrize(
    "response",
    [
        None,
        {"batchItemFailures": "x"},
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": ["x"]},
    ],
)
def test_an_unusable_batch_response_fails_the_whole_batch(response: object) -> None:
    # GIVEN / WHEN / THEN a response Lambda cannot use fails every message
    assert failed_messages(["a", "b"], response) is None


def test_a_usable_batch_response_names_the_failed_messages() -> None:
    answer = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert failed_messages(["a", "b"], answer) == {"b"}
    assert failed_messages(["a"], {}) == set()


def test_the_functions_are_told_the_data_dirs_files_by_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a relative data dir / WHEN the functions' settings are made
    monkeypatch.chdir(tmp_path)
    settings = files_environment(type(tmp_path)("data"))

    # THEN both files are named absolutely, inside the data dir
    assert settings == {
        "LEDGER_EVENTS_FILE": str(tmp_path.resolve() / "data" / "events.jsonl"),
        "LEDGER_INBOUND_DLQ_FILE": str(tmp_path.resolve() / "data" / "inbound-dlq.jsonl"),
    }


@pytest.mark.parametrize("options", [{"attempts_max": 0}, {"batch_messages_max": 11}])
def test_a_queue_out_of_bounds_is_refused(tmp_path: Path, options: dict[str, Any]) -> None:
    # GIVEN / WHEN a queue of no receives, or batches over SQS's 10 / THEN it is refused
    with pytest.raises(ValueError, match="attempts_max"):
        InboundPoller(FakeInvoker(), function, tmp_path, **options)


def test_the_thread_delivers_only_once_its_function_is_ready(tmp_path: Path) -> None:
    # GIVEN an event queued, and a function still warming up
    enqueue(tmp_path, events(1))
    invoker = FakeInvoker()
    warm = threading.Event()

    def ready() -> None:
        assert invoker.batches == []
        warm.wait(10)

    # WHEN the queue runs and the function becomes ready / THEN the event is delivered
    with InboundPoller(invoker, function, tmp_path, poll_interval_s=0.01, ready=ready):
        warm.set()
        assert invoker.called.wait(10)


def test_a_function_that_does_not_start_is_logged_and_delivers_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an event queued, and a function whose warm-up fails
    enqueue(tmp_path, events(1))
    invoker = FakeInvoker()
    failed = threading.Event()

    def ready() -> None:
        failed.set()
        raise RuntimeError("import failed")

    # WHEN the queue runs / THEN it says so, and delivers nothing
    with InboundPoller(invoker, function, tmp_path, ready=ready) as queue:
        assert failed.wait(10)
        queue._thread.join(10)
    assert "the inbound function did not start" in caplog.text
    assert invoker.batches == []
