"""Channels through Apprise against local receivers: json:// (HTTP) and mailto:// (aiosmtpd), the CLI."""

from __future__ import annotations

import json
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from socap.alerts import channels
from socap.cli import app
from socap.console import set_runtime

runner = CliRunner()


class Mailbox:
    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp():
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check its own start-up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, box
    controller.stop()


def test_json_webhook_gets_the_message_and_the_idempotency_header(receiver):
    channels.send(receiver.url, title="t", body="Investor @a (importance: 12) retweeted your main tweet",
                  idempotency_key="abc123")
    assert len(receiver.messages) == 1
    message = receiver.messages[0]
    assert message["headers"]["X-Idempotency-Key"] == "abc123"
    assert message["body"]["message"] == "Investor @a (importance: 12) retweeted your main tweet"


def test_email_through_mailto_arrives_with_the_idempotency_header(smtp):
    controller, box = smtp
    port = controller.port
    url = f"mailto://127.0.0.1:{port}?to=team@example.com&from=socap@example.com&mode=insecure"
    channels.send(url, title="SOCAP alert", body="VC @v (importance: 18) retweeted your investor tweet",
                  idempotency_key="key-42")
    deadline = time.monotonic() + 10
    while not box.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(box.messages) == 1
    raw = box.messages[0].decode()
    assert "VC @v (importance: 18) retweeted your investor tweet" in raw
    assert "X-Idempotency-Key: key-42" in raw


def test_a_refusing_channel_raises_with_the_secret_masked(receiver):
    receiver.fail_next = 1
    secret_url = receiver.url + "?token=supersecret123"
    with pytest.raises(channels.DeliveryError) as info:
        channels.send(secret_url, title="t", body="b", idempotency_key="k")
    assert "supersecret123" not in str(info.value)


def test_cli_alerts_test_sends_and_masks(receiver):
    result = runner.invoke(app, ["alerts", "test", receiver.url])
    assert result.exit_code == 0, result.output
    assert len(receiver.messages) == 1 and "test message" in receiver.messages[0]["body"]["message"]
    bad = runner.invoke(app, ["alerts", "test", "not-a-url-with-secret"])
    assert bad.exit_code == 2 and "not-a-url-with-secret" not in bad.stderr


def test_cli_alerts_list_shows_slots_statuses_and_masks_secrets(start_simulator, make_runtime, receiver):
    from datetime import timedelta

    from socap.monitoring.engine import drive
    from socap.simulator import load_scenario
    from tests.monitoring.support import create_campaign, memory_queue

    from .conftest import import_and_sync_seeds

    scenario = load_scenario("1")
    server = start_simulator(scenario)
    receiver.clock = server.clock
    rt = make_runtime(server)
    import_and_sync_seeds(rt, scenario)
    secret = receiver.url + "?token=hunter2hunter2"
    campaign_id = create_campaign(rt, scenario, notify_urls=[secret])
    drive(rt, memory_queue(rt), until=scenario.start + timedelta(hours=7))
    set_runtime(rt)
    try:
        result = runner.invoke(app, ["alerts", "list", str(campaign_id), "--json"])
        table = runner.invoke(app, ["alerts", "list", str(campaign_id)])
        missing = runner.invoke(app, ["alerts", "list", "999"])
    finally:
        set_runtime(None)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["importance"] for r in rows] == [15, 22]
    assert all(r["status"] == "sent" and r["scheduled_send_at"] for r in rows)
    assert "hunter2hunter2" not in result.stdout and "hunter2hunter2" not in table.stdout
    assert {d["channel"] for d in rows[0]["deliveries"]} >= {"console://"}
    assert missing.exit_code == 2


def test_campaign_creation_refuses_an_unusable_notify_url(start_simulator, make_runtime):
    from socap.campaigns import service
    from socap.campaigns.schemas import CampaignInput
    from socap.simulator import load_scenario

    spec = load_scenario("1").campaign_spec()
    data = CampaignInput(name="x", main=spec["main"], days=1, notify_urls=["nonsense-without-scheme"])
    with pytest.raises(service.CampaignValidationError) as info:
        service.validate_input(data, now=load_scenario("1").start)
    assert "notify_urls" in info.value.errors
