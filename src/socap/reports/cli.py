"""`socap report CAMPAIGN --format html|json|csv|accounts-csv|pdf -o PATH`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from socap.campaigns import service as campaign_service
from socap.console import EXIT_INVALID, err, fail, runtime
from socap.reports import export, final


def report(
    campaign_id: int,
    fmt: Annotated[str, typer.Option("--format", "-f", help="html, json, csv (engagements), accounts-csv or pdf")]
    = "html",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write (default: a name in the "
                                                                       "current folder; '-' = stdout)")] = None,
) -> None:
    """Export a campaign's report: the frozen final report once completed, an interim one before."""
    if fmt not in export.FORMATS:
        fail(f"unknown format {escape(fmt)!r}; use one of {', '.join(export.FORMATS)}", EXIT_INVALID)
    rt = runtime()
    with rt.db.session() as session:
        try:
            campaign = campaign_service.get(session, campaign_id=campaign_id)
        except campaign_service.CampaignNotFound as exc:
            fail(escape(str(exc)), EXIT_INVALID)
        data = final.get_report(session, campaign=campaign, now=rt.clock.now())
        if fmt == "csv":
            content: str | bytes = "".join(export.engagements_csv(session, campaign=campaign))
        elif fmt == "accounts-csv":
            content = "".join(export.accounts_csv(session, campaign=campaign))
        elif fmt == "json":
            content = export.to_json(data)
        elif fmt == "html":
            content = export.to_html(data)
        else:
            try:
                content = export.to_pdf(data, chromium=rt.settings.chromium_path)
            except export.ReportError as exc:
                fail(escape(str(exc)))
    if output is not None and str(output) == "-":
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return
    path = output or Path(export.filename(data, fmt))
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    err.print(f"{data.kind} report of campaign {campaign_id} written to {escape(str(path))}")
    print(path)
