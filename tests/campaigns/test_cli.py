"""`socap campaign …` end to end: the real CLI, the real client, the simulator over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from socap.campaigns.models import Campaign
from socap.cli import app
from socap.console import set_runtime
from socap.simulator import load_scenario

runner = CliRunner()


@pytest.fixture
def cli(start_simulator, make_runtime):
    server = start_simulator("1")
    rt = make_runtime(server)
    set_runtime(rt)
    yield server, rt
    set_runtime(None)


def _args(spec, *extra):
    args = ["campaign", "create", "--name", spec["name"], "--days", "3", "--threshold", "10",
            "--spacing", "20"]
    for category in ("main", "influencer", "investor"):
        for url in spec[category]:
            args += [f"--{category}", url]
    return args + list(extra)


def _campaigns(rt) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(Campaign))


def test_create_json_prints_campaign_posts_and_twelve_jobs(cli):
    _, rt = cli
    spec = load_scenario("1").campaign_spec()
    result = runner.invoke(app, _args(spec, "--json"))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["name"] == "Product Launch Q1 2025"
    assert body["job_count"] == 12
    assert [p["category"] for p in body["posts"]] == ["main", "influencer", "investor"]
    assert body["posts"][0]["author_username"] == "acmehq"

    listed = runner.invoke(app, ["campaign", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["job_count"] == 12
    shown = runner.invoke(app, ["campaign", "show", str(body["id"])])
    assert shown.exit_code == 0 and "12 poll jobs" in shown.stdout and "@sarahbuilds" in shown.stdout


@pytest.mark.parametrize("extra,fragment", [
    (["--main", "https://x.com/jack"], "https://x.com/jack"),
    (["--days", "0"], "longer than 0 days"),
    (["--threshold", "-3"], "cannot be negative"),
    (["--spacing", "30"], "shorter than the poll interval"),
])
def test_invalid_input_exits_2_with_a_clear_message_and_writes_nothing(cli, extra, fragment):
    _, rt = cli
    spec = load_scenario("1").campaign_spec()
    result = runner.invoke(app, _args(spec, *extra))
    assert result.exit_code == 2
    assert fragment in " ".join(result.stderr.split())
    assert _campaigns(rt) == 0


def test_missing_posts_are_listed_by_url_and_nothing_is_created(cli):
    server, rt = cli
    spec = load_scenario("1").campaign_spec()
    missing = "https://x.com/nobody/status/1234567890123456789"
    result = runner.invoke(app, _args(spec, "--investor", missing))
    assert result.exit_code == 2
    assert missing in result.stderr.replace("\n", "")
    assert _campaigns(rt) == 0
    allowed = runner.invoke(app, _args(spec, "--investor", missing, "--allow-missing", "--json"))
    assert allowed.exit_code == 0, allowed.output
    body = json.loads(allowed.stdout)
    assert body["job_count"] == 12 and any(missing in w for w in body["warnings"])


def test_pause_resume_add_posts(cli):
    _, rt = cli
    spec = load_scenario("1").campaign_spec()
    created = json.loads(runner.invoke(app, ["campaign", "create", "--name", "Grow", "--days", "1", "--main",
                                             spec["main"][0], "--json"]).stdout)
    cid = str(created["id"])
    assert "paused" in runner.invoke(app, ["campaign", "pause", cid]).stdout
    assert "active" in runner.invoke(app, ["campaign", "resume", cid]).stdout
    added = runner.invoke(app, ["campaign", "add-posts", cid, "--investor", spec["investor"][0], "--json"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["job_count"] == 8
    unknown = runner.invoke(app, ["campaign", "show", "999"])
    assert unknown.exit_code == 2 and "999" in unknown.stderr


def test_console_script_refuses_bad_input_in_a_real_process(tmp_path):
    """The installed `socap` entry point, as a user runs it."""
    exe = Path(sys.executable).with_name("socap")
    env = {**os.environ, "SOCAP_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
           "SOCAP_X_API_BASE_URL": "http://127.0.0.1:9/2"}
    proc = subprocess.run([str(exe), "campaign", "create", "--name", "N", "--main", "not a url", "--days", "3"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "'not a url'" in proc.stderr
    listed = subprocess.run([str(exe), "campaign", "list", "--json"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_real_x_without_a_token_is_a_clear_error(tmp_path):
    exe = Path(sys.executable).with_name("socap")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCAP_")}
    env["SOCAP_DATABASE_URL"] = f"sqlite:///{tmp_path}/cli.db"
    proc = subprocess.run([str(exe), "campaign", "create", "--name", "N", "--main",
                           "https://x.com/a/status/123", "--days", "3"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert "SOCAP_X_BEARER_TOKEN" in proc.stderr
