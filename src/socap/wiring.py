"""Cross-domain hooks, installed once per process by the Runtime:

- the ingest hands new engagements, inside its transaction, to importance scoring and then to alert
  detection (which reads the fresh score);
- completing a campaign cancels its pending alerts, then freezes the final report and queues its summary
  on the campaign's channels (all in the completing transaction).
"""

from __future__ import annotations

_installed = False


def _detect_alerts(session, campaign, engagements, now) -> None:
    from socap.alerts.detection import detect
    from socap.runtime import current

    detect(session, campaign, engagements, now, default_urls=current().settings.notify_default_urls)


def _final_report(session, campaign, now) -> None:
    from socap.alerts.detection import queue_summary
    from socap.reports import final
    from socap.runtime import current

    settings = current().settings
    report = final.freeze(session, campaign, now)
    message = final.summary_text(final.Report.model_validate(report.data), base_url=settings.dashboard_url)
    queue_summary(session, campaign, message, now, default_urls=settings.notify_default_urls)


def install() -> None:
    global _installed
    if _installed:
        return
    from socap.alerts.outbox import cancel_pending
    from socap.importance.service import score_new_engagers
    from socap.monitoring.dispatcher import COMPLETION_HOOKS
    from socap.monitoring.ingest import NEW_ENGAGEMENT_HOOKS

    NEW_ENGAGEMENT_HOOKS.extend([score_new_engagers, _detect_alerts])
    COMPLETION_HOOKS.extend([cancel_pending, _final_report])
    _installed = True
