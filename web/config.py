# SPDX-License-Identifier: MIT
"""The web app's configuration, built once from the settings and passed to ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class WebConfig:
    """Mail for sign-in links, and how long sessions and links live.

    ``smtp_url`` is ``smtp://[user:password@]host[:port]`` (``smtps://`` for TLS from the
    first byte, ``smtp+starttls://`` to upgrade). ``base_url`` is the address people reach the
    app at, for the links in mail: never the request's Host header, which whoever asks for a
    link could point at their own site and so receive the victim's token. Without both, sign-in
    by link is not offered.
    """

    smtp_url: str | None = None
    mail_from: str = "Wrenchlight <wrenchlight@localhost>"
    base_url: str | None = None
    # The demo's embedded SMTP server keeps its mail in the database (``demo_mail``); when set,
    # the app shows it at /demo/mail (wrenchlight.demo sets it; nothing else should).
    demo_mailbox: bool = False
    session_ttl: timedelta = timedelta(days=14)
    link_ttl: timedelta = timedelta(minutes=15)

    @property
    def links_enabled(self) -> bool:
        """Whether sign-in links can be sent: a mail relay and the app's address are known."""
        return self.smtp_url is not None and self.base_url is not None
