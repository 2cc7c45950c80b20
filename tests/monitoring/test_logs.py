"""Structured logs (issue 9): every line a worker logs while it runs a task names the task's campaign and
poll jobs — in the text format as ``[campaign=… jobs=… run=…]``, in SOCAP_LOG_FORMAT=json as fields."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from socap import logs
from socap.campaigns.models import CampaignTweet
from socap.monitoring.engine import drive
from socap.monitoring.models import PollJob
from socap.simulator import Scenario, ScriptedFault, hours, minutes
from socap.simulator.builder import ScenarioBuilder

from .calllog import RETWEETS
from .support import create_campaign, memory_queue

TEXT_IDS = re.compile(r" socap\.worker \[campaign=(\d+) jobs=([\d,]+) run=(\d+)\]: ")


def _two_posts(b: ScenarioBuilder) -> None:
    b.campaign("Logs", start="2025-03-03T12:00:00Z", days=0.1, threshold=10)
    author = b.accounts(1, "founder")[0]
    for i in range(2):
        post = b.post("main", author=author, text=f"Post {i}", created=-hours(2), likes={hours(0): 1})
        b.retweets(post, 2, between=(-hours(1), -minutes(5)))


TWO_POSTS = Scenario.from_function("t_logs_two_posts", _two_posts)


@pytest.fixture
def captured_logs():
    """``captured_logs(fmt)`` → a StringIO that the process's SOCAP log handler writes to (as `socap worker`
    sets it up), removed again after the test."""
    root = logging.getLogger()
    level = root.level
    handlers = []

    def start(fmt: str) -> io.StringIO:
        stream = io.StringIO()
        handlers.append(logs.configure(level=logging.INFO, fmt=fmt, stream=stream))
        return stream

    yield start
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_every_worker_line_names_its_campaign_and_jobs(start_simulator, make_runtime, captured_logs, fmt):
    world = TWO_POSTS.build_world()
    server = start_simulator(world)
    rt = make_runtime(server)
    first = create_campaign(rt, TWO_POSTS)
    second = create_campaign(rt, TWO_POSTS, name="Logs, second campaign")
    victim = world.campaign_posts()[1].id
    server.sim.add_fault(ScriptedFault(endpoint=RETWEETS, contains=victim, status=500, times=4))
    stream = captured_logs(fmt)
    drive(rt, memory_queue(rt), until=world.start + minutes(1))

    with rt.db.session() as s:
        campaign_of = dict(s.execute(select(PollJob.id, PollJob.campaign_id)).all())
        victim_jobs = set(s.scalars(select(PollJob.id).join(CampaignTweet).where(
            CampaignTweet.tweet_id == int(victim), PollJob.kind == "retweets")))
    lines = []  # (level, campaign, jobs, message) of the worker's lines
    for line in stream.getvalue().splitlines():
        if fmt == "json":
            body = json.loads(line)
            if body["logger"] == "socap.worker":
                assert {"campaign_id", "job_ids", "run_id"} <= set(body), line
                lines.append((body["level"], body["campaign_id"], body["job_ids"], body["message"]))
        elif " socap.worker" in line:
            found = TEXT_IDS.search(line)
            assert found, line
            lines.append((line.split()[2], int(found[1]), [int(j) for j in found[2].split(",")], line))
    assert lines
    assert {campaign for _, campaign, _, _ in lines} == {first, second}
    for _, campaign, job_ids, _ in lines:
        assert {campaign_of[j] for j in job_ids} == {campaign}
    # the failure the worker reports (X answered 500 twice) names the failing job and its campaign
    failures = [(campaign, job_ids) for level, campaign, job_ids, _ in lines if level == "WARNING"]
    assert sorted(failures) == sorted((campaign_of[j], [j]) for j in victim_jobs)
