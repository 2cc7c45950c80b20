"""Sending one message to one channel: Apprise URLs (Slack, Discord, Telegram, mailto://, json:// …) and
the console. Blocking I/O: always called outside any database transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import quote

import apprise

from socap.alerts.masking import mask_url, redacting

CONSOLE_SCHEME = "console://"
IDEMPOTENCY_HEADER = "X-Idempotency-Key"
# Apprise schemes whose plugins turn "+Name=value" URL arguments into message headers
HEADER_SCHEMES = ("json://", "jsons://", "xml://", "xmls://", "form://", "forms://", "mailto://", "mailtos://")

_console_printer: Callable[[str], None] = print


def set_console_printer(printer: Callable[[str], None]) -> None:
    """`socap run` / the demo print alerts through their own console."""
    global _console_printer
    _console_printer = printer


class DeliveryError(Exception):
    """The channel refused or could not be reached; the message says why (secrets masked)."""


def validate_url(url: str) -> str | None:
    """A reason the URL is unusable, or None."""
    if url == CONSOLE_SCHEME:
        return None
    if "://" not in url:
        return f"{mask_url(url)!r} is not a notification URL (e.g. json://host/path, mailto://…, slack://…)"
    with redacting(url):
        understood = apprise.Apprise().add(url)
    if understood is False:
        return f"Apprise does not understand {mask_url(url)}"
    return None


def _with_header(url: str, key: str) -> str:
    if not url.startswith(HEADER_SCHEMES):
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{quote('+' + IDEMPOTENCY_HEADER)}={quote(key)}"


def send(url: str, *, title: str, body: str, idempotency_key: str) -> None:
    if url == CONSOLE_SCHEME:
        _console_printer(f"ALERT {body}")
        return
    notifier = apprise.Apprise()
    with redacting(url):  # Apprise logs the URL when it loads it and when it calls it
        if notifier.add(_with_header(url, idempotency_key)) is False:
            raise DeliveryError(f"Apprise does not understand {mask_url(url)}")
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = notifier.notify(title=title, body=body)
    if not ok:
        detail = " ".join(line.strip() for line in captured.getvalue().splitlines() if line.strip())[-500:]
        # Apprise logs may quote the URL: keep its secrets out of our error
        detail = detail.replace(url, mask_url(url))
        raise DeliveryError(f"{mask_url(url)}: {detail or 'notification failed'}")
