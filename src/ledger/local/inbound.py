"""The inbound queue locally: a spool file of events, delivered to the inbound function as
SQS would deliver them.

`ledger events send` appends each event to `<data-dir>/inbound.jsonl`, one line each. A
thread of `ledger dev` reads the lines it has not delivered yet, from an offset kept in
`<data-dir>/inbound-offset.json`, and invokes the inbound function with Lambda-shaped SQS
batches. The messages a batch response names in `batchItemFailures` (or the whole batch,
when the function fails) are received again after a pause; after `attempts_max` receives
they go to the dead-letter file with the reason `retries_exhausted`, as SQS moves a
message past its maxReceiveCount to the dead-letter queue. The offset moves past a batch
only once every message of it is settled, so a restart loses none; one it delivers twice
posts once, by the event's id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.consumers.dead_letters import dead_letter, dead_letters_file_name, file_variable
from ledger.json_lines import append_lines
from ledger.local.bus import events_file_name, events_file_variable
from ledger.local.events import account_id, region
from ledger.local.lifecycle import BackgroundThread

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from ledger.local.gateway import Invoker

spool_file_name = "inbound.jsonl"
offset_file_name = "inbound-offset.json"
queue_name = "ledger-inbound"
queue_arn = f"arn:aws:sqs:{region}:{account_id}:{queue_name}"
# SQS's defaults for a Lambda event source: 10 messages a batch; the queue's redrive policy
# moves a message to the dead-letter queue after its third receive.
batch_messages_max = 10
attempts_max = 3
retry_delay_s = 0.5
poll_interval_s = 0.25
# A call in progress may run to the worker's 30 s timeout before the thread ends.
stop_wait_s_max = 35
retries_exhausted = "retries_exhausted"
_message_ids = uuid.UUID("6f1d3c52-8a43-4f0e-9d7e-5b0c1e2a4b71")

logger = logging.getLogger(__name__)


def files_environment(data_dir: Path) -> dict[str, str]:
    """What tells the functions under `ledger dev` to use the data dir's files: the event
    bus and the inbound dead-letter queue, by absolute path (a worker's directory may differ)."""
    root = data_dir.resolve()
    return {
        events_file_variable: str(root / events_file_name),
        file_variable: str(root / dead_letters_file_name),
    }


def enqueue(data_dir: Path, events: Sequence[Mapping[str, Any]]) -> Path:
    """Append `events` to the spool of `data_dir`, all in one write; the spool's path."""
    spool = data_dir / spool_file_name
    append_lines(spool, events)
    return spool


@dataclass(frozen=True)
class Message:
    """One line of the spool, as a message: its id, its body, and where the next one starts."""

    id: str
    body: str
    end: int
    sent_at_ms: int


def read_messages(spool: Path, offset: int, messages_max: int) -> tuple[list[Message], int]:
    """The messages of the complete lines after `offset` (at most `messages_max`), and the
    offset after the last line read, blank lines included; a line still being written waits."""
    messages: list[Message] = []
    sent_at_ms = int(time.time() * 1000)
    with spool.open("rb") as file:
        file.seek(offset)
        while len(messages) < messages_max:
            line = file.readline()
            if not line.endswith(b"\n"):
                break
            start, offset = offset, offset + len(line)
            body = line.decode("utf-8", errors="replace").strip()
            if body:
                digest = hashlib.sha256(line).hexdigest()
                message_id = str(uuid.uuid5(_message_ids, f"{start}:{digest}"))
                messages.append(Message(message_id, body, offset, sent_at_ms))
    return messages, offset


def sqs_record(message: Message, receive_count: int) -> dict[str, Any]:
    """A message as Lambda's SQS event source delivers it."""
    return {
        "messageId": message.id,
        "receiptHandle": f"{message.id}#{receive_count}",
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(message.sent_at_ms),
            "SenderId": account_id,
            "ApproximateFirstReceiveTimestamp": str(message.sent_at_ms),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message.body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_messages(message_ids: Iterable[str], response: object) -> set[str] | None:
    """The ids a batch response reports failed; None when the response is unusable (not a
    batch response, or naming a message not in the batch), which fails the whole batch."""
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures", [])
    if not isinstance(failures, list):
        return None
    ids = set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in ids:
            return None
        failed.add(identifier)
    return failed


class InboundPoller(BackgroundThread):
    """Delivers the spool of `data_dir` to the function `function` through `invoker`, once
    `ready` (the invoker's warm-up, waited for in the thread) has returned."""

    def __init__(
        self,
        invoker: Invoker,
        function: str,
        data_dir: Path,
        *,
        poll_interval_s: float = poll_interval_s,
        attempts_max: int = attempts_max,
        retry_delay_s: float = retry_delay_s,
        batch_messages_max: int = batch_messages_max,
        ready: Callable[[], None] = lambda: None,
    ) -> None:
        if attempts_max < 1 or not 1 <= batch_messages_max <= 10:
            raise ValueError("attempts_max is at least 1, batch_messages_max within 1..10")
        self._invoker = invoker
        self._function = function
        self._spool = data_dir / spool_file_name
        self._offset_file = data_dir / offset_file_name
        self._dead_letters = data_dir / dead_letters_file_name
        self._poll_interval_s = poll_interval_s
        self._attempts_max = attempts_max
        self._retry_delay_s = retry_delay_s
        self._batch_messages_max = batch_messages_max
        self._ready = ready
        super().__init__("inbound-poller", stop_wait_s_max)

    def poll_once(self) -> bool:
        """Deliver the next batch of the spool until it is settled; whether it held lines."""
        if not self._spool.is_file():
            return False
        offset = self._offset()
        if offset > self._spool.stat().st_size:
            logger.warning("%s is shorter than its offset: reading it from the start", self._spool)
            offset = 0
        messages, end = read_messages(self._spool, offset, self._batch_messages_max)
        if end == offset:
            return False
        if messages and not self._settle(messages):
            return True
        self._save_offset(end)
        return True

    def _run(self) -> None:
        try:
            self._ready()
        except Exception:
            if not self._stopping.is_set():
                logger.exception("the inbound function did not start: inbound events wait")
            return
        while not self._stopping.is_set():
            try:
                delivered = self.poll_once()
            except Exception:
                logger.exception("delivering the inbound spool failed; trying again")
                delivered = False
            if not delivered:
                self._stopping.wait(self._poll_interval_s)

    def _settle(self, messages: list[Message]) -> bool:
        """Deliver until every message is handled or dead-lettered; False if stopped first."""
        pending = messages
        for receive_count in range(1, self._attempts_max + 1):
            failed, error = self._deliver(pending, receive_count)
            pending = [message for message in pending if message.id in failed]
            if not pending:
                return True
            if receive_count < self._attempts_max and self._stopping.wait(self._retry_delay_s):
                return False
        message = f"not handled after {self._attempts_max} receives: {error}"
        append_lines(
            self._dead_letters,
            [dead_letter(_event_of(each.body), retries_exhausted, message) for each in pending],
        )
        logger.error(
            "%d inbound events failed %d times; written to %s",
            len(pending),
            self._attempts_max,
            dead_letters_file_name,
        )
        return True

    def _deliver(self, messages: list[Message], receive_count: int) -> tuple[set[str], str]:
        """Invoke the function on one batch: the ids it did not handle, and why."""
        ids = [message.id for message in messages]
        records = [sqs_record(message, receive_count) for message in messages]
        try:
            response = self._invoker.invoke(self._function, {"Records": records}, str(uuid.uuid4()))
        except Exception as error:
            logger.warning("the inbound function failed on a batch: %s", error)
            return set(ids), f"{type(error).__name__}: {error}"
        failed = failed_messages(ids, response)
        if failed is None:
            return set(ids), f"the batch response is unusable: {json.dumps(response)[:200]}"
        return failed, "the function reported the message failed"

    def _offset(self) -> int:
        if not self._offset_file.is_file():
            return 0
        saved = json.loads(self._offset_file.read_text())
        return int(saved["offset"])

    def _save_offset(self, offset: int) -> None:
        """Replace the offset file whole, so a crash leaves the old offset or the new one."""
        handle, temporary = tempfile.mkstemp(dir=self._offset_file.parent, prefix=".inbound-")
        try:
            with os.fdopen(handle, "w") as file:
                file.write(json.dumps({"offset": offset}) + "\n")
            os.replace(temporary, self._offset_file)
        except BaseException:
            os.unlink(temporary)
            raise


def _event_of(body: str) -> Any:
    """The event as received: the body's JSON value, or the body itself if it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body
