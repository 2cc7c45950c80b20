"""The queue is built from SOCAP_QUEUE_URL: SqliteHuey, PostgresHuey or RedisHuey, all carrying the same
task message. (PostgreSQL and Redis run on this machine: CI starts them.)"""

from __future__ import annotations

import os
import uuid

import pytest
from huey import PostgresHuey, RedisHuey, SqliteHuey

from socap.monitoring.dispatcher import TaskMessage
from socap.queue import TaskQueue, make_huey

PG = os.environ.get("SOCAP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _redis_up() -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "redis"])
def test_a_task_message_round_trips_through_each_backend(kind, tmp_path):
    if kind == "sqlite":
        url, expected = f"sqlite:///{tmp_path}/queue.db", SqliteHuey
    elif kind == "postgresql":
        url, expected = PG, PostgresHuey
    else:
        if not _redis_up():
            pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
        url, expected = "redis://127.0.0.1:6379/15", RedisHuey
    huey = make_huey(url)
    assert isinstance(huey, expected)
    huey.flush()
    queue = TaskQueue(huey)
    owner = f"tick-{uuid.uuid4().hex[:8]}"
    queue.enqueue(TaskMessage("metrics", (1, 2, 3), 7, owner, 4))
    assert queue.pending() == 1
    task = huey.dequeue()
    assert task.name == "socap.poll" and task.args == ("metrics", [1, 2, 3], 7, owner, 4)  # 4: the campaign
    assert queue.pending() == 0
    huey.flush()


def test_unknown_queue_urls_are_refused_by_name():
    with pytest.raises(ValueError, match="amqp://x"):
        make_huey("amqp://x")
