"""The proof that no job ran twice at once reads the workers' task log: it must find two tasks of one job whose
X calls overlapped, and a task still running on a worker that was killed."""

from __future__ import annotations

import json

from .cluster import overlapping_runs, task_log


def _line(event: str, **fields) -> str:
    row = {"pid": 1, "thread": "Worker-1", "owner": "tick-a", "kind": "retweets", "jobs": [7], "run": 1,
           "started": 100.0, "first_call": 100.1, "last_call": 100.9, "calls": 2, **fields}
    if event == "task-end":
        row.update(finished=row.pop("finished", 101.0), outcome=row.pop("outcome", "ok"))
    return f"2026-01-01 00:00:00,000 INFO socap.worker [campaign=1 jobs=7 run=1]: {event} {json.dumps(row)}"


def test_overlapping_call_spans_of_one_job_are_found_and_disjoint_ones_are_not(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text("\n".join([
        _line("task-start", first_call=None, last_call=None, calls=0), _line("task-end"),
        # another worker, same job, after the first one's last answer: fine
        _line("task-end", pid=2, owner="tick-b", started=101.0, first_call=101.1, last_call=101.5),
        # a third one calling X for job 7 while the second still did: the same job twice at once
        _line("task-end", pid=3, owner="tick-c", started=101.2, first_call=101.3, last_call=101.4),
        # a task of another job at the same time, and one that never called X: not counted
        _line("task-end", pid=3, owner="tick-c", jobs=[8], started=101.2, first_call=101.3, last_call=101.4),
        _line("task-end", pid=4, owner="tick-d", started=101.25, first_call=None, last_call=None, calls=0),
    ]))
    tasks = task_log(log)
    assert len(tasks) == 5 and all(t.outcome == "ok" for t in tasks)
    found = overlapping_runs(tasks, killed={})
    assert [(job, a.owner, b.owner) for job, a, b in found] == [(7, "tick-b", "tick-c")]


def test_a_task_of_a_killed_worker_spans_until_the_kill(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text("\n".join([
        _line("task-start", first_call=None, last_call=None, calls=0),  # killed before its end line
        _line("task-end", pid=2, owner="tick-b", started=150.0, first_call=150.1, last_call=150.2),
    ]))
    tasks = task_log(log)
    assert [t.finished for t in tasks if t.pid == 1] == [None]
    assert not overlapping_runs(tasks, killed={1: 140.0})  # taken over after the kill
    assert overlapping_runs(tasks, killed={1: 160.0})  # taken over while the first one still ran
