"""The local stand-in for the stack's expiry schedule: a sweep every interval, failures survived."""

from __future__ import annotations

import logging
import threading

import pytest

from ledger.local.sweeper import ExpirySweeper


def test_the_sweep_runs_again_and_again_and_survives_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a sweep that fails on its second run
    runs: list[int] = []
    third_run = threading.Event()

    def sweep() -> int:
        runs.append(len(runs) + 1)
        if len(runs) == 2:
            raise RuntimeError("DynamoDB Local is away")
        if len(runs) == 3:
            third_run.set()
        return 1

    # WHEN the sweeper runs on a short interval
    with (
        caplog.at_level(logging.INFO, logger="ledger.local.sweeper"),
        ExpirySweeper(sweep, interval_s=0.01),
    ):
        assert third_run.wait(10)

    # THEN the failure was logged with its traceback and the schedule went on
    assert runs[:3] == [1, 2, 3]
    failures = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "expired 1 pending entries" in caplog.text


def test_a_sweep_that_expires_nothing_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a sweep with nothing to expire
    ran = threading.Event()

    def sweep() -> int:
        ran.set()
        return 0

    # WHEN it runs
    with (
        caplog.at_level(logging.INFO, logger="ledger.local.sweeper"),
        ExpirySweeper(sweep, interval_s=0.01),
    ):
        assert ran.wait(10)

    # THEN nothing was logged
    assert caplog.records == []


def test_a_sweeper_never_started_stops_at_once() -> None:
    # GIVEN a sweeper that was never started
    sweeper = ExpirySweeper(lambda: 0, interval_s=1)

    # WHEN it is stopped
    sweeper.stop()

    # THEN it is done, and no thread was ever started
    assert sweeper._thread.ident is None


def test_stopping_ends_the_schedule_before_the_first_sweep() -> None:
    # GIVEN a sweeper whose first sweep is an hour away
    runs: list[int] = []

    def sweep() -> int:
        runs.append(1)
        return 0

    sweeper = ExpirySweeper(sweep, interval_s=3600)
    sweeper.start()

    # WHEN it is stopped
    sweeper.stop()

    # THEN it stopped at once without sweeping
    assert runs == []


@pytest.mark.parametrize("interval_s", [0, -1])
def test_the_interval_must_be_positive(interval_s: float) -> None:
    # GIVEN a non-positive interval
    # WHEN a sweeper is made
    # THEN it is refused
    with pytest.raises(ValueError, match="positive"):
        ExpirySweeper(lambda: 0, interval_s)


def test_each_sweep_also_writes_the_expiring_notices(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a sweep with nothing to expire and notices to write
    noticed = threading.Event()
    order: list[str] = []

    def sweep() -> int:
        order.append("sweep")
        return 0

    def notice() -> int:
        order.append("notice")
        noticed.set()
        return 2

    # WHEN it runs
    with (
        caplog.at_level(logging.INFO, logger="ledger.local.sweeper"),
        ExpirySweeper(sweep, interval_s=0.01, notice=notice),
    ):
        assert noticed.wait(10)

    # THEN the expiry ran first, then the notices, which were logged
    assert order[:2] == ["sweep", "notice"]
    assert "noticed 2 pending entries about to expire" in caplog.text
