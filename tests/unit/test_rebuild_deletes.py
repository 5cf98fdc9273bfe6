"""The deletions of a rebuild: unprocessed ones are sent again, within a bound."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.store.dynamodb import rebuild
from ledger.store.dynamodb.rebuild import UnprocessedDeletes


class Throttled:
    """A client that leaves the last request unprocessed `times` times, then takes all."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.sent: list[int] = []

    def batch_write_item(self, RequestItems: Any) -> dict[str, Any]:  # noqa: N803
        (requests,) = RequestItems.values()
        self.sent.append(len(requests))
        if self.times == 0:
            return {"UnprocessedItems": {}}
        self.times -= 1
        return {"UnprocessedItems": {"ledger": requests[-1:]}}


keys = [{"pk": {"S": "HISTORY#a"}, "sk": {"S": f"{version:012d}"}} for version in range(3)]


def test_unprocessed_deletions_are_sent_again_until_taken() -> None:
    # GIVEN a client that leaves one deletion unprocessed twice
    client = Throttled(times=2)
    pauses: list[float] = []
    # WHEN three keys are deleted
    rebuild._delete(client, "ledger", keys, pauses.append)  # type: ignore[arg-type]
    # THEN the one left is sent again each time, after a pause, until it is taken
    assert client.sent == [3, 1, 1]
    assert pauses == [rebuild.batch_write_retry_delay_s] * 2


def test_deletions_still_unprocessed_past_the_bound_fail_the_rebuild() -> None:
    # GIVEN a client that never takes the last deletion
    client = Throttled(times=rebuild.batch_write_attempts_max)
    # WHEN deleting / THEN it stops after the bound and says how many are left
    with pytest.raises(UnprocessedDeletes, match="1 deletions left unprocessed"):
        rebuild._delete(client, "ledger", keys, lambda _seconds: None)  # type: ignore[arg-type]
    assert len(client.sent) == rebuild.batch_write_attempts_max
