"""`socap alerts test URL` and `socap alerts list CAMPAIGN`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from socap.alerts import channels, service
from socap.alerts.masking import mask_url
from socap.campaigns import service as campaign_service
from socap.clock import format_instant
from socap.console import EXIT_INVALID, fail, out, print_json, runtime

app = typer.Typer(help="Alerts: test a channel, list a campaign's alerts.", no_args_is_help=True)


@app.command("test")
def test(url: str) -> None:
    """Send a test message to a notification URL (Apprise syntax)."""
    try:
        service.send_test(url)
    except ValueError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except channels.DeliveryError as exc:
        fail(escape(str(exc)))
    out.print(f"test message sent to {escape(mask_url(url))}")


@app.command("list")
def list_(campaign_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Queued, sent, failed and cancelled alerts with their send slots (secrets masked)."""
    rt = runtime()
    with rt.db.session() as session:
        try:
            campaign_service.get(session, campaign_id=campaign_id)
        except campaign_service.CampaignNotFound as exc:
            fail(escape(str(exc)), EXIT_INVALID)
        rows = service.list_alerts(session, campaign_id=campaign_id)
    if as_json:
        print_json(rows)
        return
    table = Table("slot (UTC)", "status", "importance", "alert", "channels")
    for r in rows:
        slot = format_instant(r["scheduled_send_at"])[:19].replace("T", " ") if r["scheduled_send_at"] else "—"
        chans = ", ".join(f"{escape(d['channel'])} {d['status']}" + (f" ({escape(d['last_error'])})"
                                                                      if d["last_error"] else "")
                          for d in r["deliveries"])
        table.add_row(slot, r["status"], str(r["importance"]), escape(r["message"]), chans)
    out.print(table)
