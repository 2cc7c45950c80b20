"""Cross-domain hooks, installed once per process by the Runtime:

- the ingest hands new engagements, inside its transaction, to importance scoring and then to alert
  detection (which is handed the scores, fresh ones included);
- completing a campaign cancels its pending alerts, then freezes the final report and queues its summary
  on the campaign's channels (all in the completing transaction).
"""

from __future__ import annotations

_installed = False


def _score_and_detect(session, campaign, engagements, now) -> None:
    """Score the new engagers, then queue alerts from those very scores (one look-up of the stored ones)."""
    from socap.alerts.detection import detect
    from socap.importance.service import score_engagers
    from socap.runtime import current

    scores = score_engagers(session, campaign, engagements, now)
    detect(session, campaign, engagements, now, default_urls=current().settings.notify_default_urls, scores=scores)


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
    from socap.monitoring.dispatcher import COMPLETION_HOOKS
    from socap.monitoring.ingest import NEW_ENGAGEMENT_HOOKS

    NEW_ENGAGEMENT_HOOKS.append(_score_and_detect)
    COMPLETION_HOOKS.extend([cancel_pending, _final_report])
    _installed = True
