# SPDX-License-Identifier: MIT
"""The web app's configuration, built once from the settings and passed to ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class WebConfig:
    """Mail for sign-in links, and how long sessions and links live.

    ``smtp_url`` is ``smtp://[user:password@]host[:port]`` (``smtps://`` for TLS from the
    first byte, ``smtp+starttls://`` to upgrade); without one, sign-in by link is not offered.
    ``base_url`` is the address people reach the app at, for the links in mail; without one,
    the address the request came to.
    """

    smtp_url: str | None = None
    mail_from: str = "Wrenchlight <wrenchlight@localhost>"
    base_url: str | None = None
    session_ttl: timedelta = timedelta(days=14)
    link_ttl: timedelta = timedelta(minutes=15)
