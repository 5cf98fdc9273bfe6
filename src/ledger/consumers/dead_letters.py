"""Where refused inbound events go: the dead-letter queue, or its file under `ledger dev`.

A dead letter is `{"event": <the event as received>, "reason": {"code", "message"}}`;
the event is the JSON value of the message body, or the body itself when it is not JSON.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import botocore.session
from botocore.config import Config

from ledger.environment import MissingSetting
from ledger.json_lines import append_lines

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_sqs.client import SQSClient

queue_url_variable = "LEDGER_INBOUND_DLQ_URL"
file_variable = "LEDGER_INBOUND_DLQ_FILE"
dead_letters_file_name = "inbound-dlq.jsonl"
# One SendMessage is small: a few seconds, a few tries, then the message itself is retried.
queue_connect_timeout_s = 2
queue_read_timeout_s = 5
queue_attempts_max = 3


class DeadLetters(Protocol):
    """Keeps the inbound events the ledger refused, each with the reason."""

    def send(self, letter: Mapping[str, Any]) -> None:
        """Keep one dead letter; raise if it could not be kept, so the message is retried."""
        ...


def dead_letter(event: object, code: str, message: str) -> dict[str, Any]:
    """The dead letter of `event` (as received) refused with `code`."""
    return {"event": event, "reason": {"code": code, "message": message}}


class QueueDeadLetters:
    """Sends each dead letter to an SQS queue, as one message of JSON."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, letter: Mapping[str, Any]) -> None:
        """One SendMessage; an error raises, and the inbound message is retried."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(letter))


class FileDeadLetters:
    """Appends each dead letter to a file as one line (`ledger dev`'s dead-letter queue)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, letter: Mapping[str, Any]) -> None:
        """One line, appended in one write."""
        append_lines(self.path, [letter])


@cache
def dead_letters() -> DeadLetters:
    """The container's dead letters: the file `LEDGER_INBOUND_DLQ_FILE` names (locally),
    else the queue at `LEDGER_INBOUND_DLQ_URL` (required then)."""
    file = os.environ.get(file_variable, "").strip()
    if file:
        return FileDeadLetters(Path(file))
    queue_url = os.environ.get(queue_url_variable, "").strip()
    if not queue_url:
        raise MissingSetting(
            f"{queue_url_variable} is not set: the inbound function needs its dead-letter "
            "queue (the stack sets it; `ledger dev` sets a file instead)"
        )
    return QueueDeadLetters(_sqs_client(), queue_url)


def _sqs_client() -> SQSClient:
    """An SQS client with bounded timeouts and botocore's own bounded retries."""
    config = Config(
        connect_timeout=queue_connect_timeout_s,
        read_timeout=queue_read_timeout_s,
        retries={"total_max_attempts": queue_attempts_max, "mode": "standard"},
    )
    return cast("SQSClient", botocore.session.get_session().create_client("sqs", config=config))
