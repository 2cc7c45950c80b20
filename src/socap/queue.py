"""The Huey instance, built from SOCAP_QUEUE_URL: SqliteHuey by default, PostgresHuey for a postgresql://
URL, RedisHuey for redis://. Tasks take ids only and are safe to run twice (the lease decides)."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from socap.monitoring.dispatcher import TaskMessage

QUEUE_NAME = "socap"


def make_huey(url: str, *, immediate: bool = False) -> Huey:
    if url.startswith("memory:"):
        return MemoryHuey(QUEUE_NAME, immediate=immediate)
    if url.startswith("sqlite"):
        path = make_url(url).database or "var/queue.db"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=path, immediate=immediate, timeout=30)
    if url.startswith(("postgresql", "postgres:")):
        dsn = url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://")
        return PostgresHuey(QUEUE_NAME, dsn=dsn, immediate=immediate)
    if url.startswith(("redis:", "rediss:")):
        return RedisHuey(QUEUE_NAME, url=url, immediate=immediate)
    raise ValueError(f"unsupported queue URL {url!r}: use sqlite:///…, postgresql://… or redis://…")


class TaskQueue:
    """Our one task type on a Huey instance: execute a TaskMessage with the process's runtime."""

    def __init__(self, huey: Huey):
        self.huey = huey

        @huey.task(name="socap.poll", retries=0)
        def poll(kind: str, job_ids: list[int], run_id: int | None, owner: str, campaign_id: int | None = None) -> None:
            from socap.logs import bound
            from socap.monitoring.worker import execute
            from socap.runtime import current

            # every line the task logs says which campaign and jobs it is about
            with bound(campaign_id=campaign_id, job_ids=list(job_ids), run_id=run_id):
                execute(current(), TaskMessage(kind, tuple(job_ids), run_id, owner, campaign_id))

        self._poll = poll

    def enqueue(self, message: TaskMessage) -> None:
        self._poll(message.kind, list(message.job_ids), message.run_id, message.owner, message.campaign_id)

    def pending(self) -> int:
        return self.huey.pending_count()

    def run_one(self) -> bool:
        """Execute the next queued task in this thread; False when the queue is empty."""
        task = self.huey.dequeue()
        if task is None:
            return False
        self.huey.execute(task)
        return True
