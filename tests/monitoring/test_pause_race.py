"""Two workers refused by X at the same moment (a 402, a usage cap) both pause polling app-wide. The first pause
ever inserts the setting's row: the second worker used to fail on the duplicate key, losing its whole
failure-recording transaction (the job stayed leased, the run's calls were not counted)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from socap.monitoring import jobs


def test_two_workers_pausing_polling_at_once_both_succeed(database):
    now = datetime(2025, 4, 8, 9, 0, tzinfo=UTC)
    errors: list[BaseException] = []

    def second_worker():
        try:
            with database.write() as session:
                jobs.set_polling_pause(session, reason="X credits depleted (second)", now=now + timedelta(seconds=1),
                                       retry_at=now + timedelta(hours=1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with database.write() as session:
        jobs.set_polling_pause(session, reason="X credits depleted (first)", now=now, retry_at=now + timedelta(hours=1))
        session.flush()  # the first worker's row exists, uncommitted
        other = threading.Thread(target=second_worker)
        other.start()
        time.sleep(0.5)  # the second one meets it
    other.join(60)
    assert not errors, errors
    with database.session() as session:
        pause = jobs.polling_pause(session)
    assert pause["reason"] == "X credits depleted (second)"
    assert pause["since"] == now.isoformat(), "paused since the first refusal"
