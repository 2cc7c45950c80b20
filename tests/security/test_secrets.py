"""Secrets stay secret: the X bearer token, notification URLs (Apprise URLs carry webhook tokens in their
path and query) and SMTP passwords never appear in logs, error messages, CLI output, pages or API answers.

A campaign notifies a webhook that always fails (its URL holds a path token and a query token) and an SMTP
server that is not there (its URL holds the password), plus a default channel from the settings; X answers
some calls with a 403 whose body echoes the bearer token (as a misbehaving proxy might). The engine runs a
few cycles with every logger at DEBUG captured; then every place a user or an operator looks is read.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import httpx
import pytest
from typer.testing import CliRunner

from socap.cli import app as cli
from socap.console import set_runtime
from socap.monitoring.engine import drive
from socap.simulator.faults import FaultProfile, ScriptedFault
from tests.alerts.conftest import Receiver, import_and_sync_seeds
from tests.monitoring.support import memory_queue, usage
from tests.security.support import SCENARIO
from tests.web.support import api_token, make_user, sign_in
from tests.web.test_api import create

BEARER = "AAAAAAAAAAAAAAAAAAAAAbearerSECRETtoken0123456789"
PATH_TOKEN, QUERY_TOKEN = "hookPATHsecret42", "hookQUERYsecret42"
SMTP_PASSWORD = "smtpPASSWORDsecret42"
DEFAULT_TOKEN = "defaultHOOKsecret42"
SECRETS = (BEARER, PATH_TOKEN, QUERY_TOKEN, SMTP_PASSWORD, DEFAULT_TOKEN)


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} shows a secret: …{text[max(0, text.find(secret) - 200):][:400]}…"


@pytest.fixture
def world(start_simulator, make_runtime, serve_web):
    receiver = Receiver()
    receiver.fail_next = 10**6  # every delivery fails
    webhook = f"json://127.0.0.1:{receiver.server.server_port}/hooks/{PATH_TOKEN}?token={QUERY_TOKEN}"
    smtp = f"mailto://alerts:{SMTP_PASSWORD}@example.com?smtp=127.0.0.1&port=9&to=team@example.com"
    default = f"json://127.0.0.1:{receiver.server.server_port}/default/{DEFAULT_TOKEN}"
    sim = start_simulator(SCENARIO)
    rt = make_runtime(sim, x_bearer_token=BEARER, notify_default_urls=[default])
    import_and_sync_seeds(rt, SCENARIO)
    make_user(rt, "bob@example.com")
    server = serve_web(rt)
    api = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {api_token(rt, 'bob@example.com')}"})
    campaign_id = create(api, SCENARIO, notify_urls=[webhook, smtp])["id"]
    echo = {"title": "Forbidden", "type": "about:blank", "status": 403,
            "detail": f"Authorization: Bearer {BEARER} is not allowed to read this"}
    sim.sim.set_faults(FaultProfile(scripted=[
        ScriptedFault(endpoint="GET /2/tweets/:id/retweets", status=403, body=echo, times=3),
        ScriptedFault(endpoint="GET /2/tweets/:id/quote_tweets", status=500, body=echo, times=3)]))
    yield rt, sim, server, api, receiver, campaign_id, (webhook, smtp)
    api.close()
    receiver.close()


def test_secrets_never_reach_logs_errors_pages_api_or_cli(world, caplog):
    rt, sim, server, api, receiver, campaign_id, (webhook, smtp) = world
    caplog.set_level(logging.DEBUG)
    drive(rt, memory_queue(rt), until=SCENARIO.start + timedelta(hours=1, minutes=30))
    # the secrets were in play: X served the echoing errors, and the webhook was called at its secret path
    assert "403" in json.dumps(usage(sim))
    alerts = api.get(f"/campaigns/{campaign_id}/alerts").json()
    errors = [d["last_error"] for a in alerts for d in a["deliveries"] if d["last_error"]]
    assert alerts and errors, "deliveries should have failed"

    # logs, every logger at DEBUG, message and arguments formatted
    assert len(caplog.records) > 100
    logged = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "apprise" in logged and "socap.alerts" in logged
    assert_no_secret(logged, "the log")

    # the API and the pages
    assert_no_secret(api.get(f"/campaigns/{campaign_id}").text, "GET campaign")
    assert_no_secret(json.dumps(alerts), "GET alerts")
    assert_no_secret(api.get("/campaigns").text, "GET campaigns")
    browser = sign_in(server, "bob@example.com")
    for page in ("", "/edit", "/alerts"):
        r = browser.get(f"/campaigns/{campaign_id}{page}")
        assert r.status_code == 200
        assert_no_secret(r.text, f"page /campaigns/{campaign_id}{page}")
    assert "/ho****/" in browser.get(f"/campaigns/{campaign_id}/edit").text  # shown, masked

    # error answers that quote a notification URL
    bad = f"json://127.0.0.1:9/{PATH_TOKEN} with spaces?token={QUERY_TOKEN}"
    for r in (api.patch(f"/campaigns/{campaign_id}", json={"notify_urls": [bad, "nope://" + PATH_TOKEN]}),
              api.post("/campaigns", json={"name": "x", "main": [], "notify_urls": ["nope://" + SMTP_PASSWORD]})):
        assert r.status_code == 422
        assert_no_secret(r.text, "a 422 answer")
    form = browser.post("/campaigns/new", data={"csrf_token": browser.csrf, "name": "x", "main": "1",
                                                "notify_urls": f"nope://x:{SMTP_PASSWORD}@h/{PATH_TOKEN}"})
    assert form.status_code == 400
    # the form gives the typist's own text back to fix (a no-store answer to the same browser, nothing stored);
    # the error message next to it is masked
    errors = re.search(r'<ul class="field-error" id="err-notify_urls".*?</ul>', form.text, re.S)
    assert errors and "does not understand" in errors.group(0)
    assert_no_secret(errors.group(0), "the create form's error")

    # the CLI: status, campaign show / list, alerts list, and a test message that fails
    set_runtime(rt)
    try:
        runner = CliRunner()
        for args in (["status"], ["status", "--json"], ["campaign", "show", str(campaign_id)],
                     ["campaign", "show", str(campaign_id), "--json"], ["campaign", "list"],
                     ["alerts", "list", str(campaign_id)], ["alerts", "list", str(campaign_id), "--json"],
                     ["alerts", "test", webhook], ["alerts", "test", smtp], ["alerts", "test", "nope://" + PATH_TOKEN]):
            result = runner.invoke(cli, args)
            assert_no_secret(result.output, "socap " + " ".join(a if a not in (webhook, smtp) else "URL"
                                                                for a in args))
        assert "ho****" in runner.invoke(cli, ["campaign", "show", str(campaign_id)]).output
    finally:
        set_runtime(None)
    assert_no_secret("\n".join(r.getMessage() for r in caplog.records), "the log (after the CLI)")


def test_an_x_error_echoing_the_token_is_redacted_in_the_api_answer(start_simulator, make_runtime, serve_web):
    sim = start_simulator(SCENARIO)
    rt = make_runtime(sim, x_bearer_token=BEARER)
    make_user(rt, "bob@example.com")
    server = serve_web(rt)
    echo = {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": f"token {BEARER} refused"}
    sim.sim.set_faults(FaultProfile(scripted=[ScriptedFault(endpoint="*", status=403, body=echo, times=5)]))
    token = api_token(rt, "bob@example.com")
    r = httpx.post(timeout=30, url=server.url + "/api/v1/campaigns", headers={"Authorization": f"Bearer {token}"},
                   json={**{k: v for k, v in SCENARIO.campaign_spec().items() if k != "starts_at"}})
    assert r.status_code == 502 and r.json()["detail"].startswith("X API: ") and "[redacted]" in r.text, r.text
    assert_no_secret(r.text, "the 502 answer")


def test_socap_run_does_not_print_the_queue_password(make_runtime, tmp_path):
    """`socap run` names its queue at start-up; a Redis or PostgreSQL URL's password stays hidden."""
    password = "queuePASSWORDsecret42"
    rt = make_runtime(queue_url=f"redis://:{password}@127.0.0.1:6379/9")
    set_runtime(rt)
    try:
        result = CliRunner().invoke(cli, ["run", "--until-complete", "--no-web", "--workers", "1"])
    finally:
        set_runtime(None)
    assert result.exit_code == 0, result.output
    assert "queue redis://:****@127.0.0.1:6379/9" in result.output
    assert password not in result.output
