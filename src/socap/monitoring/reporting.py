"""Printing what the engine does as it does it: one line per finished run, backfill progress.

A Rich progress bar shows list backfills in a terminal; elsewhere (CI, pipes) plain log lines do.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from datetime import timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from socap.campaigns.models import Campaign
from socap.console import out
from socap.monitoring import service
from socap.monitoring.models import Engagement, Run
from socap.runtime import Runtime

PLURAL = {"retweet": "retweets", "reply": "replies", "quote": "quotes"}
SETTLE = timedelta(minutes=5)  # a run's tasks are done within minutes of its start (virtual time)


def describe_counts(counts: Counter) -> str:
    return ", ".join(f"{n} {PLURAL[action] if n != 1 else action}" for action, n in sorted(counts.items()))


class RunReporter:
    def __init__(self, rt: Runtime, *, interval: float = 0.5, quiet_runs: bool = True):
        self.rt = rt
        self.interval = interval
        self.quiet_runs = quiet_runs
        self.last_run = 0
        self.last_backfill: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress: Progress | None = None
        self._task = None

    def start(self) -> RunReporter:
        if sys.stdout.isatty():
            self._progress = Progress(TextColumn("list backfills"), BarColumn(), MofNCompleteColumn(),
                                      console=out, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("backfill", total=None)
        self._thread = threading.Thread(target=self._loop, name="socap-reporter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self.report(final=True)
        if self._progress:
            self._progress.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.report()
            except Exception:  # noqa: BLE001 - reporting must never stop the engine
                logging.getLogger("socap.reporter").exception("report failed")

    def report(self, *, final: bool = False) -> None:
        now = self.rt.clock.now()
        with self.rt.db.session() as session:
            query = (select(Run, Campaign.name, Campaign.starts_at).join(Campaign, Campaign.id == Run.campaign_id)
                     .where(Run.id > self.last_run).order_by(Run.id))
            if not final:
                query = query.where(Run.started_at <= now - SETTLE)
            runs = session.execute(query).all()
            counts = {run.id: Counter(dict(session.execute(
                select(Engagement.action, func.count()).where(Engagement.run_id == run.id)
                .group_by(Engagement.action)).all())) for run, _, _ in runs}
            backfill = service.backfill_progress(session)
        for run, name, starts_at in runs:
            self.last_run = run.id
            new = counts[run.id]
            if not new and not self.quiet_runs:
                continue
            offset = run.started_at - starts_at
            day, rest = divmod(int(offset.total_seconds()), 86400)
            when = f"D{day + 1} {rest // 3600:02d}:{rest % 3600 // 60:02d}"
            what = f"+{sum(new.values())} new ({describe_counts(new)})" if new else "no new engagements"
            label = " final" if run.kind == "final" else ""
            out.print(f"{when}  {name[:32]}: run {run.id}{label} — {what}; {run.calls} calls, "
                      f"${float(run.cost_usd or 0):.3f}")
        done, total = backfill
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, total=total or None, visible=0 < total != done)
        elif total and done < total and backfill != self.last_backfill:
            out.print(f"list backfills: {done}/{total} done")
        self.last_backfill = backfill
